"""Augmentation of training batches on the fly: time shifts, SpecAugment-style masks, mixup.

All three act on the model images (B, 3, H, W) in [0, 1], rows frequency (highest first) and
columns time, after a batch is drawn and before the forward pass; the dev and test parts are
never augmented. Every random draw comes from a :class:`torch.Generator` that the caller
seeds per (seed, fold, epoch), so a resumed run draws exactly what an uninterrupted one does.

- :func:`shift_time` rolls each image along time by a random number of columns (the sound
  starts elsewhere in the clip; what leaves one edge comes back at the other).
- :func:`mask_bands` blanks ``n`` horizontal bands (frequency masks, Park et al. 2019) and
  ``n`` vertical bands (time masks) of random widths and positions per image, filled with the
  image's mean colour, so the fill carries no information in any colour map.
- :func:`mixup` blends each image with another of the batch (Zhang et al. 2018) and returns
  soft targets, so a cross-entropy on probabilities trains on the blend.
"""

from __future__ import annotations

import torch

__all__ = ["augment_batch", "mask_bands", "mixup", "one_hot", "shift_time"]


def _bands(
    n_images: int, n_masks: int, max_width: int, length: int, generator: torch.Generator
) -> torch.Tensor:
    """Boolean (n_images, length): True inside one of ``n_masks`` random bands per image."""
    covered = torch.zeros(n_images, length, dtype=torch.bool)
    if n_masks == 0 or max_width == 0:
        return covered
    width = torch.randint(0, min(max_width, length) + 1, (n_images, n_masks), generator=generator)
    start = (torch.rand(n_images, n_masks, generator=generator) * (length - width + 1)).long()
    position = torch.arange(length)
    inside = (position >= start[..., None]) & (position < (start + width)[..., None])
    return inside.any(dim=1)


def shift_time(images: torch.Tensor, generator: torch.Generator, max_shift: float) -> torch.Tensor:
    """Roll every image along its columns (time) by its own random number of columns.

    Parameters
    ----------
    images : torch.Tensor, shape (B, C, H, W)
        Images; not modified.
    generator : torch.Generator
        CPU generator of the shifts.
    max_shift : float in [0, 1]
        Largest shift as a fraction of the width ``W``; each image's shift is uniform over
        the integers in ``[-round(max_shift * W), round(max_shift * W)]``.

    Returns
    -------
    torch.Tensor, same shape, dtype and device as ``images``
        Column ``j`` of image ``b`` is column ``(j - shift_b) mod W`` of the input.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.arange(8.0).reshape(1, 1, 1, 8)
    >>> sorted(shift_time(x, g, 0.5).flatten().tolist()) == x.flatten().tolist()
    True
    """
    n, _, _, width = images.shape
    limit = int(round(max_shift * width))
    if limit == 0:
        return images
    shift = torch.randint(-limit, limit + 1, (n,), generator=generator)
    columns = (torch.arange(width)[None, :] - shift[:, None]) % width
    index = columns.to(images.device)[:, None, None, :].expand_as(images)
    return torch.gather(images, 3, index)


def mask_bands(
    images: torch.Tensor,
    generator: torch.Generator,
    *,
    freq_masks: int,
    time_masks: int,
    max_width: int,
) -> torch.Tensor:
    """Blank random frequency bands (rows) and time bands (columns) of every image.

    Parameters
    ----------
    images : torch.Tensor, shape (B, C, H, W)
        Images in [0, 1]; not modified.
    generator : torch.Generator
        CPU generator every width and position is drawn from.
    freq_masks, time_masks : int >= 0
        Bands of rows and of columns blanked per image.
    max_width : int >= 0
        Widest band in pixels; each band's width is uniform in ``[0, max_width]``.

    Returns
    -------
    torch.Tensor, same shape, dtype and device as ``images``
        Masked pixels hold the image's per-channel mean; the others are unchanged.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> out = mask_bands(torch.rand(4, 3, 32, 32), g, freq_masks=1, time_masks=1, max_width=8)
    >>> out.shape
    torch.Size([4, 3, 32, 32])
    """
    n, _, height, width = images.shape
    rows = _bands(n, freq_masks, max_width, height, generator).to(images.device)
    cols = _bands(n, time_masks, max_width, width, generator).to(images.device)
    covered = (rows[:, :, None] | cols[:, None, :])[:, None]
    fill = images.mean(dim=(2, 3), keepdim=True)
    return torch.where(covered, fill.expand_as(images), images)


def one_hot(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Float targets (B, num_classes) with 1 at each label."""
    return torch.nn.functional.one_hot(labels, num_classes).float()


def mixup(
    images: torch.Tensor, targets: torch.Tensor, alpha: float, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Blend the batch with a shuffled copy of itself by one Beta(alpha, alpha) weight.

    Parameters
    ----------
    images : torch.Tensor, shape (B, C, H, W)
        Images in [0, 1].
    targets : torch.Tensor, shape (B, K)
        Class probabilities (one-hot for plain labels).
    alpha : float > 0
        Concentration of the Beta distribution of the weight ``lam`` of the own image.
    generator : torch.Generator
        CPU generator of ``lam`` and of the partner order.

    Returns
    -------
    images, targets : torch.Tensor
        ``lam * x + (1 - lam) * x[perm]`` and the same blend of the targets; the images stay
        in [0, 1] and every target row sums to 1.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> x, t = mixup(torch.rand(4, 3, 8, 8), one_hot(torch.tensor([0, 1, 2, 3]), 4), 0.4, g)
    >>> torch.allclose(t.sum(1), torch.ones(4))
    True
    """
    beta = torch.distributions.Beta(torch.tensor(float(alpha)), torch.tensor(float(alpha)))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(torch.randint(0, 2**62, (1,), generator=generator)))
        lam = float(beta.sample())
    perm = torch.randperm(len(images), generator=generator).to(images.device)
    return lam * images + (1 - lam) * images[perm], lam * targets + (1 - lam) * targets[perm]


def augment_batch(
    images: torch.Tensor,
    labels: torch.Tensor,
    num_classes: int,
    generator: torch.Generator,
    *,
    freq_masks: int = 0,
    time_masks: int = 0,
    max_width: int = 0,
    mixup_alpha: float = 0.0,
    max_shift: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Time shift, masks, then mixup, as a training step applies them.

    Parameters
    ----------
    images : torch.Tensor, shape (B, C, H, W)
        A training batch in [0, 1].
    labels : torch.Tensor, shape (B,), int64
        Its classes.
    num_classes : int
        Width K of the targets.
    generator : torch.Generator
        Source of every random draw.
    freq_masks, time_masks, max_width
        As for :func:`mask_bands` (no masks when both counts are 0).
    mixup_alpha : float >= 0
        As ``alpha`` of :func:`mixup`; 0 turns mixup off.
    max_shift : float in [0, 1]
        As for :func:`shift_time`; 0 (no shift) draws nothing from ``generator``.

    Returns
    -------
    images : torch.Tensor, shape (B, C, H, W)
    targets : torch.Tensor, shape (B, K), float32
        Rows sum to 1; one-hot when mixup is off.
    """
    if max_shift > 0:
        images = shift_time(images, generator, max_shift)
    if freq_masks or time_masks:
        images = mask_bands(
            images, generator, freq_masks=freq_masks, time_masks=time_masks, max_width=max_width
        )
    targets = one_hot(labels, num_classes)
    if mixup_alpha > 0:
        images, targets = mixup(images, targets, mixup_alpha, generator)
    return images, targets
