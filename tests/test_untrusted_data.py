"""Datasets, metadata, audio and archives are untrusted: they never mix clips, never write or
read outside their folder, and a failed download never loses the data it was replacing."""

from __future__ import annotations

import csv
import errno
import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from specnb.cache import FeatureCache
from specnb.data import DatasetError, DownloadError, load_esc50, load_urbansound8k
from specnb.data import audio as audio_module
from specnb.data.audio import AudioError, FixedLengthReader, load_audio
from specnb.data.clips import Clip
from specnb.data.download import DatasetSource, extract_archive, fetch_dataset
from specnb.features import dataset_features
from specnb.representations import make_setting

ESC_HEADER = ["filename", "fold", "target", "category", "esc10", "src_file", "take"]
US_HEADER = ["slice_file_name", "fsID", "start", "end", "salience", "fold", "classID", "class"]


def _tone(freq: float, seconds: float = 0.5, sr: int = 8000) -> np.ndarray:
    return 0.2 * np.sin(2 * np.pi * freq * np.arange(int(seconds * sr)) / sr)


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _esc_tree(root: Path, names: list[str], freqs: list[float] | None = None) -> Path:
    freqs = freqs or [200.0 + 100 * i for i in range(len(names))]
    rows = [[name, 1, i % 2, ("dog", "rain")[i % 2], True, 100 + i, "A"]
            for i, name in enumerate(names)]
    _write_csv(root / "meta" / "esc50.csv", ESC_HEADER, rows)
    for name, freq in zip(names, freqs):
        target = root / "audio" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        sf.write(target, _tone(freq), 8000)
    return root


# ----------------------------------------------------------------------- clip ids and keys
def test_two_files_with_one_stem_are_refused(tmp_path: Path) -> None:
    root = _esc_tree(tmp_path / "esc", ["a.wav", "sub/a.wav"])
    with pytest.raises(DatasetError, match=r"clip id 'a'.*a\.wav.*sub/a\.wav"):
        load_esc50(root)


def test_urbansound_stems_must_be_unique_across_folds(tmp_path: Path) -> None:
    root = tmp_path / "us"
    rows = [["x.wav", 1, 0.0, 0.5, 1, 1, 0, "air"], ["x.flac", 2, 0.0, 0.5, 1, 2, 1, "horn"]]
    _write_csv(root / "metadata" / "UrbanSound8K.csv", US_HEADER, rows)
    for row in rows:
        folder = root / "audio" / f"fold{row[5]}"
        folder.mkdir(parents=True, exist_ok=True)
        sf.write(folder / str(row[0]), _tone(300), 8000)
    with pytest.raises(DatasetError, match="clip id 'x'"):
        load_urbansound8k(root)


def test_two_copies_of_a_dataset_never_share_cached_features(tmp_path: Path) -> None:
    names = ["1-1-A-0.wav", "1-2-A-1.wav"]
    first = load_esc50(_esc_tree(tmp_path / "one" / "esc50", names, [200.0, 300.0]))
    second = load_esc50(_esc_tree(tmp_path / "two" / "esc50", names, [900.0, 1500.0]))
    assert first.key == second.key == "esc50"
    assert first.cache_key != second.cache_key
    assert load_esc50(tmp_path / "one" / "esc50").cache_key == first.cache_key
    cache = FeatureCache(tmp_path / "cache")
    setting = make_setting("stft", sr=8000, n_fft=256, hop_length=128)
    a = dataset_features(first, None, setting, cache=cache, device="cpu")
    b = dataset_features(second, None, setting, cache=cache, device="cpu")
    fresh = dataset_features(second, None, setting, cache=None, device="cpu")
    np.testing.assert_array_equal(b, fresh)
    assert not np.allclose(a, b)


def test_editing_the_metadata_changes_the_cache_key(tmp_path: Path) -> None:
    root = _esc_tree(tmp_path / "esc50", ["1-1-A-0.wav", "1-2-A-1.wav"])
    before = load_esc50(root).cache_key
    csv_path = root / "meta" / "esc50.csv"
    csv_path.write_text(csv_path.read_text().replace(",dog,", ",hound,"))
    assert load_esc50(root).cache_key != before


@pytest.mark.parametrize("escape", ["../outside.wav", "../../outside.wav", "ABSOLUTE"])
def test_metadata_paths_outside_the_audio_folder_are_refused(tmp_path: Path, escape: str) -> None:
    root = tmp_path / "data" / "esc50"
    outside = (root / "audio" / escape).resolve() if escape != "ABSOLUTE" else tmp_path / "abs.wav"
    outside.parent.mkdir(parents=True, exist_ok=True)
    sf.write(outside, _tone(500), 8000)
    name = str(outside) if escape == "ABSOLUTE" else escape
    _esc_tree(root, ["1-1-A-0.wav"])
    rows = [["1-1-A-0.wav", 1, 0, "dog", True, 1, "A"], [name, 1, 1, "rain", True, 2, "A"]]
    _write_csv(root / "meta" / "esc50.csv", ESC_HEADER, rows)
    with pytest.raises(DatasetError, match="outside"):
        load_esc50(root)


