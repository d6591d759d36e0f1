"""Cross-validated training: split use, determinism, kill-and-resume, atomic checkpoints."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from specnb.data.clips import Clip
from specnb.training import (
    TrainConfig,
    TrainingError,
    evaluate,
    load_fold_models,
    load_result,
    load_split,
    train_cv,
)
from specnb.training.checkpoints import (
    atomic_save,
    epoch_checkpoint_path,
    fold_model_path,
    load_checkpoint,
)

N_CLASSES = 3
#: The protocol every run here uses: small enough for seconds on one CPU core.
CONFIG = TrainConfig(
    model="sbcnn", epochs=3, batch_size=16, n_folds=2, patience=10, seed=7, device="cpu"
)


def toy_data() -> tuple[torch.Tensor, torch.Tensor, list[Clip]]:
    """3 classes x 6 sources x 2 fragments, each with one augmented copy: 72 images.

    A class brightens one horizontal band of one channel, so the classes are separable.
    """
    generator = torch.Generator().manual_seed(0)
    clips, images = [], []
    for label in range(N_CLASSES):
        for source in range(6):
            for fragment in range(2):
                clip = Clip(
                    f"c{label}-s{source}-{fragment}", label, 1 + source % 5, f"c{label}-s{source}"
                )
                for item in (clip, clip.augmented("pitch1.5")):
                    image = torch.rand(3, 128, 128, generator=generator) * 0.5
                    image[label, 40 * label : 40 * label + 30] += 0.5
                    clips.append(item)
                    images.append(image)
    return torch.stack(images), torch.tensor([c.label for c in clips]), clips


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def data():
    return toy_data()


@pytest.fixture(scope="module")
def reference(data, tmp_path_factory):
    """An uninterrupted run of CONFIG."""
    torch.set_num_threads(1)
    return train_cv(*data, CONFIG, tmp_path_factory.mktemp("reference"), progress=False)


def _same_run(a, b) -> None:
    assert a.fold_accuracies == b.fold_accuracies
    assert a.curves == b.curves
    assert a.epochs == b.epochs and a.best_epochs == b.best_epochs
    np.testing.assert_array_equal(a.test_predictions, b.test_predictions)
    np.testing.assert_array_equal(a.confusion, b.confusion)


def test_result_is_consistent_and_learns(reference, data) -> None:
    images, labels, clips = data
    n_test = len(reference.test_indices)
    assert reference.acc_mean == pytest.approx(np.mean(reference.fold_accuracies))
    assert reference.acc_std == pytest.approx(np.std(reference.fold_accuracies))
    assert reference.confusion.sum() == CONFIG.n_folds * n_test
    truth = labels.numpy()[reference.test_indices]
    for fold, predictions in enumerate(reference.test_predictions):
        assert reference.fold_accuracies[fold] == pytest.approx(np.mean(predictions == truth))
    assert reference.acc_mean > 1 / N_CLASSES + 0.2  # separable classes are learnt
    for curve, epochs in zip(reference.curves, reference.epochs):
        assert set(curve) == {"train_loss", "train_acc", "dev_loss", "dev_acc"}
        assert all(len(values) == epochs for values in curve.values())
    assert reference.resumed_from == (0, 0)
    assert reference.n_params > 0 and reference.train_seconds > 0
    assert len(reference.curves_frame()) == sum(reference.epochs)
    assert load_result(reference.run_dir).to_dict() == reference.to_dict()
    fields = reference.run_fields()
    assert fields["fold_accs_json"] == list(reference.fold_accuracies)
    assert fields["protocol_json"] == CONFIG.protocol()


def test_split_has_no_leakage(reference, data) -> None:
    _, _, clips = data
    split = load_split(reference.run_dir)
    np.testing.assert_array_equal(split["test"], reference.test_indices)
    test = [clips[i] for i in split["test"]]
    assert test and all(clip.is_original for clip in test)
    test_sources = {clip.source_id for clip in test}
    test_ids = {clip.clip_id for clip in test}
    for train_index, dev_index in split["folds"]:
        train = [clips[i] for i in train_index]
        dev = [clips[i] for i in dev_index]
        for part in (train, dev):
            assert not {c.source_id for c in part} & test_sources
            assert not {c.parent_id for c in part} & test_ids
        assert not {c.source_id for c in train} & {c.source_id for c in dev}
        assert {c.parent_id for c in train} == {c.clip_id for c in train if c.is_original}
        assert {c.parent_id for c in dev} == {c.clip_id for c in dev if c.is_original}
        assert len(set(train_index) | set(dev_index) | set(split["test"])) == len(
            train_index
        ) + len(dev_index) + len(split["test"])


def test_same_seed_same_run_and_models_reload(reference, data, tmp_path: Path) -> None:
    again = train_cv(*data, CONFIG, tmp_path, progress=False)
    _same_run(again, reference)
    images, labels, _ = data
    test = torch.as_tensor(reference.test_indices)
    for fold, model in enumerate(load_fold_models(tmp_path)):
        accuracy, predictions = evaluate(model, images[test], labels[test], batch_size=7)
        assert accuracy == reference.fold_accuracies[fold]
        np.testing.assert_array_equal(predictions.numpy(), reference.test_predictions[fold])
    other = train_cv(*data, CONFIG.replace(seed=8, epochs=1), tmp_path / "s8", progress=False)
    assert other.curves[0]["train_loss"][0] != reference.curves[0]["train_loss"][0]


def test_finished_run_is_not_retrained(reference, data) -> None:
    stamps = [p.stat().st_mtime_ns for p in reference.checkpoints]
    again = train_cv(*data, CONFIG, reference.run_dir, progress=False)
    assert again.resumed_from == again.epochs
    assert [p.stat().st_mtime_ns for p in again.checkpoints] == stamps
    _same_run(again, reference)


_KILLED_RUN = """
import sys, torch
torch.set_num_threads(1)
sys.path.insert(0, {tests!r})
from test_training import CONFIG, toy_data
from specnb.training import train_cv
train_cv(*toy_data(), CONFIG, {run_dir!r}, progress=False)
"""


def test_resume_after_kill_loses_no_finished_epoch(reference, data, tmp_path: Path) -> None:
    run_dir = tmp_path / "killed"
    script = _KILLED_RUN.format(tests=str(Path(__file__).parent), run_dir=str(run_dir))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen([sys.executable, "-c", script], env=env)
    checkpoint = epoch_checkpoint_path(run_dir, 0)
    deadline = time.monotonic() + 300  # a loaded machine may take a minute to import torch
    while not checkpoint.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert not fold_model_path(run_dir, 1).exists()

    fold = 0 if checkpoint.exists() else 1
    saved = load_checkpoint(epoch_checkpoint_path(run_dir, fold))
    done = saved["epoch"]
    assert 1 <= done
    # Mark a finished epoch: if resuming recomputed it, the mark would vanish.
    saved["curves"]["train_loss"][0] = 123.0
    atomic_save(saved, epoch_checkpoint_path(run_dir, fold))

    resumed = train_cv(*data, CONFIG, run_dir, progress=False)
    assert resumed.resumed_from[fold] == done
    assert resumed.curves[fold]["train_loss"][0] == 123.0
    resumed.curves[fold]["train_loss"][0] = reference.curves[fold]["train_loss"][0]
    _same_run(resumed, reference)
    assert not list(run_dir.rglob("*.tmp")) and not checkpoint.exists()


def test_checkpoint_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "fold0" / "last.pt"
    atomic_save({"epoch": 1, "weights": torch.ones(3)}, path)

    def crash(obj, stream) -> None:
        stream.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        atomic_save({"epoch": 2, "weights": torch.zeros(3)}, path)
    monkeypatch.undo()
    saved = load_checkpoint(path)
    assert saved["epoch"] == 1 and torch.equal(saved["weights"], torch.ones(3))
    assert sorted(p.name for p in path.parent.iterdir()) == ["last.pt"]


def test_early_stopping_keeps_the_best_epoch(data, tmp_path: Path) -> None:
    # A vanishing learning rate freezes dev accuracy: no improvement after epoch 1.
    config = CONFIG.replace(lr=1e-12, monitor="dev_acc", patience=1, epochs=10)
    result = train_cv(*data, config, tmp_path, progress=False)
    assert result.epochs == (2, 2)
    assert result.best_epochs == (1, 1)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("model", "resnet99"),
        ("epochs", 0),
        ("batch_size", 2.5),
        ("lr", float("nan")),
        ("weight_decay", -1.0),
        ("patience", True),
        ("n_folds", 1),
        ("test_size", 1.0),
        ("optimizer", "rmsprop"),
        ("monitor", "train_loss"),
        ("seed", -1),
        ("official_test_fold", 0),
        ("device", "tpu"),
        ("amp", "yes"),
    ],
)
def test_config_errors_name_the_field(field: str, value: object) -> None:
    with pytest.raises(TrainingError, match=rf"TrainConfig\.{field}"):
        TrainConfig(**{field: value})


def test_config_key_ignores_execution_fields_only() -> None:
    assert CONFIG.key == CONFIG.replace(device="auto", amp=False).key
    assert CONFIG.key != CONFIG.replace(lr=2e-3).key
    assert "device" not in CONFIG.protocol() and "model" not in CONFIG.protocol()
    assert TrainConfig.from_dict(CONFIG.to_dict()) == CONFIG
    with pytest.raises(TrainingError, match="no field 'epoch'"):
        TrainConfig.from_dict({"epoch": 3})


def test_bad_inputs_and_reused_run_folder_are_named(reference, data, tmp_path: Path) -> None:
    images, labels, clips = data
    nan_images = images.clone()
    nan_images[3, 0, 0, 0] = float("nan")
    with pytest.raises(TrainingError, match="NaN"):
        train_cv(nan_images, labels, clips, CONFIG, tmp_path / "a", progress=False)
    with pytest.raises(TrainingError, match=r"\[0, 1\]"):
        train_cv(images * 2, labels, clips, CONFIG, tmp_path / "b", progress=False)
    with pytest.raises(TrainingError, match="same length"):
        train_cv(images[:-1], labels[:-1], clips, CONFIG, tmp_path / "c", progress=False)
    with pytest.raises(TrainingError, match="labels disagree"):
        train_cv(images, labels.roll(1), clips, CONFIG, tmp_path / "d", progress=False)
    with pytest.raises(TrainingError, match=r"differs in \['epochs'\]"):
        train_cv(images, labels, clips, CONFIG.replace(epochs=4), reference.run_dir, progress=False)
    with pytest.raises(TrainingError, match="checksum"):
        train_cv(images * 0.5, labels, clips, CONFIG, reference.run_dir, progress=False)
    with pytest.raises(TrainingError, match="holds no training run"):
        load_fold_models(tmp_path / "nothing")
