"""How much one seed or one clip could move our numbers: a two-level bootstrap.

A claim compares *groups* of runs (a representation, a model, an attack, a table row). A
group's value is the mean, over its training seeds, of each seed's runs' values; a run's value
is the mean of its *units*: the test clips (accuracy: the share of fold models right about
the clip, in percent), the attacked samples (AUC, gradient computations) or, for a transfer,
the examples behind its ratio (drawn from the stored counts).

One bootstrap draw resamples, in every group, its seeds with replacement and, in every run,
its units with replacement; the claim's statistic is computed on the redrawn group values.
Over :data:`N_DRAWS` draws the 2.5th and 97.5th percentiles give the 95 % interval
(:data:`LEVEL`). The draws are seeded (:data:`BOOTSTRAP_SEED`), so a report is reproducible.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> hi = Group("hi", {s: [units_item(np.r_[np.ones(18), np.zeros(2)] * 100)] for s in range(3)})
>>> lo = Group("lo", {s: [units_item(np.r_[np.ones(6), np.zeros(14)] * 100)] for s in range(3)})
>>> est = bootstrap({"hi": hi, "lo": lo}, lambda g: g["hi"] - g["lo"])
>>> round(est.value, 1), est.low > 0
(60.0, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

__all__ = [
    "BOOTSTRAP_SEED",
    "Estimate",
    "Group",
    "Item",
    "LEVEL",
    "MIN_SEEDS",
    "N_DRAWS",
    "counts_item",
    "bootstrap",
    "mean_item",
    "units_item",
]

#: Bootstrap draws per claim.
N_DRAWS = 2000
#: Coverage of the intervals.
LEVEL = 0.95
#: Training seeds every group of a claim needs before the claim is decided.
MIN_SEEDS = 3
#: Seed of the bootstrap's random draws.
BOOTSTRAP_SEED = 0

Draw = Callable[[np.random.Generator, int], np.ndarray]


@dataclass(frozen=True)
class Item:
    """One run's (or one measurement's) value and how to redraw it.

    Attributes
    ----------
    value : float
        The value on the data as measured.
    draw : callable
        ``draw(rng, n)``: ``n`` bootstrap replicates of the value, shape (n,).
    n_units : int
        How many units (clips, samples, examples) the value is a mean over.
    """

    value: float
    draw: Draw
    n_units: int


def units_item(units: np.ndarray) -> Item:
    """An item whose value is the mean of ``units``, redrawn by resampling them.

    Examples
    --------
    >>> units_item(np.array([1.0, 0.0, 1.0, 1.0])).value
    0.75
    """
    values = np.asarray(units, dtype=np.float64).ravel()
    if values.size == 0:
        raise ValueError("an item needs at least one unit")

    def draw(rng: np.random.Generator, n: int) -> np.ndarray:
        picks = rng.integers(0, values.size, size=(n, values.size))
        return values[picks].mean(axis=1)

    return Item(float(values.mean()), draw, int(values.size))


def counts_item(counts: np.ndarray) -> Item:
    """A transferability ratio from per-budget counts, redrawn by resampling the examples.

    Parameters
    ----------
    counts : array of int, shape (n_budgets, 3)
        Per budget: the samples attacked, the examples fooling the source, those fooling
        both. The ratio is the mean over budgets of ``both / source`` (budgets where the
        source was never fooled left out), as stored.

    Examples
    --------
    >>> round(counts_item(np.array([[10, 4, 2], [10, 8, 6]])).value, 3)
    0.625
    """
    table = np.asarray(counts, dtype=np.int64).reshape(-1, 3)
    n, source, both = table[:, 0], table[:, 1], table[:, 2]
    if np.any(source > n) or np.any(both > source) or np.any(table < 0):
        raise ValueError(f"counts must satisfy 0 <= both <= source <= n, got {table.tolist()}")
    used = source > 0
    if not used.any():
        raise ValueError("no budget at which an example fooled the source: the ratio is undefined")
    value = float(np.mean(both[used] / source[used]))

    def draw(rng: np.random.Generator, k: int) -> np.ndarray:
        ratios = []
        for total, s, b in table[used]:
            p = np.array([b, s - b, total - s], dtype=np.float64) / total
            cells = rng.multinomial(total, p, size=k)
            with np.errstate(invalid="ignore", divide="ignore"):
                ratios.append(cells[:, 0] / (cells[:, 0] + cells[:, 1]))
        return np.nanmean(np.stack(ratios), axis=0)

    return Item(value, draw, int(n.max()))


def mean_item(items: Sequence[Item]) -> Item:
    """The mean of several items of one run (e.g. over attacks), each redrawn on its own."""
    if not items:
        raise ValueError("mean_item needs at least one item")

    def draw(rng: np.random.Generator, n: int) -> np.ndarray:
        return np.mean([item.draw(rng, n) for item in items], axis=0)

    return Item(
        float(np.mean([i.value for i in items])), draw, int(np.median([i.n_units for i in items]))
    )


@dataclass(frozen=True)
class Group:
    """The runs of one group of a claim, keyed by training seed.

    Attributes
    ----------
    name : str
        E.g. ``"DWT"``, ``"resnet18"``, ``"cw"``.
    seeds : mapping of int to list of Item
        Every seed's items (a seed's value is their mean).
    """

    name: str
    seeds: Mapping[int, Sequence[Item]]

    @property
    def n_seeds(self) -> int:
        """Seeds with at least one item."""
        return sum(1 for items in self.seeds.values() if items)

    @property
    def n_units(self) -> int:
        """Median units per item (clips or samples per run)."""
        sizes = [i.n_units for items in self.seeds.values() for i in items]
        return int(np.median(sizes)) if sizes else 0

    @property
    def value(self) -> float:
        """Mean over seeds of the mean of each seed's items."""
        return float(
            np.mean([np.mean([i.value for i in items]) for items in self.seeds.values() if items])
        )

    def replicates(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` bootstrap replicates of :attr:`value`: seeds resampled, then units."""
        per_seed = np.stack(
            [
                np.mean([i.draw(rng, n) for i in items], axis=0)
                for items in self.seeds.values()
                if items
            ]
        )
        picks = rng.integers(0, per_seed.shape[0], size=(n, per_seed.shape[0]))
        return per_seed[picks, np.arange(n)[:, None]].mean(axis=1)


@dataclass(frozen=True)
class Estimate:
    """A claim's statistic on our data with its bootstrap interval.

    Attributes
    ----------
    value : float
        On the data as measured.
    low, high : float
        The :data:`LEVEL` percentile interval of the bootstrap replicates.
    n_draws : int
        Bootstrap draws.
    """

    value: float
    low: float
    high: float
    n_draws: int

    def decide(self, threshold: float = 0.0) -> str:
        """``"supported"`` when the interval lies above ``threshold``, ``"contradicted"``
        when below, else ``"inconclusive"``."""
        if self.low > threshold:
            return "supported"
        if self.high < threshold:
            return "contradicted"
        return "inconclusive"


def bootstrap(
    groups: Mapping[str, Group],
    statistic: Callable[[Mapping[str, np.ndarray]], np.ndarray],
    n_draws: int = N_DRAWS,
    seed: int = BOOTSTRAP_SEED,
) -> Estimate:
    """The statistic on the groups' values and its bootstrap interval.

    Parameters
    ----------
    groups : mapping of str to Group
    statistic : callable
        Maps ``{name: values}`` (arrays of equal shape, one value per draw) to an array of
        the same shape: vectorised over the draws.
    n_draws : int
    seed : int
        Seed of the draws.

    Returns
    -------
    Estimate
        Draws whose statistic is undefined (NaN) are left out of the interval.
    """
    point = statistic({name: np.array([g.value]) for name, g in groups.items()})
    rng = np.random.default_rng(seed)
    draws = np.asarray(
        statistic({name: g.replicates(rng, n_draws) for name, g in groups.items()}),
        dtype=np.float64,
    )
    draws = draws[np.isfinite(draws)]
    tail = 100.0 * (1.0 - LEVEL) / 2.0
    if draws.size == 0:
        return Estimate(float(point[0]), float("nan"), float("nan"), n_draws)
    low, high = np.percentile(draws, [tail, 100.0 - tail])
    return Estimate(float(point[0]), float(low), float(high), n_draws)
