"""Training precision: forced by the environment, set, or measured once per machine and cached;
recorded with the run; reproducible per resolved precision."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from specnb.data.clips import Clip
from specnb.devices import PRECISION_VARIABLE, forced_precision
from specnb.errors import ParameterError
from specnb.training import TrainConfig, TrainingError, load_result, precision, train_cv
from specnb.training.epochs import Plan

CONFIG = TrainConfig(
    model="sbcnn", epochs=2, batch_size=16, n_folds=2, patience=5, seed=5, device="cpu"
)
CPU = torch.device("cpu")


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test measures into a cache of its own, with no precision forced from outside."""
    monkeypatch.setenv(precision.CACHE_VARIABLE, str(tmp_path / "cache"))
    monkeypatch.delenv(PRECISION_VARIABLE, raising=False)
    return tmp_path / "cache"


@pytest.fixture
def timings(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """A CPU with native bf16 on which bf16 steps take 1 s and fp32 steps 2 s; the calls to
    the measurement are listed."""
    calls: list[tuple[str, int]] = []

    def measure(model_name: str, batch_size: int, **_: object) -> dict[str, float]:
        calls.append((model_name, batch_size))
        return {"fp32": 2.0, "bf16": 1.0}

    monkeypatch.setattr(precision, "cpu_bf16_supported", lambda: True)
    monkeypatch.setattr(precision, "measure_precision", measure)
    return calls


def toy_data() -> tuple[torch.Tensor, torch.Tensor, list[Clip]]:
    """2 classes x 6 sources x 2 fragments: 24 images, a bright band per class."""
    generator = torch.Generator().manual_seed(0)
    clips, images = [], []
    for label in range(2):
        for source in range(6):
            for fragment in range(2):
                name = f"c{label}-s{source}"
                clips.append(Clip(f"{name}-{fragment}", label, 1, name))
                image = torch.rand(3, 128, 128, generator=generator) * 0.5
                image[label, 50 * label : 50 * label + 30] += 0.5
                images.append(image)
    return torch.stack(images), torch.tensor([c.label for c in clips]), clips


def test_auto_is_measured_once_then_read_from_the_cache(timings, own_cache: Path) -> None:
    plan = Plan.for_config(CONFIG)
    assert (plan.amp, plan.channels_last, plan.precision_source) == (True, True, "measured")
    assert plan.precision == "bf16+channels-last"
    again = Plan.for_config(CONFIG)
    assert (again.amp, again.precision_source) == (True, "cached")
    assert timings == [("sbcnn", 16)]
    # another batch size is another measurement
    Plan.for_config(CONFIG.replace(batch_size=8))
    assert timings == [("sbcnn", 16), ("sbcnn", 8)]
    cached = json.loads((own_cache / precision.CACHE_FILE).read_text())
    (machine,) = cached
    assert machine == precision.machine_key() and f"torch {torch.__version__}" in machine
    entry = cached[machine][f"cpu/sbcnn/batch 16/threads {torch.get_num_threads()}"]
    assert entry["precision"] == "bf16" and entry["seconds_per_step"] == {"fp32": 2.0, "bf16": 1.0}


def test_the_cache_is_keyed_by_torch_version(timings, monkeypatch: pytest.MonkeyPatch) -> None:
    Plan.for_config(CONFIG)
    monkeypatch.setattr(torch, "__version__", "0.0.1-other")
    assert Plan.for_config(CONFIG).precision_source == "measured"
    assert len(timings) == 2


def test_the_faster_measured_precision_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(precision, "cpu_bf16_supported", lambda: True)
    monkeypatch.setattr(precision, "measure_precision", lambda *a, **k: {"fp32": 1, "bf16": 3})
    plan = Plan.for_config(CONFIG)
    assert (plan.amp, plan.channels_last, plan.precision) == (False, False, "fp32")


def test_a_near_tie_goes_to_fp32(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(precision, "cpu_bf16_supported", lambda: True)
    monkeypatch.setattr(precision, "measure_precision", lambda *a, **k: {"fp32": 1, "bf16": 0.97})
    assert Plan.for_config(CONFIG).precision == "fp32"


def test_set_fields_are_honoured_and_not_measured(timings) -> None:
    plan = Plan.for_config(CONFIG.replace(amp=False, channels_last=True))
    assert (plan.amp, plan.channels_last, plan.precision_source) == (False, True, "set")
    # a field left at auto follows the measurement, the set one is kept
    plan = Plan.for_config(CONFIG.replace(amp=False))
    assert (plan.amp, plan.channels_last) == (False, True)
    assert timings == [("sbcnn", 16)]


def test_a_cpu_without_native_bf16_trains_in_fp32(timings, monkeypatch) -> None:
    monkeypatch.setattr(precision, "cpu_bf16_supported", lambda: False)
    plan = Plan.for_config(CONFIG)
    assert (plan.amp, plan.channels_last) == (False, False)
    assert plan.precision_source == "CPU without native bf16"
    assert not Plan.for_config(CONFIG.replace(amp=True)).amp  # would be emulated: ignored
    assert timings == []


@pytest.mark.parametrize("forced", ["fp32", "bf16"])
def test_a_forced_precision_overrides_settings_and_cpu(forced, timings, monkeypatch) -> None:
    monkeypatch.setenv(PRECISION_VARIABLE, forced)
    monkeypatch.setattr(precision, "cpu_bf16_supported", lambda: False)
    fast = forced == "bf16"
    for config in (CONFIG, CONFIG.replace(amp=not fast, channels_last=not fast)):
        plan = Plan.for_config(config)
        assert (plan.amp, plan.channels_last) == (fast, fast)
        assert plan.precision_source == f"forced by ${PRECISION_VARIABLE}"
    assert timings == []


@pytest.mark.parametrize("value", ["fp16", "BF16", "1"])
def test_bad_environment_values_are_named(value, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PRECISION_VARIABLE, value)
    with pytest.raises(ParameterError, match=rf"\$SPECNB_PRECISION='{value}'.*'fp32', 'bf16'"):
        forced_precision()
    with pytest.raises(ParameterError, match="SPECNB_PRECISION"):
        Plan.for_config(CONFIG)


@pytest.mark.parametrize("value", ["", "auto", " auto "])
def test_auto_or_empty_environment_forces_nothing(value, monkeypatch) -> None:
    monkeypatch.setenv(PRECISION_VARIABLE, value)
    assert forced_precision() is None


@pytest.mark.parametrize("field", ["amp", "channels_last"])
def test_bad_field_values_are_named(field: str) -> None:
    with pytest.raises(TrainingError, match=rf"TrainConfig\.{field} must be True, False or 'auto'"):
        TrainConfig(**{field: "fast"})


def test_measurement_times_both_precisions() -> None:
    torch.manual_seed(123)
    state = torch.get_rng_state()
    seconds = precision.measure_precision("sbcnn", 4, steps=1)
    assert set(seconds) == {"fp32", "bf16"}
    assert all(0 < s < 60 for s in seconds.values())
    assert torch.equal(torch.get_rng_state(), state)  # the caller's random stream is untouched


@pytest.mark.parametrize("forced", ["fp32", "bf16"])
def test_resolved_precision_is_recorded_and_reproducible(
    forced: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, one_thread
) -> None:
    monkeypatch.setenv(PRECISION_VARIABLE, forced)
    data = toy_data()
    first = train_cv(*data, CONFIG, tmp_path / "a", progress=False)
    second = train_cv(*data, CONFIG, tmp_path / "b", progress=False)
    fast = forced == "bf16"
    for result in (first, second, load_result(tmp_path / "a")):
        assert (result.config.amp, result.config.channels_last) == (fast, fast)
        assert result.config.key == CONFIG.key  # execution fields stay out of the key
    assert first.run_fields()["artefacts_json"]["precision"] == {"amp": fast, "channels_last": fast}
    assert first.fold_accuracies == second.fold_accuracies
    assert first.curves == second.curves
    np.testing.assert_array_equal(first.test_predictions, second.test_predictions)
