"""Notebooks 04, 05 and 07 under papermill, sharing one store: the values each one stores.

The three notebooks run on the same synthetic set, setting, seed and protocol, so the runs
notebook 04 trains (SB-CNN and LSTM on STFT) are found again by 05 (viridis) and 07 (both):
the tests also check that a finished run is not trained twice.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from specnb.representations import COLORMAP_FAMILIES
from specnb.runs import load_trained_run
from specnb.store import ResultsStore

pytestmark = pytest.mark.slow

STFT = {"repr": "stft", "sr": 8000, "n_fft": 256}
MFCC = {"repr": "mfcc", "sr": 8000, "n_mfcc": 20, "lifter": 20}
# Models that learn, so that the transfer test has clips every model gets right by a wide
# margin on any CPU (kernels that round differently move an accuracy by a clip or two): the
# synthetic set's 12 clips per class leave 40 test clips, and the paper's recipe (no batch
# augmentation) with small batches takes SB-CNN far above chance within 12 epochs.
COMMON = {
    "N_PER_CLASS": 12,
    "EPOCHS": 12,
    "FOLDS": 2,
    "PATIENCE": 12,
    "BATCH_SIZE": 8,
    "LR": 0.002,
    "RECIPE": "paper",
    "GRID": "quick",
    "N_SAMPLES": 6,
    "DEVICE": "cpu",
}
MODELS = ["lstm", "sbcnn"]


@pytest.fixture(scope="module")
def shared(tmp_path_factory, execute_notebook):
    """The shared store and feature cache of the three notebooks (kernels on one thread)."""
    root = tmp_path_factory.mktemp("studies")
    where = {"STORE": str(root / "results.sqlite"), "CACHE_DIR": str(root / "cache")}
    return root, where, execute_notebook


def _execute(shared, notebook: str, folder: str, params: dict):
    root, where, execute_notebook = shared
    out = root / folder
    executed = execute_notebook(notebook, out, {**COMMON, **where, **params}, timeout=600)
    return executed, out, ResultsStore(root / "results.sqlite")


@pytest.fixture(scope="module")
def transfer(shared):
    return _execute(
        shared,
        "transferability",
        "04",
        {
            "SETTINGS": {"STFT": STFT, "MFCC": MFCC},
            "MODELS": MODELS,
            "ATTACKS": ["fgsm", "bim-a"],
        },
    )


@pytest.fixture(scope="module")
def colour(shared, transfer):
    return _execute(
        shared,
        "colour_maps",
        "05",
        {
            "SETTING": STFT,
            "MODEL": "lstm",
            "COLORMAPS": ["viridis", "hsv-uniform"],
            "ATTACKS": ["bim-a"],
        },
    )


@pytest.fixture(scope="module")
def architectures(shared, colour):
    return _execute(
        shared,
        "architectures",
        "07",
        {
            "SETTING": STFT,
            "MODELS": ["sbcnn", "lstm"],
            "VICTIM": "sbcnn",
            "ATTACKS": ["fgsm", "bim-a"],
        },
    )


def _runs(store: ResultsStore) -> pd.DataFrame:
    runs = store.runs_df()
    runs["repr_"] = [s["repr"] for s in runs["setting_json"]]
    runs["colormap"] = [s["colormap"] for s in runs["setting_json"]]
    return runs


def test_transfer_matrix_has_ones_on_the_diagonal_and_ratios_in_range(transfer):
    notebook, out, store = transfer
    assert notebook.is_file() and (out / "transfer_heatmaps.png").stat().st_size > 10_000
    runs = _runs(store).set_index("run_key")
    transfers = store.transfers_df()
    assert set(transfers["status"]) == {"done"}
    # 2 representations x 2 sources x 2 targets x 2 attacks
    assert len(transfers) == 16
    source = runs.loc[transfers["source_run_key"]]
    target = runs.loc[transfers["target_run_key"]]
    assert (source["repr_"].to_numpy() == target["repr_"].to_numpy()).all()
    # every representation found N_SAMPLES test clips that all its models get right
    assert set(transfers["n_samples"]) == {COMMON["N_SAMPLES"]}
    ratios = transfers["ratio"].astype(float)
    defined = ratios.notna()
    assert defined.any(), "no attack fooled any source model"
    assert ((ratios[defined] >= 0) & (ratios[defined] <= 1)).all()
    diagonal = (transfers["source_run_key"] == transfers["target_run_key"]).to_numpy()
    assert (ratios[diagonal & defined] == 1.0).all()
    for row in transfers.to_dict("records"):
        params = row["params_json"]
        source_counts, both = params["fooling_source"], params["fooling_both"]
        assert all(b <= s for s, b in zip(source_counts, both))
        assert row["n_fooling_source"] == sum(source_counts)
        expected = [b / s for s, b in zip(source_counts, both) if s]
        if expected:
            assert math.isclose(row["ratio"], float(np.mean(expected)))


def test_transfer_runs_share_their_test_split(transfer):
    _, _, store = transfer
    runs = _runs(store)
    for _, group in runs.groupby("repr_"):
        assert sorted(group["model"]) == sorted(MODELS)
        clips = [tuple(a["test_clip_ids"]) for a in group["artefacts_json"]]
        assert len(set(clips)) == 1


def test_colour_map_images_have_the_right_shape_and_range(colour):
    notebook, out, _ = colour
    assert notebook.is_file() and (out / "colormap_gallery.png").is_file()
    with np.load(out / "colormap_images.npz") as saved:
        images = {name: saved[name] for name in saved.files}
    offered = [name for names in COLORMAP_FAMILIES.values() for name in names]
    assert sorted(images) == sorted(offered)
    for name, image in images.items():
        assert image.shape == (3, 128, 128) and image.dtype == np.float32, name
        assert image.min() >= 0.0 and image.max() <= 1.0, name
        assert image.std() > 0.01, name
    assert np.abs(images["hsv-uniform"] - images["viridis"]).mean() > 0.05
    np.testing.assert_allclose(images["gray"][0], images["gray"][1])


def test_colour_map_runs_train_on_their_own_images_and_are_attacked(colour):
    _, out, store = colour
    runs = _runs(store)
    chosen = runs[(runs["model"] == "lstm") & (runs["repr_"] == "stft")]
    assert sorted(chosen["colormap"]) == ["hsv-uniform", "viridis"]
    images = {}
    for row in chosen.to_dict("records"):
        run = load_trained_run(store, row["run_key"], device="cpu")
        assert run.test_images.shape[1:] == (3, 128, 128)
        assert run.test_images.min() >= 0 and run.test_images.max() <= 1
        images[row["colormap"]] = run.test_images
    assert (images["viridis"] - images["hsv-uniform"]).abs().mean() > 0.05
    table = pd.read_csv(out / "colormaps.csv", index_col="colormap")
    assert list(table.index) == ["viridis", "hsv-uniform"]
    assert list(table["family"]) == ["sequential", "uniform"]
    attacks = store.attacks_df(attack="bim-a")
    by_run = attacks.set_index("run_key")
    for row in chosen.to_dict("records"):
        auc = by_run.loc[row["run_key"], "auc"]
        auc = float(auc.iloc[-1]) if isinstance(auc, pd.Series) else float(auc)
        assert math.isclose(table.loc[row["colormap"], "auc_mean"], auc)
        assert math.isclose(table.loc[row["colormap"], "accuracy_pct"], 100 * row["acc_mean"])


def test_studies_reuse_finished_runs(architectures):
    _, _, store = architectures
    runs = _runs(store)
    # 04: 2 models x 2 representations; 05 adds only the hsv-uniform run; 07 adds none
    assert len(runs) == 5
    assert set(runs["status"]) == {"done"}


def test_architecture_table_is_relative_to_the_victim(architectures):
    notebook, out, store = architectures
    assert notebook.is_file() and (out / "architectures.png").is_file()
    summary = pd.read_csv(out / "architectures.csv", index_col="name")
    assert list(summary.index) == ["sbcnn", "lstm"]
    runs = _runs(store)
    stft = runs[(runs["repr_"] == "stft") & (runs["colormap"] == "viridis")].set_index("model")
    for model in ("sbcnn", "lstm"):
        assert math.isclose(summary.loc[model, "accuracy_pct"], 100 * stft.loc[model, "acc_mean"])
        assert summary.loc[model, "n_params"] == stft.loc[model, "n_params"]
        assert summary.loc[model, "grads_mean"] >= 1.0
    ratio = summary.loc["lstm", "n_params"] / summary.loc["sbcnn", "n_params"]
    text = notebook.read_text()
    # the paper's own claim, whatever the victim; one seed decides nothing
    assert "ResNet-18 is the costliest model to attack" in text
    assert "the paper: ResNet-18 is more accurate" in text and "not enough results" in text
    assert f"{100 * (ratio - 1):.2f}"[:4] in text
