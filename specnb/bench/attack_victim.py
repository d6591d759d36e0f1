"""The attack benchmark's victim: a ResNet-18 briefly trained on synthetic pattern images.

Each of :data:`NUM_CLASSES` classes is a fixed smooth random colour pattern; an image is its
class's pattern plus pixel noise (:func:`pattern_images`), so that a model learns them in a few
Adam steps (:func:`train_on_patterns`) and attack success rates mean something. The bench batch
holds held-out images the victim classifies correctly (:func:`bench_batch`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

NUM_CLASSES = 10
PATTERN_SEED = 1234


def pattern_images(
    count: int, size: int, seed: int, *, classes: int = NUM_CLASSES
) -> tuple[Tensor, Tensor]:
    """Synthetic labelled images: a fixed smooth colour pattern per class plus pixel noise.

    Parameters
    ----------
    count : int
        Number of images.
    size : int
        Height and width in pixels.
    seed : int
        Seed of the labels and the noise (the class patterns are fixed).
    classes : int
        Number of classes.

    Returns
    -------
    images : torch.Tensor, shape (count, 3, size, size)
        Values in [0, 1].
    labels : torch.Tensor, shape (count,)

    Examples
    --------
    >>> x, y = pattern_images(4, 16, seed=0)
    >>> x.shape, bool(((x >= 0) & (x <= 1)).all())
    (torch.Size([4, 3, 16, 16]), True)
    """
    patterns = torch.rand(classes, 3, 4, 4, generator=torch.Generator().manual_seed(PATTERN_SEED))
    patterns = F.interpolate(patterns * 2 - 1, size=(size, size), mode="bilinear")
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, classes, (count,), generator=generator)
    noise = torch.randn(count, 3, size, size, generator=generator)
    return (0.5 + 0.3 * patterns[labels] + 0.15 * noise).clamp(0, 1), labels


def train_on_patterns(
    model: nn.Module, steps: int, size: int, seed: int, *, lr: float = 1e-3
) -> nn.Module:
    """Train ``model`` for ``steps`` Adam steps of 64 :func:`pattern_images`; return it in eval.

    Parameters
    ----------
    model : torch.nn.Module
        Classifier of (B, 3, size, size) images into :data:`NUM_CLASSES` classes.
    steps : int
        Adam steps.
    size : int
        Image side in pixels.
    seed : int
        Seed of the training images.
    lr : float
        Adam learning rate.

    Returns
    -------
    torch.nn.Module
        ``model``, trained in place, in eval mode.
    """
    device = next(model.parameters()).device
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    images, labels = pattern_images(64 * steps, size, seed)
    for step in range(steps):
        batch = slice(64 * step, 64 * (step + 1))
        loss = F.cross_entropy(model(images[batch].to(device)), labels[batch].to(device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def victim_model(size: int, train_steps: int, device: torch.device, seed: int) -> nn.Module:
    """ResNet-18 for ``size``-pixel images, briefly trained on :func:`pattern_images`."""
    try:
        from specnb.models import build_model

        model: nn.Module = build_model("resnet18", NUM_CLASSES, seed=seed)
    except ImportError:
        from torchvision.models import resnet18

        torch.manual_seed(seed)
        model = resnet18(num_classes=NUM_CLASSES)
    return train_on_patterns(model.to(device), train_steps, size, seed)


def bench_batch(
    model: nn.Module, batch: int, size: int, device: torch.device, seed: int
) -> tuple[Tensor, Tensor, float]:
    """Held-out images the model classifies correctly (all of them if too few), and accuracy."""
    images, labels = pattern_images(8 * batch, size, seed + 1)
    images, labels = images.to(device), labels.to(device)
    with torch.no_grad():
        correct = model(images).argmax(dim=1) == labels
    accuracy = float(correct.float().mean())
    chosen = correct.nonzero().flatten()[:batch]
    if chosen.numel() < batch:
        chosen = torch.arange(batch, device=device)
    return images[chosen], labels[chosen], accuracy
