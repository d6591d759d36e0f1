"""Listening to an attack: model image -> audio, and the black-box path back to the model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from specnb.data import load_audio, load_dataset
from specnb.listening.black_box import black_box_check, reclassify
from specnb.listening.reconstruction import PEAK, image_to_audio
from specnb.metrics import magnitude_snr_db, snr_db
from specnb.models import build_model
from specnb.representations import Setting, make_setting, represent
from specnb.representations.features import clip_image
from specnb.representations.images import normalise

pytestmark = pytest.mark.usefixtures("one_thread")

SR = 8000
STFT = make_setting("stft", sr=SR, n_fft=512, colormap="gray")
MEL = make_setting("mel", sr=SR, n_fft=512, n_mels=64, colormap="gray")
MFCC = make_setting("mfcc", sr=SR, n_fft=512, hop_length=256, n_mels=64, n_mfcc=20, colormap="gray")
#: The same MFCC rendered with each coefficient scaled by its own range.
MFCC_ROWS = MFCC.replace(per_coefficient=True)
#: An ESC-10 clip (dog bark) of the real ESC-50 copy.
ESC_CLIP = "1-100032-A-0.ogg"


@pytest.fixture(scope="module")
def synthetic_clip() -> np.ndarray:
    data = load_dataset("synthetic", n_per_class=1)
    return data.load(data.clips[0], SR)[: 2 * SR]  # siren-000


@pytest.fixture(scope="module")
def esc_clip(esc50_root: Path) -> np.ndarray:
    return load_audio(esc50_root / "audio" / ESC_CLIP, SR)


@pytest.fixture(scope="module")
def model() -> torch.nn.Module:
    return build_model("sbcnn", 10, seed=0).eval()


def _image(y: np.ndarray, setting: Setting) -> torch.Tensor:
    return clip_image(y, setting, device="cpu")


def _pattern(seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.sign(torch.rand(3, 128, 128, generator=g) - 0.5)


def _cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a * b).sum() / (a.norm() * b.norm()))


# -- clean round trips ------------------------------------------------------------------------


@pytest.mark.parametrize("colormap", ["gray", "viridis"])
@pytest.mark.parametrize("clip", ["synthetic_clip", "esc_clip"])
def test_clean_stft_round_trip_with_stored_phase(
    clip: str, colormap: str, request: pytest.FixtureRequest
) -> None:
    y = request.getfixturevalue(clip)
    setting = STFT.replace(colormap=colormap)
    image = _image(y, setting)
    exact = image_to_audio(image, setting, reference_audio=y)
    blurred = image_to_audio(image, setting, reference_audio=y, magnitude="image")
    assert exact.dtype == np.float32 and exact.shape == y.shape == blurred.shape
    # Measured on 17 clips: difference >= 61 dB; the image alone 7.4 to 18 dB (128 rows
    # stand for 257 bins).
    assert snr_db(y, exact) > 50
    assert 5 < snr_db(y, blurred) < snr_db(y, exact)
    other = _image(np.roll(y, len(y) // 3), setting)
    mae_other = float((other - image).abs().mean())
    assert float((_image(exact, setting) - image).abs().mean()) < 0.005
    assert float((_image(blurred, setting) - image).abs().mean()) < 0.5 * mae_other


@pytest.mark.parametrize(("setting", "least"), [(MEL, 5.0), (MFCC, 1.5), (MFCC_ROWS, 1.5)])
def test_clean_mel_and_mfcc_round_trips(
    esc_clip: np.ndarray, setting: Setting, least: float
) -> None:
    image = _image(esc_clip, setting)
    exact = image_to_audio(image, setting, reference_audio=esc_clip)
    from_image = image_to_audio(image, setting, reference_audio=esc_clip, magnitude="image")
    assert snr_db(esc_clip, exact) > 50
    # Measured minima over 17 clips: Mel 7.6 dB, MFCC (20 of 64 coefficients) 2.8 dB; this
    # clip's MFCC 5.5 dB, per coefficient 4.7 dB (Intel Xeon, Sapphire Rapids).
    assert least < snr_db(esc_clip, from_image) < snr_db(esc_clip, exact)


def test_griffinlim_matches_magnitude_but_not_waveform(synthetic_clip: np.ndarray) -> None:
    y = synthetic_clip
    image = _image(y, STFT)
    stored = image_to_audio(image, STFT, reference_audio=y, magnitude="image")
    gl = image_to_audio(image, STFT, reference_audio=y, magnitude="image", phase="griffinlim")
    again = image_to_audio(image, STFT, reference_audio=y, magnitude="image", phase="griffinlim")
    np.testing.assert_array_equal(gl, again)
    assert snr_db(y, gl) < 0 < snr_db(y, stored)
    # Measured over 17 clips: 3.0 to 6 dB on magnitudes (stored phase: 7.6 and more).
    assert 2 < magnitude_snr_db(y, gl) < magnitude_snr_db(y, stored)
    fewer = image_to_audio(
        image, STFT, reference_audio=y, magnitude="image", phase="griffinlim", n_iter=2
    )
    assert magnitude_snr_db(y, fewer) < magnitude_snr_db(y, gl)


def test_without_reference_audio(synthetic_clip: np.ndarray) -> None:
    y = synthetic_clip
    image = _image(y, STFT)
    audio = image_to_audio(image, STFT, length=len(y))
    assert audio.shape == y.shape
    assert float(np.abs(audio).max()) == pytest.approx(PEAK, rel=1e-5)
    assert float((_image(audio, STFT) - image).abs().mean()) < 0.1
    mfcc_image = _image(y, MFCC)
    value_range = normalise(represent(y, MFCC, device="cpu"))[1]
    mfcc_audio = image_to_audio(mfcc_image, MFCC, value_range=value_range, length=len(y))
    assert float((_image(mfcc_audio, MFCC) - mfcc_image).abs().mean()) < 0.1
    rows_image = _image(y, MFCC_ROWS)
    row_ranges = normalise(represent(y, MFCC, device="cpu"), per_row=True)[1]
    rows_audio = image_to_audio(rows_image, MFCC_ROWS, value_range=row_ranges, length=len(y))
    assert float((_image(rows_audio, MFCC_ROWS) - rows_image).abs().mean()) < 0.1
    with_numpy = image_to_audio(image.numpy(), STFT, length=len(y))
    np.testing.assert_array_equal(with_numpy, audio)


# -- perturbed images -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clip", "setting"),
    [
        ("synthetic_clip", STFT),
        ("synthetic_clip", MEL),
        ("synthetic_clip", MFCC),
        ("synthetic_clip", MFCC_ROWS),
        ("esc_clip", STFT),
    ],
    ids=["synthetic-stft", "synthetic-mel", "synthetic-mfcc", "synthetic-mfcc-rows", "esc-stft"],
)
def test_snr_falls_as_the_perturbation_grows(
    clip: str, setting: Setting, request: pytest.FixtureRequest
) -> None:
    y = request.getfixturevalue(clip)
    image = _image(y, setting)
    pattern = _pattern()
    snrs = [
        snr_db(y, image_to_audio((image + eps * pattern).clamp(0, 1), setting, reference_audio=y))
        for eps in (0.0, 0.01, 0.03, 0.1)
    ]
    assert all(a > b for a, b in zip(snrs, snrs[1:])), snrs


@pytest.mark.parametrize(
    "setting", [STFT, MEL, MFCC.replace(dct_norm="none", lifter=10.0)], ids=lambda s: s.kind
)
def test_extreme_images_give_finite_audio(synthetic_clip: np.ndarray, setting: Setting) -> None:
    y = synthetic_clip
    image = _image(y, setting)
    for extreme in (1 - image, torch.ones_like(image), torch.zeros_like(image)):
        for magnitude in ("difference", "image"):
            audio = image_to_audio(extreme, setting, reference_audio=y, magnitude=magnitude)
            assert np.isfinite(audio).all()


def test_refined_phase_keeps_more_of_the_perturbation(esc_clip: np.ndarray) -> None:
    image = _image(esc_clip, STFT)
    adv = (image + 0.1 * _pattern()).clamp(0, 1)
    survived = {}
    for phase in ("stored", "refined"):
        audio = image_to_audio(adv, STFT, reference_audio=esc_clip, phase=phase, n_iter=8)
        assert snr_db(esc_clip, audio) > 0
        survived[phase] = _cosine(_image(audio, STFT) - image, adv - image)
    # Measured: 0.15 with the stored phase, 0.72 after 8 Griffin-Lim rounds.
    assert survived["refined"] > survived["stored"] + 0.3


# -- bad input --------------------------------------------------------------------------------


def test_errors_name_the_parameter(synthetic_clip: np.ndarray) -> None:
    y = synthetic_clip
    image = _image(y, STFT)
    with pytest.raises(ValueError, match="setting"):
        image_to_audio(image, make_setting("wavelet"), reference_audio=y)
    with pytest.raises(TypeError, match="setting"):
        image_to_audio(image, "stft", reference_audio=y)  # type: ignore[arg-type]
    for bad in (image[0], image[None], image[:, :, :64], torch.zeros(4, 128, 128)):
        with pytest.raises(ValueError, match="image"):
            image_to_audio(bad, STFT, reference_audio=y)
    nan_image = image.clone()
    nan_image[0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="image"):
        image_to_audio(nan_image, STFT, reference_audio=y)
    with pytest.raises(ValueError, match="image"):
        image_to_audio(image * 3, STFT, reference_audio=y)
    with pytest.raises(ValueError, match="reference_audio"):
        image_to_audio(image, STFT, reference_audio=np.full(100, np.nan, dtype=np.float32))
    with pytest.raises(ValueError, match="length"):
        image_to_audio(image, STFT)
    with pytest.raises(ValueError, match="length"):
        image_to_audio(image, STFT, reference_audio=y, length=len(y) + 1)
    with pytest.raises(ValueError, match="reference_audio"):
        image_to_audio(image, STFT, length=len(y), magnitude="difference")
    with pytest.raises(ValueError, match="reference_audio"):
        image_to_audio(image, STFT, length=len(y), phase="stored")
    with pytest.raises(ValueError, match="phase"):
        image_to_audio(image, STFT, reference_audio=y, phase="zero")
    with pytest.raises(ValueError, match="magnitude"):
        image_to_audio(image, STFT, reference_audio=y, magnitude="raw")
    with pytest.raises(ValueError, match="n_iter"):
        image_to_audio(image, STFT, reference_audio=y, phase="griffinlim", n_iter=0)
    with pytest.raises(ValueError, match="value_range"):
        image_to_audio(image, STFT, reference_audio=y, value_range=(0.0, -80.0))
    with pytest.raises(ValueError, match="value_range"):
        image_to_audio(_image(y, MFCC), MFCC, length=len(y))
    per_image = normalise(represent(y, MFCC, device="cpu"))[1]
    with pytest.raises(ValueError, match=r"value_range must have shape \(20, 2\)"):
        image_to_audio(_image(y, MFCC_ROWS), MFCC_ROWS, value_range=per_image, length=len(y))


# -- the black-box path -----------------------------------------------------------------------


def test_reclassify_agrees_with_the_model_on_clip_image(
    synthetic_clip: np.ndarray, model: torch.nn.Module
) -> None:
    y = synthetic_clip
    setting = STFT.replace(colormap="viridis")
    with torch.no_grad():
        logits = model(_image(y, setting)[None])[0]
    model.train()
    pred, probs = reclassify(y, setting, model)
    assert model.training
    model.eval()
    assert pred == int(logits.argmax())
    np.testing.assert_allclose(probs, torch.softmax(logits, -1).numpy(), atol=1e-5)
    louder = np.clip(y * 1.5, -1, 1)
    preds, batch_probs = reclassify(np.stack([y, louder]), setting, model)
    assert preds.shape == (2,) and batch_probs.shape == (2, 10)
    assert int(preds[0]) == pred
    np.testing.assert_allclose(batch_probs[0], probs, atol=1e-5)
    with pytest.raises(ValueError, match="audio"):
        reclassify(np.zeros(0, dtype=np.float32), setting, model)


def test_black_box_check(synthetic_clip: np.ndarray, model: torch.nn.Module) -> None:
    y = synthetic_clip
    image = _image(y, STFT)
    pred_clean, _ = reclassify(y, STFT, model)
    clean = black_box_check(y, image, STFT, model, label=pred_clean)
    assert clean["pred_clean"] == clean["pred_image"] == clean["pred_audio"] == pred_clean
    assert not clean["image_fools"] and not clean["audio_fools"]
    assert clean["snr_db"] > 50 and clean["magnitude_snr_db"] > 50
    other = (pred_clean + 1) % 10
    targeted = black_box_check(y, image, STFT, model, label=other, target=pred_clean)
    assert targeted["image_fools"] and targeted["audio_fools"] and targeted["target"] == pred_clean

    adv = (image + 0.05 * _pattern()).clamp(0, 1)
    audio = image_to_audio(adv, STFT, reference_audio=y)
    check = black_box_check(y, adv, STFT, model, label=pred_clean)
    assert check == black_box_check(y, adv, STFT, model, label=pred_clean, reconstructed=audio)
    assert check["snr_db"] == pytest.approx(snr_db(y, audio))
    assert check["pred_audio"] == reclassify(audio, STFT, model)[0]
    assert check["audio_fools"] == (check["pred_audio"] != pred_clean)

    with pytest.raises(ValueError, match="label"):
        black_box_check(y, image, STFT, model, label=10)
    with pytest.raises(ValueError, match="target"):
        black_box_check(y, image, STFT, model, label=1, target=1)
    with pytest.raises(ValueError, match="adv_image"):
        black_box_check(y, image[:, :64], STFT, model, label=1)
    with pytest.raises(ValueError, match="reconstructed"):
        black_box_check(y, image, STFT, model, label=1, reconstructed=audio[:-1])


def test_magnitude_snr_db() -> None:
    y = np.random.default_rng(0).standard_normal(4000).astype(np.float32)
    noise = np.random.default_rng(1).standard_normal(4000).astype(np.float32)
    assert magnitude_snr_db(y, y.copy()) == np.inf
    values = [magnitude_snr_db(y, y + a * noise) for a in (0.01, 0.1, 1.0)]
    assert values[0] > values[1] > values[2]
    assert values[0] == pytest.approx(40, abs=3)
    with pytest.raises(ValueError, match="perturbed"):
        magnitude_snr_db(y, y[:-1])
