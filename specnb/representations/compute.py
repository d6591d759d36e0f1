"""One entry point for every representation: :func:`represent`, and the plot axes of a result."""

from __future__ import annotations

from typing import Optional, Union

import librosa
import numpy as np
import torch

from specnb.devices import resolve_device
from specnb.errors import ParameterError
from specnb.representations.reference import check_setting, check_waveform, reference
from specnb.representations.settings import MelSetting, MFCCSetting, Setting, STFTSetting
from specnb.representations.torch_backend import front_end

__all__ = ["BACKENDS", "axes", "represent"]

#: Ways to compute a representation: librosa/PyWavelets one clip at a time, or batched torch.
BACKENDS = ("reference", "torch")

#: Clips per torch call on CUDA when ``batch_size`` is None.
CUDA_BATCH = 64

#: Bytes of complex spectrum per torch call on CPU when ``batch_size`` is None: batches that
#: fit the processor's cache run several times faster per clip than large ones.
CPU_BATCH_BYTES = 8 * 2**20


def represent(
    y: Union[np.ndarray, torch.Tensor],
    setting: Setting,
    *,
    backend: str = "torch",
    device: Optional[Union[str, torch.device]] = None,
    batch_size: Optional[int] = None,
) -> np.ndarray:
    """Compute the 2D representation of one clip or a batch of equal-length clips.

    Parameters
    ----------
    y : np.ndarray or torch.Tensor, shape (n_samples,) or (batch, n_samples)
        Mono waveform(s) already at ``setting.sr``.
    setting : MFCCSetting, STFTSetting, MelSetting or WaveletSetting
        What to compute (see :func:`specnb.representations.reference`).
    backend : {"torch", "reference"}
        ``"torch"``: the batched front end of :func:`front_end`, without gradients;
        ``"reference"``: librosa (PyWavelets) clip by clip.
    device : str or torch.device, optional
        Device of the torch backend; CUDA when available if None.
    batch_size : int, optional
        Clips per torch call. None: :data:`CUDA_BATCH` on CUDA; on CPU as many clips as keep
        about :data:`CPU_BATCH_BYTES` of complex spectrum per call (at least 1, at most 64).

    Returns
    -------
    np.ndarray, float32, shape (n_rows, n_frames) or (batch, n_rows, n_frames)
        Same leading shape as ``y``.

    Raises
    ------
    ValueError
        If ``backend`` or ``batch_size`` is invalid, or ``y`` is empty, non-finite or has the
        wrong number of dimensions.
    TypeError
        If ``setting`` is not a representation setting or ``y`` is not floating point.

    Examples
    --------
    >>> import numpy as np
    >>> from specnb.representations import MFCCSetting
    >>> y = np.random.default_rng(0).standard_normal((3, 16000)).astype(np.float32)
    >>> represent(y, MFCCSetting(sr=16000, n_mfcc=13), device="cpu").shape
    (3, 13, 16)
    """
    if backend not in BACKENDS:
        raise ParameterError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
    ):
        raise ParameterError(f"batch_size must be a positive integer, got {batch_size!r}")
    setting = check_setting(setting)
    if isinstance(y, torch.Tensor):
        y = y.detach().cpu().numpy()
    waves = check_waveform(y, ndims=(1, 2))
    batch = waves.reshape(-1, waves.shape[-1])
    if backend == "reference":
        out = np.stack([reference(clip, setting) for clip in batch])
    else:
        target = resolve_device(device)
        module = front_end(setting, target)
        if batch_size is None:
            on_cuda = target.type == "cuda"
            batch_size = CUDA_BATCH if on_cuda else _cpu_batch(setting, batch.shape[-1])
        with torch.no_grad():
            parts = [
                module(torch.from_numpy(batch[i : i + batch_size]).to(target)).cpu().numpy()
                for i in range(0, len(batch), batch_size)
            ]
        out = np.concatenate(parts).astype(np.float32, copy=False)
    return out[0] if waves.ndim == 1 else out


def _cpu_batch(setting: Setting, n_samples: int) -> int:
    if isinstance(setting, (MFCCSetting, STFTSetting, MelSetting)):
        hop = setting.hop_length if isinstance(setting, MFCCSetting) else setting.hop
        n_frames = 1 + (n_samples + 2 * (setting.n_fft // 2) - setting.n_fft) // hop
        per_clip = (setting.n_fft // 2 + 1) * max(n_frames, 1) * 8
    else:
        per_clip = setting.n_scales * n_samples * 8
    return int(np.clip(CPU_BATCH_BYTES // per_clip, 1, 64))


def axes(setting: Setting, n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column coordinates of a representation, for plot axes.

    Parameters
    ----------
    setting : MFCCSetting, STFTSetting, MelSetting or WaveletSetting
        The setting the representation was computed with.
    n_frames : int
        Number of columns of the representation.

    Returns
    -------
    freqs : np.ndarray, shape (n_rows,)
        STFT: bin frequencies in Hz (0 to ``sr / 2``); Mel: centre frequencies of the Mel
        filters in Hz; MFCC: the coefficient numbers 0 to ``n_mfcc - 1`` (not frequencies);
        wavelet: centre frequency of each scale in Hz.
    times : np.ndarray, shape (n_frames,)
        Time in seconds of each frame's centre.

    Examples
    --------
    >>> from specnb.representations import STFTSetting
    >>> freqs, times = axes(STFTSetting(sr=8000, n_fft=512), 3)
    >>> float(freqs[-1]), times.tolist()
    (4000.0, [0.0, 0.016, 0.032])
    """
    setting = check_setting(setting)
    if isinstance(n_frames, bool) or not isinstance(n_frames, (int, np.integer)) or n_frames < 0:
        raise ParameterError(f"n_frames must be a non-negative integer, got {n_frames!r}")
    frames = np.arange(n_frames, dtype=np.float64)
    if isinstance(setting, MFCCSetting):
        rows = np.arange(setting.n_mfcc, dtype=np.float64)
        return rows, frames * setting.hop_length / setting.sr
    if isinstance(setting, STFTSetting):
        rows = librosa.fft_frequencies(sr=setting.sr, n_fft=setting.n_fft)
        return rows, frames * setting.hop / setting.sr
    if isinstance(setting, MelSetting):
        edges = librosa.mel_frequencies(setting.n_mels + 2, fmin=0.0, fmax=setting.sr / 2.0)
        return edges[1:-1], frames * setting.hop / setting.sr
    from specnb.representations import wavelets

    rows = np.asarray(wavelets.scale_frequencies(setting), dtype=np.float64)
    centre = setting.frame_length / 2.0
    return rows, (frames * setting.hop + centre) / setting.sr
