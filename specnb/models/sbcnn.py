"""SB-CNN, the environmental-sound CNN of Salamon & Bello (2017), on 3-channel images.

The layers follow the original: three 5×5 "valid" convolutions with 24, 48 and 48 filters and
ReLU, (4, 2) max-pooling (time, frequency) after the first two, a dense layer of 64 ReLU units,
and dropout 0.5 before each of the two dense layers. Differences: the input is the 3×128×128
image (rows are frequency, columns time) instead of a 1×128×128 log-mel patch, so the pooling
is (2, 4) in (row, column) order; the L2 weight penalty of the original belongs to the
optimiser, not to the model.
"""

from __future__ import annotations

import torch
from torch import nn

from specnb.errors import ParameterError

__all__ = ["SBCNN"]

_KERNEL = 5
_POOL = (2, 4)


def _conv_out(size: int) -> int:
    return size - _KERNEL + 1


class SBCNN(nn.Module):
    """Salamon & Bello's SB-CNN for (B, 3, H, W) images.

    Parameters
    ----------
    num_classes : int
        Number of output logits.
    image_size : tuple of int
        (H, W) of the inputs the dense layer is sized for; 128×128 gives a 48×25×2 map.

    Examples
    --------
    >>> net = SBCNN(10).eval()
    >>> net(torch.zeros(1, 3, 128, 128)).shape
    torch.Size([1, 10])
    """

    def __init__(self, num_classes: int, image_size: tuple[int, int] = (128, 128)) -> None:
        super().__init__()
        height, width = image_size
        for _ in range(2):
            height, width = _conv_out(height) // _POOL[0], _conv_out(width) // _POOL[1]
        height, width = _conv_out(height), _conv_out(width)
        if height < 1 or width < 1:
            raise ParameterError(
                f"SBCNN image_size={image_size} is too small for its three 5x5 layers"
            )
        self.image_size = image_size
        self.features = nn.Sequential(
            nn.Conv2d(3, 24, _KERNEL),
            nn.ReLU(),
            nn.MaxPool2d(_POOL),
            nn.Conv2d(24, 48, _KERNEL),
            nn.ReLU(),
            nn.MaxPool2d(_POOL),
            nn.Conv2d(48, 48, _KERNEL),
            nn.ReLU(),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(0.5),
            nn.Linear(48 * height * width, 64),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(64, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, num_classes) for normalised images (B, 3, H, W) of ``image_size``."""
        if tuple(x.shape[-2:]) != tuple(self.image_size):
            raise ParameterError(
                f"SBCNN was built for {self.image_size[0]}x{self.image_size[1]} images, "
                f"got {x.shape[-2]}x{x.shape[-1]}"
            )
        return self.classifier(self.features(x))
