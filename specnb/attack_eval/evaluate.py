"""Run one attack over its budget grid and measure it: fooling rate, cost, perturbation sizes.

The measurements follow the definitions of SPEC "Metrics":

* Only samples the model classifies correctly are attacked; the fooling rate at a budget is
  the fraction of them whose adversarial example is misclassified, for targeted attacks too
  (the paper's fooling rate); a targeted attack also records its *target-hit rate*, the
  fraction classified as their target (:func:`specnb.metrics.fooling_rate`,
  :func:`specnb.metrics.target_hit_rate`).
* The attack cost at a budget is the mean number of gradient computations per attacked
  sample (the attack's own ``grad_counts``); the cost per batch is kept beside it.
* The AUC score is the area under the fooling-rate curve over the grid's scalar budgets,
  normalised to [0, 1] (:func:`specnb.metrics.auc_score`); ``cost_to_fr90`` is the cost at
  which the fooling rate first reaches 0.9 (:func:`specnb.metrics.cost_to_reach`).
* Perturbation sizes (ℓ0, ℓ2, ℓ∞ in the [0, 1] image domain) are taken over the samples an
  attack fools at that budget: an example that does not fool is no adversarial example.

Whole curves from one run
-------------------------
Where an attack's run at a smaller budget is exactly the beginning of its run at a larger one
(the attack's ``curve_param``: FGSM's ε, DeepFool's ``max_iter``, JSMA's γ, Carlini-Wagner's
``search_steps`` for each ``max_iterations``), the grid points that differ only in that
parameter are served by one run at the largest (:func:`~specnb.attack_eval.grids.curve_runs`,
:meth:`specnb.attacks.Attack.curve`); each point still gets its own prediction pass. The
adversarial examples, fooling flags and per-sample gradient counts of every point are those
of a run at that point alone. BIM (its steps grow with ε) and L-BFGS run every point.
"""

from __future__ import annotations

import math
import time
from typing import Any, NamedTuple, Optional, Union

import numpy as np
import torch
from torch import Tensor, nn

from specnb.attack_eval.budgets import BudgetGrid, canonical_attack
from specnb.attack_eval.grids import budget_grid, curve_runs
from specnb.attack_eval.results import AttackEvaluation, BudgetResult
from specnb.attack_eval.targeting import DEFAULT_NORMS, TARGETING, resolve_targeted
from specnb.attacks import make_attack, random_targets
from specnb.attacks.precision import attack_precision
from specnb.errors import ParameterError
from specnb.metrics import fooled, fooling_rate, perturbation_norms, target_hit_rate

__all__ = ["evaluate_attack", "predict"]


def predict(
    model: nn.Module, images: Tensor, batch_size: int = 64, device: Optional[torch.device] = None
) -> Tensor:
    """Predicted classes of ``images`` (on the CPU), in evaluation mode without gradients.

    Parameters
    ----------
    model : torch.nn.Module
        Classifier of [0, 1] images returning logits; its training flag is restored.
    images : torch.Tensor, shape (B, C, H, W)
    batch_size : int
    device : torch.device, optional
        Where the model runs; None: the device of its parameters.

    Returns
    -------
    torch.Tensor, shape (B,), int64, CPU
    """
    device = device if device is not None else _device_of(model)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            chunks = [
                model(images[i : i + batch_size].to(device)).argmax(dim=1).cpu()
                for i in range(0, images.shape[0], batch_size)
            ]
    finally:
        model.train(was_training)
    return torch.cat(chunks) if chunks else torch.zeros(0, dtype=torch.long)


