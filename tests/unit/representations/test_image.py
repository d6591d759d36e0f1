"""Raw representation -> model image: shapes, ranges, orientation, colour maps, inversion."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
import torch

from specnb.representations.images import colormap_lut, equalise, image_to_raw, normalise, to_image
from specnb.representations.settings import COLORMAPS

ALL_COLORMAPS = list(COLORMAPS)


def _skewed(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """dB-like values with a heavy floor, as real spectrograms have."""
    rng = np.random.default_rng(seed)
    return np.maximum(-80.0, 20 * np.log10(rng.exponential(size=shape) + 1e-6)).astype(np.float32)


@pytest.mark.parametrize("name", ALL_COLORMAPS)
def test_every_colormap_gives_rgb_images_in_unit_range(name: str) -> None:
    raw = _skewed((2, 40, 30))
    batch = to_image(raw, name, size=32)
    assert batch.shape == (2, 3, 32, 32) and batch.dtype == torch.float32
    assert float(batch.min()) >= 0.0 and float(batch.max()) <= 1.0
    single = to_image(raw[1], name, size=32)
    assert single.shape == (3, 32, 32)
    torch.testing.assert_close(single, batch[1])
    lut = colormap_lut(name)
    assert lut.shape == (256, 3) and float(lut.min()) >= 0.0 and float(lut.max()) <= 1.0


def test_numpy_and_torch_inputs_agree_and_default_size_is_128() -> None:
    raw = _skewed((20, 50))
    image = to_image(raw)
    assert image.shape == (3, 128, 128)
    torch.testing.assert_close(image, to_image(torch.from_numpy(raw)))


def test_highest_frequency_is_image_row_zero() -> None:
    raw = np.zeros((16, 10), dtype=np.float32)
    raw[-1] = 1.0
    image = to_image(raw, "gray", size=16)
    assert torch.all(image[:, 0] == 1.0)
    assert torch.all(image[:, -1] == 0.0)
    assert int(image[0].mean(dim=1).argmax()) == 0


@pytest.mark.parametrize("name", ["viridis", "magma", "gray", "coolwarm", "twilight"])
def test_lut_matches_matplotlib_at_entries_and_between(name: str) -> None:
    cmap = matplotlib.colormaps[name]
    entries = np.array([0, 1, 77, 128, 254, 255])
    values = entries / 255.0
    raw = np.concatenate([values, [0.1234, 0.5, 0.9001]]).reshape(3, 3).astype(np.float64)
    image = to_image(raw, name, size=3).flip(-2)  # back to lowest frequency first
    got = image.permute(1, 2, 0).reshape(-1, 3).numpy()
    want = cmap(raw.reshape(-1))[:, :3]
    np.testing.assert_allclose(got[:6], want[:6], atol=1e-6)
    step = np.abs(np.diff(cmap(np.linspace(0, 1, 256))[:, :3], axis=0)).max()
    np.testing.assert_allclose(got[6:], want[6:], atol=step + 1e-6)


@pytest.mark.parametrize("name", ["tab10", "Set1", "Paired"])
def test_qualitative_maps_use_the_category_colours(name: str) -> None:
    cmap = matplotlib.colormaps[name]
    centres = (np.arange(cmap.N) + 0.5) / cmap.N
    raw = np.concatenate([[0.0, 1.0], centres])[None, :]
    lut = colormap_lut(name).numpy()
    idx = np.round(centres * 255).astype(int)
    np.testing.assert_allclose(lut[idx], cmap(centres)[:, :3], atol=1e-6)
    rendered = to_image(raw, name, size=raw.shape[1])
    row = rendered[:, 0, :].T.numpy()  # one raw row stretched: every image row is the same
    np.testing.assert_allclose(row[2:], cmap(centres)[:, :3], atol=1e-6)


def test_unknown_colormap_is_rejected_by_name() -> None:
    with pytest.raises(ValueError, match="colormap='jet-ish'"):
        colormap_lut("jet-ish")
    with pytest.raises(ValueError, match="colormap"):
        to_image(np.zeros((4, 4)), "nope")
    with pytest.raises(ValueError, match="colormap"):
        image_to_raw(torch.zeros(3, 4, 4), "nope", (0.0, 1.0), (4, 4))


def test_constant_input_becomes_zeros_and_the_lowest_colour() -> None:
    raw = np.full((2, 8, 8), -37.5, dtype=np.float32)
    scaled, value_range = normalise(raw)
    assert torch.all(scaled == 0)
    assert value_range.tolist() == [[-37.5, -37.5]] * 2
    for name in ("viridis", "hsv-uniform", "tab10"):
        image = to_image(raw, name, size=8)
        lowest = colormap_lut(name)[0].reshape(1, 3, 1, 1)
        torch.testing.assert_close(image, lowest.expand_as(image))


def test_normalise_range_and_inverse() -> None:
    raw = _skewed((3, 12, 9))
    scaled, value_range = normalise(raw)
    assert scaled.amin(dim=(-2, -1)).tolist() == [0.0] * 3
    assert scaled.amax(dim=(-2, -1)).tolist() == [1.0] * 3
    lo, hi = value_range[:, :1, None], value_range[:, 1:, None]
    np.testing.assert_allclose((lo + scaled * (hi - lo)).numpy(), raw, atol=1e-4)


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.array([[0.0, np.nan]]), "NaN"),
        (np.zeros((0, 4)), "non-empty"),
        (np.zeros(5), r"\(F, T\)"),
    ],
)
def test_bad_raw_input_is_refused(bad: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        to_image(bad)


def test_bad_size_is_refused() -> None:
    with pytest.raises(ValueError, match="size"):
        to_image(np.zeros((4, 4)), size=0)


def test_hsv_uniform_spreads_hues_evenly_with_full_saturation() -> None:
    raw = _skewed((64, 64), seed=3)
    eq = equalise(normalise(raw)[0])
    counts, _ = np.histogram(eq.numpy(), bins=8, range=(0, 1))
    assert counts.min() > 0.8 * counts.mean()  # the raw histogram is far from flat
    image = to_image(raw, "hsv-uniform", size=64)
    assert torch.allclose(image.amax(dim=0), torch.ones(64, 64), atol=1e-6)  # V = 1
    assert torch.allclose(image.amin(dim=0), torch.zeros(64, 64), atol=1e-6)  # S = 1


def test_image_is_differentiable_for_continuous_maps() -> None:
    raw = torch.from_numpy(_skewed((2, 20, 30))).requires_grad_(True)
    image = to_image(raw, "viridis", size=16)
    (image * torch.linspace(0, 1, 16)).sum().backward()
    assert raw.grad is not None and torch.isfinite(raw.grad).all()
    assert float(raw.grad.abs().sum()) > 0


def _real_stft_db(root) -> np.ndarray:
    import librosa

    from specnb.data.audio import load_audio

    y = load_audio(root / "audio" / "1-17367-A-10.ogg", 22050)  # rain: busy everywhere
    return librosa.amplitude_to_db(np.abs(librosa.stft(y, n_fft=1024)), ref=np.max).astype(
        np.float32
    )


@pytest.mark.parametrize("name", ["viridis", "gray"])
def test_round_trip_on_real_features(esc50_root, name: str) -> None:
    feat = _real_stft_db(esc50_root)
    span = float(feat.max() - feat.min())
    # At the native size, only the colour inversion can lose anything.
    crop = feat[100:164, 100:164]
    _, crop_range = normalise(crop)
    assert float(crop.max() - crop.min()) > 20.0 and crop.std() > 3.0
    back = image_to_raw(to_image(crop, name, size=64), name, crop_range, crop.shape)
    assert np.abs(back - crop).max() < (1e-3 if name == "gray" else 1e-3 * span)
    # Through 128 x 128 the resize dominates; the colour map must add next to nothing.
    _, value_range = normalise(feat)
    back = image_to_raw(to_image(feat, name), name, value_range, feat.shape)
    gray_back = image_to_raw(to_image(feat, "gray"), "gray", value_range, feat.shape)
    err, resize_err = np.abs(back - feat).mean(), np.abs(gray_back - feat).mean()
    assert back.shape == feat.shape and back.dtype == np.float32
    assert err < resize_err + 1e-3 * span
    assert err < 0.1 * span


def test_image_to_raw_batched_and_checked() -> None:
    raw = _skewed((2, 30, 30))
    scaled, value_range = normalise(raw)
    back = image_to_raw(to_image(raw, "magma", size=30), "magma", value_range, (30, 30))
    assert back.shape == (2, 30, 30)
    np.testing.assert_allclose(back, raw, atol=1e-3 * 80)
    with pytest.raises(ValueError, match="image must have shape"):
        image_to_raw(torch.zeros(2, 30, 30), "magma", value_range, (30, 30))
    with pytest.raises(ValueError, match="value_range"):
        image_to_raw(torch.zeros(2, 3, 8, 8), "magma", torch.zeros(3, 2), (8, 8))
