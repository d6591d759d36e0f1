"""load_audio / fix_length / FixedLengthReader: equality with librosa, and every bad input."""

from __future__ import annotations

import warnings
from pathlib import Path

import librosa
import numpy as np
import pytest
import soundfile as sf

from specnb.data import audio as audio_module
from specnb.data.audio import (
    AudioError,
    SilentClipWarning,
    fix_length,
    load_audio,
)
from specnb.data.clips import Clip, FixedLengthReader

# One real ESC-50 OGG file of every kind the copy holds: (file, native rate, channels, seconds).
KINDS = [
    ("1-100032-A-0.ogg", 44100, 1, 5.001),
    ("1-101336-A-30.ogg", 44100, 2, 5.0),
    ("1-103995-A-30.ogg", 48000, 2, 5.0),
    ("1-137-A-32.ogg", 48000, 1, 5.0),
    ("4-164661-B-12.ogg", 44100, 1, 3.644),
    ("1-17808-B-12.ogg", 44100, 1, 7.24),
]


def _write(path: Path, data: np.ndarray, sr: int, subtype: str = "PCM_16") -> Path:
    sf.write(path, data, sr, subtype=subtype)
    return path


@pytest.mark.parametrize("name, rate, channels, seconds", KINDS)
def test_matches_librosa_load_on_real_ogg(esc50_root, name, rate, channels, seconds):
    path = esc50_root / "audio" / name
    info = sf.info(path)
    assert (info.samplerate, info.channels) == (rate, channels)
    assert info.frames / info.samplerate == pytest.approx(seconds, abs=2e-3)
    for sr in (rate, 22050, 16000):
        y = load_audio(path, sr)
        expected, _ = librosa.load(path, sr=sr)
        assert y.dtype == np.float32 and y.ndim == 1
        np.testing.assert_array_equal(y, expected)
        assert len(y) == pytest.approx(seconds * sr, abs=sr * 2e-3)


def test_stereo_is_averaged_and_rate_changed(tmp_path):
    sr = 8000
    t = np.arange(sr) / sr
    left, right = np.sin(2 * np.pi * 300 * t), 0.5 * np.sin(2 * np.pi * 700 * t)
    path = _write(tmp_path / "stereo.wav", np.stack([left, right], axis=1), sr, "FLOAT")
    np.testing.assert_allclose(load_audio(path, sr), (left + right) / 2, atol=1e-6)
    assert len(load_audio(path, 2 * sr)) == 2 * sr


def test_fix_length_pads_and_cuts():
    y = np.arange(1, 6, dtype=np.float32)
    np.testing.assert_array_equal(fix_length(y, 3), [1, 2, 3])
    np.testing.assert_array_equal(fix_length(y, 7), [1, 2, 3, 4, 5, 0, 0])
    assert fix_length(y, 7).dtype == np.float32
    out = fix_length(y, 5)
    out[0] = 9
    assert y[0] == 1
    with pytest.raises(ValueError, match="n must"):
        fix_length(y, -1)
    with pytest.raises(ValueError, match="shape"):
        fix_length(np.zeros((2, 3)), 3)


def test_reader_fixes_length_of_real_clips(esc50_root):
    reader = FixedLengthReader(5.0)
    short = Clip("4-164661-B-12", 0, 4, "164661", esc50_root / "audio" / "4-164661-B-12.ogg")
    long = Clip("1-17808-B-12", 0, 1, "17808", esc50_root / "audio" / "1-17808-B-12.ogg")
    y_short, y_long = reader(short, 22050), reader(long, 22050)
    assert y_short.shape == y_long.shape == (110250,)
    raw = load_audio(short.path, 22050)
    np.testing.assert_array_equal(y_short[: len(raw)], raw)
    assert not np.any(y_short[len(raw) :])
    np.testing.assert_array_equal(y_long, load_audio(long.path, 22050)[:110250])


def test_reader_refuses_clip_without_file_and_bad_duration():
    with pytest.raises(AudioError, match="'syn-1'"):
        FixedLengthReader(5.0)(Clip("syn-1", 0, 1, "s"), 16000)
    with pytest.raises(ValueError, match="duration"):
        FixedLengthReader(0.0)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.wav"):
        load_audio(tmp_path / "nothere.wav", 16000)


def test_corrupt_file_is_named(tmp_path):
    path = tmp_path / "corrupt.wav"
    path.write_bytes(b"RIFF\x00\x00garbage" + np.random.default_rng(0).bytes(500))
    with pytest.raises(AudioError, match="corrupt.wav"):
        load_audio(path, 16000)


