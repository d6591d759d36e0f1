"""An end-to-end 1D ConvNet on the raw waveform, in the spirit of Dai et al.'s M5 (2017).

The model sees the waveform as a one-row "image": a tensor (B, 1, 1, N) in [0, 1] holding
``x = (y / H + 1) / 2`` for a waveform ``y`` in [-H, H], with the headroom ``H =``
:data:`WAVEFORM_HEADROOM` (2: resampling a recording that reaches full scale overshoots 1,
by up to 1.28 on ESC-50, and clipping it would change the sound). Its
:class:`~specnb.models.Normalise` layer (mean 0.5, std 1 / (2 H)) maps it back to ``y`` before
the first convolution, so the attacks
of :mod:`specnb.attacks`, which perturb and clip inputs in [0, 1] and expect 4D batches, run
on waveforms unchanged.

Layers: a fixed input gain of 32 (30 dB: recordings sit far below full scale, the synthetic
set's RMS at 1e-3 to 2e-2, and without the gain the first layer's weight gradients fall below
the optimiser's numerical floor and it hardly learns), a wide strided convolution (80 taps, stride
4: 10 ms at 8 kHz) acting as a learned
filter bank, three 3-tap convolution blocks, each block batch-normalised, ReLU-activated and
max-pooled by 4, then global average pooling over time and one linear layer.
"""

from __future__ import annotations

import torch
from torch import nn

from specnb.errors import ParameterError

__all__ = ["WAVEFORM_HEADROOM", "ConvNet1D"]

#: Largest waveform magnitude the [0, 1] layout of waveform models holds.
WAVEFORM_HEADROOM = 2.0

#: Taps and stride of the first convolution.
FRONT_KERNEL, FRONT_STRIDE = 80, 4

#: Fixed gain applied to the waveform before the first convolution.
INPUT_GAIN = 32.0

#: Max-pooling factor after every block.
POOL = 4


def _block(c_in: int, c_out: int, kernel: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv1d(c_in, c_out, kernel, stride=stride, padding=kernel // 2 if stride == 1 else 0),
        nn.BatchNorm1d(c_out),
        nn.ReLU(),
        nn.MaxPool1d(POOL, ceil_mode=True),
    )


class ConvNet1D(nn.Module):
    """M5-style 1D ConvNet: normalised waveforms (B, 1, 1, N) or (B, 1, N) to logits.

    Parameters
    ----------
    num_classes : int
        Number of output logits.
    width : int
        Channels of the first two blocks; the last two have ``2 * width``.

    Examples
    --------
    >>> net = ConvNet1D(10).eval()
    >>> net(torch.zeros(2, 1, 1, 8000)).shape
    torch.Size([2, 10])
    """

    def __init__(self, num_classes: int, width: int = 32) -> None:
        super().__init__()
        self.features = nn.Sequential(
            _block(1, width, FRONT_KERNEL, FRONT_STRIDE),
            _block(width, width, 3),
            _block(width, 2 * width, 3),
            _block(2 * width, 2 * width, 3),
        )
        self.classifier = nn.Linear(2 * width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, num_classes) of waveforms in [-H, H], shape (B, 1, 1, N) or (B, 1, N).

        Raises
        ------
        ValueError
            For another shape, or fewer samples than the first convolution's 80 taps.
        """
        if x.ndim == 4 and x.shape[1:3] == (1, 1):
            x = x[:, :, 0]
        if x.ndim != 3 or x.shape[1] != 1:
            raise ParameterError(
                f"ConvNet1D expects waveforms of shape (B, 1, 1, N) or (B, 1, N), "
                f"got {tuple(x.shape)}"
            )
        if x.shape[-1] < FRONT_KERNEL:
            raise ParameterError(
                f"ConvNet1D needs at least {FRONT_KERNEL} samples, got {x.shape[-1]}"
            )
        return self.classifier(self.features(x * INPUT_GAIN).mean(dim=-1))
