"""Notebook 03 under papermill: standalone training, three attacks, and the values it stores."""

from __future__ import annotations

import math
import re
from pathlib import Path

import nbformat
import pytest
import torch

from specnb.attack_eval import ADVERSARIAL_KEY, budget_grid
from specnb.metrics import auc_score, cost_to_reach
from specnb.report import read_results
from specnb.store import ResultsStore
from specnb.ui.eps_attacks import EPSILONS

ATTACKS = ["fgsm", "bim-a", "deepfool"]
PARAMETERS = {
    "TRAIN_EPOCHS": 2,
    "ATTACKS": ATTACKS,
    "GRID": "quick",
    "N_SAMPLES": 3,
    "DEVICE": "cpu",
    "LISTEN": True,
    "N_LISTEN": 1,
    "INTERACTIVE": True,
}


@pytest.fixture(scope="module")
def executed(tmp_path_factory, execute_notebook, notebook_paths):
    """The executed notebook, its run folder and its store (the kernel on one thread)."""
    out = tmp_path_factory.mktemp("nb03")
    notebook = execute_notebook("attacks", out, PARAMETERS, timeout=300)
    assert notebook == out / notebook_paths["attacks"].name
    return notebook, out, ResultsStore(out / "results.sqlite")


def test_standalone_run_is_trained_and_attacked_on_its_best_fold(executed):
    _, out, store = executed
    runs = store.runs_df()
    assert len(runs) == 1 and runs.iloc[0]["status"] == "done"
    run = runs.iloc[0]
    assert run["model"] == "sbcnn" and Path(run["checkpoint_path"]).parent == out / "standalone"
    attacks = store.attacks_df()
    assert sorted(attacks["attack"]) == sorted(ATTACKS)
    assert set(attacks["status"]) == {"done"} and set(attacks["run_key"]) == {run["run_key"]}
    accuracies = run["fold_accs_json"]
    assert set(attacks["fold"]) == {accuracies.index(max(accuracies))}


def test_stored_curves_and_metrics_are_consistent(executed):
    _, _, store = executed
    for row in store.attacks_df().to_dict("records"):
        budgets, rates = row["budgets_json"], row["fooling_rates_json"]
        grads = row["grads_per_sample_json"]
        assert budgets == list(budget_grid(row["attack"], "quick").budgets)
        assert len(rates) == len(grads) == len(budgets)
        assert all(0 <= r <= 1 for r in rates) and all(g > 0 for g in grads)
        assert 0 <= row["auc"] <= 1 and row["auc"] == pytest.approx(auc_score(budgets, rates))
        cost = cost_to_reach(grads, rates)
        assert (math.isnan(cost) and math.isnan(row["cost_to_fr90"])) or row[
            "cost_to_fr90"
        ] == pytest.approx(cost)
        attacked = row["artefacts_json"]["n_attacked"]
        assert 1 <= attacked == min(3, row["n_correct"]) and row["n_correct"] <= row["n_samples"]
        assert row["targeted"] == (row["attack"] == "fgsm")
        assert math.isfinite(row["snr_db_mean"])
        hits = row["target_rates_json"]
        if row["targeted"]:  # misclassification is the fooling rate, target hits beside it
            assert len(hits) == len(budgets) and all(t <= r for t, r in zip(hits, rates))
            assert row["target_auc"] == pytest.approx(auc_score(budgets, hits))
        else:
            assert hits is None and math.isnan(row["target_auc"])
    fgsm = store.attacks_df(attack="fgsm").iloc[0]
    assert fgsm["grads_per_sample_json"] == [1.0] * len(fgsm["budgets_json"])


def test_gallery_and_adversarial_examples_are_on_disk_and_in_the_report(executed):
    _, out, store = executed
    attacks = store.attacks_df()
    galleries = {row["gallery"] for row in attacks["artefacts_json"]}
    assert galleries == {str(out / "gallery.png")}
    assert (out / "gallery.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "fooling_curves.png").is_file()
    for row in attacks.to_dict("records"):
        saved = torch.load(row["artefacts_json"][ADVERSARIAL_KEY], weights_only=True)
        assert saved["attack"] == row["attack"]
        assert saved["adv_images"].shape == (row["artefacts_json"]["n_attacked"], 3, 128, 128)
    report = read_results(store)
    assert sorted(report.galleries["attack"]) == ["bim_a", "deepfool", "fgsm"]
    assert report.galleries["exists"].all()


def test_notebook_prints_the_run_and_builds_the_explorer(executed, notebook_stdout):
    notebook, _, store = executed
    text = notebook_stdout(notebook)
    assert f"run key {store.runs_df().iloc[0]['run_key']}" in text
    assert text.count("gradients per clip on average") == len(ATTACKS)
    assert text.count("(target hits ") == 1  # FGSM, the one targeted attack here
    nb = nbformat.read(notebook, as_version=4)
    widgets = [
        output
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if "application/vnd.jupyter.widget-view+json" in output.get("data", {})
    ]
    assert len(widgets) == 1
    assert "explorer model: the shipped demo model" in text
    line = re.search(
        r"classified correctly with probability ([\d.]+); FGSM flips it from "
        r"ε = ([\d.]+)",
        text,
    )
    assert line, "the explorer's clip is not both confident and flipped"
    assert float(line[1]) >= 0.8 and 0 < float(line[2]) <= max(EPSILONS)