def evaluate_attack(
    model: nn.Module,
    attack: Union[str, BudgetGrid],
    images: Tensor,
    labels: Tensor,
    *,
    budgets: Optional[BudgetGrid] = None,
    targeted: Optional[bool] = None,
    seed: int = 0,
    max_samples: Optional[int] = None,
    batch_size: int = 32,
    keep: int = -1,
    keep_every: bool = False,
    device: Union[str, torch.device, None] = None,
    precision: str = "fp32",
) -> AttackEvaluation:
    """Evaluate an attack at every point of its budget grid.

    Parameters
    ----------
    model : torch.nn.Module
        The victim: maps [0, 1] images (B, C, H, W) to logits.
    attack : str or BudgetGrid
        Attack name, or its grid (then ``budgets`` is left out).
    images : torch.Tensor, shape (n, C, H, W)
        Test images in [0, 1] (any device; moved batch by batch).
    labels : torch.Tensor, shape (n,)
        Their true classes.
    budgets : BudgetGrid, optional
        The grid to run; default ``budget_grid(attack, "quick")``.
    targeted : bool, optional
        Targeted or not; None: the paper's choice
        (:data:`~specnb.attack_eval.targeting.PAPER_TARGETED`).
    seed : int
        Seed of the random wrong target labels, drawn once for all attacked samples
        (:func:`specnb.attacks.random_targets`), so they do not depend on ``batch_size``.
    max_samples : int, optional
        Attack at most this many correctly classified samples (the first ones).
    batch_size : int
        Samples per attack call.
    keep : int
        Grid point whose adversarial examples are kept (default the last, largest budget).
    keep_every : bool
        Also keep the adversarial examples and predictions of every grid point
        (:attr:`AttackEvaluation.point_adv`), for instance to try them on other models.
    device : str or torch.device, optional
        Where the model runs; None: where its parameters are.
    precision : {"fp32", "bf16"}
        The precision the attack runs the model in (:func:`specnb.attacks.make_attack`;
        ``$SPECNB_PRECISION`` overrides it); fooling is judged on the model in float32.

    Returns
    -------
    AttackEvaluation

    Raises
    ------
    ValueError
        Mismatched ``images`` and ``labels``, a grid of another attack, an unsupported
        targeting mode, ``keep`` outside the grid, no correctly classified sample (the
        fooling rate is undefined), or an invalid attack parameter (raised by the attack).

    Examples
    --------
    >>> from torch import nn
    >>> from specnb.attack_eval import fgsm_grid
    >>> net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    >>> x = torch.rand(6, 3, 2, 2)
    >>> y = net(x).argmax(1)  # every sample classified correctly
    >>> ev = evaluate_attack(net, "fgsm", x, y, budgets=fgsm_grid([0.0, 0.5]), targeted=False)
    >>> ev.fooling_rates[0], ev.n_correct
    (0.0, 6)
    """
    if isinstance(attack, BudgetGrid):
        if budgets is not None:
            raise ParameterError("attack is already a grid; leave budgets out")
        grid = attack
    else:
        grid = budgets if budgets is not None else budget_grid(attack, "quick")
        if grid.attack != canonical_attack(attack):
            raise ParameterError(f"budgets is a grid of {grid.attack}, not of {attack!r}")
    _check_inputs(images, labels, batch_size, max_samples)
    if not -len(grid) <= keep < len(grid):
        raise ParameterError(f"keep={keep} is outside the grid of {len(grid)} points")
    kept = keep % len(grid)
    precision = attack_precision(precision)
    is_targeted = resolve_targeted(grid.attack, targeted)
    target_device = torch.device(device) if device is not None else _device_of(model)
    start = time.perf_counter()
    labels = labels.detach().cpu().long()
    clean_pred = predict(model, images, batch_size, target_device)
    correct = (clean_pred == labels).nonzero().flatten()
    if correct.numel() == 0:
        raise ParameterError(
            f"the model classifies none of the {len(labels)} samples correctly; the fooling "
            "rate is undefined"
        )
    indices = correct[:max_samples] if max_samples is not None else correct
    chosen, chosen_labels = images[indices].detach().cpu(), labels[indices]
    targets = None
    if is_targeted:
        targets = random_targets(chosen_labels, _num_classes(model, chosen, target_device), seed)
    results: dict[int, BudgetResult] = {}
    held: dict[int, tuple[Tensor, Tensor]] = {}
    spent = 0.0
    holding = set(range(len(grid))) if keep_every else {kept}
    first = _FirstFooling(chosen)
    for run_params, point_indices in curve_runs(grid):
        run = _run_curve(
            model,
            grid,
            run_params,
            point_indices,
            chosen,
            chosen_labels,
            targets,
            is_targeted,
            seed,
            batch_size,
            target_device,
            holding,
            first,
            precision,
        )
        spent += run.spent
        results.update(zip(point_indices, run.results))
        held.update(run.held)
    kept_adv, kept_pred = held[kept]
    params = grid.points()[kept]
    return AttackEvaluation(
        grid=grid,
        targeted=is_targeted,
        seed=seed,
        n_samples=len(labels),
        n_correct=int(correct.numel()),
        indices=indices,
        labels=chosen_labels,
        targets=targets,
        results=[results[i] for i in range(len(grid))],
        kept=kept,
        adv_images=kept_adv,
        adv_pred=kept_pred,
        norm=str(params.get("norm", DEFAULT_NORMS[grid.attack])),
        seconds=time.perf_counter() - start,
        max_samples=max_samples,
        spent_grads_per_sample=spent,
        point_adv=[held[i] for i in range(len(grid))] if keep_every else None,
        first_adv=first.adv,
        first_pred=first.pred,
        precision=precision,
    )


