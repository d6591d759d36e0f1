"""Dataset -> raw features -> images: batching, caching, colour maps sharing the cache."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

import specnb.representations.features as features
from specnb.data import load_dataset
from specnb.data.clips import Clip
from specnb.representations import make_setting
from specnb.representations.cache import FeatureCache
from specnb.representations.compute import represent
from specnb.representations.features import clip_image, dataset_features, dataset_images
from specnb.representations.images import to_image

STFT = make_setting("stft", sr=8000, n_fft=256)
MFCC = make_setting("mfcc", sr=8000, n_mfcc=13, n_fft=512, n_mels=40)


class Counter:
    """Wraps ``represent`` and records how many clips each call transformed."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def __call__(self, y, setting, **kwargs):
        self.calls.append(1 if np.ndim(y) == 1 else len(y))
        return represent(y, setting, **kwargs)

    @property
    def clips(self) -> int:
        return sum(self.calls)


@pytest.fixture
def counter(monkeypatch: pytest.MonkeyPatch) -> Counter:
    count = Counter()
    monkeypatch.setattr(features, "represent", count)
    return count


@pytest.fixture(scope="module")
def synthetic():
    return load_dataset("synthetic")


def test_cached_and_uncached_results_are_identical(
    synthetic, counter: Counter, tmp_path: Path
) -> None:
    clips = synthetic.clips[:4]
    cache = FeatureCache(tmp_path)
    plain = dataset_features(synthetic, clips, STFT, device="cpu")
    assert plain.shape == (4, 129, 1 + 5 * 8000 // 64) and plain.dtype == np.float32
    first = dataset_features(synthetic, clips, STFT, cache=cache, device="cpu")
    assert counter.clips == 8
    second = dataset_features(synthetic, clips, STFT, cache=cache, device="cpu")
    assert counter.clips == 8  # the second call is served from disk
    np.testing.assert_array_equal(first, plain)
    np.testing.assert_array_equal(second, plain)
    for clip in clips:
        assert cache.path(synthetic.key, clip.clip_id, STFT).is_file()


def test_only_missing_clips_are_computed_in_batches(
    synthetic, counter: Counter, tmp_path: Path
) -> None:
    cache = FeatureCache(tmp_path)
    clips = synthetic.clips[:5]
    dataset_features(synthetic, clips[1:3], MFCC, cache=cache, device="cpu")
    counter.calls.clear()
    out = dataset_features(synthetic, clips, MFCC, cache=cache, device="cpu", batch_size=2)
    assert counter.calls == [2, 1]  # clips 0, 3, 4 in batches of at most 2
    assert out.shape[:2] == (5, 13)
    alone = dataset_features(synthetic, [clips[3]], MFCC, device="cpu")
    np.testing.assert_array_equal(out[3], alone[0])
    listed = dataset_features(synthetic, clips, MFCC, cache=cache, stack=False)
    assert isinstance(listed, list) and len(listed) == 5
    np.testing.assert_array_equal(np.stack(listed), out)


def test_colour_maps_share_the_raw_cache(synthetic, counter: Counter, tmp_path: Path) -> None:
    cache = FeatureCache(tmp_path)
    clips = synthetic.clips[:3]
    gray = dataset_images(synthetic, clips, STFT.replace(colormap="gray"), cache=cache)
    assert counter.clips == 3
    images = {
        name: dataset_images(synthetic, clips, STFT.replace(colormap=name), cache=cache)
        for name in ("viridis", "hsv-uniform", "tab10")
    }
    assert counter.clips == 3
    raw = dataset_features(synthetic, clips, STFT, cache=cache)
    assert gray.shape == (3, 3, 128, 128) and gray.dtype == torch.float32
    torch.testing.assert_close(gray, to_image(raw, "gray"))
    for name, image in images.items():
        assert float(image.min()) >= 0.0 and float(image.max()) <= 1.0
        torch.testing.assert_close(image, to_image(raw, name))
        assert not torch.equal(image, gray)
    assert len(list(tmp_path.rglob("*.npy"))) == 3


def test_clip_image_matches_the_pipeline(synthetic) -> None:
    y = synthetic.load(synthetic.clips[7], STFT.sr)
    setting = STFT.replace(colormap="magma")
    image = clip_image(y, setting, device="cpu")
    assert image.shape == (3, 128, 128)
    torch.testing.assert_close(image, to_image(represent(y, STFT, device="cpu"), "magma"))
    batch = dataset_images(synthetic, [synthetic.clips[7]], setting, device="cpu")
    torch.testing.assert_close(batch[0], image)


def test_reference_backend_goes_through_the_same_pipeline(synthetic, counter: Counter) -> None:
    clips = synthetic.clips[:2]
    ref = dataset_features(synthetic, clips, MFCC, backend="reference")
    fast = dataset_features(synthetic, clips, MFCC, backend="torch", device="cpu")
    assert ref.shape == fast.shape
    assert np.abs(ref - fast).max() < 0.05 * np.abs(ref).max()


@dataclass
class _RaggedData:
    name: str = "ragged"
    key: str = "ragged"

    def load(self, clip: Clip, sr: int) -> np.ndarray:
        return np.zeros(800 + 10 * clip.label, dtype=np.float32)


def test_unequal_clips_and_bad_batch_size_are_refused() -> None:
    clips = [Clip("a", 0, 1, "a"), Clip("b", 1, 1, "b")]
    with pytest.raises(ValueError, match="equally long.*a: \\(800,\\).*b: \\(810,\\)"):
        dataset_features(_RaggedData(), clips, STFT)
    with pytest.raises(ValueError, match="batch_size"):
        dataset_features(_RaggedData(), clips, STFT, batch_size=0)


def test_esc10_real_clips_cached_once(esc50_root: Path, counter: Counter, tmp_path: Path) -> None:
    esc10 = load_dataset("esc10", esc50_root)
    clips = [esc10.clips[0], esc10.clips[150], esc10.clips[399]]
    setting = make_setting("mel", sr=16000, n_fft=512, n_mels=64)
    cache = FeatureCache(tmp_path)
    plain = dataset_features(esc10, clips, setting, device="cpu")
    cached = dataset_features(esc10, clips, setting, cache=cache, device="cpu")
    again = dataset_images(esc10, clips, setting.replace(colormap="coolwarm"), cache=cache)
    assert counter.clips == 6
    np.testing.assert_array_equal(cached, plain)
    assert plain.shape == (3, 64, 1 + 5 * 16000 // 128) and np.isfinite(plain).all()
    assert again.shape == (3, 3, 128, 128)
    assert esc10.cache_key.startswith("esc10-") and (tmp_path / esc10.cache_key).is_dir()
