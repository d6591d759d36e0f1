"""The raw-audio package: waveform layout, the 1D model, the front end, restoration, rows."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from specnb.attack_eval import (
    bim_grid,
    cw_grid,
    deepfool_grid,
    evaluate_attack,
    fgsm_grid,
)
from specnb.data import load_synthetic
from specnb.models.registry import MODELS, WAVEFORM_MODELS, build_model, model_info
from specnb.raw_audio import (
    IMAGE_TOLERANCE,
    WAVEFORM_TRAINING,
    WaveformPipeline,
    attack_waveforms,
    from_unit,
    load_waveforms,
    restoration_curve,
    scale_inputs,
    to_unit,
    train_waveform_model,
    waveform_grid,
)
from specnb.representations import make_setting
from specnb.representations.compute import represent
from specnb.representations.images import setting_image
from specnb.store import ResultsStore
from specnb.training import TrainConfig, TrainingError, train_cv


@pytest.fixture(scope="module")
def waves() -> torch.Tensor:
    data = load_synthetic(n_per_class=1, sr_native=16000)
    return load_waveforms(data, data.clips[:3], 8000)[:, :8000]


def test_unit_layout_round_trip_and_errors() -> None:
    y = torch.tensor([[-2.0, -0.25, 0.0, 1.28, 2.0]])
    x = to_unit(y)
    assert x.shape == (1, 1, 1, 5) and float(x.min()) == 0.0 and float(x.max()) == 1.0
    torch.testing.assert_close(from_unit(x), y)
    with pytest.raises(ValueError, match=r"\[-2, 2\]"):
        to_unit(torch.tensor([[0.0, 2.5]]))
    with pytest.raises(ValueError, match="NaN"):
        to_unit(torch.tensor([[0.0, math.nan]]))
    with pytest.raises(ValueError, match=r"\(B, N\)"):
        to_unit(torch.zeros(3))
    with pytest.raises(ValueError, match=r"\(B, 1, 1, N\)"):
        from_unit(torch.zeros(2, 3, 1, 4))


def test_load_waveforms_is_fixed_length_and_checks_sr() -> None:
    data = load_synthetic(n_per_class=1, sr_native=16000)
    out = load_waveforms(data, data.clips[:2], 4000)
    assert out.shape == (2, data.n_samples(4000)) and out.dtype == torch.float32
    assert float(out.abs().max()) <= 1.0 and float(out.abs().max()) > 0
    torch.testing.assert_close(out[1], torch.from_numpy(data.load(data.clips[1], 4000)))
    with pytest.raises(ValueError, match="sr"):
        load_waveforms(data, data.clips[:1], 0)
    with pytest.raises(ValueError, match="no clips"):
        load_waveforms(data, [], 8000)


def test_load_waveforms_keeps_overshoot_and_names_a_clip_beyond_the_headroom() -> None:
    data = load_synthetic(n_per_class=1, sr_native=16000)
    clips = data.clips[:2]
    loud = data.load(clips[0], 8000) * (1.5 / np.abs(data.load(clips[0], 8000)).max())
    too_loud = loud * 2.0

    class Reader:
        def __call__(self, clip, sr):
            return {clips[0].clip_id: loud, clips[1].clip_id: too_loud}[clip.clip_id]

    data = dataclasses.replace(data, reader=Reader())
    out = load_waveforms(data, clips[:1], 8000)
    assert float(out.abs().max()) == pytest.approx(1.5)
    torch.testing.assert_close(from_unit(to_unit(out)), out, atol=3e-7, rtol=0)
    with pytest.raises(ValueError, match=f"{clips[1].clip_id!r} peaks at 3"):
        load_waveforms(data, clips, 8000)


def test_convnet1d_is_registered_apart_from_the_image_models(waves: torch.Tensor) -> None:
    assert WAVEFORM_MODELS == ("convnet1d",) and "convnet1d" not in MODELS
    assert model_info("convnet1d", 10)["input_shape"] == (1, 1, -1)
    model = build_model("convnet1d", 10, seed=0).eval()
    x = to_unit(waves).requires_grad_(True)
    logits = model(x)
    assert logits.shape == (3, 10)
    (grad,) = torch.autograd.grad(F.cross_entropy(logits, torch.tensor([0, 1, 2])), x)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0
    # Its first layer maps (y / 2 + 1) / 2 back to y.
    seen: list[torch.Tensor] = []
    model.backbone.register_forward_pre_hook(lambda _m, a: seen.append(a[0]))
    model(to_unit(waves))
    torch.testing.assert_close(seen[0][:, 0, 0], waves, atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="ConvNet1D"):
        model.backbone(torch.zeros(2, 3, 8, 8))


@pytest.mark.parametrize("attack", ["fgsm", "bim-a", "cw", "deepfool"])
def test_attacks_run_unchanged_on_waveforms(attack: str, waves: torch.Tensor) -> None:
    model = build_model("convnet1d", 4, seed=0).eval()
    x = to_unit(waves)
    labels = model(x).argmax(1).detach()
    grid = {
        "fgsm": fgsm_grid([5e-4]),
        "bim-a": bim_grid([5e-4], "a"),
        "cw": cw_grid([1], [5]),
        "deepfool": deepfool_grid([2]),
    }[attack]
    ev = evaluate_attack(model, grid, x, labels)
    assert ev.adv_images.shape == (3, 1, 1, 8000)
    assert float(ev.adv_images.min()) >= 0 and float(ev.adv_images.max()) <= 1
    if attack in ("fgsm", "bim-a"):
        step = (ev.adv_images - x).abs().max()
        assert float(step) <= grid.budgets[0] + 1e-6


@pytest.mark.parametrize(
    "fields",
    [
        {"repr": "stft", "sr": 8000, "n_fft": 256},
        {"repr": "mel", "sr": 8000, "n_fft": 512, "colormap": "magma"},
        {"repr": "mfcc", "sr": 8000, "n_mfcc": 20},
        {"repr": "mfcc", "sr": 8000, "n_mfcc": 20, "per_coefficient": True},
    ],
)
def test_front_end_equals_representation_and_image(fields: dict, waves: torch.Tensor) -> None:
    setting = make_setting(**fields)
    pipe = WaveformPipeline(setting, build_model("sbcnn", 10, seed=0)).eval()
    x = to_unit(waves)
    same = from_unit(x).numpy()
    with torch.no_grad():
        image = pipe.image(x)
    for backend in ("reference", "torch"):
        expected = setting_image(represent(same, setting, backend=backend, device="cpu"), setting)
        assert float((image - expected).abs().max()) <= IMAGE_TOLERANCE, backend
    x.requires_grad_(True)
    loss = F.cross_entropy(pipe(x), torch.tensor([1, 2, 3]))
    (grad,) = torch.autograd.grad(loss, x)
    assert torch.isfinite(grad).all() and float(grad.abs().sum()) > 0


def test_front_end_refuses_colour_maps_without_gradient() -> None:
    setting = make_setting("stft", sr=8000, n_fft=256, colormap="hsv-uniform")
    with pytest.raises(ValueError, match="colormap"):
        WaveformPipeline(setting, build_model("sbcnn", 10, seed=0))


def test_scale_inputs_in_both_domains() -> None:
    x = to_unit(torch.tensor([[0.5, -0.25, 0.9]]))
    out = from_unit(scale_inputs(x, torch.tensor([2.0]), "waveform"))
    torch.testing.assert_close(out, torch.tensor([[1.0, -0.5, 1.8]]))
    loud = from_unit(scale_inputs(x, torch.tensor([3.0]), "waveform"))
    torch.testing.assert_close(loud, torch.tensor([[1.5, -0.75, 2.0]]))
    img = torch.full((1, 3, 2, 2), 0.4)
    assert float(scale_inputs(img, torch.tensor([0.5]), "image").max()) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="domain"):
        scale_inputs(img, torch.tensor([0.5]), "pixels")


class _Loudness(nn.Module):
    """Class 1 when the waveform's RMS exceeds ``level``, else class 0."""

    def __init__(self, level: float) -> None:
        super().__init__()
        self.level = level

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rms = from_unit(x).square().mean(dim=-1).sqrt()
        return torch.stack([self.level - rms, rms - self.level], dim=1)