class _FirstFooling:
    """Per attacked sample, the adversarial example at the smallest budget that fools it
    (its clean image and -1 until one does)."""

    def __init__(self, images: Tensor) -> None:
        self.adv = images.detach().cpu().clone()
        self.pred = torch.full((images.shape[0],), -1, dtype=torch.long)
        self.budget = torch.full((images.shape[0],), math.inf, dtype=torch.float64)

    def update(self, lo: int, budget: float, adv: Tensor, pred: Tensor, labels: Tensor) -> None:
        """Take the examples of rows ``lo:`` that fool at ``budget`` if it is smaller."""
        rows = slice(lo, lo + adv.shape[0])
        better = fooled(pred, labels[rows]) & (budget < self.budget[rows])
        if bool(better.any()):
            self.adv[rows][better] = adv.detach().cpu()[better]
            self.pred[rows][better] = pred[better]
            self.budget[rows][better] = budget


class _Run(NamedTuple):
    """What one attack run gave: a result per grid point it serves, the adversarial images
    and predictions of the points it holds, the gradients per sample it spent."""

    results: list[BudgetResult]
    held: dict[int, tuple[Tensor, Tensor]]
    spent: float


def _run_curve(
    model: nn.Module,
    grid: BudgetGrid,
    params: dict[str, Any],
    points: list[int],
    images: Tensor,
    labels: Tensor,
    targets: Optional[Tensor],
    targeted: bool,
    seed: int,
    batch_size: int,
    device: torch.device,
    holding: set[int],
    first: _FirstFooling,
    precision: str = "fp32",
) -> _Run:
    """One attack run, batch by batch, measured at each grid point of ``points``.

    Each batch's adversarial images are predicted and sized at once; only those of the points
    in ``holding`` are held, and those that fool at a smaller budget than before go to
    ``first``. The run's wall time is counted on its largest point.
    """
    start = time.perf_counter()
    options = dict(params, seed=seed)
    if len(TARGETING[grid.attack]) > 1:
        options["targeted"] = targeted
    attack = make_attack(grid.attack, model, precision=precision, **options)
    key = attack.curve_param if len(points) > 1 else None
    values = [grid.points()[i][key] for i in points] if key is not None else []
    slots: list[dict[str, list[Tensor]]] = [
        {"pred": [], "counts": [], "adv": [], **{n: [] for n in _SIZES}} for _ in points
    ]
    spent = []
    for lo in range(0, images.shape[0], batch_size):
        x = images[lo : lo + batch_size].to(device)
        y = labels[lo : lo + batch_size].to(device)
        t = None if targets is None else targets[lo : lo + batch_size].to(device)
        if key is None:
            batch_advs, batch_counts = [attack(x, y, t)], [attack.grad_counts]
        else:
            batch_advs = attack.curve(x, y, t, values=values)
            batch_counts = attack.curve_grad_counts
        for slot, index, adv, count in zip(slots, points, batch_advs, batch_counts):
            slot["pred"].append(predict(model, adv, batch_size, device))
            first.update(lo, grid.budgets[index], adv, slot["pred"][-1], labels)
            slot["counts"].append(count.clone())
            for name, size in perturbation_norms(x, adv).items():
                slot[name].append(size.cpu())
            if index in holding:
                slot["adv"].append(adv.cpu())
        spent.append(attack.grad_counts.clone())
    seconds = time.perf_counter() - start
    largest = max(points, key=lambda i: grid.budgets[i])
    results, held = [], {}
    for slot, index in zip(slots, points):
        adv_pred = torch.cat(slot["pred"])
        missed = fooled(adv_pred, labels)
        counts = slot["counts"]
        results.append(
            BudgetResult(
                params=grid.points()[index],
                budget=grid.budgets[index],
                # every attacked sample is classified correctly: labels stand for clean predictions
                fooling_rate=fooling_rate(adv_pred, labels, labels),
                grad_counts=torch.cat(counts).numpy().astype(np.int64),
                grads_per_batch=float(np.mean([int(c.sum()) for c in counts])),
                norms=_norm_stats({n: torch.cat(slot[n]) for n in _SIZES}, missed),
                linf=torch.cat(slot["linf"]).double().numpy(),
                seconds=seconds if index == largest else 0.0,
                target_rate=None
                if targets is None
                else target_hit_rate(adv_pred, labels, labels, targets),
                fooled=missed.numpy(),
            )
        )
        if index in holding:
            held[index] = (torch.cat(slot["adv"]), adv_pred)
    return _Run(results, held, float(torch.cat(spent).double().mean()))


