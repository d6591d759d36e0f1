"""The training job end to end: store row, resumption, failures, figures, reloading a run."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

import specnb.runs.train as job_runner
from specnb.data import DatasetError, SplitError
from specnb.representations import SettingError, make_setting
from specnb.runs import (
    TRAIN_FOLDER,
    TrainingJob,
    fold_summary,
    load_trained_run,
    run_training_job,
    split_summary,
)
from specnb.store import ResultsStore, run_key
from specnb.training import TrainConfig, TrainingError, evaluate
from specnb.training.figures import FIGURE_FILES, confusion_figure, curves_long
from specnb.training.result import RESULT_FILE

pytestmark = pytest.mark.usefixtures("one_thread")

SETTING = make_setting("stft", sr=8000, n_fft=256)
#: 10 classes x 6 clips (3 source recordings per class), synthesised at 16 kHz.
OPTIONS = {"n_per_class": 6, "sr_native": 16000}
CONFIG = TrainConfig(model="sbcnn", epochs=2, n_folds=2, batch_size=16, device="cpu")
JOB = TrainingJob("synthetic", dataset_options=OPTIONS, setting=SETTING, config=CONFIG)
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One finished job: (out_dir, store, run key, result)."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("job")
    store = ResultsStore(root / "results.sqlite")
    key, result = run_training_job(
        JOB, root / "run", store=store, cache_dir=root / "cache", progress=False
    )
    return root, store, key, result


def test_row_is_done_with_the_result_metrics(trained):
    root, store, key, result = trained
    row = store.get_run(key)
    assert row["status"] == "done" and row["error"] is None
    assert row["acc_mean"] == pytest.approx(result.acc_mean)
    assert row["acc_std"] == pytest.approx(result.acc_std)
    assert row["fold_accs_json"] == list(result.fold_accuracies)
    assert row["acc_mean"] == pytest.approx(np.mean(row["fold_accs_json"]))
    assert row["epochs_json"] == list(result.epochs) == [2, 2]
    assert row["n_params"] == result.n_params > 0
    assert (row["dataset"], row["repr"], row["model"], row["seed"]) == (
        "synthetic-s0-n6-r16000",
        "stft",
        "sbcnn",
        0,
    )
    assert row["setting_json"] == SETTING.to_dict() and row["setting_key"] == SETTING.key
    assert row["protocol_json"] == CONFIG.protocol()
    assert Path(row["checkpoint_path"]) == root / "run" / TRAIN_FOLDER
    for path in result.checkpoints:
        assert path.is_file()
    artefacts = row["artefacts_json"]
    assert artefacts["classes"][0] == "siren" and len(artefacts["classes"]) == 10
    assert len(artefacts["test_clip_ids"]) == len(result.test_indices) == 20
    assert TrainingJob.from_dict(artefacts["job"]) == JOB


def test_plain_run_key_is_the_store_key_of_the_protocol(trained):
    _, _, key, _ = trained
    expected = run_key(
        dataset="synthetic-s0-n6-r16000",
        setting=SETTING.to_dict(),
        model="sbcnn",
        seed=0,
        protocol=CONFIG.protocol(),
    )
    assert key == expected == JOB.run_key()
    augmented = JOB.replace(pitch_scales=(0.9,))
    assert augmented.protocol()["augmentation"] == ["pitch0.9"]
    assert augmented.run_key() != key


def test_figures_are_written_and_recorded(trained):
    root, store, key, _ = trained
    figures = store.get_run(key)["artefacts_json"]["figures"]
    assert set(figures) == set(FIGURE_FILES)
    for name, path in figures.items():
        assert Path(path) == root / "run" / FIGURE_FILES[name]
        assert Path(path).read_bytes()[:8] == PNG and Path(path).stat().st_size > 5000


def test_fold_summary_matches_the_result(trained):
    result = trained[3]
    table = fold_summary(result)
    assert table["fold"].tolist() == [1, 2]
    assert table["test_acc"].tolist() == list(result.fold_accuracies)
    assert table["best_epoch"].tolist() == list(result.best_epochs)
    assert len(curves_long(result)) == 4 * sum(result.epochs)


def test_second_call_returns_the_stored_run_without_training(trained, monkeypatch):
    root, store, key, result = trained
    before = store.get_run(key)["updated_at"]
    stamps = [os.stat(p).st_mtime_ns for p in result.checkpoints]

    def no_training(*args, **kwargs):
        raise AssertionError("train_cv must not run for a finished job")

    monkeypatch.setattr(job_runner, "train_cv", no_training)
    again_key, again = run_training_job(JOB, root / "elsewhere", store=store, progress=False)
    assert again_key == key
    assert again.train_seconds == result.train_seconds
    assert again.fold_accuracies == result.fold_accuracies
    assert store.get_run(key)["updated_at"] == before
    assert [os.stat(p).st_mtime_ns for p in result.checkpoints] == stamps
    assert not (root / "elsewhere" / TRAIN_FOLDER).exists()


def test_done_row_without_result_file_resumes_from_the_finished_folds(trained, tmp_path):
    root, _, _, result = trained
    store = ResultsStore(tmp_path / "results.sqlite")
    copy = tmp_path / "run"
    for fold_file in result.checkpoints:
        target = copy / TRAIN_FOLDER / fold_file.parent.name / fold_file.name
        target.parent.mkdir(parents=True)
        target.write_bytes(fold_file.read_bytes())
    (copy / TRAIN_FOLDER / "train.json").write_bytes((result.run_dir / "train.json").read_bytes())
    key, resumed = run_training_job(
        JOB, copy, store=store, cache_dir=root / "cache", progress=False
    )
    assert resumed.resumed_from == resumed.epochs  # every fold was read, none trained
    assert resumed.fold_accuracies == result.fold_accuracies
    assert store.get_run(key)["status"] == "done"
    (copy / TRAIN_FOLDER / RESULT_FILE).unlink()  # the row is done, its summary file gone
    _, again = run_training_job(JOB, copy, store=store, cache_dir=root / "cache", progress=False)
    assert again.resumed_from == again.epochs
    assert again.fold_accuracies == result.fold_accuracies
    assert (copy / TRAIN_FOLDER / RESULT_FILE).is_file()


def test_bad_data_path_raises_before_any_row(tmp_path):
    store = ResultsStore(tmp_path / "results.sqlite")
    job = TrainingJob("esc10", data_path=str(tmp_path / "nowhere"), config=CONFIG)
    with pytest.raises(DatasetError, match="nowhere"):
        run_training_job(job, tmp_path / "run", store=store, progress=False)
    assert store.runs_df().empty


def test_failure_after_the_row_marks_it_failed(trained, tmp_path):
    root, store, _, _ = trained
    job = JOB.replace(config=CONFIG.replace(n_folds=5))  # 3 sources per class: too few
    with pytest.raises(SplitError, match="n_folds"):
        run_training_job(
            job, tmp_path / "run", store=store, cache_dir=root / "cache", progress=False
        )
    row = store.get_run(job.run_key())
    assert row["status"] == "failed"
    assert row["error"].startswith("SplitError:") and "n_folds" in row["error"]
    assert row["acc_mean"] is None
    with pytest.raises(TrainingError, match="failed, not done: SplitError"):
        load_trained_run(store, job.run_key())


def test_load_trained_run_rebuilds_models_and_test_split(trained):
    _, store, key, result = trained
    run = load_trained_run(store, key, device="cpu")
    assert len(run.models) == 2 and run.folds == (0, 1)
    assert run.test_images.shape == (20, 3, 128, 128)
    assert float(run.test_images.min()) >= 0 and float(run.test_images.max()) <= 1
    assert all(clip.is_original for clip in run.test_clips)
    assert run.test_labels.tolist() == [clip.label for clip in run.test_clips]
    assert run.classes == tuple(store.get_run(key)["artefacts_json"]["classes"])
    assert run.setting == SETTING and run.job == JOB
    for fold, model in enumerate(run.models):
        _, predictions = evaluate(model, run.test_images, run.test_labels)
        assert predictions.tolist() == result.test_predictions[fold].tolist()
    assert run.accuracies() == list(result.fold_accuracies)
    assert run.audio(0).shape == (5 * SETTING.sr,)
    one = load_trained_run(store, key, device="cpu", folds=[1])
    assert one.folds == (1,) and len(one.models) == 1


def test_load_trained_run_names_an_unknown_run(trained):
    store = trained[1]
    with pytest.raises(TrainingError, match="0123456789abcdef.*not in the results store"):
        load_trained_run(store, "0123456789abcdef")


def test_split_summary_keeps_copies_with_their_originals():
    job = JOB.replace(pitch_scales=(0.9, 1.5))
    table = split_summary(job).set_index("part")
    assert table.loc["test", "copies"] == 0 and table.loc["test", "originals"] == 20
    folds = table.drop(index="test")
    assert (folds["copies"] == 2 * folds["originals"]).all()
    assert table.loc[["fold 1 train", "fold 1 dev"], "originals"].sum() == 40


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"dataset": "esc100"}, TrainingError, "dataset='esc100'"),
        ({"data_path": "/data"}, TrainingError, "data_path must be None"),
        ({"dataset_options": {"n_per_clas": 3}}, TrainingError, "no option 'n_per_clas'"),
        ({"dataset_options": {"seed": [1]}}, TrainingError, "dataset_options\\['seed'\\]"),
        ({"setting": {"repr": "stft", "n_fftt": 512}}, SettingError, "n_fftt"),
        ({"setting": "stft"}, TrainingError, "setting must be a Setting"),
        ({"pitch_scales": (0.9, -1.0)}, TrainingError, "pitch_scales"),
        ({"pitch_scales": ("high",)}, TrainingError, "pitch_scales"),
        ({"pitch_scales": (0.9, 0.9)}, TrainingError, "pitch_scales repeats"),
        ({"dataset_options": [1, 2]}, TrainingError, "dataset_options must be a mapping"),
        ({"config": {"model": "sbcnn"}}, TrainingError, "config must be a TrainConfig"),
    ],
)
def test_job_validation_names_the_field(changes, error, message):
    with pytest.raises(error, match=message):
        JOB.replace(**changes)


def test_job_is_hashable_and_round_trips():
    job = JOB.replace(
        pitch_scales=[0.75, 1.5], dataset_options={"sr_native": 16000, "n_per_class": 6}
    )
    assert job.pitch_scales == (0.75, 1.5) and job.augmentation == ["pitch0.75", "pitch1.5"]
    assert job.dataset_options == (("n_per_class", 6), ("sr_native", 16000))
    assert TrainingJob.from_dict(job.to_dict()) == job
    assert len({job, TrainingJob.from_dict(job.to_dict()), JOB}) == 2


def test_confusion_figure_rejects_a_mismatched_matrix():
    with pytest.raises(ValueError, match="3 classes"):
        confusion_figure(np.zeros((2, 2), dtype=int), ["a", "b", "c"])
