"""The paired comparison itself: clips matched by id, seeds as replicates, the t interval, and
what more seeds or clips would do."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from specnb.report.uncertainty import (
    Group,
    NoSharedCells,
    Units,
    compare,
    seeds_needed,
    units_needed,
)


def _group(name: str, per_seed: dict[int, tuple[np.ndarray, list[str]]]) -> Group:
    return Group(name, {(s, ("esc10",)): [Units(v, tuple(i))] for s, (v, i) in per_seed.items()})


def test_clips_are_matched_by_id_whatever_their_order() -> None:
    rng = np.random.default_rng(0)
    a, b = {}, {}
    for seed in range(3):
        ids = [f"c{i}" for i in range(50)]
        values = rng.random(50) * 100
        order = rng.permutation(50)
        a[seed] = (values, ids)
        b[seed] = (values[order] - 2.0, [ids[i] for i in order])  # the same clips, 2 lower
    estimate = compare(_group("a", a), _group("b", b))
    assert estimate.value == pytest.approx(2.0)
    assert estimate.low == pytest.approx(2.0) and estimate.high == pytest.approx(2.0)
    assert estimate.unit_sd == pytest.approx(0.0, abs=1e-9)


def test_runs_of_rotating_test_folds_pool_into_one_paired_sample_per_seed() -> None:
    # five runs per seed, each testing one fold of 10 clips: every clip once per seed
    rng = np.random.default_rng(1)
    folds = [[f"f{f}c{i}" for i in range(10)] for f in range(5)]
    a, b = {}, {}
    for seed in range(3):
        hits_a = [rng.random(10) < 0.8 for _ in folds]
        hits_b = [h & (rng.random(10) < 0.9) for h in hits_a]  # b: a's hits, some lost
        a[(seed, ("esc10",))] = [Units(100.0 * h, tuple(i)) for h, i in zip(hits_a, folds)]
        # b's runs stored in another order, and its clips within each run shuffled
        b[(seed, ("esc10",))] = [
            Units(100.0 * h[o], tuple(np.array(i)[o]))
            for h, i in reversed(list(zip(hits_b, folds)))
            for o in [rng.permutation(10)]
        ]
    est = compare(Group("a", a), Group("b", b))
    assert est.n_units == 50  # the five folds' clips, paired one by one
    assert Group("a", a).n_units == 50
    expected = [np.mean([u.value for u in a[k]]) - np.mean([u.value for u in b[k]]) for k in a]
    assert est.seed_values == pytest.approx(expected)
    assert est.value >= 0 and est.unit_sd > 0


def test_the_interval_is_a_t_interval_over_the_seeds() -> None:
    diffs = np.array([3.0, 5.0, 10.0, 1.0])
    a = {s: (np.array([50.0 + d]), [f"s{s}"]) for s, d in enumerate(diffs)}
    b = {s: (np.array([50.0]), [f"s{s}"]) for s in range(4)}
    estimate = compare(_group("a", a), _group("b", b))
    half = stats.t.ppf(0.975, 3) * diffs.std(ddof=1) / 2.0
    assert (estimate.low, estimate.high) == pytest.approx(
        (diffs.mean() - half, diffs.mean() + half)
    )
    relative = compare(_group("a", a), _group("b", b), "relative")
    assert relative.value == pytest.approx(100 * diffs.mean() / 50.0)


def test_only_shared_cells_are_compared() -> None:
    a = Group("a", {(0, ("esc10",)): [Units(np.array([80.0]))], (0, ("esc50",)): [Units([10.0])]})
    b = Group("b", {(0, ("esc10",)): [Units(np.array([70.0]))]})
    assert compare(a, b).value == pytest.approx(10.0)
    with pytest.raises(NoSharedCells, match="share no dataset"):
        compare(a, Group("c", {(0, ("other",)): [Units(np.array([1.0]))]}))


def test_more_seeds_or_clips_would_decide_a_real_effect() -> None:
    rng = np.random.default_rng(1)
    a, b = {}, {}
    for seed in range(3):
        ids = [f"c{i}" for i in range(40)]
        base = rng.random(40) * 100
        a[seed] = (base + 2.0 + rng.normal(0, 20, 40), ids)  # a 2-point effect in clip noise
        b[seed] = (base, ids)
    estimate = compare(_group("a", a), _group("b", b))
    assert estimate.low < 0 < estimate.high
    seeds = seeds_needed(estimate)
    assert seeds is not None and seeds > 3
    clips = units_needed(estimate, most=100_000)
    assert clips is not None and clips > 40
    assert seeds_needed(estimate, threshold=estimate.value) is None  # no effect: no answer
