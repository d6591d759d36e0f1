"""Pitch shift, time stretch, augmentation tags and augmented clip lists."""

from __future__ import annotations

import numpy as np
import pytest

from specnb.data.augment import (
    PITCH_SCALES,
    apply_augmentation,
    augmentation_tag,
    parse_augmentation,
    pitch_shift,
    time_stretch,
)
from specnb.data.clips import Clip, augment_clips

SR = 16000


def _tone(freq: float, seconds: float = 1.0) -> np.ndarray:
    return (0.5 * np.sin(2 * np.pi * freq * np.arange(int(seconds * SR)) / SR)).astype(np.float32)


def _peak_hz(y: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return float(np.fft.rfftfreq(len(y), 1 / SR)[np.argmax(spectrum)])


@pytest.mark.parametrize("scale", PITCH_SCALES)
def test_pitch_shift_moves_a_tone_by_the_scale(scale):
    shifted = pitch_shift(_tone(440.0), SR, scale)
    assert shifted.shape == (SR,) and shifted.dtype == np.float32
    assert _peak_hz(shifted) == pytest.approx(440.0 * scale, rel=0.01)


def test_time_stretch_keeps_length_and_pitch():
    y = _tone(500.0)
    faster, slower = time_stretch(y, 2.0), time_stretch(y, 0.5)
    assert faster.shape == slower.shape == y.shape
    energy = faster**2
    assert energy[-SR // 4 :].sum() < 0.01 * energy[: SR // 4].sum()
    assert _peak_hz(slower) == pytest.approx(500.0, rel=0.01)


@pytest.mark.parametrize("bad", [0, -0.5, float("nan"), float("inf"), "1.5", True])
def test_bad_factors_are_named(bad):
    with pytest.raises(ValueError, match="scale"):
        pitch_shift(_tone(440.0), SR, bad)
    with pytest.raises(ValueError, match="rate"):
        time_stretch(_tone(440.0), bad)


def test_pitch_shift_refuses_bad_rate():
    with pytest.raises(ValueError, match="sr must be"):
        pitch_shift(_tone(440.0), 0, 1.5)


def test_tags_round_trip_and_apply():
    assert augmentation_tag("pitch", 0.75) == "pitch0.75"
    assert augmentation_tag("stretch", 1.2) == "stretch1.2"
    assert parse_augmentation("pitch1.15") == ("pitch", 1.15)
    y = _tone(440.0)
    np.testing.assert_array_equal(apply_augmentation(y, SR, ""), y)
    np.testing.assert_array_equal(apply_augmentation(y, SR, "pitch1.5"), pitch_shift(y, SR, 1.5))
    np.testing.assert_array_equal(apply_augmentation(y, SR, "stretch0.8"), time_stretch(y, 0.8))
    for bad in ("pitch", "pitch-1", "pitch0", "reverb2", "pitch1e3"):
        with pytest.raises(ValueError, match=repr(bad)):
            apply_augmentation(y, SR, bad)
    with pytest.raises(ValueError, match="kind"):
        augmentation_tag("reverb", 2.0)


def test_augment_clips_orders_and_keeps_membership():
    clips = [Clip("a", 0, 1, "s1"), Clip("b", 3, 2, "s2")]
    out = augment_clips(clips, stretch_rates=(1.2,))
    assert out[:2] == tuple(clips)
    assert [c.clip_id for c in out[2:7]] == [
        "a@pitch0.75",
        "a@pitch0.9",
        "a@pitch1.15",
        "a@pitch1.5",
        "a@stretch1.2",
    ]
    assert len(out) == 2 * (1 + len(PITCH_SCALES) + 1)
    for copy in out[2:]:
        parent = clips[0] if copy.parent_id == "a" else clips[1]
        assert (copy.label, copy.fold, copy.source_id) == (
            parent.label,
            parent.fold,
            parent.source_id,
        )
        assert not copy.is_original and copy.clip_id == f"{parent.clip_id}@{copy.augmentation}"
    assert augment_clips(clips, pitch_scales=()) == tuple(clips)


def test_augment_clips_refuses_bad_input():
    clip = Clip("a", 0, 1, "s1")
    with pytest.raises(ValueError, match="scale"):
        augment_clips([clip], pitch_scales=(0.75, 0.0))
    with pytest.raises(ValueError, match="rate"):
        augment_clips([clip], stretch_rates=(-1.0,))
    with pytest.raises(ValueError, match=r"repeat augmentation\(s\) \['pitch0.9'\]"):
        augment_clips([clip], pitch_scales=(0.9, 0.90))
    with pytest.raises(ValueError, match="'a@pitch1.5' is already augmented"):
        augment_clips([clip, clip.augmented("pitch1.5")])
