"""Fast gradient sign method (Goodfellow et al. 2015), l-inf and l2, targeted or not."""

from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from specnb.attacks.base import Attack
from specnb.attacks.checks import check_choice, check_positive

NORMS = ("linf", "l2")


def steepest_step(grad: Tensor, norm: str) -> Tensor:
    """The unit-norm step of steepest ascent along ``grad`` for an l-inf or l2 ball, per sample.

    Parameters
    ----------
    grad : torch.Tensor, shape (B, ...)
        Gradients of a loss with respect to the images.
    norm : {"linf", "l2"}
        ``"linf"`` gives ``sign(grad)``; ``"l2"`` gives ``grad / ||grad||_2`` (zero where the
        gradient is zero).

    Returns
    -------
    torch.Tensor, shape (B, ...)

    Examples
    --------
    >>> steepest_step(torch.tensor([[3.0, -4.0]]), "l2")
    tensor([[ 0.6000, -0.8000]])
    """
    if norm == "linf":
        return grad.sign()
    length = grad.flatten(1).norm(dim=1).view(-1, *([1] * (grad.dim() - 1)))
    return grad / length.clamp_min(torch.finfo(grad.dtype).tiny)


class FGSM(Attack):
    """One gradient step of size ``eps`` that raises the loss of the label (or lowers the target's).

    ``x' = clip_[0,1](x + eps * step(grad_x CE(f(x), y)))`` untargeted, and the same with
    ``-CE(f(x), t)`` targeted, where ``step`` is ``sign`` (l-inf) or the l2-normalised gradient
    (paper Eqs. 3-4). One gradient computation per sample.

    Parameters
    ----------
    model : torch.nn.Module
        Classifier of [0, 1] images returning logits.
    eps : float
        Perturbation budget in the [0, 1] image domain (l-inf or l2 radius), >= 0.
    norm : {"linf", "l2"}
        Norm of the budget.
    targeted : bool
        Aim at target labels (random wrong labels drawn from ``seed`` unless given).
    seed : int
        Seed of the random target labels.

    Examples
    --------
    >>> net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    >>> adv = FGSM(net, eps=0.1)(torch.rand(4, 3, 2, 2), torch.tensor([0, 1, 2, 0]))
    >>> adv.shape
    torch.Size([4, 3, 2, 2])
    """

    name: ClassVar[str] = "fgsm"
    label: ClassVar[str] = "FGSM"
    norms: ClassVar[tuple[str, ...]] = ("linf", "l2")
    supported_modes: ClassVar[tuple[str, ...]] = ("default", "targeted")
    budget: ClassVar[str] = "eps"
    curve_param: ClassVar[str | None] = "eps"
    param_names: ClassVar[tuple[str, ...]] = ("eps", "norm")

    def __init__(
        self,
        model: nn.Module,
        eps: float = 8 / 255,
        norm: str = "linf",
        *,
        targeted: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__(model, targeted=targeted, seed=seed)
        self.eps = check_positive("eps", eps, allow_zero=True)
        self.norm = check_choice("norm", norm, NORMS)

    def forward(self, images: Tensor, labels: Tensor, target_labels: Tensor | None) -> Tensor:
        """Craft adversarial images for a validated batch."""
        x = images.clone().requires_grad_(True)
        logits = self.model(x)
        if target_labels is None:
            loss = F.cross_entropy(logits, labels, reduction="sum")
        else:
            loss = -F.cross_entropy(logits, target_labels, reduction="sum")
        grad = self._input_grad(loss, x, None)
        step = steepest_step(grad, self.norm)
        for eps in self._curve_marks():
            self._reached(eps, torch.clamp(images + eps * step, min=0, max=1))
        return torch.clamp(images + self.eps * step, min=0, max=1)
