"""The studies package without training: variants, colour maps, transfer measurement."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from specnb.attack_eval import fgsm_grid
from specnb.data.clips import Clip
from specnb.representations import make_setting
from specnb.representations.images import to_image
from specnb.store import ResultsStore
from specnb.studies import (
    TransferResult,
    colormap_family,
    colormap_variants,
    mean_transfer,
    measure_transfers,
    point_grid,
    render_colormaps,
    study_job,
    transfer_frame,
    transfer_matrix,
    variants,
    write_transfers,
)
from specnb.training import TrainingError

STFT = {"repr": "stft", "sr": 8000, "n_fft": 256}


def test_variants_change_one_thing_and_keep_the_split_fields():
    base = study_job(setting=STFT, model="sbcnn", epochs=2, seed=3)
    jobs = variants(base, models=["sbcnn", "lstm"], settings={"hsv": {"colormap": "hsv-uniform"}})
    assert list(jobs) == ["sbcnn", "lstm", "hsv"]
    assert jobs["lstm"].config.model == "lstm" and jobs["lstm"].setting == base.setting
    assert jobs["hsv"].setting.colormap == "hsv-uniform"
    assert jobs["hsv"].setting.feature_key == base.setting.feature_key
    for job in jobs.values():
        assert job.config.seed == 3 and job.dataset_options == base.dataset_options
    assert len({job.run_key() for job in jobs.values()}) == 3


def test_variants_reject_bad_input_by_name():
    base = study_job(setting=STFT)
    with pytest.raises(TrainingError, match="at least one variant"):
        variants(base)
    with pytest.raises(TrainingError, match="'sbcnn' is given twice"):
        variants(base, models=["sbcnn"], settings={"sbcnn": {"colormap": "gray"}})
    with pytest.raises(TrainingError, match="'x'.*colormap"):
        variants(base, settings={"x": {"colormap": "nope"}})
    with pytest.raises(TrainingError, match="model"):
        variants(base, models=["vgg99"])


def test_study_job_makes_the_data_path_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    job = study_job(dataset="esc10", data_path="data/esc50", setting=STFT)
    assert job.data_path == str(tmp_path / "data" / "esc50") and job.dataset_options == ()


def test_a_setting_passed_as_text_is_refused_with_how_to_pass_it():
    from specnb.training import TrainingError

    with pytest.raises(TrainingError, match=r"SETTING must be a mapping.*got str .*-y"):
        study_job(setting='{"repr": "mel", "sr": 22050}')


def test_colormap_variants_and_families():
    assert colormap_family("coolwarm") == "diverging"
    assert colormap_family("hsv-uniform") == "uniform"
    assert list(colormap_variants()) == ["viridis", "coolwarm", "twilight", "tab20", "hsv-uniform"]
    with pytest.raises(ValueError, match="'jet' is not offered"):
        colormap_variants(["jet"])
    with pytest.raises(ValueError, match="repeats"):
        colormap_variants(["gray", "gray"])
    with pytest.raises(ValueError, match="empty"):
        colormap_variants([])


def test_render_colormaps_gives_distinct_images_in_range():
    raw = np.random.default_rng(1).normal(-40, 10, size=(60, 50)).astype(np.float32)
    images = render_colormaps(raw, ["viridis", "hsv-uniform", "gray"], size=32)
    for image in images.values():
        assert image.shape == (3, 32, 32) and 0 <= image.min() and image.max() <= 1
    assert np.abs(images["viridis"] - images["hsv-uniform"]).mean() > 0.05
    with pytest.raises(ValueError, match="'nope'"):
        render_colormaps(raw, ["nope"])


def test_render_colormaps_keeps_the_settings_row_scaling():
    raw = np.random.default_rng(1).normal(-40, 10, size=(20, 50)).astype(np.float32)
    raw[0] -= 500.0  # a 0th MFCC coefficient far below the others
    rows = make_setting("mfcc", per_coefficient=True, colormap="magma")
    images = render_colormaps(raw, ["viridis", "gray"], size=32, setting=rows)
    plain = render_colormaps(raw, ["viridis", "gray"], size=32)
    for name, image in images.items():
        expected = to_image(raw, name, 32, per_row=True).numpy()
        np.testing.assert_array_equal(image, expected)
        assert np.abs(image - plain[name]).mean() > 0.05
    paper = render_colormaps(raw, ["gray"], size=32, setting=rows.replace(per_coefficient=False))
    np.testing.assert_array_equal(paper["gray"], plain["gray"])


def test_transfer_result_ratio_skips_budgets_that_fool_nothing():
    result = TransferResult("a", "b", "fgsm", True, (0.1, 0.2, 0.3), (0, 4, 2), (0, 1, 2), 10, 0.0)
    assert math.isnan(result.ratios[0]) and result.ratios[1:] == (0.25, 1.0)
    assert result.ratio == pytest.approx(0.625)
    empty = TransferResult("a", "b", "fgsm", True, (0.1,), (0,), (0,), 10, 0.0)
    assert math.isnan(empty.ratio)


def test_transfer_matrix_averages_attacks_then_keeps_the_model_order():
    frame = pd.DataFrame(
        {
            "source": ["x", "x", "x", "y", "y", "y"],
            "target": ["x", "y", "y", "x", "y", "x"],
            "attack": ["fgsm", "fgsm", "bim-a", "fgsm", "fgsm", "bim-a"],
            "ratio": [1.0, 0.2, 0.6, 0.5, 1.0, np.nan],
        }
    )
    matrix = transfer_matrix(frame, order=["y", "x"])
    assert list(matrix.index) == ["y", "x"] and list(matrix.columns) == ["y", "x"]
    assert matrix.loc["x", "y"] == pytest.approx(0.4)
    assert matrix.loc["y", "x"] == pytest.approx(0.5)
    assert mean_transfer(matrix) == pytest.approx(0.45)


def _fake_run(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, ids=None):
    ids = ids or [f"c{i}" for i in range(len(labels))]
    clips = tuple(
        Clip(clip_id=i, label=int(y), fold=1, source_id=i, path=f"{i}.wav")
        for i, y in zip(ids, labels)
    )
    return SimpleNamespace(
        models=(model,),
        test_images=images,
        test_labels=labels,
        test_clips=clips,
        run_key=f"key-{id(model)}",
    )


def _linear(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 3))


def test_measure_transfers_on_copies_and_different_models():
    torch.manual_seed(0)
    images = torch.rand(24, 3, 4, 4)
    a, b = _linear(0), _linear(1)
    c = _linear(0)  # an exact copy of a
    with torch.no_grad():
        labels = a(images).argmax(1)
    runs = {
        "a": _fake_run(a, images, labels),
        "b": _fake_run(b, images, labels),
        "c": _fake_run(c, images, labels),
    }
    grid = fgsm_grid([0.0, 0.2, 0.5])
    results = measure_transfers(runs, [grid], grid="quick")
    assert len(results) == 9
    by_pair = {(r.source, r.target): r for r in results}
    both_correct = int((b(images).argmax(1) == labels).sum())
    for r in results:
        assert r.budgets == (0.2, 0.5) and r.n_samples == both_correct
        assert all(x <= y for x, y in zip(r.fooling_both, r.fooling_source))
    assert by_pair["a", "a"].ratio == 1.0 and by_pair["a", "c"].ratio == 1.0
    assert 0.0 <= by_pair["a", "b"].ratio <= 1.0
    frame = transfer_frame(results)
    assert frame.shape == (9, 7)


def test_measure_transfers_rejects_runs_of_another_split():
    images, labels = torch.rand(4, 3, 4, 4), torch.zeros(4, dtype=torch.long)
    runs = {
        "a": _fake_run(_linear(0), images, labels),
        "b": _fake_run(_linear(1), images, labels, ids=["z0", "z1", "z2", "z3"]),
    }
    with pytest.raises(ValueError, match="'b'.*another test split"):
        measure_transfers(runs, ["fgsm"])
    with pytest.raises(ValueError, match="at least two runs"):
        measure_transfers({"a": runs["a"]}, ["fgsm"])


def test_point_grid_keeps_one_point():
    grid = fgsm_grid([0.0, 0.1, 0.3])
    one = point_grid(grid, 2)
    assert one.budgets == (0.3,) and one.points() == [grid.points()[2]]


def test_write_transfers_records_every_budget(tmp_path):
    store = ResultsStore(tmp_path / "results.sqlite")
    for key in ("ka", "kb"):
        store.upsert_run(key, status="done", model=key)
    results = [
        TransferResult("a", "b", "fgsm", True, (0.1, 0.2), (0, 4), (0, 3), 8, 0.5),
        TransferResult("a", "a", "fgsm", True, (0.1, 0.2), (0, 4), (0, 4), 8, 0.5),
    ]
    keys = write_transfers(store, results, {"a": "ka", "b": "kb"}, seed=2)
    assert len(set(keys)) == 2
    rows = store.transfers_df().set_index("transfer_key")
    row = rows.loc[keys[0]]
    assert row["ratio"] == pytest.approx(0.75) and row["n_fooling_both"] == 3
    assert row["params_json"]["ratios"] == [None, 0.75] and row["params_json"]["seed"] == 2
    assert rows.loc[keys[1], "ratio"] == 1.0


def test_study_job_has_the_key_of_notebook_02s_job():
    from specnb.data import PITCH_SCALES
    from specnb.runs import TrainingJob
    from specnb.training.recipe import recipe_config

    for recipe in ("strong", "paper"):  # as notebook 02 builds its job
        config = recipe_config(
            recipe,
            model="alexnet",
            epochs=60,
            n_folds=5,
            test_size=0.3,
            patience=8,
            batch_size=32,
            lr=0.001,
            seed=0,
            official_test_fold=None,
            pretrained=None,
            device="auto",
        )
        notebook_02 = TrainingJob(
            dataset="synthetic",
            dataset_options={"seed": 0, "n_per_class": 8},
            setting=STFT,
            pitch_scales=PITCH_SCALES,
            config=config,
            uint8_images=True,
        )
        study = study_job(
            setting=STFT,
            model="alexnet",
            epochs=60,
            folds=5,
            patience=8,
            batch_size=32,
            lr=0.001,
            augment=True,
            recipe=recipe,
        )
        assert study.run_key() == notebook_02.run_key()
    assert study_job(setting=STFT, recipe="paper").run_key() != study_job(setting=STFT).run_key()
    assert (
        study_job(
            setting=STFT, model="alexnet", epochs=60, folds=5, patience=8, batch_size=32, lr=0.001
        ).run_key()
        != notebook_02.run_key()
    )
