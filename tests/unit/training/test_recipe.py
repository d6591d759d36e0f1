"""The training recipe's pieces: batch masks, mixup, schedule, early stopping, uint8 images."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from specnb.data import load_dataset
from specnb.representations import make_setting
from specnb.representations.cache import FeatureCache
from specnb.representations.features import dataset_images, to_uint8
from specnb.training import TrainConfig, TrainingError, early_stopping, train_cv
from specnb.training.batch_augment import augment_batch, mask_bands, mixup, one_hot, shift_time
from specnb.training.checkpoints import epoch_checkpoint_path, load_checkpoint
from specnb.training.epochs import Plan
from specnb.training.recipe import RECIPES, recipe_config
from specnb.training.schedule import learning_rate

#: The strong recipe at toy size: every lever on (cosine, masks, mixup, smoothed stopping).
RECIPE = recipe_config(
    "strong",
    model="sbcnn",
    epochs=4,
    batch_size=16,
    n_folds=2,
    patience=2,
    seed=3,
    device="cpu",
)


pytestmark = pytest.mark.usefixtures("one_thread")


def test_masks_blank_bands_of_bounded_width_with_the_mean_colour() -> None:
    images = torch.rand(64, 3, 32, 40, generator=torch.Generator().manual_seed(0))
    out = mask_bands(
        images, torch.Generator().manual_seed(1), freq_masks=1, time_masks=1, max_width=6
    )
    changed = (out != images).any(dim=1)  # (B, H, W)
    rows = changed.all(dim=2)  # a blanked row is blanked across all columns
    cols = changed.all(dim=1)
    assert rows.any() and cols.any()
    assert int(rows.sum(1).max()) <= 6 and int(cols.sum(1).max()) <= 6
    # every changed pixel lies in a blanked row or column and holds the image's mean colour
    assert bool((changed <= (rows[:, :, None] | cols[:, None, :])).all())
    mean = images.mean(dim=(2, 3))
    b, y, x = torch.nonzero(changed, as_tuple=True)
    torch.testing.assert_close(out[b, :, y, x], mean[b])
    again = mask_bands(
        images, torch.Generator().manual_seed(1), freq_masks=1, time_masks=1, max_width=6
    )
    assert torch.equal(out, again)
    other = mask_bands(
        images, torch.Generator().manual_seed(2), freq_masks=1, time_masks=1, max_width=6
    )
    assert not torch.equal(out, other)
    assert torch.equal(
        mask_bands(images, torch.Generator(), freq_masks=0, time_masks=0, max_width=6), images
    )


def test_time_shift_rolls_each_image_by_its_own_bounded_shift() -> None:
    images = torch.rand(32, 3, 4, 40, generator=torch.Generator().manual_seed(0))
    shifted = shift_time(images, torch.Generator().manual_seed(1), 0.25)
    shifts = []
    for before, after in zip(images, shifted):
        found = [s for s in range(-10, 11) if torch.equal(torch.roll(before, s, dims=2), after)]
        assert found, "an image is not a roll of its input along time"
        shifts.append(found[0])
    assert max(abs(s) for s in shifts) <= 10 and len(set(shifts)) > 5
    generator = torch.Generator().manual_seed(2)
    assert shift_time(images, generator, 0.0) is images
    assert torch.equal(generator.get_state(), torch.Generator().manual_seed(2).get_state())


def test_mixup_blends_images_and_targets_by_one_weight() -> None:
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(8, 3, 16, 16, generator=generator)
    labels = torch.arange(8)
    out, targets = mixup(images, one_hot(labels, 8), 0.4, torch.Generator().manual_seed(5))
    torch.testing.assert_close(targets.sum(1), torch.ones(8))
    lam = float(targets.max(1).values.min())
    assert 0.5 <= lam < 1.0  # the weights are lam and 1 - lam; an identity blend is unlikely
    own = targets.diagonal()
    partner = torch.where(torch.eye(8, dtype=torch.bool), -1.0, targets).argmax(1)
    expected = own[:, None, None, None] * images + (1 - own)[:, None, None, None] * images[partner]
    torch.testing.assert_close(out, expected)
    assert float(out.min()) >= 0 and float(out.max()) <= 1
    plain_images, plain_targets = augment_batch(images, labels, 8, torch.Generator())
    assert torch.equal(plain_images, images) and torch.equal(plain_targets, one_hot(labels, 8))


def test_schedule_warms_up_then_decays_by_a_cosine() -> None:
    lrs = [
        learning_rate(p / 10, peak=2.0, epochs=10, warmup_epochs=2, schedule="cosine")
        for p in range(0, 101)
    ]
    assert lrs[0] == 0.0 and lrs[10] == pytest.approx(1.0) and lrs[20] == pytest.approx(2.0)
    assert all(a < b for a, b in zip(lrs[:20], lrs[1:21]))
    assert all(a > b for a, b in zip(lrs[20:100], lrs[21:101]))
    assert lrs[60] == pytest.approx(2.0 * (0.01 + 0.99 * 0.5))
    assert lrs[100] == pytest.approx(0.02)
    assert learning_rate(7.3, peak=2.0, epochs=10, warmup_epochs=2, schedule="constant") == 2.0
    with pytest.raises(ValueError, match="schedule='step'"):
        learning_rate(1, peak=1, epochs=2, warmup_epochs=0, schedule="step")


def _run_rule(values, **rule) -> tuple[int, list[bool]]:
    state = early_stopping.initial_state()
    best = []
    for epoch, acc in enumerate(values, 1):
        best.append(
            early_stopping.update(
                state, early_stopping.monitored("dev_acc", 1.0, acc), epoch=epoch, **rule
            )
        )
        if state["stopped"]:
            return epoch, best
    return len(values), best


def test_smoothed_early_stopping_waits_while_accuracy_still_climbs() -> None:
    # A noisy climb: two dips in a row, then higher again.
    climb = [0.30, 0.42, 0.40, 0.38, 0.50, 0.47, 0.46, 0.58, 0.55, 0.54, 0.66, 0.66, 0.65]
    raw_stop, _ = _run_rule(climb, patience=2)
    smooth_stop, best = _run_rule(climb, patience=2, smoothing=0.6)
    assert raw_stop == 4  # the raw rule fires during the climb
    assert smooth_stop == len(climb)  # the smoothed one waits for it to end
    assert best[:5] == [True, True, False, False, True]
    assert _run_rule(climb, patience=2, min_epochs=6)[0] == 7
    plateau = [0.5] * 6
    assert _run_rule(plateau, patience=2, smoothing=0.6)[0] == 3
    assert _run_rule(plateau, patience=2, min_epochs=5)[0] == 5


def test_dev_accuracy_ties_are_broken_by_the_dev_loss() -> None:
    state = early_stopping.initial_state()
    monitored = early_stopping.monitored
    assert early_stopping.update(state, monitored("dev_acc", 0.9, 0.5), epoch=1, patience=3)
    assert early_stopping.update(state, monitored("dev_acc", 0.7, 0.5), epoch=2, patience=3)
    assert not early_stopping.update(state, monitored("dev_acc", 0.8, 0.5), epoch=3, patience=3)
    assert not early_stopping.update(state, monitored("dev_loss", 0.8, 0.9), epoch=4, patience=3)


def test_recipe_configs_and_their_keys() -> None:
    plain = TrainConfig(model="sbcnn", epochs=20)
    paper = recipe_config("paper", model="sbcnn", epochs=20)
    assert paper == plain and paper.key == plain.key
    assert "schedule" not in plain.protocol()  # neutral recipe fields stay out of the key
    strong = recipe_config("strong", model="sbcnn", epochs=20)
    assert (strong.warmup_epochs, strong.min_epochs) == (2, 10)
    assert {k: getattr(strong, k) for k in RECIPES["strong"]} == RECIPES["strong"]
    assert strong.key != plain.key and strong.protocol()["mixup"] == 0.2
    assert strong.key == strong.replace(channels_last=False, amp=False).key
    assert strong.key != strong.replace(mixup=0.4).key
    assert recipe_config("strong", epochs=20, min_epochs=3).min_epochs == 3
    with pytest.raises(TrainingError, match="recipe='fancy'"):
        recipe_config("fancy")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("schedule", "step"),
        ("warmup_epochs", 30),
        ("min_epochs", 31),
        ("smoothing", 1.0),
        ("mixup", -0.1),
        ("time_shift", 1.5),
        ("time_shift", float("nan")),
        ("freq_masks", -1),
        ("time_masks", 2),
        ("channels_last", 1),
    ],
)
def test_recipe_field_errors_name_the_field(field: str, value: object) -> None:
    with pytest.raises(TrainingError, match=rf"TrainConfig\.{field}"):
        TrainConfig(**{field: value})


def test_cpu_bf16_follows_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    from specnb.training import precision

    monkeypatch.delenv("SPECNB_PRECISION", raising=False)
    fast = RECIPE.replace(amp=True, channels_last=True)
    monkeypatch.setattr(precision, "cpu_bf16_supported", lambda: False)
    assert not Plan.for_config(fast).amp
    monkeypatch.setattr(precision, "cpu_bf16_supported", lambda: True)
    plan = Plan.for_config(fast)
    assert plan.amp and not plan.grad_scaling and plan.memory_format == torch.channels_last
    assert not Plan.for_config(fast.replace(amp=False)).amp


def test_uint8_images_round_trip_through_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = load_dataset("synthetic", n_per_class=2)
    clips = data.clips[:5]
    setting = make_setting("stft", sr=8000, n_fft=256)
    cache = FeatureCache(tmp_path)
    floats = dataset_images(data, clips, setting, device="cpu")
    small = dataset_images(data, clips, setting, cache=cache, device="cpu", dtype=torch.uint8)
    assert small.dtype == torch.uint8 and torch.equal(small, to_uint8(floats))
    assert float((small.float() / 255 - floats).abs().max()) <= 1 / 510 + 1e-6
    path = cache.image_path(data.cache_key, clips[0].clip_id, setting, 128)
    assert path.stat().st_size < 3 * 128 * 128 + 256
    import specnb.representations.features as features

    def no_features(*args, **kwargs):
        clips_asked = args[1]
        if clips_asked:
            raise AssertionError(f"raw features asked for {len(clips_asked)} clips")
        return []

    monkeypatch.setattr(features, "dataset_features", no_features)
    again = dataset_images(data, clips, setting, cache=cache, device="cpu", dtype=torch.uint8)
    assert torch.equal(again, small)
    monkeypatch.undo()
    path.write_bytes(path.read_bytes()[:100])  # a damaged image is a miss, recomputed
    third = dataset_images(data, clips, setting, cache=cache, device="cpu", dtype=torch.uint8)
    assert torch.equal(third, small)
    other = dataset_images(
        data, clips, setting.replace(colormap="gray"), cache=cache, device="cpu", dtype=torch.uint8
    )
    assert not torch.equal(other, small)  # the colour map is part of the image key
    with pytest.raises(ValueError, match="uint8 of shape"):
        cache.put_image(data.key, "x", setting, np.zeros((3, 8, 8), dtype=np.float32))


def _toy():
    sys.path.insert(0, str(Path(__file__).parent))
    from test_training import toy_data

    return toy_data()


@pytest.fixture(scope="module")
def recipe_run(tmp_path_factory):
    torch.set_num_threads(1)
    return train_cv(*_toy(), RECIPE, tmp_path_factory.mktemp("recipe"), progress=False)


def test_recipe_run_learns_and_differs_from_the_plain_one(recipe_run, tmp_path: Path) -> None:
    assert recipe_run.acc_mean > 1 / 3 + 0.2
    plain = RECIPE.replace(mixup=0.0, freq_masks=0, time_masks=0)
    other = train_cv(
        *_toy(), plain.replace(epochs=1, min_epochs=0, warmup_epochs=0), tmp_path, progress=False
    )
    assert other.curves[0]["train_loss"][0] != recipe_run.curves[0]["train_loss"][0]


_KILLED_RUN = """
import sys, torch
torch.set_num_threads(1)
sys.path.insert(0, {tests!r})
from test_recipe import RECIPE, _toy
from specnb.training import train_cv
train_cv(*_toy(), RECIPE, {run_dir!r}, progress=False)
"""


def test_recipe_resume_after_kill_equals_the_uninterrupted_run(recipe_run, tmp_path: Path) -> None:
    run_dir = tmp_path / "killed"
    script = _KILLED_RUN.format(tests=str(Path(__file__).parent), run_dir=str(run_dir))
    process = subprocess.Popen(
        [sys.executable, "-c", script], env={**os.environ, "OMP_NUM_THREADS": "1"}
    )
    checkpoint = epoch_checkpoint_path(run_dir, 0)
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if checkpoint.exists() and load_checkpoint(checkpoint)["epoch"] >= 2:
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    resumed = train_cv(*_toy(), RECIPE, run_dir, progress=False)
    assert resumed.resumed_from[0] >= 2  # resumed mid-schedule, masks and mixup drawn again
    assert resumed.fold_accuracies == recipe_run.fold_accuracies
    assert resumed.curves == recipe_run.curves
    assert resumed.best_epochs == recipe_run.best_epochs
    np.testing.assert_array_equal(resumed.test_predictions, recipe_run.test_predictions)
    assert math.isfinite(resumed.curves[0]["dev_loss"][-1])
