"""Residual networks: ResNet-18/34 (torchvision) and a CIFAR-style ResNet-56.

ResNet-18 and ResNet-34 are torchvision's ImageNet architectures with their 7×7 stride-2
stem and max-pool kept, so ImageNet weights load into the first layer unchanged; a 128×128
input ends as a 4×4 map (7×7 at 224×224) before global average pooling. Only the final
``fc`` layer is replaced, by one with ``num_classes`` outputs.

ResNet-56 follows He et al. (2016, §4.2): a 3×3 stem with 16 filters, three stages of nine
basic blocks with 16, 32 and 64 filters, parameter-free shortcuts (stride-2 subsampling and
zero-padded channels, "option A"), global average pooling and a linear layer. Adapted to
128×128 inputs by a stride-2 stem, so the stages run at 64×64, 32×32 and 16×16 (four times
the area of the 32×32 CIFAR design, for about the compute of ResNet-18 here).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import resnet18, resnet34

__all__ = ["ResNet56", "build_resnet18", "build_resnet34"]


def build_resnet18(num_classes: int) -> nn.Module:
    """Torchvision ResNet-18 (random initialisation) with a ``num_classes``-way ``fc``.

    Parameters
    ----------
    num_classes : int
        Number of output logits.

    Returns
    -------
    torchvision.models.ResNet
        Maps (B, 3, H, W) images (ImageNet-normalised) to (B, num_classes) logits.
    """
    return resnet18(weights=None, num_classes=num_classes)


def build_resnet34(num_classes: int) -> nn.Module:
    """Torchvision ResNet-34 (random initialisation) with a ``num_classes``-way ``fc``.

    Parameters
    ----------
    num_classes : int
        Number of output logits.

    Returns
    -------
    torchvision.models.ResNet
        Maps (B, 3, H, W) images (ImageNet-normalised) to (B, num_classes) logits.
    """
    return resnet34(weights=None, num_classes=num_classes)


class _BasicBlock(nn.Module):
    """Two 3×3 convolutions with batch norm and a parameter-free shortcut."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.stride = stride
        self.extra_channels = out_channels - in_channels

    def shortcut(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride > 1:
            x = x[:, :, :: self.stride, :: self.stride]
        if self.extra_channels > 0:
            x = F.pad(x, (0, 0, 0, 0, 0, self.extra_channels))
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet56(nn.Module):
    """CIFAR-style ResNet-56 adapted to 128×128 inputs by a stride-2 stem.

    Parameters
    ----------
    num_classes : int
        Number of output logits.
    blocks_per_stage : int
        Basic blocks per stage; 9 gives 6·9 + 2 = 56 weighted layers.
    widths : tuple of int
        Filters of the three stages.

    Examples
    --------
    >>> net = ResNet56(10).eval()
    >>> net(torch.zeros(1, 3, 128, 128)).shape
    torch.Size([1, 10])
    """

    def __init__(
        self,
        num_classes: int,
        blocks_per_stage: int = 9,
        widths: tuple[int, int, int] = (16, 32, 64),
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, widths[0], 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        stages = []
        in_channels = widths[0]
        for index, width in enumerate(widths):
            blocks = []
            for block in range(blocks_per_stage):
                stride = 2 if index > 0 and block == 0 else 1
                blocks.append(_BasicBlock(in_channels, width, stride))
                in_channels = width
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.fc = nn.Linear(widths[-1], num_classes)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, num_classes) for normalised images (B, 3, H, W)."""
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.stages(x)
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(x)
