"""How sure a comparison is: paired per-seed differences and their t interval over seeds.

A claim compares *groups* of runs (a representation, a model, an attack, a table row). Every
run belongs to a training seed and to a *cell*: what the compared groups must share for their
values to be comparable (the dataset, or the dataset and setting). A run's value is the mean of
its *units*: the test clips (accuracy: the share of fold models right about the clip, in
percent), the attacked samples (AUC, fooling at the largest budget) or one measured number (a
cost at a matched fooling rate, a transfer ratio).

Two groups are compared *paired*: at every seed, in every cell both have, their values are
taken on the units both have (the same test clips, by clip id, where the store names them) and
contrasted (difference or relative difference); a seed's paired value is the mean over its
shared cells, so no dataset or setting only one group has enters. The seeds are then the
independent replicates: the 95 % interval (:data:`LEVEL`) is the mean of the per-seed paired
values ± the t quantile with ``n_seeds - 1`` degrees of freedom times their standard error.
It holds its 95 % with 3 seeds already (the t quantile, 4.30 for 3 seeds, pays for how little
three values say about their spread) and needs no assumption about how clip noise and
training noise mix: each seed's value carries both.

Examples
--------
>>> import numpy as np
>>> hi = Group("hi", {(s, "esc10"): [Units(np.r_[np.ones(18), np.zeros(2)] * 100)]
...                   for s in range(3)})
>>> lo = Group("lo", {(s, "esc10"): [Units(np.r_[np.ones(6), np.zeros(14)] * 100)]
...                   for s in range(3)})
>>> est = compare(hi, lo)
>>> round(est.value, 1), est.decide()
(60.0, 'supported')
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Hashable, Literal, Mapping, Optional, Sequence

import numpy as np
from scipy import stats

__all__ = [
    "LEVEL",
    "MIN_SEEDS",
    "Estimate",
    "Group",
    "NoSharedCells",
    "Units",
    "compare",
    "level",
    "seeds_needed",
    "t_interval",
    "units_needed",
]

#: Coverage of the intervals.
LEVEL = 0.95
#: Training seeds every group of a claim needs before the claim is decided.
MIN_SEEDS = 3
#: The most seeds (or units per seed) a "what it would take" answer names.
MOST_NEEDED = 1000

Contrast = Literal["difference", "relative"]


@dataclass(frozen=True)
class Units:
    """One run's per-unit values (test clips, attacked samples, or one measured number).

    Attributes
    ----------
    values : np.ndarray, shape (n_units,)
    ids : tuple of str, optional
        The units' ids (clip ids), same length, when the store names them.
    at_least : bool
        The values are lower bounds of the true ones: a cost to a fooling rate the attack's
        grid never reached, given as the grid's largest cost.
    """

    values: np.ndarray
    ids: Optional[tuple[str, ...]] = None
    at_least: bool = False

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=np.float64).ravel()
        if values.size == 0:
            raise ValueError("a run's units need at least one value")
        if self.ids is not None and len(self.ids) != values.size:
            raise ValueError(f"{len(self.ids)} unit ids for {values.size} values")
        object.__setattr__(self, "values", values)

    @property
    def value(self) -> float:
        return float(self.values.mean())

    def by_id(self) -> dict[str, float]:
        """Value per unit id (ids repeated are averaged)."""
        sums: dict[str, list[float]] = {}
        for key, v in zip(self.ids or (), self.values):
            sums.setdefault(key, []).append(float(v))
        return {k: float(np.mean(v)) for k, v in sums.items()}


Key = tuple[int, Hashable]


@dataclass(frozen=True)
class Group:
    """The runs of one group of a claim, keyed by (training seed, cell).

    Attributes
    ----------
    name : str
        E.g. ``"DWT"``, ``"ResNet-18"``, ``"cw"``.
    runs : mapping of (int, hashable) to list of Units
        Every (seed, cell)'s runs.
    """

    name: str
    runs: Mapping[Key, Sequence[Units]]

    @property
    def seeds(self) -> list[int]:
        return sorted({seed for (seed, _), units in self.runs.items() if units})

    @property
    def n_seeds(self) -> int:
        """Seeds with at least one run."""
        return len(self.seeds)

    @property
    def cells(self) -> list[Hashable]:
        return list(dict.fromkeys(cell for (_, cell), units in self.runs.items() if units))

    @property
    def n_units(self) -> int:
        """Median units per seed and cell (clips or samples), its runs pooled by unit id
        (runs of rotating test folds together), or per run where the units have no ids."""
        sizes = []
        for units in self.runs.values():
            pooled = _pooled(units) if units else None
            if pooled is not None:
                sizes.append(len(pooled))
            else:
                sizes += [u.values.size for u in units]
        return int(np.median(sizes)) if sizes else 0

    def seed_values(self) -> dict[int, float]:
        """Per seed, the mean over its cells of the mean of each cell's runs."""
        per_seed: dict[int, list[float]] = {}
        for (seed, _), units in self.runs.items():
            if units:
                per_seed.setdefault(seed, []).append(float(np.mean([u.value for u in units])))
        return {s: float(np.mean(v)) for s, v in sorted(per_seed.items())}

    @property
    def value(self) -> float:
        """Mean over seeds of :meth:`seed_values`."""
        values = list(self.seed_values().values())
        return float(np.mean(values)) if values else math.nan


