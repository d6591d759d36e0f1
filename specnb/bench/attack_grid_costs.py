"""What an attack's budget grids cost: seconds and input gradients per attacked sample over
each grid, and a grid's gradients counted as the evaluation runs it (one run serving the
points of a curve) beside one run per point. :mod:`specnb.bench.sweep_costs` measures them
with the other unit costs."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Sequence

from specnb.bench.unit_costs import ATTACK_MODEL, BUDGET_CAPS
from specnb.errors import ParameterError

if TYPE_CHECKING:
    from specnb.attack_eval.budgets import BudgetGrid

__all__ = ["attack_grid_costs", "grid_gradients"]


def grid_gradients(grid: "BudgetGrid", point_grads: Sequence[float]) -> tuple[float, float]:
    """Gradients per sample of a whole grid: one run per point, and as the evaluation runs it.

    Parameters
    ----------
    grid : BudgetGrid
    point_grads : sequence of float
        Gradient computations per sample of the attack at each point run alone.

    Returns
    -------
    each_point, curves : float
        The sum over the points, and the sum over the runs of
        :func:`specnb.attack_eval.curve_runs` (a run that serves several points costs what
        its largest point costs alone, which is what it spends).

    Raises
    ------
    ParameterError
        ``point_grads`` does not have one entry per grid point.

    Examples
    --------
    >>> from specnb.attack_eval import deepfool_grid
    >>> grid_gradients(deepfool_grid([1, 2, 4]), [9.0, 14.0, 18.0])
    (41.0, 18.0)
    """
    from specnb.attack_eval import curve_runs

    if len(point_grads) != len(grid):
        raise ParameterError(
            f"point_grads has {len(point_grads)} entries for {len(grid)} points of the "
            f"{grid.attack} grid; give one per point"
        )
    runs = [max(points, key=lambda i: grid.budgets[i]) for _, points in curve_runs(grid)]
    return float(sum(point_grads)), float(sum(point_grads[i] for i in runs))


def attack_grid_costs(
    samples: int, attacks: Sequence[str], classes: int, device: str = "cpu"
) -> dict[str, dict[str, dict[str, float]]]:
    """Seconds and input gradients per attacked sample over each grid of each attack.

    The attacks run on a random :data:`~specnb.bench.unit_costs.ATTACK_MODEL` of ``classes``
    classes, on ``samples`` random images in one batch, up to the
    :data:`~specnb.bench.unit_costs.BUDGET_CAPS`; points beyond a cap are extrapolated by
    budget.

    Returns
    -------
    dict
        By ``"seconds"`` / ``"gradients"`` (the runs the evaluation makes) /
        ``"gradients_each_point"`` (one run per point), then grid name, then attack.
    """
    import torch

    from specnb.attack_eval import evaluate_attack
    from specnb.attack_eval.budgets import BudgetGrid
    from specnb.attack_eval.evaluate import predict
    from specnb.attack_eval.grids import budget_grid
    from specnb.models import IMAGE_SHAPE, build_model

    model = build_model(ATTACK_MODEL, classes, seed=0).to(device).eval()
    images = torch.rand(samples, *IMAGE_SHAPE, generator=torch.Generator().manual_seed(0))
    labels = predict(model, images)
    parts = ("seconds", "gradients", "gradients_each_point")
    out: dict[str, dict[str, dict[str, float]]] = {
        part: {grid: {} for grid in BUDGET_CAPS} for part in parts
    }
    for grid_name in BUDGET_CAPS:
        for attack in attacks:
            grid = budget_grid(attack, grid_name)
            cap = BUDGET_CAPS[grid_name].get(grid.attack, math.inf)
            keep = [i for i, b in enumerate(grid.budgets) if b <= cap] or [0]
            run = BudgetGrid(
                grid.attack,
                grid.param_names,
                [grid.values[i] for i in keep],
                [grid.budgets[i] for i in keep],
                grid.budget_name,
                grid.fixed,
                grid.name,
            )
            ev = evaluate_attack(model, run, images, labels, batch_size=samples)
            seconds = [r.seconds / samples for r in ev.results]
            grads = [r.grads_per_sample for r in ev.results]
            beyond = [b for i, b in enumerate(grid.budgets) if i not in keep]
            point_grads = grads + [grads[-1] / run.budgets[-1] * b for b in beyond]
            point_seconds = seconds + [seconds[-1] / run.budgets[-1] * b for b in beyond]
            each, curves = grid_gradients(grid, point_grads)
            out["seconds"][grid_name][grid.attack] = grid_gradients(grid, point_seconds)[1]
            out["gradients"][grid_name][grid.attack] = curves
            out["gradients_each_point"][grid_name][grid.attack] = each
    return out
