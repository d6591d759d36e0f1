"""An LSTM classifier that reads the image's columns (time frames) as a sequence.

Each column of the (3, H, W) image, its 3·H colour-and-frequency values, is projected to a
frame feature (linear layer + ReLU); a two-layer bidirectional LSTM runs over the W frames;
the top layer's outputs are averaged over time and a linear layer gives the logits.
Averaging over time lets every frame receive gradient, which keeps attacks on this model
comparable with those on the CNNs.
"""

from __future__ import annotations

from contextlib import nullcontext

import torch
from torch import nn

from specnb.errors import ParameterError

__all__ = ["LSTMClassifier"]


class LSTMClassifier(nn.Module):
    """Bidirectional LSTM over image columns.

    Parameters
    ----------
    num_classes : int
        Number of output logits.
    height : int
        Image rows (frequency bins) H the frame projection is sized for; any width W works.
    frame_features : int
        Size of the projected frame feature.
    hidden_size : int
        LSTM units per direction.
    num_layers : int
        Stacked LSTM layers.
    dropout : float
        Dropout between LSTM layers and before the output layer, in ``[0, 1)``.

    Examples
    --------
    >>> net = LSTMClassifier(10).eval()
    >>> net(torch.zeros(1, 3, 128, 128)).shape
    torch.Size([1, 10])
    """

    def __init__(
        self,
        num_classes: int,
        height: int = 128,
        frame_features: int = 128,
        hidden_size: int = 256,
        num_layers: int = 2,
        dropout: float = 0.3,
    ) -> None:
        super().__init__()
        self.height = height
        self.frame = nn.Sequential(nn.Linear(3 * height, frame_features), nn.ReLU())
        self.lstm = nn.LSTM(
            frame_features,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * hidden_size, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, num_classes) for normalised images (B, 3, ``height``, W)."""
        if x.ndim != 4 or x.shape[1] != 3 or x.shape[2] != self.height:
            raise ParameterError(
                f"LSTMClassifier expects images of shape (B, 3, {self.height}, W), "
                f"got {tuple(x.shape)}"
            )
        frames = x.permute(0, 3, 1, 2).flatten(2)  # (B, W, 3*H)
        features = self.frame(frames)
        # cuDNN's LSTM cannot backpropagate in evaluation mode, which attacks need.
        needs_plain = x.is_cuda and not self.training and torch.is_grad_enabled()
        with torch.backends.cudnn.flags(enabled=False) if needs_plain else nullcontext():
            outputs, _ = self.lstm(features)
        return self.head(outputs.mean(dim=1))
