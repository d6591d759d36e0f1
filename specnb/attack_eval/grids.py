"""The attacks' budget grids (paper §4.3.1): the paper's, and quick ones for a CPU.

Two grids per attack (each a :class:`~specnb.attack_eval.budgets.BudgetGrid`): ``"paper"``
follows §4.3.1, ``"quick"`` is a small grid of the same shape that runs on a CPU in seconds.
How each grid reads the paper:

FGSM, BIM-a, BIM-b
    "Possible ranges for δ have been defined from 0.001 to any possible supremum": ε from
    0.001 in the [0, 1] image domain (the paper's 0.001 is on the same scale, its M = 255
    only being the 8-bit display of the images) up to 0.1, where every model we trained is
    fooled. BIM uses the step rule of Kurakin et al. (the paper's [36]): step
    ``alpha = 1/255`` and ``steps = ceil(min(255 ε + 4, 1.25 · 255 ε))`` (at least 1), so a
    small ε takes one step to the edge of its ball and a large one enough steps to cross it.
DeepFool
    "Iterations from 100 to 1000 (10 different scales with a step of 100)": ``max_iter`` in
    100, 200, ..., 1000. DeepFool stops each sample at its first success, usually within a
    few iterations, so on this grid the curve is flat and the AUC is the fooling rate; the
    quick grid (1, 2, 3, 5, 10 iterations) shows where the curve actually rises.
JSMA
    "The number of iterations has been set to (m γ)/n" with m the number of pixels and γ the
    largest allowed distortion: the grid runs over γ, the largest fraction of the m image
    elements the attack may change, and the iterations follow as ``ceil(γ m / n)`` with n = 2
    elements changed per iteration (the pair saliency map). :func:`jsma_iterations` gives
    them for an image size.
Carlini-Wagner
    "{1, 3, 7, 9} for search steps in c within {25, 100, 1k, 2k, 5k} iterations in each
    search step using early stopping": the 20 points of that product; the scalar budget is
    ``search_steps × max_iterations``, the iterations the attack may spend in all.
L-BFGS
    The paper's baseline, with no grid of its own: L-BFGS iterations per search step over c
    (5 steps of bisection on log c), from 5 to 100.
"""

from __future__ import annotations

import math
from itertools import product
from typing import Any, Sequence

from specnb.attack_eval.budgets import GRID_NAMES, BudgetGrid, canonical_attack
from specnb.attacks import ATTACKS, BIM_VARIANTS, Attack
from specnb.errors import ParameterError

__all__ = [
    "BIM_STEP",
    "GRIDS",
    "JSMA_PER_ITERATION",
    "bim_grid",
    "bim_steps",
    "budget_grid",
    "curve_runs",
    "cw_grid",
    "deepfool_grid",
    "fgsm_grid",
    "jsma_grid",
    "jsma_iterations",
    "lbfgs_grid",
]

#: BIM's step size (Kurakin et al.): one 8-bit grey level in the [0, 1] image domain.
BIM_STEP = 1 / 255

#: Elements JSMA changes per iteration with the pair saliency map (the ``n`` of the paper).
JSMA_PER_ITERATION = 2


def fgsm_grid(eps: Sequence[float], *, norm: str = "linf", name: str = "custom") -> BudgetGrid:
    """FGSM at each ε (the scalar budget), in the [0, 1] image domain.

    Examples
    --------
    >>> fgsm_grid([0.001, 0.01]).budget_name
    'eps'
    """
    values = [float(e) for e in eps]
    return BudgetGrid("fgsm", ("eps",), values, values, "eps", {"norm": norm}, name)


def bim_steps(eps: float) -> int:
    """Iterations of BIM at ``eps`` by Kurakin et al.'s rule, with steps of :data:`BIM_STEP`.

    ``ceil(min(255 ε + 4, 1.25 · 255 ε))``, at least 1.

    Examples
    --------
    >>> bim_steps(0.001), bim_steps(0.02), bim_steps(0.1)
    (1, 7, 30)
    """
    levels = 255 * float(eps)
    return max(1, math.ceil(min(levels + 4, 1.25 * levels) - 1e-9))


def bim_grid(eps: Sequence[float], variant: str = "b", *, name: str = "custom") -> BudgetGrid:
    """BIM-a or BIM-b at each ε (the scalar budget), steps by :func:`bim_steps`.

    Examples
    --------
    >>> bim_grid([0.01], "a").points()
    [{'alpha': 0.00392156862745098, 'eps': 0.01, 'steps': 4}]
    """
    if variant not in ("a", "b"):
        raise ParameterError(f"variant must be 'a' or 'b', got {variant!r}")
    values = [(float(e), bim_steps(e)) for e in eps]
    return BudgetGrid(
        f"bim-{variant}",
        ("eps", "steps"),
        values,
        [v[0] for v in values],
        "eps",
        {"alpha": BIM_STEP},
        name,
    )


def deepfool_grid(
    max_iters: Sequence[int], *, norm: str = "l2", name: str = "custom"
) -> BudgetGrid:
    """DeepFool with each largest number of iterations (the scalar budget).

    Examples
    --------
    >>> len(budget_grid("deepfool", "paper"))
    10
    """
    values = [int(m) for m in max_iters]
    return BudgetGrid("deepfool", ("max_iter",), values, values, "max_iter", {"norm": norm}, name)


def jsma_iterations(gamma: float, image_shape: Sequence[int] = (3, 128, 128)) -> int:
    """The paper's JSMA iterations ``(m γ) / n`` for ``m`` image elements, ``n`` = 2 per step.

    Examples
    --------
    >>> jsma_iterations(0.001)
    25
    """
    elements = math.prod(int(s) for s in image_shape)
    return math.ceil(float(gamma) * elements / JSMA_PER_ITERATION)


