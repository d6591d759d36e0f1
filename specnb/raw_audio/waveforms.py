"""Fixed-length waveform tensors of a dataset, and the [0, 1] layout the models and attacks use.

A waveform ``y`` of ``N`` samples is handed to a model as the one-row image
``x = (y / H + 1) / 2`` of shape (1, 1, N), with the headroom ``H = 2``
(:data:`~specnb.models.waveform.WAVEFORM_HEADROOM`: resampled recordings overshoot full scale,
by up to 1.28 on ESC-50, and are never clipped): the attacks of :mod:`specnb.attacks` perturb and
clip
in [0, 1] and expect 4D batches, and every waveform model undoes the mapping in its first
layer. An ℓ∞ budget ε on ``x`` is a budget of ``2 H ε = 4 ε`` on the waveform.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from specnb.data.clips import AudioDataset, Clip
from specnb.errors import ParameterError
from specnb.models.waveform import WAVEFORM_HEADROOM

__all__ = ["WAVEFORM_REPR", "from_unit", "load_waveforms", "to_unit", "waveform_setting"]

#: Name of the raw waveform in the ``repr`` column of the results store.
WAVEFORM_REPR = "waveform"

ArrayLike = np.ndarray | torch.Tensor


def waveform_setting(sr: int) -> dict[str, object]:
    """The "setting" of a waveform model in the results store: ``{"repr": "waveform", "sr": sr}``.

    Examples
    --------
    >>> waveform_setting(8000)
    {'repr': 'waveform', 'sr': 8000}
    """
    if isinstance(sr, bool) or not isinstance(sr, int) or sr <= 0:
        raise ParameterError(f"sr must be a positive integer (Hz), got {sr!r}")
    return {"repr": WAVEFORM_REPR, "sr": sr}


def load_waveforms(dataset: AudioDataset, clips: Sequence[Clip], sr: int) -> torch.Tensor:
    """Waveforms of ``clips`` at ``sr`` Hz, each ``dataset.n_samples(sr)`` long.

    Parameters
    ----------
    dataset : AudioDataset
        The dataset the clips belong to (its reader pads or crops to ``dataset.duration``).
    clips : sequence of Clip
        Clips to load, originals or augmented copies.
    sr : int
        Sampling rate in Hz.

    Returns
    -------
    torch.Tensor, float32, shape (len(clips), dataset.n_samples(sr)), CPU
        Samples as loaded, never clipped (resampling can overshoot full scale by a little).

    Raises
    ------
    ValueError
        A non-positive ``sr``, no clips, or a clip whose audio holds NaN or infinite values
        or louder than the headroom ``H`` (the message names the clip).

    Examples
    --------
    >>> from specnb.data import load_synthetic
    >>> data = load_synthetic(n_per_class=1)
    >>> load_waveforms(data, data.clips[:2], 8000).shape
    torch.Size([2, 40000])
    """
    waveform_setting(sr)
    if not len(clips):
        raise ParameterError(f"{dataset.name}: no clips to load")
    out = np.empty((len(clips), dataset.n_samples(sr)), dtype=np.float32)
    for row, clip in enumerate(clips):
        y = dataset.load(clip, sr)
        if not np.isfinite(y).all():
            raise ParameterError(
                f"{dataset.name}: clip {clip.clip_id!r} holds NaN or infinite samples"
            )
        if np.abs(y).max(initial=0.0) > WAVEFORM_HEADROOM:
            raise ParameterError(
                f"{dataset.name}: clip {clip.clip_id!r} peaks at {np.abs(y).max():.3g}, beyond "
                f"the headroom {WAVEFORM_HEADROOM:g} of the waveform layout"
            )
        out[row] = y
    return torch.from_numpy(out)


def to_unit(waveforms: ArrayLike) -> torch.Tensor:
    """Waveforms (B, N) in [-H, H] to the model layout (B, 1, 1, N) in [0, 1]: ``(y / H + 1) / 2``.

    Raises
    ------
    ValueError
        For another shape, NaN or infinite samples, or samples outside [-H, H] (H = 2).

    Examples
    --------
    >>> to_unit(torch.tensor([[-2.0, 0.0, 1.0]])).flatten().tolist()
    [0.0, 0.5, 0.75]
    """
    y = torch.as_tensor(waveforms, dtype=torch.float32)
    if y.ndim != 2 or y.shape[-1] == 0:
        raise ParameterError(f"waveforms must have shape (B, N), got {tuple(y.shape)}")
    if not bool(torch.isfinite(y).all()):
        raise ParameterError("waveforms hold NaN or infinite samples")
    if float(y.abs().max()) > WAVEFORM_HEADROOM:
        raise ParameterError(
            f"waveforms must lie in [-{WAVEFORM_HEADROOM:g}, {WAVEFORM_HEADROOM:g}], "
            f"peak {float(y.abs().max()):.4g}"
        )
    return ((y / WAVEFORM_HEADROOM + 1.0) / 2.0).clamp(0.0, 1.0)[:, None, None, :]


def from_unit(inputs: torch.Tensor) -> torch.Tensor:
    """The model layout (B, 1, 1, N) in [0, 1] back to waveforms (B, N): ``(2 x - 1) H``.

    Examples
    --------
    >>> from_unit(torch.full((1, 1, 1, 2), 0.75)).tolist()
    [[1.0, 1.0]]
    """
    if inputs.ndim != 4 or tuple(inputs.shape[1:3]) != (1, 1):
        raise ParameterError(f"inputs must have shape (B, 1, 1, N), got {tuple(inputs.shape)}")
    return (inputs[:, 0, 0, :] * 2.0 - 1.0) * WAVEFORM_HEADROOM
