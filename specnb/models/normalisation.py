"""Per-channel input normalisation placed inside every model.

Models in specnb take images in ``[0, 1]`` and standardise them as their first layer, so an
attack perturbs and clips in the image domain the representation produced, and a checkpoint
carries the statistics it was trained with.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from specnb.errors import ParameterError

__all__ = ["HALF_MEAN", "HALF_STD", "IMAGENET_MEAN", "IMAGENET_STD", "Normalise"]

#: Channel means and standard deviations of ImageNet (RGB), used by the torchvision-derived
#: ResNet-18/34 and AlexNet so that ImageNet weights see the inputs they were trained on.
IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)

#: ``(x - 0.5) / 0.5`` maps ``[0, 1]`` onto ``[-1, 1]``; used by the models written for
#: specnb and by GoogLeNet (its ImageNet weights were trained on this scaling).
HALF_MEAN: tuple[float, float, float] = (0.5, 0.5, 0.5)
HALF_STD: tuple[float, float, float] = (0.5, 0.5, 0.5)


class Normalise(nn.Module):
    """Standardise each channel: ``(x - mean[c]) / std[c]``.

    Parameters
    ----------
    mean : sequence of float, length C
        Channel means, in the ``[0, 1]`` image scale.
    std : sequence of float, length C
        Channel standard deviations; every entry must be positive.

    Examples
    --------
    >>> norm = Normalise((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    >>> norm(torch.ones(1, 3, 2, 2)).unique().tolist()
    [1.0]
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        mean, std = tuple(float(v) for v in mean), tuple(float(v) for v in std)
        if len(mean) != len(std) or not mean:
            raise ParameterError(
                f"Normalise needs mean and std of equal non-zero length, got {mean!r} and {std!r}"
            )
        finite = all(math.isfinite(v) for v in mean + std)
        if not finite or not all(v > 0 for v in std):
            raise ParameterError(
                f"Normalise needs finite mean and positive std, got {mean!r}, {std!r}"
            )
        mean_t = torch.tensor(mean, dtype=torch.float32)
        std_t = torch.tensor(std, dtype=torch.float32)
        self.register_buffer("mean", mean_t.view(1, -1, 1, 1))
        self.register_buffer("std", std_t.view(1, -1, 1, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Standardise a batch.

        Parameters
        ----------
        images : torch.Tensor, shape (B, C, H, W)
            Images in ``[0, 1]``.

        Returns
        -------
        torch.Tensor, shape (B, C, H, W)
            The standardised images.
        """
        if images.ndim != 4 or images.shape[1] != self.mean.shape[1]:
            raise ParameterError(
                f"Normalise expects images of shape (B, {self.mean.shape[1]}, H, W), "
                f"got {tuple(images.shape)}"
            )
        return (images - self.mean) / self.std

    def extra_repr(self) -> str:
        mean = ", ".join(f"{v:.3f}" for v in self.mean.flatten().tolist())
        std = ", ".join(f"{v:.3f}" for v in self.std.flatten().tolist())
        return f"mean=({mean}), std=({std})"