class NoSharedCells(ValueError):
    """Two groups share no (seed, cell): nothing of theirs can be compared."""


@dataclass(frozen=True)
class Estimate:
    """A statistic over seeds with its t interval.

    Attributes
    ----------
    value : float
        Mean over seeds of the per-seed (paired) values.
    low, high : float
        The :data:`LEVEL` interval (NaN with fewer than two seeds).
    seed_values : np.ndarray, shape (n_seeds,)
        The per-seed values the interval is over.
    unit_sd : float
        Standard deviation of the paired per-unit values within a seed (NaN when the runs
        have one value each): what more test clips per seed would shrink.
    n_units : int
        Median shared units per seed and cell.
    bound : {"", "lower", "upper"}
        ``"lower"``: some compared values are lower bounds of the first group's (costs its
        grid never reached), so the statistic is at least this; ``"upper"``: of the second
        group's, so it is at most this; "": exact.
    """

    value: float
    low: float
    high: float
    seed_values: np.ndarray
    unit_sd: float = math.nan
    n_units: int = 0
    bound: Literal["", "lower", "upper"] = ""

    @property
    def n_seeds(self) -> int:
        return int(self.seed_values.size)

    @property
    def sd(self) -> float:
        """Standard deviation of the per-seed values."""
        return float(np.std(self.seed_values, ddof=1)) if self.n_seeds > 1 else math.nan

    def interval(self, level: float = LEVEL) -> tuple[float, float]:
        """The t interval at ``level`` (a Bonferroni-corrected level for several pairs)."""
        return t_interval(self.seed_values, level)

    def decide(self, threshold: float = 0.0) -> str:
        """``"supported"`` when the interval lies above ``threshold``, ``"contradicted"``
        when below, else ``"inconclusive"``; a lower bound can only support, an upper bound
        only contradict (the true statistic lies further out, on the side of its bound)."""
        if self.low > threshold and self.bound != "upper":
            return "supported"
        if self.high < threshold and self.bound != "lower":
            return "contradicted"
        return "inconclusive"


def t_interval(values: Sequence[float], level: float = LEVEL) -> tuple[float, float]:
    """The t interval at ``level`` of the mean of ``values`` (NaN with fewer than two).

    Examples
    --------
    >>> [round(x, 2) for x in t_interval([1.0, 2.0, 3.0])]
    [-0.48, 4.48]
    """
    values = np.asarray(values, dtype=np.float64)
    n = values.size
    if n < 2:
        return math.nan, math.nan
    mean = float(values.mean())
    half = float(stats.t.ppf(0.5 + level / 2.0, n - 1) * values.std(ddof=1) / math.sqrt(n))
    return mean - half, mean + half


def _estimate(
    seed_values: Sequence[float],
    unit_sd: float = math.nan,
    n_units: int = 0,
    bound: Literal["", "lower", "upper"] = "",
) -> Estimate:
    values = np.asarray(seed_values, dtype=np.float64)
    low, high = t_interval(values, LEVEL)
    return Estimate(float(values.mean()), low, high, values, unit_sd, n_units, bound)


def _pooled(units: Sequence[Units]) -> Optional[dict[str, float]]:
    """A cell's runs pooled by unit id: each id's value averaged over the runs that have it
    (runs of the same test clips, or runs of disjoint test folds that together cover the
    clips: a study that rotates its test fold); None unless every run names its units."""
    if any(u.ids is None for u in units):
        return None
    per_id: dict[str, list[float]] = {}
    for run in units:
        for key, value in run.by_id().items():
            per_id.setdefault(key, []).append(value)
    return {key: float(np.mean(values)) for key, values in per_id.items()}


def _shared_ids(
    pooled_a: Optional[dict[str, float]], pooled_b: Optional[dict[str, float]]
) -> Optional[list[str]]:
    """Ids both sides' pooled runs have, sorted; None unless both sides name their units and
    share at least half of the smaller side's (attacked samples are those each model got
    right: where two models share few, each run's own mean is the fairer value)."""
    if pooled_a is None or pooled_b is None:
        return None
    shared = set(pooled_a) & set(pooled_b)
    if len(shared) < 0.5 * min(len(pooled_a), len(pooled_b)):
        return None
    return sorted(shared)


def _cell_values(
    units: Sequence[Units], pooled: Optional[dict[str, float]], shared: Optional[list[str]]
) -> np.ndarray:
    """The cell's per-unit values on the ``shared`` ids, or each run's value when the units
    are not paired by id."""
    if shared is None or pooled is None:
        return np.array([u.value for u in units])
    return np.array([pooled[k] for k in shared])


