"""Whole budget curves from one run: every derived point equals an independent run at it."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from specnb.attack_eval import (
    budget_grid,
    curve_runs,
    cw_grid,
    deepfool_grid,
    evaluate_attack,
    fgsm_grid,
    jsma_grid,
)
from specnb.attacks import BIM, CW, FGSM, JSMA, LBFGS, Attack, DeepFool

SIZE = 16


class Victim(NamedTuple):
    model: nn.Module
    images: Tensor
    labels: Tensor


@pytest.fixture(scope="module")
def victim(train_on_patterns) -> Victim:
    """A small BatchNorm CNN on 3x16x16 pattern images, 12 held-out images it gets right."""
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * (SIZE // 4) ** 2, 10),
    )
    images, labels, _ = train_on_patterns(model, size=SIZE, steps=40, count=12, pool=96)
    assert len(labels) == 12
    return Victim(model, images, labels)


CURVES: dict[str, tuple[type[Attack], dict[str, Any], list[Any]]] = {
    "fgsm-linf": (FGSM, {}, [0.0, 0.01, 0.03, 0.1]),
    "fgsm-l2-targeted": (FGSM, {"norm": "l2", "targeted": True}, [0.5, 2.0, 4.0]),
    "deepfool-l2": (DeepFool, {}, [0, 1, 2, 3, 5]),
    "deepfool-linf": (DeepFool, {"norm": "linf"}, [1, 2, 4]),
    "deepfool-targeted": (DeepFool, {"targeted": True}, [1, 2, 3, 6]),
    "jsma": (JSMA, {}, [0.01, 0.02, 0.05, 0.1]),
    "jsma-pixel": (JSMA, {"variant": "pixel", "theta": -1.0}, [0.005, 0.02]),
    "cw-targeted": (CW, {"max_iterations": 20, "targeted": True}, [1, 2, 3, 5]),
    "cw": (CW, {"max_iterations": 15, "c": 0.1}, [1, 3, 4]),
}


@pytest.mark.parametrize("name", sorted(CURVES))
def test_every_derived_point_equals_an_independent_run(victim: Victim, name: str) -> None:
    cls, params, values = CURVES[name]
    key = cls.curve_param
    curve_attack = cls(victim.model, **params)
    derived = curve_attack.curve(victim.images, victim.labels, values=values)
    assert len(derived) == len(values) == len(curve_attack.curve_grad_counts)
    assert torch.equal(curve_attack.grad_counts, curve_attack.curve_grad_counts[-1])
    for value, adv, counts in zip(values, derived, curve_attack.curve_grad_counts):
        alone = cls(victim.model, **{**params, key: value})
        expected = alone(victim.images, victim.labels)
        assert torch.equal(adv, expected), f"{name} at {key}={value}"
        assert torch.equal(counts, alone.grad_counts), f"{name} at {key}={value}"
        with torch.no_grad():
            assert torch.equal(victim.model(adv).argmax(1), victim.model(expected).argmax(1))
    assert getattr(curve_attack, key) == params.get(key, getattr(cls(victim.model), key))


def test_curves_are_not_trivial(victim: Victim) -> None:
    """The grids above reach different points: some samples change between budgets."""
    deepfool = DeepFool(victim.model)
    advs = deepfool.curve(victim.images, victim.labels, values=[1, 5])
    counts = deepfool.curve_grad_counts
    assert not torch.equal(advs[0], advs[1])
    assert bool((counts[1] > counts[0]).any())


@pytest.mark.parametrize("cls", [BIM, LBFGS])
def test_attacks_without_nested_runs_refuse_a_curve(victim: Victim, cls: type[Attack]) -> None:
    with pytest.raises(ValueError, match="no curve parameter"):
        cls(victim.model).curve(victim.images, victim.labels, values=[1])


def test_curve_rejects_an_invalid_value(victim: Victim) -> None:
    with pytest.raises(ValueError, match="gamma"):
        JSMA(victim.model).curve(victim.images, victim.labels, values=[0.1, 1.5])


GRIDS = {
    "fgsm": fgsm_grid([0.001, 0.01, 0.05]),
    "deepfool": deepfool_grid([1, 2, 4]),
    "jsma": jsma_grid([0.01, 0.03]),
    "cw": cw_grid([1, 3], [5, 10]),
}


@pytest.mark.parametrize("attack", sorted(GRIDS))
def test_evaluation_from_one_run_equals_one_run_per_point(victim: Victim, attack: str) -> None:
    grid = GRIDS[attack]
    ev = evaluate_attack(victim.model, grid, victim.images, victim.labels, batch_size=5, seed=3)
    for index, point in enumerate(grid.points()):
        alone = type(grid)(
            grid.attack,
            grid.param_names,
            [grid.values[index]],
            [grid.budgets[index]],
            grid.budget_name,
            grid.fixed,
        )
        single = evaluate_attack(
            victim.model, alone, victim.images, victim.labels, batch_size=5, seed=3
        )
        got, want = ev.results[index], single.results[0]
        assert got.fooling_rate == want.fooling_rate, (attack, point)
        assert got.target_rate == want.target_rate, (attack, point)
        assert (got.grad_counts == want.grad_counts).all(), (attack, point)
        assert (got.fooled == want.fooled).all(), (attack, point)
        assert got.grads_per_batch == want.grads_per_batch, (attack, point)
        assert got.norms == pytest.approx(want.norms, nan_ok=True), (attack, point)
        if index == len(grid) - 1:
            assert torch.equal(ev.adv_images, single.adv_images)
            assert torch.equal(ev.adv_pred, single.adv_pred)


def test_runs_of_the_paper_grids() -> None:
    """One run per iteration count for CW, one run in all for FGSM, DeepFool and JSMA."""
    runs = {a: curve_runs(budget_grid(a, "paper")) for a in ("fgsm", "deepfool", "jsma", "cw")}
    assert [len(r) for r in runs.values()] == [1, 1, 1, 5]
    assert sorted(i for _, points in runs["cw"] for i in points) == list(range(20))
    assert {run["search_steps"] for run, _ in runs["cw"]} == {9}
    assert len(curve_runs(budget_grid("bim-b", "paper"))) == 7
    assert len(curve_runs(budget_grid("lbfgs", "paper"))) == 5


def test_spent_gradients_count_each_run_once(victim: Victim) -> None:
    ev = evaluate_attack(victim.model, deepfool_grid([1, 2, 4]), victim.images, victim.labels)
    assert ev.spent_grads_per_sample == pytest.approx(ev.grads_per_sample[-1])
    assert ev.spent_grads_per_sample < sum(ev.grads_per_sample)


def test_first_fooled_budget_and_its_gradients_per_sample(victim: Victim) -> None:
    grid = deepfool_grid([1, 2, 4])
    ev = evaluate_attack(victim.model, grid, victim.images, victim.labels)
    budgets, grads = ev.first_fooled()
    for sample in range(len(ev.indices)):
        fooled_at = [i for i, r in enumerate(ev.results) if r.fooled[sample]]
        if not fooled_at:
            assert np.isnan(budgets[sample]) and np.isnan(grads[sample])
            continue
        first = fooled_at[0]
        assert budgets[sample] == grid.budgets[first]
        assert grads[sample] == ev.results[first].grad_counts[sample]
    assert np.isfinite(budgets).any() and len(set(budgets[np.isfinite(budgets)])) > 1


def test_every_point_can_be_kept_from_one_run(victim: Victim) -> None:
    grid = jsma_grid([0.01, 0.03, 0.05])
    ev = evaluate_attack(victim.model, grid, victim.images, victim.labels, keep_every=True)
    assert ev.point_adv is not None and len(ev.point_adv) == len(grid)
    for index, (adv, adv_pred) in enumerate(ev.point_adv):
        single = evaluate_attack(victim.model, grid, victim.images, victim.labels, keep=index)
        assert torch.equal(adv, single.adv_images) and torch.equal(adv_pred, single.adv_pred)
        assert (ev.results[index].fooled == (adv_pred != ev.labels).numpy()).all()
    assert evaluate_attack(victim.model, grid, victim.images, victim.labels).point_adv is None
