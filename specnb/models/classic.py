"""AlexNet and GoogLeNet from torchvision, adapted to 128×128 images.

AlexNet: the first convolution keeps its 64 filters of 11×11 (ImageNet weights still load) but
strides by 2 instead of 4. A 128×128 input then reaches the classifier as exactly the
6×6 map that a 224×224 input gives the original network (128 → 61 → 30 → 14 → 6), instead of
a 3×3 map blown up by the adaptive pooling. The classifier's last ``Linear`` has
``num_classes`` outputs.

GoogLeNet: the architecture is unchanged (its stem turns 128×128 into a 4×4 map before the
final global pooling); the main and both auxiliary classifiers get ``num_classes`` outputs.
Input scaling is ``(x - 0.5) / 0.5``, the scaling its ImageNet weights were trained on, so
torchvision's ``transform_input`` is off.
"""

from __future__ import annotations

from torch import nn
from torchvision.models import AlexNet, GoogLeNet

__all__ = ["build_alexnet", "build_googlenet"]


def build_alexnet(num_classes: int) -> nn.Module:
    """Torchvision AlexNet with a stride-2 first convolution and a ``num_classes``-way output.

    Parameters
    ----------
    num_classes : int
        Number of output logits.

    Returns
    -------
    torchvision.models.AlexNet
        Maps (B, 3, 128, 128) images (ImageNet-normalised) to (B, num_classes) logits.
    """
    net = AlexNet(num_classes=num_classes)
    first = net.features[0]
    assert isinstance(first, nn.Conv2d)
    first.stride = (2, 2)
    return net


def build_googlenet(num_classes: int) -> nn.Module:
    """Torchvision GoogLeNet with auxiliary heads and ``num_classes``-way outputs.

    Parameters
    ----------
    num_classes : int
        Number of output logits of the main and auxiliary classifiers.

    Returns
    -------
    torchvision.models.GoogLeNet
        In evaluation mode maps (B, 3, H, W) images (scaled to ``[-1, 1]``) to
        (B, num_classes) logits; in training mode returns ``GoogLeNetOutputs``, which
        :class:`specnb.models.classifier.AuxClassifier` unpacks.
    """
    return GoogLeNet(
        num_classes=num_classes, aux_logits=True, transform_input=False, init_weights=True
    )
