"""Attack gradients counted on a store's trained victims, and the dry run that uses them."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from specnb.attack_eval.grids import budget_grid
from specnb.bench.unit_costs import UNIT_COSTS_FILE, load_unit_costs
from specnb.bench.victim_gradients import (
    VICTIM_GRADIENTS_FILE,
    count_victim_gradients,
    load_victim_gradients,
    main,
    victims_projection_costs,
    with_victim_gradients,
)
from specnb.cli import main as cli_main
from specnb.errors import UnitCostsError
from specnb.store import ResultsStore


def _attack_row(store: ResultsStore, key: str, run: str, attack: str, counts: list[float]):
    grid = budget_grid(attack, "quick")
    assert len(counts) == len(grid)
    store.upsert_attack(
        key,
        run_key=run,
        attack=grid.attack,
        status="done",
        params_json={"grid": grid.to_dict(), "seed": 0},
        grads_per_sample_json=counts,
    )


@pytest.fixture
def store(tmp_path) -> ResultsStore:
    """Two ResNet-18 runs on ESC-10, attacked by CW and FGSM."""
    store = ResultsStore(tmp_path / "results.sqlite")
    for run, kind in (("r1", "stft"), ("r2", "mfcc")):
        store.upsert_run(run, model="resnet18", dataset="esc10", repr=kind, status="done")
    # the quick CW grid: (search steps, iterations) (1, 10), (1, 25), (3, 10), (3, 25); one
    # run of 3 search steps serves 1 and 3 steps at each number of iterations
    _attack_row(store, "a1", "r1", "cw", [5.0, 12.0, 16.0, 30.0])
    _attack_row(store, "a2", "r2", "cw", [6.0, 14.0, 20.0, 50.0])
    _attack_row(store, "a3", "r1", "fgsm", [1.0] * len(budget_grid("fgsm", "quick")))
    store.upsert_attack("a4", run_key="r2", attack="cw", status="failed")
    return store


def test_counts_are_what_the_curve_runs_spent_averaged_over_runs(store):
    table = count_victim_gradients(store, source="a test store")
    # attack 1 spent 16 + 30 gradients per sample in its two runs, attack 2 20 + 50
    assert table.gradients["quick"]["cw"] == pytest.approx((46 + 70) / 2)
    assert table.gradients["quick"]["fgsm"] == 1.0
    assert table.runs["quick"] == {"cw": 2, "fgsm": 1}
    assert table.victims == "resnet18 on esc10 (mfcc, stft)"
    assert table.source == "a test store"


def test_a_store_without_counted_attacks_is_refused_by_name(tmp_path):
    empty = ResultsStore(tmp_path / "empty.sqlite")
    with pytest.raises(UnitCostsError, match="empty.sqlite: no finished attack run"):
        count_victim_gradients(empty)


def test_victim_counts_replace_only_the_grids_and_attacks_they_have():
    costs = load_unit_costs(UNIT_COSTS_FILE)
    table = replace(load_victim_gradients(), gradients={"quick": {"cw": 99.0, "unknown": 5.0}})
    merged = with_victim_gradients(costs, table)
    assert merged.attack_gradients["quick"]["cw"] == 99.0
    assert "unknown" not in merged.attack_gradients["quick"]
    assert merged.attack_gradients["paper"] == costs.attack_gradients["paper"]
    assert merged.attack_gradients["quick"]["fgsm"] == costs.attack_gradients["quick"]["fgsm"]
    assert merged.attack_overhead == costs.attack_overhead


def test_the_dry_runs_costs_carry_the_packaged_victims_counts():
    costs, note = victims_projection_costs("cpu", {}, UNIT_COSTS_FILE)
    table = load_victim_gradients(VICTIM_GRADIENTS_FILE)
    for grid, by_attack in table.gradients.items():
        for attack, count in by_attack.items():
            assert costs.attack_gradients[grid][attack] == count
    assert f"attack gradients counted on {table.victims}" in note
    # a trained victim costs CW more gradients than the random model the bench attacks
    assert table.gradients["quick"]["cw"] > load_unit_costs().attack_gradients["quick"]["cw"]


def test_bench_victims_writes_a_table_the_dry_run_reads(store, tmp_path, capsys):
    out = tmp_path / "victims.json"
    assert main([str(store.path), "--out", str(out), "--source", "here"]) == 0
    assert load_victim_gradients(out) == count_victim_gradients(store, source="here")
    assert "cw 58.0 (2 runs)" in capsys.readouterr().out
    with pytest.raises(UnitCostsError, match="no such results store"):
        main([str(tmp_path / "absent.sqlite"), "--out", str(out)])
    assert cli_main(["bench", "victims", str(tmp_path / "absent.sqlite")]) == 2
    assert "absent.sqlite'" in capsys.readouterr().err
    out.write_text(json.dumps({"gradients": {}}))
    with pytest.raises(UnitCostsError, match="victims.json: not a table"):
        load_victim_gradients(out)
