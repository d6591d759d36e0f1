"""DeepFool (Moosavi-Dezfooli et al. 2016), l2 and l-inf, untargeted or targeted, batched."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import Tensor, nn

from specnb.attacks.base import Attack
from specnb.attacks.checks import check_choice, check_count, check_positive
from specnb.attacks.fgsm import NORMS

MARGIN_PUSH = 1e-4
"""How far past the linearised boundary each step goes, in the units of the attack norm."""


def _dual_norm(grad: Tensor, norm: str) -> Tensor:
    """Norm dual to the attack norm over the last dimension: l2 for l2, l1 for l-inf."""
    return grad.norm(p=2 if norm == "l2" else 1, dim=-1)


class DeepFool(Attack):
    """Step to the nearest linearised decision boundary until the prediction changes.

    Untargeted: the candidates are the ``candidates - 1`` classes with the largest clean
    logits besides the label. For each sample still classified as its label, one forward and
    one backward pass over a copy of it per candidate ``k`` give ``w_k = grad(Z_k - Z_y)``
    with ``f_k = Z_k - Z_y``; the step goes to the closest boundary, at distance
    ``d = min_k |f_k| / ||w_k||_*``, and 1e-4 past it (in the units of the attack norm, as
    the original code and Foolbox do):
    ``r = (d + 1e-4) w_l / ||w_l||_2`` (l2) or ``(d + 1e-4) sign(w_l)`` (l-inf, with
    ``||.||_* = ||.||_1``). Targeted: one backward pass per iteration on ``Z_t - Z_p`` (``p``
    the current prediction) until the target wins. The overshoot scales the accumulated
    perturbation: the adversarial image is ``clip(x + (1 + overshoot) * sum(r))``, and the next
    linearisation happens there. A sample stops at its first success and costs no
    more gradients; ``candidates - 1`` (untargeted) or 1 (targeted) gradient computations
    per sample and iteration.

    Parameters
    ----------
    model : torch.nn.Module
        Classifier of [0, 1] images returning logits.
    norm : {"l2", "linf"}
        Norm of the minimal perturbation.
    overshoot : float
        Relative overshoot past the boundary, >= 0.
    max_iter : int
        Largest number of iterations (the budget; 0 returns the images unchanged).
    candidates : int
        Classes considered, the label included (capped at the number of classes), >= 2.
    targeted : bool
        Aim at target labels (random wrong labels drawn from ``seed`` unless given).
    seed : int
        Seed of the random target labels.

    Examples
    --------
    >>> net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    >>> deepfool = DeepFool(net, max_iter=10)
    >>> adv = deepfool(torch.rand(4, 3, 2, 2), torch.tensor([0, 1, 2, 0]))
    >>> adv.shape
    torch.Size([4, 3, 2, 2])
    """

    name: ClassVar[str] = "deepfool"
    label: ClassVar[str] = "DeepFool"
    norms: ClassVar[tuple[str, ...]] = ("l2", "linf")
    supported_modes: ClassVar[tuple[str, ...]] = ("default", "targeted")
    budget: ClassVar[str] = "max_iter"
    curve_param: ClassVar[str | None] = "max_iter"
    param_names: ClassVar[tuple[str, ...]] = ("norm", "overshoot", "max_iter", "candidates")

    def __init__(
        self,
        model: nn.Module,
        norm: str = "l2",
        overshoot: float = 0.02,
        max_iter: int = 50,
        candidates: int = 10,
        *,
        targeted: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__(model, targeted=targeted, seed=seed)
        self.norm = check_choice("norm", norm, NORMS)
        self.overshoot = check_positive("overshoot", overshoot, allow_zero=True)
        self.max_iter = check_count("max_iter", max_iter, minimum=0)
        self.candidates = check_count("candidates", candidates, minimum=2)

    def forward(self, images: Tensor, labels: Tensor, target_labels: Tensor | None) -> Tensor:
        """Craft adversarial images for a validated batch."""
        adv = images.clone()
        total = torch.zeros_like(images)
        active = torch.arange(images.shape[0], device=images.device)
        rivals = torch.empty(0, dtype=torch.long, device=images.device)
        copies = 1
        if target_labels is None:
            copies = min(self.candidates, self._num_classes(images)) - 1
        tile = (copies, *[1] * (images.dim() - 1))
        for iteration in range(self.max_iter):
            self._reached(iteration, adv)
            x = adv[active].repeat(tile).requires_grad_(True)
            stacked = self.model(x).view(copies, active.shape[0], -1)
            logits = stacked[0]
            predicted = logits.detach().argmax(dim=1)
            if target_labels is None:
                if iteration == 0:
                    rivals = self._rivals(logits.detach(), labels)
                going = predicted == labels[active]
            else:
                going = predicted != target_labels[active]
            if not going.any():
                break
            rows = active[going]
            if target_labels is None:
                f, w = self._closest_boundary(stacked, x, going, labels[rows], rivals[rows], rows)
            else:
                diff = logits.gather(1, target_labels[active][:, None]).squeeze(1)
                diff = diff - logits.gather(1, predicted[:, None]).squeeze(1)
                w = self._input_grad(diff[going].sum(), x, rows).flatten(1)[going]
                f = diff.detach()[going]
            total[rows] += self._step(f, w).view(-1, *images.shape[1:])
            adv[rows] = (images[rows] + (1 + self.overshoot) * total[rows]).clamp(0, 1)
            active = rows
        return adv

    def _rivals(self, logits: Tensor, labels: Tensor) -> Tensor:
        """The ``candidates - 1`` classes with the largest clean logits besides the label."""
        count = min(self.candidates, logits.shape[1]) - 1
        masked = logits.scatter(1, labels[:, None], -math.inf)
        return masked.topk(count, dim=1).indices

    def _closest_boundary(
        self, stacked: Tensor, x: Tensor, going: Tensor, own: Tensor, rivals: Tensor, rows: Tensor
    ) -> tuple[Tensor, Tensor]:
        """``f`` and ``w`` of the nearest linearised boundary among the rivals, per going sample.

        ``x`` holds one copy of the active samples per rival and ``stacked`` their logits,
        shape (rivals, active, classes): one backward pass through copy ``k`` gives the
        gradient of rival ``k``'s ``Z_k - Z_y`` (one gradient computation per rival and going
        sample). The nearest rival is the first one of smallest distance; a sample with no
        finite distance gets ``f = 0, w = 0``.
        """
        copies = rivals.shape[1]
        kept = stacked[:, going]
        own_logit = kept.gather(2, own[None, :, None].expand(copies, -1, 1)).squeeze(2)
        f_all = kept.gather(2, rivals.T[:, :, None]).squeeze(2) - own_logit
        grads = self._input_grad(f_all.sum(), x, rows, copies=copies)
        w_all = grads.view(copies, going.shape[0], -1)[:, going]
        f_all = f_all.detach()
        tiny = torch.finfo(w_all.dtype).tiny
        distance = f_all.abs() / _dual_norm(w_all, self.norm).clamp_min(tiny)
        distance = torch.where(distance.isnan(), math.inf, distance)
        best_distance, nearest = distance.min(dim=0)
        found = best_distance < math.inf
        picked = torch.arange(nearest.shape[0], device=nearest.device)
        best_f = torch.where(found, f_all[nearest, picked], 0.0)
        best_w = torch.where(found[:, None], w_all[nearest, picked], 0.0)
        return best_f, best_w

    def _step(self, f: Tensor, w: Tensor) -> Tensor:
        """Step onto the linearised boundary ``f + w . r = 0`` and ``MARGIN_PUSH`` past it."""
        dual = _dual_norm(w, self.norm).clamp_min(torch.finfo(w.dtype).tiny)
        distance = f.abs() / dual + MARGIN_PUSH
        if self.norm == "l2":
            return (distance / dual)[:, None] * w
        return distance[:, None] * w.sign()