def test_restoration_curve_matches_the_probability_of_crossing_back() -> None:
    level = 0.1
    n = 400
    phase = torch.rand(n, 1, generator=torch.Generator().manual_seed(1)) * 6.28
    t = torch.arange(800)[None] / 800.0
    sine = torch.sin(2 * math.pi * 5 * t + phase) * math.sqrt(2)  # RMS 1
    adv = to_unit(1.1 * level * sine)  # louder than the level: class 1, true class 0
    labels = torch.zeros(n, dtype=torch.long)
    curve = restoration_curve(
        _Loudness(level), adv, labels, [0.05, 0.5], domain="waveform", n_draws=4, seed=0
    )
    assert curve.n_examples == n
    # s (1.1) < 1 restores: never for r = 0.05, with probability (1/1.1 - 0.5) / 1 for r = 0.5.
    assert curve.restored[0] == 0.0 and curve.still_fooling[0] == 1.0
    assert curve.restored[1] == pytest.approx(1 / 1.1 - 0.5, abs=0.05)
    assert curve.restored[1] + curve.still_fooling[1] == pytest.approx(1.0)
    clean = restoration_curve(
        _Loudness(level),
        to_unit(0.5 * level * sine),
        labels,
        [0.5],
        domain="waveform",
        adversarial=False,
        n_draws=2,
    )
    assert clean.n_examples == n and clean.restored == [1.0]
    with pytest.raises(ValueError, match="ranges"):
        restoration_curve(_Loudness(level), adv, labels, [1.5], domain="waveform")
    with pytest.raises(ValueError, match="n_draws"):
        restoration_curve(_Loudness(level), adv, labels, [0.1], domain="waveform", n_draws=0)