def compare(a: Group, b: Group, contrast: Contrast = "difference") -> Estimate:
    """``a`` against ``b``, paired per seed and cell: ``a - b``, or ``100 (a / b - 1)`` %.

    Where ``a``'s values are lower bounds (:attr:`Units.at_least`), the estimate is a lower
    bound; where ``b``'s are, an upper bound (:attr:`Estimate.bound`).

    Raises
    ------
    NoSharedCells
        No seed and cell has runs of both, or both have lower bounds in a shared cell (their
        difference is bounded on neither side).
    """
    per_seed: dict[int, list[float]] = {}
    bounded_a = bounded_b = False
    unit_diffs: list[np.ndarray] = []
    sizes: list[int] = []
    for key in sorted(set(a.runs) & set(b.runs), key=str):
        runs_a, runs_b = a.runs[key], b.runs[key]
        if not runs_a or not runs_b:
            continue
        low_a, low_b = any(u.at_least for u in runs_a), any(u.at_least for u in runs_b)
        if low_a and low_b:
            continue
        bounded_a, bounded_b = bounded_a or low_a, bounded_b or low_b
        pooled_a, pooled_b = _pooled(runs_a), _pooled(runs_b)
        shared = _shared_ids(pooled_a, pooled_b)
        va, vb = _cell_values(runs_a, pooled_a, shared), _cell_values(runs_b, pooled_b, shared)
        mean_a, mean_b = float(va.mean()), float(vb.mean())
        if contrast == "difference":
            value = mean_a - mean_b
            if shared is not None and len(shared) > 1:
                unit_diffs.append(va - vb)
        else:
            value = 100.0 * (mean_a / mean_b - 1.0) if mean_b else math.nan
        if math.isfinite(value):
            per_seed.setdefault(key[0], []).append(value)
            sizes.append(len(shared) if shared is not None else len(runs_a))
    if not per_seed:
        raise NoSharedCells(
            f"{a.name} and {b.name} share no dataset and setting at any seed where at most one "
            "of them is a bound"
        )
    if bounded_a and bounded_b:
        raise NoSharedCells(
            f"{a.name} and {b.name} are lower bounds in different cells: their difference is "
            "bounded on neither side"
        )
    unit_sd = float(np.mean([d.std(ddof=1) for d in unit_diffs])) if unit_diffs else math.nan
    seeds = [float(np.mean(v)) for _, v in sorted(per_seed.items())]
    bound: Literal["", "lower", "upper"] = "lower" if bounded_a else "upper" if bounded_b else ""
    return _estimate(seeds, unit_sd, int(np.median(sizes)), bound)


def level(group: Group) -> Estimate:
    """``group``'s own value over its seeds (for a claim about one group's level)."""
    values = list(group.seed_values().values())
    if not values:
        raise NoSharedCells(f"{group.name} has no runs")
    bounded = any(u.at_least for units in group.runs.values() for u in units)
    return _estimate(values, n_units=group.n_units, bound="lower" if bounded else "")


def seeds_needed(estimate: Estimate, threshold: float = 0.0) -> Optional[int]:
    """Seeds whose t interval would exclude ``threshold`` if the per-seed values kept the
    observed mean and spread (None when the observed effect is 0 or over
    :data:`MOST_NEEDED`)."""
    effect, sd = abs(estimate.value - threshold), estimate.sd
    if not (effect > 0 and math.isfinite(sd)):
        return None
    n = np.arange(max(estimate.n_seeds, 2), MOST_NEEDED + 1)
    enough = stats.t.ppf(0.5 + LEVEL / 2.0, n - 1) * sd / np.sqrt(n) < effect
    return int(n[np.argmax(enough)]) if enough.any() else None


def units_needed(
    estimate: Estimate, threshold: float = 0.0, most: int = MOST_NEEDED
) -> Optional[int]:
    """Test clips per seed that would decide at the observed effect with the seeds there are.

    The per-seed variance is split into what clips explain (``unit_sd² / n_units``) and the
    rest (training noise, which more clips do not shrink); None when more clips, up to
    ``most``, would not do it (or the runs have no per-clip values).
    """
    effect, n = abs(estimate.value - threshold), estimate.n_seeds
    if not (effect > 0 and math.isfinite(estimate.unit_sd) and n >= 2 and estimate.n_units):
        return None
    rest = max(0.0, estimate.sd**2 - estimate.unit_sd**2 / estimate.n_units)
    quantile = stats.t.ppf(0.5 + LEVEL / 2.0, n - 1)
    m = np.arange(estimate.n_units + 1, most + 1)
    enough = quantile * np.sqrt((rest + estimate.unit_sd**2 / m) / n) < effect
    return int(m[np.argmax(enough)]) if enough.any() else None
