"""Carlini-Wagner l2 attack (Carlini & Wagner 2017) with a per-sample binary search over c."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import Tensor, nn

from specnb.attacks.base import Attack
from specnb.attacks.checks import check_count, check_positive

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
TANH_SHRINK = 0.999999
"""Clean images are scaled by this about 0.5 before ``atanh`` (Carlini's ``l2_attack.py``)."""
STALL_FRACTION = 1e-4
"""Early abort: a sample stops when its loss exceeds ``1 - STALL_FRACTION`` times its last."""
SPLIT_BELOW = 1 / 2
"""Live share below which the gradient pass runs on the live rows alone (large batches)."""
SPLIT_MIN_ELEMENTS = 2**20
"""Batch elements from which a pass costs its arithmetic rather than its per-layer overhead."""


def cw_margin(logits: Tensor, labels: Tensor, *, targeted: bool) -> Tensor:
    """Logit margin of paper Eqs. 10 and 12, before the clamp at ``-kappa``.

    Targeted (``labels`` are targets): ``max_{i != t} Z_i - Z_t``. Untargeted (``labels`` are
    true labels): ``Z_y - max_{i != y} Z_i``. The maximum over the other classes masks the
    label with ``-inf``, so the margin is right when every logit is negative. The attack
    succeeds where the margin is below zero.

    Parameters
    ----------
    logits : torch.Tensor, shape (B, K)
    labels : torch.Tensor, shape (B,)
        Targets (targeted) or true labels (untargeted).
    targeted : bool

    Returns
    -------
    torch.Tensor, shape (B,)

    Examples
    --------
    >>> cw_margin(torch.tensor([[-5.0, -1.0, -3.0]]), torch.tensor([0]), targeted=True)
    tensor([4.])
    """
    column = labels[:, None]
    own = logits.gather(1, column).squeeze(1)
    label_mask = torch.zeros_like(logits, dtype=torch.bool).scatter_(1, column, True)
    rival = logits.masked_fill(label_mask, -math.inf).amax(dim=1)
    return rival - own if targeted else own - rival


def cw_loss(logits: Tensor, labels: Tensor, *, kappa: float = 0.0, targeted: bool = True) -> Tensor:
    """The Carlini-Wagner objective term ``f = max(margin, -kappa)`` per sample.

    Parameters
    ----------
    logits : torch.Tensor, shape (B, K)
    labels : torch.Tensor, shape (B,)
        Targets (targeted) or true labels (untargeted).
    kappa : float
        Confidence: how far past the decision boundary the margin is still rewarded.
    targeted : bool

    Returns
    -------
    torch.Tensor, shape (B,)
        ``f``; its gradient is exactly zero where the margin is at or below ``-kappa``.

    Examples
    --------
    >>> cw_loss(torch.tensor([[-5.0, -1.0, -3.0]]), torch.tensor([1]), kappa=1.0)
    tensor([-1.])
    """
    margin = cw_margin(logits, labels, targeted=targeted)
    return torch.where(margin > -kappa, margin, torch.full_like(margin, -kappa))


class CW(Attack):
    """Carlini-Wagner l2: minimise ``||x' - x||_2^2 + c * f(x')`` with Adam in tanh space.

    ``x' = (tanh(w) + 1) / 2`` keeps images in [0, 1] (paper Eq. 11). Each of
    ``search_steps`` binary-search steps restarts from ``x`` and runs up to
    ``max_iterations`` Adam iterations (TensorFlow's form of Adam, as in Carlini's
    ``l2_attack.py``); between steps each sample's ``c`` is halved toward the smallest
    successful value, or multiplied by 10 while no upper bound is known. With
    ``abort_early``, Carlini's rule applies to each sample on its own (his code with a batch of
    one): every ``max_iterations // 10`` iterations (every iteration below 10), a sample whose
    loss ``||x' - x||^2 + c * max(margin + kappa, 0)`` exceeds 0.9999 times its loss at the
    previous check leaves the step before that iteration's gradient and costs no more
    gradients. The attack keeps, per sample, the successful iterate of smallest l2 distance;
    samples never fooled come back unchanged. A sample counts one gradient computation per
    iteration in which its margin term is live (``margin > -kappa``): with a saturated margin
    its model gradient is zero (the l2 term's gradient is analytic), and once most rows are
    saturated (all of them, on small batches) a gradient-free forward pass picks the live rows
    so that only they go through the backward pass.
    The paper's grid: ``search_steps`` in {1, 3, 7, 9}, ``max_iterations`` in
    {25, 100, 1000, 2000, 5000}.

    Parameters
    ----------
    model : torch.nn.Module
        Classifier of [0, 1] images returning logits.
    c : float
        Initial trade-off constant of the binary search.
    search_steps : int
        Binary-search steps over ``c``.
    max_iterations : int
        Adam iterations per search step (0 returns the images unchanged).
    kappa : float
        Confidence margin, >= 0.
    lr : float
        Adam learning rate in tanh space.
    abort_early : bool
        Stop a sample within a step when its loss stalls.
    targeted : bool
        Aim at target labels (random wrong labels drawn from ``seed`` unless given).
    seed : int
        Seed of the random target labels.

    Examples
    --------
    >>> net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    >>> cw = CW(net, c=1.0, search_steps=2, max_iterations=20)
    >>> adv = cw(torch.rand(4, 3, 2, 2), torch.tensor([0, 1, 2, 0]))
    >>> cw.total_grads <= 4 * 2 * 20
    True
    """

    name: ClassVar[str] = "cw"
    label: ClassVar[str] = "CWA"
    norms: ClassVar[tuple[str, ...]] = ("l2",)
    supported_modes: ClassVar[tuple[str, ...]] = ("default", "targeted")
    budget: ClassVar[str] = "max_iterations"
    curve_param: ClassVar[str | None] = "search_steps"
    param_names: ClassVar[tuple[str, ...]] = (
        "c",
        "search_steps",
        "max_iterations",
        "kappa",
        "lr",
        "abort_early",
    )

    def __init__(
        self,
        model: nn.Module,
        c: float = 1.0,
        search_steps: int = 9,
        max_iterations: int = 1000,
        kappa: float = 0.0,
        lr: float = 0.01,
        abort_early: bool = True,
        *,
        targeted: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__(model, targeted=targeted, seed=seed)
        self.c = check_positive("c", c)
        self.search_steps = check_count("search_steps", search_steps)
        self.max_iterations = check_count("max_iterations", max_iterations, minimum=0)
        self.kappa = check_positive("kappa", kappa, allow_zero=True)
        self.lr = check_positive("lr", lr)
        self.abort_early = bool(abort_early)

    def forward(self, images: Tensor, labels: Tensor, target_labels: Tensor | None) -> Tensor:
        """Craft adversarial images for a validated batch."""
        goals = labels if target_labels is None else target_labels
        size = images.shape[0]
        w_start = torch.atanh((images * 2 - 1) * TANH_SHRINK)
        lower = torch.zeros(size, device=images.device)
        upper = torch.full((size,), math.inf, device=images.device)
        const = torch.full((size,), self.c, device=images.device)
        best_dist = torch.full((size,), math.inf, device=images.device)
        best = images.clone()
        for _ in range(self.search_steps):
            fooled = self._search_step(w_start, goals, const, best, best_dist)
            upper = torch.where(fooled, torch.minimum(upper, const), upper)
            lower = torch.where(fooled, lower, torch.maximum(lower, const))
            const = torch.where(torch.isfinite(upper), (lower + upper) / 2, const * 10)
            self._advance(best)
        return best

    def _search_step(
        self, w_start: Tensor, goals: Tensor, const: Tensor, best: Tensor, best_dist: Tensor
    ) -> Tensor:
        """Run one step of the search in place on ``best``; return which samples were fooled.

        The distance is measured to ``(tanh(w_start) + 1) / 2``, the clean image as the tanh
        parametrisation represents it (within 1e-6 of it per pixel).
        """
        beta1, beta2 = ADAM_BETAS
        size = w_start.shape[0]
        rows = torch.arange(size, device=w_start.device)
        fooled_any = torch.zeros(size, dtype=torch.bool, device=w_start.device)
        w, goal, c = w_start.clone(), goals, const
        x0 = (torch.tanh(w_start) + 1) / 2
        moment1, moment2 = torch.zeros_like(w), torch.zeros_like(w)
        previous = torch.full_like(c, math.inf)
        check_every = max(self.max_iterations // 10, 1)
        live_share = 1.0
        for iteration in range(self.max_iterations):
            tanh_w = torch.tanh(w)
            x = (tanh_w + 1) / 2
            offset = x - x0
            dist = offset.flatten(1).pow(2).sum(dim=1)
            checking = self.abort_early and iteration % check_every == 0
            margin, model_grad, live, stop = self._margin_and_gradient(
                x, goal, c, rows, live_share, (dist, previous) if checking else None
            )
            fooled = (margin < 0) & ~live
            if stop is not None:
                previous = torch.where(stop, previous, self._loss(dist, c, margin))
                fooled = fooled & ~stop
            better = fooled & (dist < best_dist[rows])
            best_rows = rows[better]
            best_dist[best_rows] = dist[better]
            best[best_rows] = x[better]
            fooled_any[rows[fooled]] = True
            step = iteration + 1
            grad = 2 * offset if model_grad is None else model_grad + 2 * offset
            grad = grad * (1 - tanh_w * tanh_w) / 2
            moment1.mul_(beta1).add_(grad, alpha=1 - beta1)
            moment2.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            rate = self.lr * math.sqrt(1 - beta2**step) / (1 - beta1**step)
            w = w - rate * moment1 / moment2.sqrt().add_(ADAM_EPS)
            if stop is not None and stop.any():
                keep = ~stop
                rows, w, x0, goal, c, previous, moment1, moment2, live = (
                    t[keep] for t in (rows, w, x0, goal, c, previous, moment1, moment2, live)
                )
                if rows.numel() == 0:
                    break
            any_live = bool(live.any())
            split = any_live and w.numel() >= SPLIT_MIN_ELEMENTS
            live_share = float(live.float().mean()) if split else float(any_live)
        return fooled_any

    def _margin_and_gradient(
        self,
        x: Tensor,
        goal: Tensor,
        c: Tensor,
        rows: Tensor,
        live_share: float,
        check: tuple[Tensor, Tensor] | None,
    ) -> tuple[Tensor, Tensor | None, Tensor, Tensor | None]:
        """Margins of ``x``, the gradient of ``c * margin`` w.r.t. ``x`` (None where it is zero),
        the rows whose margin is live, and the rows that stop (None away from a check).

        ``check`` (at the early-abort checks) holds the squared distances of ``x`` and each
        row's loss at the previous check; rows whose loss exceeds ``1 - STALL_FRACTION`` times
        that stop here. They and the rows whose margin is saturated (``<= -kappa``, a zero
        model gradient) take no part in the backward pass. While most rows are live, one
        forward pass with gradients serves all of them; once none was live at the last
        iteration, or fewer than ``SPLIT_BELOW`` of them in a large batch
        (``SPLIT_MIN_ELEMENTS``), a forward pass without gradients finds the live rows and the
        gradient pass runs on those alone. (A backward pass costs about a forward pass, so the
        second forward pays off below half the rows live, and only where the passes cost their
        arithmetic: on small batches of small images the per-layer overhead, the same for any
        number of rows, dominates. A forward pass without gradients skips building the graph,
        and the rows rarely turn live again once none is.)
        """
        if live_share > 0 and (live_share >= SPLIT_BELOW or x.numel() < SPLIT_MIN_ELEMENTS):
            x_grad = x.detach().requires_grad_(True)
            margin = cw_margin(self.model(x_grad), goal, targeted=self.targeted)
            stop = self._stalled(margin.detach(), c, check)
            live = margin.detach() > -self.kappa
            going = live if stop is None else live & ~stop
            model_grad = None
            if going.any():
                scalar = (c * margin)[going].sum()
                model_grad = self._input_grad(scalar, x_grad, rows[going])
            return margin.detach(), model_grad, live, stop
        with torch.no_grad():
            margin = cw_margin(self.model(x), goal, targeted=self.targeted)
        stop = self._stalled(margin, c, check)
        live = margin > -self.kappa
        going = live if stop is None else live & ~stop
        model_grad = None
        if going.any():
            model_grad = torch.zeros_like(x)
            x_live = x[going].requires_grad_(True)
            scalar = c[going] * cw_margin(self.model(x_live), goal[going], targeted=self.targeted)
            model_grad[going] = self._input_grad(scalar.sum(), x_live, rows[going])
        return margin, model_grad, live, stop

    def _loss(self, dist: Tensor, c: Tensor, margin: Tensor) -> Tensor:
        """Carlini's per-sample loss ``||x' - x||^2 + c * max(margin + kappa, 0)``."""
        return dist + c * (margin + self.kappa).clamp_min(0)

    def _stalled(
        self, margin: Tensor, c: Tensor, check: tuple[Tensor, Tensor] | None
    ) -> Tensor | None:
        """Rows whose loss exceeds ``1 - STALL_FRACTION`` of the last check's (None unchecked)."""
        if check is None:
            return None
        dist, previous = check
        return self._loss(dist, c, margin) > previous * (1 - STALL_FRACTION)