def test_attack_rows_carry_the_snr_and_the_waveform_input(tmp_path, waves) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    store.upsert_run("r1", status="done")
    model = build_model("convnet1d", 4, seed=0).eval()
    x = to_unit(waves)
    labels = model(x).argmax(1).detach()
    key, ev, snr = attack_waveforms(
        store, "r1", model, waveform_grid("fgsm"), x, labels, tmp_path, targeted=False
    )
    row = store.get_attack(key)
    assert row["status"] == "done" and row["params_json"]["input"] == "waveform"
    snrs = row["artefacts_json"]["snr_db"]
    assert len(snrs) == int(ev.fooled.sum())
    if snrs:
        assert row["snr_db_mean"] == pytest.approx(np.mean(snrs)) == pytest.approx(snr)
    with pytest.raises(ValueError, match=r"\(n, 1, 1, N\)"):
        attack_waveforms(
            store, "r1", model, waveform_grid("fgsm"), torch.rand(2, 3, 4, 4), labels[:2], tmp_path
        )


def test_waveform_run_refuses_an_image_model_and_train_cv_the_wrong_inputs(tmp_path) -> None:
    data = load_synthetic(n_per_class=2)
    store = ResultsStore(tmp_path / "r.sqlite")
    with pytest.raises(TrainingError, match="'sbcnn' is not a waveform model"):
        train_waveform_model(data, WAVEFORM_TRAINING.replace(model="sbcnn"), tmp_path, store)
    clips = data.clips[:4]
    labels = torch.tensor([clip.label for clip in clips])
    with pytest.raises(TrainingError, match=r"\(N, \*\(1, 1, -1\)\) for 'convnet1d'"):
        train_cv(torch.rand(4, 3, 128, 128), labels, clips, WAVEFORM_TRAINING, tmp_path / "a")
    with pytest.raises(TrainingError, match=r"\(N, \*\(3, 128, 128\)\) for 'sbcnn'"):
        train_cv(
            torch.rand(4, 1, 1, 800), labels, clips, TrainConfig(model="sbcnn"), tmp_path / "b"
        )