def test_urbansound_names_cannot_leave_the_audio_folder(tmp_path: Path) -> None:
    root = tmp_path / "us"
    rows = [["../../../secret.wav", 1, 0.0, 0.5, 1, 1, 0, "air"]]
    _write_csv(root / "metadata" / "UrbanSound8K.csv", US_HEADER, rows)
    (root / "audio" / "fold1").mkdir(parents=True)
    sf.write(tmp_path / "secret.wav", _tone(300), 8000)
    with pytest.raises(DatasetError, match="outside"):
        load_urbansound8k(root)


# ----------------------------------------------------------------------- audio reading
def test_a_long_file_is_read_only_as_far_as_the_clip_needs(tmp_path, monkeypatch) -> None:
    path = tmp_path / "long.wav"
    sf.write(path, np.tile(_tone(440, 1.0), 60), 8000)
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


def test_an_absurdly_long_file_is_refused_by_name(tmp_path, monkeypatch) -> None:
    path = tmp_path / "hours.wav"
    sf.write(path, np.tile(_tone(440, 1.0), 4), 8000)
    monkeypatch.setattr(audio_module, "MAX_SECONDS", 2.0)
    with pytest.raises(AudioError, match=r"hours\.wav.*4\.0 s.*2\.0 s"):
        load_audio(path, 8000)


def test_cutting_equals_reading_whole_then_cutting(tmp_path) -> None:
    rng = np.random.default_rng(0)
    path = tmp_path / "stereo.wav"
    sf.write(path, 0.1 * rng.standard_normal((44100 * 7 + 123, 2)), 44100, subtype="FLOAT")
    for sr in (22050, 16000, 44100):
        whole = load_audio(path, sr)[: 5 * sr]
        np.testing.assert_array_equal(FixedLengthReader(5.0)(Clip("s", 0, 1, "s", path=path), sr),
                                      whole)


# ----------------------------------------------------------------------- downloads
def _esc_zip(top: str = "ESC-50-new") -> bytes:
    buffer = io.BytesIO()
    rows = [["1-1-A-0.wav", 1, 0, "dog", True, 1, "A"], ["1-2-A-1.wav", 1, 1, "rain", True, 2, "A"]]
    text = io.StringIO()
    csv.writer(text).writerows([ESC_HEADER, *rows])
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr(f"{top}/meta/esc50.csv", text.getvalue())
        for i, row in enumerate(rows):
            wav = io.BytesIO()
            sf.write(wav, _tone(300 + 100 * i), 8000, format="WAV")
            bundle.writestr(f"{top}/audio/{row[0]}", wav.getvalue())
    return buffer.getvalue()


def _source(tmp_path: Path) -> DatasetSource:
    archive = tmp_path / "mirror" / "esc.zip"
    archive.parent.mkdir(parents=True, exist_ok=True)
    archive.write_bytes(_esc_zip())
    return DatasetSource(archive.as_uri(), "esc.zip", "ESC-50-new", "meta/esc50.csv")


def _users_copy(root: Path) -> None:
    (root / "audio").mkdir(parents=True)
    (root / "audio" / "mine.wav").write_bytes(b"my own recording")


def test_a_failed_move_keeps_the_old_data_and_is_a_download_error(tmp_path, monkeypatch):
    root = tmp_path / "data" / "esc50"
    _users_copy(root)
    source = _source(tmp_path)
    real_replace = os.replace
    staged: list[Path] = []

    def cross_device(src, dst, *args, **kwargs):
        src, dst = Path(src), Path(dst)
        if "ESC-50-new" in src.parts and dst.parent == root:
            staged.append(src)
            raise OSError(errno.EXDEV, "Invalid cross-device link", str(src))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", cross_device)
    with pytest.raises(DownloadError, match="cross-device"):
        fetch_dataset("esc50", root, source=source)
    assert staged and all(root in path.parents for path in staged)
    assert (root / "audio" / "mine.wav").read_bytes() == b"my own recording"
    assert sorted(p.name for p in root.iterdir()) == ["audio"]


def test_a_successful_download_replaces_the_old_entry(tmp_path):
    root = tmp_path / "data" / "esc50"
    _users_copy(root)
    fetch_dataset("esc50", root, source=_source(tmp_path))
    assert sorted(p.name for p in (root / "audio").iterdir()) == ["1-1-A-0.wav", "1-2-A-1.wav"]
    assert sorted(p.name for p in root.iterdir()) == ["audio", "meta"]
    assert len(load_esc50(root)) == 2


def test_a_full_disk_is_a_download_error(tmp_path, monkeypatch):
    root = tmp_path / "data" / "esc50"
    _users_copy(root)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "extractall", full)
    with pytest.raises(DownloadError, match="No space left"):
        fetch_dataset("esc50", root, source=_source(tmp_path))
    assert (root / "audio" / "mine.wav").read_bytes() == b"my own recording"
    assert sorted(p.name for p in root.iterdir()) == ["audio"]


def test_unpacked_size_is_capped_before_anything_is_written(tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("top/zeros.bin", bytes(4 << 20))
    assert archive.stat().st_size < 64 << 10
    with pytest.raises(DownloadError, match=r"bomb\.zip.*4194304 bytes.*1048576"):
        extract_archive(archive, tmp_path / "out", max_bytes=1 << 20)
    assert not any((tmp_path / "out").rglob("*"))
    assert extract_archive(archive, tmp_path / "ok", max_bytes=8 << 20) == tmp_path / "ok"