def jsma_grid(gammas: Sequence[float], *, name: str = "custom") -> BudgetGrid:
    """JSMA with each largest fraction γ of changed image elements (the scalar budget).

    Examples
    --------
    >>> jsma_grid([0.001, 0.01]).points()[0]
    {'theta': 1.0, 'variant': 'pair', 'gamma': 0.001}
    """
    values = [float(g) for g in gammas]
    fixed = {"theta": 1.0, "variant": "pair"}
    return BudgetGrid("jsma", ("gamma",), values, values, "gamma", fixed, name)


def cw_grid(
    search_steps: Sequence[int], iterations: Sequence[int], *, name: str = "custom"
) -> BudgetGrid:
    """Carlini-Wagner on the product of search steps and iterations per step.

    The scalar budget is ``search_steps * max_iterations``; points are sorted by it and a
    product that repeats a budget keeps its first (fewest search steps) point.

    Examples
    --------
    >>> cw_grid([1, 3], [10, 25]).budgets
    (10.0, 25.0, 30.0, 75.0)
    """
    seen: dict[int, tuple[int, int]] = {}
    for steps, iters in sorted(product(search_steps, iterations)):
        seen.setdefault(int(steps) * int(iters), (int(steps), int(iters)))
    ordered = sorted(seen.items())
    return BudgetGrid(
        "cw",
        ("search_steps", "max_iterations"),
        [p for _, p in ordered],
        [b for b, _ in ordered],
        "search_steps x max_iterations",
        {"kappa": 0.0},
        name,
    )


def lbfgs_grid(
    max_iterations: Sequence[int], *, search_steps: int = 5, name: str = "custom"
) -> BudgetGrid:
    """L-BFGS with each number of iterations per search step (the scalar budget).

    Examples
    --------
    >>> lbfgs_grid([5, 10]).points()[0]
    {'search_steps': 5, 'max_iterations': 5}
    """
    values = [int(m) for m in max_iterations]
    return BudgetGrid(
        "lbfgs",
        ("max_iterations",),
        values,
        values,
        "max_iterations",
        {"search_steps": search_steps},
        name,
    )


_EPS_PAPER = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1)

#: Every attack's grids, by grid name and attack name.
GRIDS: dict[str, dict[str, BudgetGrid]] = {
    "paper": {
        "fgsm": fgsm_grid(_EPS_PAPER, name="paper"),
        "deepfool": deepfool_grid(range(100, 1001, 100), name="paper"),
        "bim-a": bim_grid(_EPS_PAPER, "a", name="paper"),
        "bim-b": bim_grid(_EPS_PAPER, "b", name="paper"),
        "jsma": jsma_grid((0.001, 0.002, 0.005, 0.01, 0.02, 0.05), name="paper"),
        "cw": cw_grid((1, 3, 7, 9), (25, 100, 1000, 2000, 5000), name="paper"),
        "lbfgs": lbfgs_grid((5, 10, 20, 50, 100), name="paper"),
    },
    "quick": {
        "fgsm": fgsm_grid((0.001, 0.005, 0.02, 0.05, 0.1), name="quick"),
        "deepfool": deepfool_grid((1, 2, 3, 5, 10), name="quick"),
        "bim-a": bim_grid((0.001, 0.005, 0.02, 0.05), "a", name="quick"),
        "bim-b": bim_grid((0.001, 0.005, 0.02, 0.05), "b", name="quick"),
        "jsma": jsma_grid((0.0005, 0.001, 0.002), name="quick"),
        "cw": cw_grid((1, 3), (10, 25), name="quick"),
        "lbfgs": lbfgs_grid((2, 5, 10), search_steps=2, name="quick"),
    },
}


def budget_grid(attack: str, grid: str = "quick") -> BudgetGrid:
    """The ``grid`` (``"quick"`` or ``"paper"``) of ``attack``.

    Raises
    ------
    ValueError
        For an unknown attack or grid name.

    Examples
    --------
    >>> budget_grid("cw", "paper").budgets[-1]
    45000.0
    """
    if grid not in GRIDS:
        raise ParameterError(f"unknown grid {grid!r}; choose one of {list(GRID_NAMES)}")
    return GRIDS[grid][canonical_attack(attack)]


def _attack_class(attack: str) -> type[Attack]:
    return ATTACKS["bim"] if attack in BIM_VARIANTS else ATTACKS[attack]


def curve_runs(grid: BudgetGrid) -> list[tuple[dict[str, Any], list[int]]]:
    """The attack runs that serve a grid: each run's parameters and the points it gives.

    Points that differ only in the attack's ``curve_param`` are served by one run at its
    largest value there (see :mod:`specnb.attack_eval.evaluate`); every other point is a run
    of its own.

    Parameters
    ----------
    grid : BudgetGrid

    Returns
    -------
    list of (dict, list of int)
        The constructor parameters of each run and the indices of the grid points it serves,
        in the order of the runs' first points.

    Examples
    --------
    >>> [points for _, points in curve_runs(cw_grid([1, 3], [10, 25]))]
    [[0, 2], [1, 3]]
    >>> len(curve_runs(bim_grid([0.01, 0.02])))
    2
    """
    key = _attack_class(grid.attack).curve_param
    points = grid.points()
    if key is None or any(key not in p for p in points):
        return [(params, [index]) for index, params in enumerate(points)]
    groups: dict[str, list[int]] = {}
    for index, params in enumerate(points):
        rest = repr(sorted((k, v) for k, v in params.items() if k != key))
        groups.setdefault(rest, []).append(index)
    runs = []
    for members in groups.values():
        largest = max(members, key=lambda i: points[i][key])
        runs.append((points[largest], members))
    return runs
