"""Basic iterative method (Kurakin et al. 2017): BIM-a stops per sample, BIM-b runs all steps."""

from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from specnb.attacks.base import Attack
from specnb.attacks.checks import check_choice, check_count, check_positive
from specnb.metrics import reaches_goal

VARIANTS = ("a", "b")


def is_fooled(logits: Tensor, labels: Tensor, target_labels: Tensor | None) -> Tensor:
    """Whether each sample is misclassified (untargeted) or classified as its target.

    Parameters
    ----------
    logits : torch.Tensor, shape (B, K)
    labels : torch.Tensor, shape (B,)
    target_labels : torch.Tensor, shape (B,), or None for untargeted

    Returns
    -------
    torch.Tensor, shape (B,), bool

    Examples
    --------
    >>> is_fooled(torch.tensor([[0.0, 1.0]]), torch.tensor([0]), None)
    tensor([True])
    """
    return reaches_goal(logits.argmax(dim=1), labels, target_labels)


class BIM(Attack):
    """Iterated FGSM projected onto the l-inf ball of radius ``eps`` (paper Eqs. 5-6).

    ``x_{n+1} = clip_{x, eps}(x_n + alpha * sign(grad))`` for ``steps`` steps. Variant ``"a"``
    (BIM-a) stops each sample at its first success: a sample found fooled in a forward pass
    gets no further gradient computations. Variant ``"b"`` (BIM-b) runs every sample for all
    steps (one gradient computation per sample and step).

    Parameters
    ----------
    model : torch.nn.Module
        Classifier of [0, 1] images returning logits.
    eps : float
        l-inf budget in the [0, 1] image domain, >= 0.
    alpha : float, optional
        Step size; defaults to ``2.5 * eps / steps`` so the iterates can reach the ball's edge.
    steps : int
        Number of iterations (the maximum for BIM-a).
    variant : {"a", "b"}
        BIM-a (stop at first success) or BIM-b (fixed iterations).
    targeted : bool
        Aim at target labels (random wrong labels drawn from ``seed`` unless given).
    seed : int
        Seed of the random target labels.

    Examples
    --------
    >>> net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    >>> bim = BIM(net, eps=0.1, steps=5, variant="a")
    >>> adv = bim(torch.rand(4, 3, 2, 2), torch.tensor([0, 1, 2, 0]))
    >>> bool((bim.grad_counts <= 5).all())
    True
    """

    name: ClassVar[str] = "bim"
    label: ClassVar[str] = "BIM"
    norms: ClassVar[tuple[str, ...]] = ("linf",)
    supported_modes: ClassVar[tuple[str, ...]] = ("default", "targeted")
    budget: ClassVar[str] = "eps"
    param_names: ClassVar[tuple[str, ...]] = ("eps", "alpha", "steps", "variant")

    def __init__(
        self,
        model: nn.Module,
        eps: float = 8 / 255,
        alpha: float | None = None,
        steps: int = 10,
        variant: str = "b",
        *,
        targeted: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__(model, targeted=targeted, seed=seed)
        self.eps = check_positive("eps", eps, allow_zero=True)
        self.steps = check_count("steps", steps)
        self.alpha = (
            2.5 * self.eps / self.steps if alpha is None else check_positive("alpha", alpha)
        )
        self.variant = check_choice("variant", variant, VARIANTS)

    def forward(self, images: Tensor, labels: Tensor, target_labels: Tensor | None) -> Tensor:
        """Craft adversarial images for a validated batch."""
        lower = (images - self.eps).clamp_min(0)
        upper = (images + self.eps).clamp_max(1)
        goals = labels if target_labels is None else target_labels
        sign = 1.0 if target_labels is None else -1.0
        adv = images.clone()
        active = torch.arange(images.shape[0], device=images.device)
        for _ in range(self.steps):
            whole = active.shape[0] == images.shape[0]
            x = (adv if whole else adv[active]).requires_grad_(True)
            logits = self.model(x)
            if self.variant == "a":
                going = ~is_fooled(logits.detach(), labels[active], _subset(target_labels, active))
                if not going.any():
                    break
                losses = F.cross_entropy(logits, goals[active], reduction="none")
                loss = sign * losses[going].sum()
                rows = active[going]
                grad = self._input_grad(loss, x, rows)
            else:
                loss = sign * F.cross_entropy(logits, goals, reduction="sum")
                grad = self._input_grad(loss, x, None)
                rows = active
            step = x.detach() + self.alpha * grad.sign()
            if whole:
                adv = torch.minimum(torch.maximum(step, lower), upper)
            else:
                adv[active] = torch.minimum(torch.maximum(step, lower[active]), upper[active])
            active = rows
        return adv


def _subset(values: Tensor | None, rows: Tensor) -> Tensor | None:
    return None if values is None else values[rows]
