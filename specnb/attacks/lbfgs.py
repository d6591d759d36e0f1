"""Box-constrained L-BFGS attack (Szegedy et al. 2014), targeted, with a search over c."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from specnb.attacks.base import Attack
from specnb.attacks.checks import check_count, check_positive
from specnb.errors import ParameterError

DISTANCE_FLOOR = 1e-12


class LBFGS(Attack):
    """Minimise ``c * ||x' - x||_2 + CE(f(x'), t)`` over ``x'`` in [0, 1] with L-BFGS (Eq. 2).

    The box constraint is met by optimising ``w`` with ``x' = (tanh(w) + 1) / 2``
    (``torch.optim.LBFGS`` with a strong-Wolfe line search). The search over ``c`` bisects
    ``log c`` per sample between ``c_min`` and ``c_max``: a success moves to larger ``c``
    (smaller perturbations), a failure to smaller ``c``. Each sample is optimised on its own
    (its own curvature memory, line search and stopping test), so its result does not depend
    on the rest of the batch. Every objective evaluation is one gradient computation for the
    sample evaluated. The attack keeps, per sample, the evaluated point that reached the
    target with the smallest l2 distance; samples never fooled come back unchanged.

    Parameters
    ----------
    model : torch.nn.Module
        Classifier of [0, 1] images returning logits.
    c_min, c_max : float
        Range of the search over the distance weight ``c``, ``0 < c_min < c_max``.
    search_steps : int
        Bisection steps over ``log c``.
    max_iterations : int
        L-BFGS iterations per search step (at most ``1.25 *`` as many evaluations); 0
        returns the images unchanged.
    seed : int
        Seed of the random target labels drawn when none are given.

    Examples
    --------
    >>> net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    >>> lbfgs = LBFGS(net, search_steps=2, max_iterations=5)
    >>> adv = lbfgs(torch.rand(4, 3, 2, 2), torch.tensor([0, 1, 2, 0]))
    >>> bool(((adv >= 0) & (adv <= 1)).all())
    True
    """

    name: ClassVar[str] = "lbfgs"
    label: ClassVar[str] = "L-BFGS"
    norms: ClassVar[tuple[str, ...]] = ("l2",)
    supported_modes: ClassVar[tuple[str, ...]] = ("targeted",)
    budget: ClassVar[str] = "max_iterations"
    param_names: ClassVar[tuple[str, ...]] = ("c_min", "c_max", "search_steps", "max_iterations")

    def __init__(
        self,
        model: nn.Module,
        c_min: float = 1e-2,
        c_max: float = 1e2,
        search_steps: int = 5,
        max_iterations: int = 20,
        *,
        seed: int = 0,
    ) -> None:
        super().__init__(model, targeted=True, seed=seed)
        self.c_min = check_positive("c_min", c_min)
        self.c_max = check_positive("c_max", c_max)
        if self.c_min >= self.c_max:
            raise ParameterError(f"c_min must be below c_max, got {c_min} and {c_max}")
        self.search_steps = check_count("search_steps", search_steps)
        self.max_iterations = check_count("max_iterations", max_iterations, minimum=0)

    def forward(self, images: Tensor, labels: Tensor, target_labels: Tensor | None) -> Tensor:
        """Craft adversarial images for a validated batch."""
        assert target_labels is not None
        size = images.shape[0]
        w_start = torch.atanh((images * 2 - 1).clamp(-1 + 1e-6, 1 - 1e-6))
        low = torch.full((size,), math.log(self.c_min), device=images.device)
        high = torch.full((size,), math.log(self.c_max), device=images.device)
        best_dist = torch.full((size,), math.inf, device=images.device)
        best = images.clone()
        if self.max_iterations == 0:
            return best
        for _ in range(self.search_steps):
            log_c = (low + high) / 2
            fooled = self._minimise(images, target_labels, w_start, log_c.exp(), best, best_dist)
            low = torch.where(fooled, log_c, low)
            high = torch.where(fooled, high, log_c)
        return best

    def _minimise(
        self,
        images: Tensor,
        targets: Tensor,
        w_start: Tensor,
        const: Tensor,
        best: Tensor,
        best_dist: Tensor,
    ) -> Tensor:
        """One L-BFGS run per sample at fixed ``c``, updating ``best`` in place; return who was
        fooled."""
        fooled_any = torch.zeros(images.shape[0], dtype=torch.bool, device=images.device)
        for row in range(images.shape[0]):
            fooled_any[row] = self._minimise_one(
                row,
                images[row : row + 1],
                targets[row : row + 1],
                w_start[row : row + 1],
                const[row],
                best,
                best_dist,
            )
        return fooled_any

    def _minimise_one(
        self,
        row: int,
        image: Tensor,
        target: Tensor,
        w_start: Tensor,
        const: Tensor,
        best: Tensor,
        best_dist: Tensor,
    ) -> bool:
        """L-BFGS on sample ``row`` alone (``image`` of shape (1, C, H, W)); True if fooled."""
        rows = torch.tensor([row], device=image.device)
        fooled_any = False
        w = w_start.clone().requires_grad_(True)
        optimizer = torch.optim.LBFGS(
            [w], lr=1.0, max_iter=self.max_iterations, line_search_fn="strong_wolfe"
        )

        def objective() -> Tensor:
            nonlocal fooled_any
            x = (torch.tanh(w) + 1) / 2
            logits = self.model(x)
            dist = ((x - image).pow(2).sum() + DISTANCE_FLOOR).sqrt()
            loss = const * dist + F.cross_entropy(logits, target, reduction="sum")
            w.grad = self._input_grad(loss, w, rows)
            with torch.no_grad():
                if int(logits.argmax(dim=1)) == int(target):
                    fooled_any = True
                    if dist < best_dist[row]:
                        best_dist[row] = dist
                        best[row] = x[0]
            return loss.detach()

        optimizer.step(objective)
        return fooled_any
