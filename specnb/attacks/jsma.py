"""Jacobian-based saliency map attack (Papernot et al. 2016), targeted, l0, batched."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import Tensor, nn

from specnb.attacks.base import Attack
from specnb.attacks.checks import check_choice, check_count, check_positive
from specnb.errors import ParameterError

VARIANTS = ("pixel", "pair")


def pixel_saliency(gain: Tensor, others: Tensor, domain: Tensor) -> tuple[Tensor, Tensor]:
    """Pick the most salient single feature per sample (paper Eq. 8).

    A feature qualifies when it raises the target logit (``gain > 0``) and lowers the sum of
    the other logits (``others < 0``); its saliency is ``gain * |others|``.

    Parameters
    ----------
    gain : torch.Tensor, shape (B, N)
        Derivative of the target logit along the direction of change, per feature.
    others : torch.Tensor, shape (B, N)
        Derivative of the sum of the other logits along the same direction.
    domain : torch.Tensor, shape (B, N), bool
        Features that may still change.

    Returns
    -------
    picks : torch.Tensor, shape (B, 1), int64
        Chosen feature per sample.
    found : torch.Tensor, shape (B,), bool
        Whether any feature qualified.

    Examples
    --------
    >>> pixel_saliency(torch.tensor([[1.0, 2.0]]), torch.tensor([[-1.0, 1.0]]),
    ...                torch.tensor([[True, True]]))
    (tensor([[0]]), tensor([True]))
    """
    valid = domain & (gain > 0) & (others < 0)
    score = torch.where(valid, gain * -others, torch.full_like(gain, -math.inf))
    return score.argmax(dim=1, keepdim=True), valid.any(dim=1)


def pair_saliency(
    gain: Tensor, others: Tensor, domain: Tensor, candidates: int
) -> tuple[Tensor, Tensor]:
    """Pick the most salient pair of features per sample (Papernot et al., Algorithm 3).

    A pair qualifies when the summed derivatives raise the target logit and lower the other
    logits; its saliency is ``(g_p + g_q) * |o_p + o_q|``. The search runs over all pairs
    among the ``candidates`` features with the largest ``gain - others`` (all pairs when
    ``candidates`` >= N), which keeps memory at ``B * candidates**2`` instead of ``B * N**2``.

    Parameters
    ----------
    gain, others : torch.Tensor, shape (B, N)
        As in :func:`pixel_saliency`.
    domain : torch.Tensor, shape (B, N), bool
        Features that may still change.
    candidates : int
        Size of the per-sample candidate set.

    Returns
    -------
    picks : torch.Tensor, shape (B, 2), int64
        Chosen pair per sample.
    found : torch.Tensor, shape (B,), bool
        Whether any pair qualified.

    Examples
    --------
    >>> picks, found = pair_saliency(torch.tensor([[1.0, 1.0, -5.0]]),
    ...     torch.tensor([[-1.0, -1.0, 0.0]]), torch.ones(1, 3, dtype=torch.bool), 3)
    >>> sorted(picks[0].tolist()), found
    ([0, 1], tensor([True]))
    """
    size = min(candidates, gain.shape[1])
    rank = torch.where(domain, gain - others, torch.full_like(gain, -math.inf))
    index = rank.topk(size, dim=1).indices
    g, o, d = gain.gather(1, index), others.gather(1, index), domain.gather(1, index)
    g_pair = g[:, :, None] + g[:, None, :]
    o_pair = o[:, :, None] + o[:, None, :]
    distinct = ~torch.eye(size, dtype=torch.bool, device=gain.device)
    valid = (g_pair > 0) & (o_pair < 0) & d[:, :, None] & d[:, None, :] & distinct
    score = torch.where(valid, g_pair * -o_pair, torch.full_like(g_pair, -math.inf))
    best = score.flatten(1).argmax(dim=1)
    first, second = best // size, best % size
    picks = torch.stack([index.gather(1, first[:, None]), index.gather(1, second[:, None])], 1)
    return picks.squeeze(2), valid.flatten(1).any(dim=1)


def greedy_choice(
    gain: Tensor, others: Tensor, domain: Tensor, count: int
) -> tuple[Tensor, Tensor]:
    """Pick the ``count`` features with the largest ``gain - others`` per sample.

    The fallback of the saliency maps when no feature (pair) meets their sign conditions:
    the features that most raise the target logit relative to the sum of the others.

    Parameters
    ----------
    gain, others : torch.Tensor, shape (B, N)
        As in :func:`pixel_saliency`.
    domain : torch.Tensor, shape (B, N), bool
        Features that may still change.
    count : int
        Features to pick (1 or 2).

    Returns
    -------
    picks : torch.Tensor, shape (B, count), int64
    found : torch.Tensor, shape (B,), bool
        Whether the domain still holds ``count`` features.

    Examples
    --------
    >>> greedy_choice(torch.tensor([[1.0, 2.0, 0.0]]), torch.tensor([[0.0, 3.0, -2.0]]),
    ...               torch.ones(1, 3, dtype=torch.bool), 1)
    (tensor([[2]]), tensor([True]))
    """
    rank = torch.where(domain, gain - others, torch.full_like(gain, -math.inf))
    return rank.topk(count, dim=1).indices, domain.sum(dim=1) >= count


class JSMA(Attack):
    """Greedy l0 attack: change the most salient features by ``theta`` until the target wins.

    Each iteration takes, for the samples not yet classified as their target, two backward
    passes over the batch: the gradient of the target logit and the gradient of the sum of
    all logits (the other classes' gradient sum is their difference), so the cost does not
    grow with the number of classes: two gradient computations per sample and iteration.
    Saliency uses logits (the derivative of the softmax sum would vanish). Changed features
    leave the search domain, so at most ``ceil(gamma * N)`` features change (N = C*H*W).
    Where no feature (pair) meets the saliency map's sign conditions, the feature (the two
    features) with the largest ``gain - others`` is taken instead (:func:`greedy_choice`),
    so a sample goes on until it reaches its target, spends its budget, or runs out of
    features (Papernot et al. stop at that point instead).

    Parameters
    ----------
    model : torch.nn.Module
        Classifier of [0, 1] images returning logits.
    theta : float
        Change applied to a chosen feature (then clipped to [0, 1]); > 0 raises features,
        < 0 lowers them; ``abs(theta) <= 1``.
    gamma : float
        Largest fraction of features that may change, in [0, 1] (the l0 budget).
    variant : {"pixel", "pair"}
        ``"pixel"``: one feature per iteration by the single-feature saliency map of paper
        Eq. 8. ``"pair"``: Papernot's pair saliency map, two features per iteration.
    candidates : int
        Candidate features per sample for the pair search (see :func:`pair_saliency`).
    seed : int
        Seed of the random target labels drawn when none are given.

    Examples
    --------
    >>> net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    >>> jsma = JSMA(net, theta=1.0, gamma=0.5)
    >>> x = torch.rand(4, 3, 2, 2)
    >>> adv = jsma(x, torch.tensor([0, 1, 2, 0]))
    >>> bool(((adv != x).flatten(1).sum(dim=1) <= 6).all())
    True
    """

    name: ClassVar[str] = "jsma"
    label: ClassVar[str] = "JSMA"
    norms: ClassVar[tuple[str, ...]] = ("l0",)
    supported_modes: ClassVar[tuple[str, ...]] = ("targeted",)
    budget: ClassVar[str] = "gamma"
    curve_param: ClassVar[str | None] = "gamma"
    param_names: ClassVar[tuple[str, ...]] = ("theta", "gamma", "variant", "candidates")

    def __init__(
        self,
        model: nn.Module,
        theta: float = 1.0,
        gamma: float = 0.1,
        variant: str = "pair",
        candidates: int = 128,
        *,
        seed: int = 0,
    ) -> None:
        super().__init__(model, targeted=True, seed=seed)
        if isinstance(theta, bool) or not isinstance(theta, (int, float)):
            raise TypeError(f"theta must be a number, got {type(theta).__name__}")
        if not (0 < abs(theta) <= 1):
            raise ParameterError(f"theta must be non-zero with abs(theta) <= 1, got {theta}")
        self.theta = float(theta)
        self.gamma = check_positive("gamma", gamma, allow_zero=True)
        if self.gamma > 1:
            raise ParameterError(f"gamma must be a fraction of features in [0, 1], got {gamma}")
        self.variant = check_choice("variant", variant, VARIANTS)
        self.candidates = check_count("candidates", candidates, minimum=2)

    def forward(self, images: Tensor, labels: Tensor, target_labels: Tensor | None) -> Tensor:
        """Craft adversarial images for a validated batch."""
        assert target_labels is not None
        shape = images.shape[1:]
        per_iteration = 1 if self.variant == "pixel" else 2
        iterations = self._progress(self.gamma, images)
        direction = 1.0 if self.theta > 0 else -1.0
        adv = images.flatten(1).clone()
        domain = adv < 1 if self.theta > 0 else adv > 0
        active = torch.arange(images.shape[0], device=images.device)
        for iteration in range(iterations):
            self._reached(iteration, adv.view_as(images))
            x = adv[active].view(-1, *shape).requires_grad_(True)
            logits = self.model(x)
            targets = target_labels[active]
            going = (logits.detach().argmax(dim=1) != targets) & domain[active].any(dim=1)
            if not going.any():
                break
            rows = active[going]
            target_logit = logits.gather(1, targets[:, None]).squeeze(1)
            grad_target = self._input_grad(target_logit[going].sum(), x, rows, retain_graph=True)
            grad_all = self._input_grad(logits[going].sum(), x, rows)
            gain = direction * grad_target.flatten(1)[going]
            others = direction * grad_all.flatten(1)[going] - gain
            free = domain[rows]
            if self.variant == "pixel":
                picks, found = pixel_saliency(gain, others, free)
            else:
                picks, found = pair_saliency(gain, others, free, self.candidates)
            greedy, possible = greedy_choice(gain, others, free, per_iteration)
            picks = torch.where(found[:, None], picks, greedy)
            rows, picks = rows[found | possible], picks[found | possible]
            changed = (adv[rows[:, None], picks] + self.theta).clamp(0, 1)
            adv[rows[:, None], picks] = changed
            domain[rows[:, None], picks] = False
            active = rows
        return adv.view_as(images)

    def _progress(self, value: float, images: Tensor) -> int:
        """Iterations of the attack at ``gamma = value``: ``ceil(gamma * N / n)`` for ``N``
        features and ``n`` changed per iteration (1 pixel, 2 pair)."""
        per_iteration = 1 if self.variant == "pixel" else 2
        return math.ceil(value * images[0].numel() / per_iteration)
