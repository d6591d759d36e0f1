"""MFCC images scaled per coefficient (``per_coefficient``): the rendering, the unchanged default
(keys, images), the inverse with one range per row and the image cache keeping both apart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import specnb.representations.features as features
from specnb.data import load_audio, load_dataset
from specnb.representations import (
    SettingError,
    make_setting,
    parse_assignments,
    represent,
    setting_from_dict,
)
from specnb.representations import inverse as inv
from specnb.representations.cache import FeatureCache
from specnb.representations.features import dataset_features, dataset_images, to_uint8
from specnb.representations.images import (
    image_to_raw,
    normalise,
    scales_per_row,
    setting_image,
    to_image,
)

PAPER = make_setting("mfcc", n_mfcc=40)
ROWS = PAPER.replace(per_coefficient=True)
#: ESC-10 clips of the real ESC-50 copy: a dog bark, and rain (busy from its first frame).
ESC_CLIP = "1-100032-A-0.ogg"
RAIN_CLIP = "1-17367-A-10.ogg"


@pytest.fixture(scope="module")
def real_mfcc(esc50_root: Path) -> np.ndarray:
    y = load_audio(esc50_root / "audio" / ESC_CLIP, PAPER.sr)
    return represent(y, PAPER, device="cpu")


def test_each_coefficient_of_a_real_mfcc_spans_the_unit_range(real_mfcc: np.ndarray) -> None:
    scaled, value_range = normalise(real_mfcc, per_row=True)
    assert scaled.shape == real_mfcc.shape == (40, 1 + 5 * PAPER.sr // PAPER.hop_length)
    # (raw - min) / (max - min) is exactly 0 at the minimum and exactly 1 at the maximum.
    assert scaled.amin(dim=-1).tolist() == [0.0] * 40
    assert scaled.amax(dim=-1).tolist() == [1.0] * 40
    assert value_range.shape == (40, 2)
    np.testing.assert_array_equal(value_range[:, 0].numpy(), real_mfcc.min(axis=1))
    np.testing.assert_array_equal(value_range[:, 1].numpy(), real_mfcc.max(axis=1))
    # One range for the matrix: the 0th coefficient sets it and rows 1..39 share a sliver.
    whole, _ = normalise(real_mfcc)
    span = whole.amax(dim=-1) - whole.amin(dim=-1)
    assert float(span[1:].mean()) < 0.5
    batch, batch_range = normalise(np.stack([real_mfcc, real_mfcc[::-1].copy()]), per_row=True)
    assert batch_range.shape == (2, 40, 2)
    torch.testing.assert_close(batch[0], scaled, rtol=0, atol=0)


def test_the_default_keeps_its_key_and_its_image(real_mfcc: np.ndarray) -> None:
    # The keys computed before the field existed (stored runs, the demo model depend on them).
    assert make_setting("mfcc").key == "f48bbeca3bd83110"
    assert make_setting("mfcc", colormap="gray").key == "65b7f844eb113add"
    assert make_setting("mfcc", sr=8000, n_mfcc=40, lifter=20.0).key == "6222e8bb4461a56b"
    assert make_setting("mfcc", per_coefficient=False).key == "f48bbeca3bd83110"
    assert "per_coefficient" not in make_setting("mfcc").to_dict()
    rows = make_setting("mfcc", per_coefficient=True)
    assert rows.key != "f48bbeca3bd83110" and rows.to_dict()["per_coefficient"] is True
    # Image only: one cached raw MFCC serves both renderings.
    assert rows.feature_key == make_setting("mfcc").feature_key == "2f71001c9b6f5f0b"
    assert rows.label() == "mfcc(sr=22050, n_mfcc=20, per_coefficient=True)"
    assert make_setting("mfcc").label() == "mfcc(sr=22050, n_mfcc=20)"
    old = make_setting("mfcc").to_dict()
    assert setting_from_dict(old) == make_setting("mfcc")
    assert setting_from_dict({**old, "per_coefficient": False}) == make_setting("mfcc")
    assert setting_from_dict(rows.to_dict()) == rows
    assert not scales_per_row(PAPER) and not scales_per_row(make_setting("stft"))
    assert scales_per_row(ROWS)
    paper = setting_image(real_mfcc, PAPER)
    torch.testing.assert_close(paper, to_image(real_mfcc, PAPER.colormap), rtol=0, atol=0)
    per_row = setting_image(real_mfcc, ROWS)
    torch.testing.assert_close(
        per_row, to_image(real_mfcc, "viridis", per_row=True), rtol=0, atol=0
    )
    assert float((per_row - paper).abs().mean()) > 0.05
    gray = setting_image(real_mfcc, ROWS, 64, colormap="gray")
    torch.testing.assert_close(gray, to_image(real_mfcc, "gray", 64, per_row=True))


def test_the_field_is_checked() -> None:
    with pytest.raises(SettingError, match="mfcc.per_coefficient must be True or False"):
        make_setting("mfcc", per_coefficient=1)
    with pytest.raises(SettingError, match="per_coefficient"):
        make_setting("mfcc", per_coefficient="yes")
    with pytest.raises(SettingError, match="stft has no setting 'per_coefficient'"):
        make_setting("stft", per_coefficient=True)
    assert parse_assignments("mfcc", ["per_coefficient=true"]).per_coefficient is True
    assert parse_assignments("mfcc", ["per_coefficient=False"]) == make_setting("mfcc")
    with pytest.raises(SettingError, match="per_coefficient expects true or false"):
        parse_assignments("mfcc", ["per_coefficient=1"])


def test_per_row_images_are_differentiable_and_constant_rows_become_zero() -> None:
    rng = np.random.default_rng(0)
    raw = torch.from_numpy(rng.normal(size=(2, 20, 30)).astype(np.float32))
    raw[:, 3] = -500.0  # a constant row
    raw.requires_grad_(True)
    scaled, value_range = normalise(raw, per_row=True)
    assert value_range.shape == (2, 20, 2)
    assert float(scaled.detach()[:, 3].abs().max()) == 0.0
    image = to_image(raw, "viridis", size=16, per_row=True)
    (image * torch.linspace(0, 1, 16)).sum().backward()
    assert raw.grad is not None and torch.isfinite(raw.grad).all()
    assert float(raw.grad.abs().sum()) > 0
    assert float(raw.grad[:, 3].abs().max()) == 0.0  # no contrast, no gradient


@pytest.mark.parametrize("colormap", ["gray", "viridis"])
def test_round_trip_with_one_range_per_row(esc50_root: Path, colormap: str) -> None:
    # 64 coefficients of 64 frames: an image of the representation's own size, so that no
    # resize stands between them and only the colour inversion can lose anything.
    setting = make_setting(
        "mfcc", sr=8000, n_fft=512, hop_length=256, n_mels=64, n_mfcc=64, colormap=colormap
    )
    rows = setting.replace(per_coefficient=True)
    y = load_audio(esc50_root / "audio" / RAIN_CLIP, 8000)[: 63 * 256]
    raw = represent(y, setting, device="cpu")
    assert raw.shape == (64, 64)
    _, value_range = normalise(raw, per_row=True)
    back = inv.from_image(setting_image(raw, rows, 64), rows, len(y), value_range)
    span = raw.max(axis=1, keepdims=True) - raw.min(axis=1, keepdims=True)
    # Gray is read back exactly up to float32 scaling; a colour map's curve through 256 LUT
    # entries (as in the per-image round trips) within 1e-3 of each row's own span. Measured
    # on an Intel Xeon (Sapphire Rapids): 7.6e-6 for both, 2e-7 of the smallest row span.
    assert np.all(np.abs(back - raw) < (1e-3 if colormap == "gray" else 1e-3 * span))
    # The per-image range cannot stand for per-row images: the error names the shape wanted.
    with pytest.raises(ValueError, match=r"value_range must have shape \(64, 2\)"):
        inv.from_image(setting_image(raw, rows, 64), rows, len(y), normalise(raw)[1])


def test_image_to_raw_with_batched_row_ranges_is_checked() -> None:
    raw = np.random.default_rng(1).uniform(-80, 0, (2, 30, 30)).astype(np.float32)
    raw[1] *= np.linspace(0.1, 1.0, 30, dtype=np.float32)[:, None]
    _, value_range = normalise(raw, per_row=True)
    image = to_image(raw, "magma", size=30, per_row=True)
    back = image_to_raw(image, "magma", value_range, (30, 30), per_row=True)
    assert back.shape == (2, 30, 30)
    np.testing.assert_allclose(back, raw, atol=1e-3 * 80)
    with pytest.raises(ValueError, match=r"value_range must have shape \(30, 2\) or \(B, 30, 2"):
        image_to_raw(image, "magma", value_range[:, :20], (30, 30), per_row=True)
    with pytest.raises(ValueError, match="value_range holds 3 ranges for 2 images"):
        image_to_raw(image, "magma", torch.zeros(3, 30, 2), (30, 30), per_row=True)
    flipped = value_range.flip(-1)
    with pytest.raises(ValueError, match="min <= max"):
        image_to_raw(image, "magma", flipped, (30, 30), per_row=True)


def test_the_image_cache_keeps_both_renderings_apart(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    computed: list[int] = []

    def counting(y, setting, **kwargs):
        computed.append(len(y))
        return represent(y, setting, **kwargs)

    monkeypatch.setattr(features, "represent", counting)
    data = load_dataset("synthetic")
    clips = data.clips[:3]
    paper = make_setting("mfcc", sr=8000, n_mfcc=13, n_fft=512, n_mels=40)
    rows = paper.replace(per_coefficient=True)
    cache = FeatureCache(tmp_path)
    first = dataset_images(data, clips, paper, cache=cache, dtype=torch.uint8)
    second = dataset_images(data, clips, rows, cache=cache, dtype=torch.uint8)
    assert sum(computed) == 3  # one raw MFCC per clip serves both renderings
    raw = dataset_features(data, clips, paper, cache=cache)
    torch.testing.assert_close(second, to_uint8(setting_image(raw, rows)), rtol=0, atol=0)
    torch.testing.assert_close(first, to_uint8(setting_image(raw, paper)), rtol=0, atol=0)
    assert not torch.equal(first, second)
    again = dataset_images(data, clips, rows, cache=cache, dtype=torch.uint8)
    torch.testing.assert_close(again, second, rtol=0, atol=0)
    folders = sorted(p.name for p in (tmp_path / data.cache_key).iterdir())
    assert f"images-{paper.key}-128" in folders and f"images-{rows.key}-128" in folders
