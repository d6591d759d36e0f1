"""Target labels of targeted attacks: seeded random wrong labels, and checks of given ones."""

from __future__ import annotations

import torch
from torch import Tensor

from specnb.errors import ParameterError


def random_targets(labels: Tensor, num_classes: int, seed: int) -> Tensor:
    """Draw one wrong label per sample, uniformly among the other classes, from a seed.

    Each target is ``(label + k) % num_classes`` with ``k`` uniform in ``1 .. num_classes - 1``,
    so it never equals the label and every wrong class is equally likely. The draw uses its
    own CPU generator: the same labels and seed give the same targets on any device.

    Parameters
    ----------
    labels : torch.Tensor, shape (B,)
        True labels in ``[0, num_classes)``.
    num_classes : int
        Number of classes, at least 2.
    seed : int
        Seed of the generator.

    Returns
    -------
    torch.Tensor, shape (B,), int64
        Target labels on the device of ``labels``.

    Examples
    --------
    >>> t = random_targets(torch.tensor([0, 1, 2]), 10, seed=0)
    >>> bool((t != torch.tensor([0, 1, 2])).all())
    True
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ParameterError(f"num_classes must be an int >= 2, got {num_classes!r}")
    if labels.dim() != 1 or labels.is_floating_point():
        raise ParameterError("labels must be an integer tensor of shape (B,)")
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ParameterError(f"labels must lie in [0, {num_classes})")
    generator = torch.Generator().manual_seed(int(seed))
    offsets = torch.randint(1, num_classes, labels.shape, generator=generator)
    return ((labels.cpu().long() + offsets) % num_classes).to(labels.device)


def check_target_labels(target_labels: Tensor, labels: Tensor, num_classes: int) -> Tensor:
    """Validate user-given target labels against the true labels.

    Parameters
    ----------
    target_labels : torch.Tensor, shape (B,)
        Targets in ``[0, num_classes)``, each different from its label.
    labels : torch.Tensor, shape (B,)
        True labels.
    num_classes : int
        Number of classes of the model.

    Returns
    -------
    torch.Tensor, shape (B,), int64
        ``target_labels`` on the device of ``labels``.

    Examples
    --------
    >>> check_target_labels(torch.tensor([1]), torch.tensor([0]), 10)
    tensor([1])
    """
    if not isinstance(target_labels, Tensor) or target_labels.dim() != 1:
        raise ParameterError("target_labels must be a tensor of shape (B,)")
    if target_labels.is_floating_point():
        raise ParameterError("target_labels must hold integers")
    if target_labels.shape != labels.shape:
        raise ParameterError(
            f"target_labels has {target_labels.shape[0]} entries, labels {labels.shape[0]}"
        )
    target_labels = target_labels.detach().to(labels.device, torch.long)
    if target_labels.min() < 0 or target_labels.max() >= num_classes:
        raise ParameterError(f"target_labels must lie in [0, {num_classes})")
    same = (target_labels == labels).nonzero().flatten()
    if same.numel():
        raise ParameterError(
            f"target_labels equals the true label for samples {same[:5].tolist()}; "
            "a target must be a wrong label"
        )
    return target_labels
