"""Notebook 02 under papermill with tiny parameters, and the values it leaves in the store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from specnb.store import ResultsStore
from specnb.training import load_fold_models
from specnb.training.figures import FIGURE_FILES

PARAMETERS = {
    "N_PER_CLASS": 6,
    "SETTING": {"repr": "stft", "sr": 8000, "n_fft": 256},
    "MODEL": "sbcnn",
    "EPOCHS": 1,
    "FOLDS": 2,
    "BATCH_SIZE": 16,
    "DEVICE": "cpu",
}


@pytest.fixture(scope="module")
def executed(tmp_path_factory, execute_notebook, notebook_paths):
    """The executed notebook and its run folder (the kernel on one thread)."""
    out = tmp_path_factory.mktemp("nb02")
    notebook = execute_notebook("training", out, PARAMETERS, timeout=300)
    assert notebook == out / notebook_paths["training"].name
    return notebook, out


def test_notebook_stores_a_done_run_with_consistent_values(executed):
    _, out = executed
    runs = ResultsStore(out / "results.sqlite").runs_df()
    assert len(runs) == 1
    row = runs.iloc[0]
    assert row["status"] == "done" and row["error"] is None
    assert (row["model"], row["repr"], row["dataset"]) == ("sbcnn", "stft", "synthetic-s0-n6")
    assert row["setting_json"]["n_fft"] == 256 and row["setting_json"]["sr"] == 8000
    accuracies = row["fold_accs_json"]
    assert len(accuracies) == 2 and all(0 <= a <= 1 for a in accuracies)
    assert 0 <= row["acc_mean"] <= 1
    assert row["acc_mean"] == pytest.approx(np.mean(accuracies))
    assert row["acc_std"] == pytest.approx(np.std(accuracies))
    assert row["epochs_json"] == [1, 1]
    assert row["protocol_json"]["n_folds"] == 2 and row["protocol_json"]["epochs"] == 1


def test_notebook_leaves_figures_and_loadable_checkpoints(executed):
    _, out = executed
    row = ResultsStore(out / "results.sqlite").runs_df().iloc[0]
    for name, file in FIGURE_FILES.items():
        path = Path(row["artefacts_json"]["figures"][name])
        assert path == out / file and path.stat().st_size > 5000
    assert Path(row["checkpoint_path"]) == out / "train"
    models = load_fold_models(row["checkpoint_path"])
    assert len(models) == 2 and all(m.arch == "sbcnn" for m in models)


def test_notebook_prints_the_run_and_the_reload_check(executed, notebook_stdout):
    notebook, out = executed
    row = ResultsStore(out / "results.sqlite").runs_df().iloc[0]
    text = notebook_stdout(notebook)
    assert f"run key {row['run_key']}" in text
    assert f"checkpoint: {out / 'train' / 'fold1' / 'model.pt'}" in text
    assert "largest difference 0.0000" in text


def test_every_figure_cell_keeps_its_png(executed, cells_missing_figures):
    notebook, _ = executed
    assert cells_missing_figures(notebook) == []
