"""The unit costs a dry run projects from: the packaged CPU table covers every model,
representation and attack, and ``specnb bench sweep`` measures every part of it."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from specnb.bench.unit_costs import (
    REFERENCE_SETTINGS,
    UNIT_COSTS_FILE,
    UnitCosts,
    load_unit_costs,
    write_unit_costs,
)


def test_packaged_unit_costs_cover_every_model_representation_and_attack():
    from specnb.attack_eval.grids import GRIDS
    from specnb.models import MODELS

    costs = load_unit_costs(UNIT_COSTS_FILE)
    for part in (costs.train, costs.predict, costs.gradient):
        assert set(part) == set(MODELS) and all(v > 0 for v in part.values())
    assert set(costs.represent) == set(REFERENCE_SETTINGS)
    for grid, attacks in GRIDS.items():
        assert set(costs.attack[grid]) == set(attacks)
        assert all(v > 0 for v in costs.attack[grid].values())
    for grid, attacks in GRIDS.items():
        assert set(costs.attack_gradients[grid]) == set(attacks)
    # one FGSM gradient serves every eps of a grid
    assert costs.attack_gradients["quick"]["fgsm"] == costs.attack_gradients["paper"]["fgsm"] == 1
    # an attack's paper grid spends at least the gradients of its quick grid
    assert all(
        costs.attack_gradients["paper"][a] >= costs.attack_gradients["quick"][a]
        for a in ("fgsm", "bim-a", "cw")
    )
    assert costs.notebook_start > 0
    assert json.loads(UNIT_COSTS_FILE.read_text()) == asdict(costs)


@pytest.mark.slow
def test_benchmark_smoke_measures_every_part(tmp_path):
    from specnb.bench.sweep_costs import measure_unit_costs

    lines: list[str] = []
    costs = measure_unit_costs(
        models=["sbcnn"],
        attacks=["fgsm"],
        batch=2,
        repeats=1,
        clips=1,
        attack_samples=2,
        notebook=False,
        report=lines.append,
    )
    assert costs.train["sbcnn"] > costs.predict["sbcnn"] > 0 and len(lines) == 3
    assert set(costs.represent) == set(REFERENCE_SETTINGS) and costs.load > 0
    # FGSM takes one gradient per sample, which serves each of the grid's budgets
    for grid in ("quick", "paper"):
        assert costs.attack_gradients[grid]["fgsm"] == 1
    assert load_unit_costs(write_unit_costs(costs, tmp_path / "c.json")) == costs


def test_an_attacks_cost_per_gradient_is_derived_from_its_seconds_and_counts():
    raw = json.loads(UNIT_COSTS_FILE.read_text())
    raw.pop("attack_overhead")
    raw["gradient"] = {**raw["gradient"], "sbcnn": 0.01}
    raw["attack"] = {"quick": {"fgsm": 0.05, "cw": 0.6}}
    raw["attack_gradients"] = {"quick": {"fgsm": 1.0, "cw": 20.0}}
    costs = UnitCosts(**raw)
    # FGSM: 0.05 s for one gradient of 0.01 s; CW: 0.6 s for 20 of them
    assert costs.attack_overhead == {
        "quick": {"fgsm": pytest.approx(5.0), "cw": pytest.approx(3.0)}
    }
    explicit = UnitCosts(**{**raw, "attack_overhead": {"quick": {"fgsm": 2.0, "cw": 1.0}}})
    assert explicit.attack_overhead["quick"]["fgsm"] == 2.0


def test_cpu_training_cost_is_timed_through_the_strong_recipes_epoch(monkeypatch):
    import time

    import torch

    from specnb.bench import sweep_costs, training

    calls = []

    def epoch_of(variant, name, images, labels, batch):
        calls.append((variant, name, images.dtype, len(images), batch))
        return lambda repeat: time.sleep(0.01 * len(images))

    monkeypatch.setattr(training, "epoch_runner", epoch_of)
    costs = sweep_costs._model_costs(["sbcnn"], batch=4, repeats=1)
    assert calls == [("ours recipe", "sbcnn", torch.uint8, 4, 4)]
    # the epoch's seconds per image, not a bare step's
    assert costs["train"]["sbcnn"] >= 0.01