def test_truncated_ogg_is_named(esc50_root, tmp_path):
    path = tmp_path / "cut.ogg"
    path.write_bytes((esc50_root / "audio" / "1-100032-A-0.ogg").read_bytes()[:300])
    with pytest.raises(AudioError, match="cut.ogg"):
        load_audio(path, 16000)


def test_empty_file_is_named(tmp_path):
    path = _write(tmp_path / "empty.wav", np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(AudioError, match="empty.wav.*no audio samples"):
        load_audio(path, 16000)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_samples_are_refused(tmp_path, bad):
    y = np.full(100, 0.1, dtype=np.float32)
    y[50] = bad
    path = _write(tmp_path / "nonfinite.wav", y, 16000, "FLOAT")
    with pytest.raises(AudioError, match="nonfinite.wav.*NaN or infinite"):
        load_audio(path, 16000)


@pytest.mark.parametrize("sr", [0, -8000, 16000.0, True, None])
def test_bad_rate_is_named(tmp_path, sr):
    path = _write(tmp_path / "ok.wav", np.full(100, 0.1), 16000)
    with pytest.raises(AudioError, match="ok.wav.*sr must be a positive integer"):
        load_audio(path, sr)


def test_silent_clip_warns_and_loads(tmp_path):
    path = _write(tmp_path / "quiet.wav", np.zeros(1600), 16000)
    with pytest.warns(SilentClipWarning, match="quiet.wav"):
        y = load_audio(path, 16000)
    assert y.shape == (1600,) and not np.any(y)


def test_normal_clip_does_not_warn(tmp_path):
    path = _write(tmp_path / "tone.wav", 0.1 * np.sin(np.arange(1600)), 16000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_audio(path, 16000)


def test_a_long_file_is_read_only_as_far_as_the_clip_needs(tmp_path, monkeypatch):
    path = _write(tmp_path / "long.wav", np.tile(0.2 * np.sin(np.arange(8000) * 0.3), 60), 8000)
    read: list[int] = []
    original = sf.SoundFile.read

    def spy(self, frames=-1, *args, **kwargs):
        data = original(self, frames, *args, **kwargs)
        read.append(len(data))
        return data

    monkeypatch.setattr(sf.SoundFile, "read", spy)
    y = FixedLengthReader(1.0)(Clip("long", 0, 1, "s", path=path), 8000)
    assert y.shape == (8000,)
    assert 0 < sum(read) <= 2 * 8000


def test_an_absurdly_long_file_is_refused_by_name(tmp_path, monkeypatch):
    path = _write(tmp_path / "hours.wav", np.tile(0.2 * np.sin(np.arange(8000) * 0.3), 4), 8000)
    monkeypatch.setattr(audio_module, "MAX_SECONDS", 2.0)
    with pytest.raises(AudioError, match=r"hours\.wav.*4\.0 s.*2\.0 s"):
        load_audio(path, 8000)


def test_cutting_equals_reading_whole_then_cutting(tmp_path):
    rng = np.random.default_rng(0)
    path = _write(
        tmp_path / "stereo.wav",
        0.1 * rng.standard_normal((44100 * 7 + 123, 2)),
        44100,
        subtype="FLOAT",
    )
    for sr in (22050, 16000, 44100):
        whole = load_audio(path, sr)[: 5 * sr]
        clip = FixedLengthReader(5.0)(Clip("s", 0, 1, "s", path=path), sr)
        np.testing.assert_array_equal(clip, whole)


def test_truncated_files_warn_naming_the_file_and_the_decoded_length(tmp_path):
    from specnb.data.audio import TruncatedAudioWarning

    rng = np.random.default_rng(0)
    noise = (0.1 * rng.standard_normal(44100 * 3)).astype(np.float32)
    for suffix in ("ogg", "wav"):
        full = tmp_path / f"full.{suffix}"
        sf.write(full, noise, 44100)
        cut = tmp_path / f"cut.{suffix}"
        cut.write_bytes(full.read_bytes()[: full.stat().st_size // 3])
        with warnings.catch_warnings():
            warnings.simplefilter("error", TruncatedAudioWarning)
            assert len(load_audio(full, 44100)) == len(noise)  # a whole file is silent
        with pytest.warns(TruncatedAudioWarning) as caught:
            y = load_audio(cut, 44100)
        message = str(caught[0].message)
        assert str(cut) in message and f"decodes to only {len(y)} samples" in message
        assert 0 < len(y) < len(noise)
