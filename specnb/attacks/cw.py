"""Carlini-Wagner l2 attack (Carlini & Wagner 2017) with a per-sample binary search over c."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from specnb.attacks.base import Attack, check_count, check_positive

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
STALL_FRACTION = 1e-4
PATIENCE = 2
SPLIT_BELOW = 2 / 3


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
    own = logits.gather(1, labels[:, None]).squeeze(1)
    label_mask = F.one_hot(labels, logits.shape[1]).bool()
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
    ``max_iterations`` Adam iterations; between steps each sample's ``c`` is halved toward
    the smallest successful value, or multiplied by 10 while no upper bound is known. With
    ``abort_early``, the iterations of a step form windows of ``max_iterations // 10``; a
    sample whose lowest loss has not fallen by 0.01 % over two windows in a row leaves the
    step and costs no more gradients. This is a per-sample version of Carlini and Wagner's
    batch-level check (which compares the batch loss once per window); running minima and
    the second window keep Adam's overshoot past the boundary from stopping a sample that
    still improves. The attack keeps, per
    sample, the successful iterate of smallest l2 distance; samples never fooled come back
    unchanged. A sample counts one gradient computation per iteration in which its margin
    term is live (``margin > -kappa``): with a saturated margin its model gradient is zero
    (the l2 term's gradient is analytic), and once most rows are saturated a gradient-free
    forward pass picks the live rows so that only they go through the backward pass.
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
    budget: ClassVar[str] = "max_iterations"
    param_names: ClassVar[tuple[str, ...]] = (
        "c", "search_steps", "max_iterations", "kappa", "lr", "abort_early",
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
        w_start = torch.atanh((images * 2 - 1).clamp(-1 + 1e-6, 1 - 1e-6))
        lower = torch.zeros(size, device=images.device)
        upper = torch.full((size,), math.inf, device=images.device)
        const = torch.full((size,), self.c, device=images.device)
        best_dist = torch.full((size,), math.inf, device=images.device)
        best = images.clone()
        for _ in range(self.search_steps):
            fooled = self._search_step(images, goals, w_start, const, best, best_dist)
            upper = torch.where(fooled, torch.minimum(upper, const), upper)
            lower = torch.where(fooled, lower, torch.maximum(lower, const))
            const = torch.where(torch.isfinite(upper), (lower + upper) / 2, const * 10)
        return best

    def _search_step(
        self,
        images: Tensor,
        goals: Tensor,
        w_start: Tensor,
        const: Tensor,
        best: Tensor,
        best_dist: Tensor,
    ) -> Tensor:
        """Run one step of the search in place on ``best``; return which samples were fooled."""
        beta1, beta2 = ADAM_BETAS
        rows = torch.arange(images.shape[0], device=images.device)
        fooled_any = torch.zeros(images.shape[0], dtype=torch.bool, device=images.device)
        w, x0, goal, c = w_start.clone(), images, goals, const
        moment1, moment2 = torch.zeros_like(w), torch.zeros_like(w)
        record = torch.full_like(c, math.inf)
        window_low = torch.full_like(c, math.inf)
        stale = torch.zeros_like(c)
        check_every = max(self.max_iterations // 10, 1)
        live_share = 1.0
        for iteration in range(self.max_iterations):
            tanh_w = torch.tanh(w)
            x = (tanh_w + 1) / 2
            margin, model_grad = self._margin_and_gradient(x, goal, c, rows, live_share)
            live = margin > -self.kappa
            live_share = float(live.float().mean())
            dist = (x - x0).flatten(1).pow(2).sum(dim=1)
            loss = dist + c * torch.where(live, margin, torch.full_like(margin, -self.kappa))
            grad = (model_grad + 2 * (x - x0)) * (1 - tanh_w * tanh_w) / 2
            fooled = (margin < 0) & ~live
            better = fooled & (dist < best_dist[rows])
            best_dist[rows[better]] = dist[better]
            best[rows[better]] = x[better]
            fooled_any[rows[fooled]] = True
            step = iteration + 1
            moment1.mul_(beta1).add_(grad, alpha=1 - beta1)
            moment2.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            denom = (moment2 / (1 - beta2**step)).sqrt_().add_(ADAM_EPS)
            w = w - self.lr * (moment1 / (1 - beta1**step)) / denom
            window_low = torch.minimum(window_low, loss)
            if self.abort_early and iteration % check_every == check_every - 1:
                improved = (window_low < record - STALL_FRACTION * record.abs()) | record.isinf()
                stale = torch.where(improved, torch.zeros_like(stale), stale + 1)
                keep = stale < PATIENCE
                record = torch.minimum(record, window_low)
                window_low = torch.full_like(window_low, math.inf)
                if not keep.all():
                    rows, w, x0, goal, c, record, window_low, stale = (
                        t[keep] for t in (rows, w, x0, goal, c, record, window_low, stale)
                    )
                    moment1, moment2 = moment1[keep], moment2[keep]
                if rows.numel() == 0:
                    break
        return fooled_any

    def _margin_and_gradient(
        self, x: Tensor, goal: Tensor, c: Tensor, rows: Tensor, live_share: float
    ) -> tuple[Tensor, Tensor]:
        """Margins of ``x`` and the gradient of ``c * margin`` w.r.t. ``x`` on the live rows.

        Rows whose margin is saturated (``<= -kappa``) have a zero model gradient. While most
        rows are live, one forward pass with gradients serves all of them; once fewer than
        ``SPLIT_BELOW`` of them were live at the last iteration, a forward pass without
        gradients finds the live rows and the gradient pass runs on those alone.
        """
        model_grad = torch.zeros_like(x)
        if live_share >= SPLIT_BELOW:
            x_grad = x.detach().requires_grad_(True)
            margin = cw_margin(self.model(x_grad), goal, targeted=self.targeted)
            live = margin.detach() > -self.kappa
            if live.any():
                scalar = (c * margin)[live].sum()
                model_grad = self._input_grad(scalar, x_grad, rows[live])
            return margin.detach(), model_grad
        with torch.no_grad():
            margin = cw_margin(self.model(x), goal, targeted=self.targeted)
        live = margin > -self.kappa
        if live.any():
            x_live = x[live].requires_grad_(True)
            scalar = (c[live] * cw_margin(self.model(x_live), goal[live], targeted=self.targeted))
            model_grad[live] = self._input_grad(scalar.sum(), x_live, rows[live])
        return margin, model_grad