_SIZES = ("l0", "l2", "linf")


def _norm_stats(sizes: dict[str, Tensor], missed: Tensor) -> dict[str, float]:
    """Mean and median ℓ0, ℓ2, ℓ∞ over the fooled samples (NaN when none is fooled)."""
    stats: dict[str, float] = {}
    for norm in _SIZES:
        values = sizes[norm][missed].double() if bool(missed.any()) else None
        stats[f"{norm}_mean"] = float(values.mean()) if values is not None else math.nan
        stats[f"{norm}_median"] = float(values.median()) if values is not None else math.nan
    return stats


def _check_inputs(
    images: Tensor, labels: Tensor, batch_size: int, max_samples: Optional[int]
) -> None:
    if not isinstance(images, Tensor) or images.dim() != 4 or images.shape[0] == 0:
        raise ParameterError("images must be a non-empty tensor of shape (n, C, H, W)")
    if not isinstance(labels, Tensor) or labels.shape != images.shape[:1]:
        raise ParameterError(
            f"labels must have shape ({images.shape[0]},) like images, got "
            f"{tuple(getattr(labels, 'shape', ()))}"
        )
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ParameterError(f"batch_size must be an int >= 1, got {batch_size!r}")
    if max_samples is not None and (
        isinstance(max_samples, bool) or not isinstance(max_samples, int) or max_samples < 1
    ):
        raise ParameterError(f"max_samples must be None or an int >= 1, got {max_samples!r}")


def _num_classes(model: nn.Module, images: Tensor, device: torch.device) -> int:
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return int(model(images[:1].to(device)).shape[1])
    finally:
        model.train(was_training)


def _device_of(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")
