"""ESC-50 / ESC-10 / UrbanSound8K loaders and load_dataset, on real metadata and fake trees."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from specnb.data import (
    DatasetError,
    DatasetWarning,
    apply_augmentation,
    load_audio,
    load_dataset,
    load_esc10,
    load_esc50,
    load_urbansound8k,
)
from specnb.representations import make_setting
from specnb.representations.cache import FeatureCache
from specnb.representations.features import dataset_features

ESC_HEADER = ["filename", "fold", "target", "category", "esc10", "src_file", "take"]
US_HEADER = ["slice_file_name", "fsID", "start", "end", "salience", "fold", "classID", "class"]


def _tone(seconds: float, sr: int, freq: float) -> np.ndarray:
    return 0.2 * np.sin(2 * np.pi * freq * np.arange(int(seconds * sr)) / sr)


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def esc_rows() -> list[list[object]]:
    """Three classes (targets 0, 1, 2; only 0 and 2 in ESC-10), two clips each."""
    return [
        ["1-100-A-0.wav", 1, 0, "dog", True, 100, "A"],
        ["1-100-B-0.wav", 1, 0, "dog", True, 100, "B"],
        ["2-200-A-1.wav", 2, 1, "rooster", False, 200, "A"],
        ["3-300-A-1.wav", 3, 1, "rooster", False, 300, "A"],
        ["2-400-A-2.wav", 2, 2, "rain", True, 400, "A"],
        ["3-500-A-2.wav", 3, 2, "rain", True, 500, "A"],
    ]


def write_esc_tree(root: Path, rows: list[list[object]] | None = None, header=ESC_HEADER) -> Path:
    rows = esc_rows() if rows is None else rows
    _write_csv(root / "meta" / "esc50.csv", header, rows)
    (root / "audio").mkdir(parents=True, exist_ok=True)
    for i, row in enumerate(rows):
        sf.write(root / "audio" / str(row[0]), _tone(0.5 + 0.1 * i, 8000, 200 + 50 * i), 8000)
    return root


def us_rows() -> list[list[object]]:
    return [
        ["100-0-0-0.wav", 100, 0.0, 4.0, 1, 1, 0, "air_conditioner"],
        ["100-0-0-1.wav", 100, 4.0, 8.0, 1, 1, 0, "air_conditioner"],
        ["200-1-0-0.wav", 200, 1.5, 3.0, 2, 2, 1, "car_horn"],
        ["300-1-0-0.wav", 300, 0.0, 2.5, 1, 3, 1, "car_horn"],
        ["400-2-0-0.wav", 400, 0.0, 4.0, 2, 2, 2, "children_playing"],
    ]


def write_us_tree(root: Path, rows: list[list[object]] | None = None) -> Path:
    rows = us_rows() if rows is None else rows
    _write_csv(root / "metadata" / "UrbanSound8K.csv", US_HEADER, rows)
    for i, row in enumerate(rows):
        folder = root / "audio" / f"fold{row[5]}"
        folder.mkdir(parents=True, exist_ok=True)
        stereo = np.stack([_tone(row[3] - row[2], 16000, 300 + 40 * i)] * 2, axis=1)
        sf.write(folder / str(row[0]), stereo, 16000)
    return root


# ---------------------------------------------------------------- real ESC-50 metadata and audio


def test_esc50_all_rows(esc50_root):
    data = load_esc50(esc50_root)
    with open(esc50_root / "meta" / "esc50.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert (data.name, data.key, data.duration, len(data)) == ("esc50", "esc50", 5.0, 2000)
    assert len(data.classes) == 50 and data.classes[0] == "dog"
    for clip, row in zip(data.clips, rows):
        assert clip.clip_id == Path(row["filename"]).stem
        assert data.classes[clip.label] == row["category"]
        assert clip.label == int(row["target"]) and clip.fold == int(row["fold"])
        assert clip.source_id == row["src_file"]
        assert clip.path == esc50_root / "audio" / row["filename"]
    assert np.bincount([c.label for c in data.clips]).tolist() == [40] * 50
    assert np.bincount([c.fold for c in data.clips])[1:].tolist() == [400] * 5
    assert len({c.source_id for c in data.clips}) == 1524


def test_esc10_is_relabelled_subset(esc50_root):
    esc10, esc50 = load_esc10(esc50_root), load_esc50(esc50_root)
    assert esc10.key == "esc10" and len(esc10) == 400
    assert esc10.classes == (
        "dog",
        "rooster",
        "rain",
        "sea_waves",
        "crackling_fire",
        "crying_baby",
        "sneezing",
        "clock_tick",
        "helicopter",
        "chainsaw",
    )
    assert np.bincount([c.label for c in esc10.clips]).tolist() == [40] * 10
    for clip in esc10.clips:
        original = esc50.by_id(clip.clip_id)
        assert esc10.classes[clip.label] == esc50.classes[original.label]
        assert (clip.fold, clip.source_id, clip.path) == (
            original.fold,
            original.source_id,
            original.path,
        )


def test_esc_reader_decodes_every_kind(esc50_root):
    data = load_esc50(esc50_root)
    names = [
        "1-100032-A-0",
        "1-101336-A-30",
        "1-103995-A-30",
        "1-137-A-32",
        "4-164661-B-12",
        "1-17808-B-12",
    ]
    for name in names:
        clip = data.by_id(name)
        y = data.load(clip, 16000)
        assert y.shape == (80000,) and y.dtype == np.float32 and np.all(np.isfinite(y))
        raw = load_audio(clip.path, 16000)
        np.testing.assert_array_equal(y[: min(len(raw), 80000)], raw[:80000])
        assert np.max(np.abs(y)) > 1e-3


def test_augmented_copy_is_loaded_from_its_original(esc50_root):
    data = load_esc10(esc50_root)
    clip = data.clips[0]
    copy = clip.augmented("pitch1.15")
    expected = apply_augmentation(data.load(clip, 8000), 8000, "pitch1.15")
    np.testing.assert_array_equal(data.load(copy, 8000), expected)
    assert not np.array_equal(expected, data.load(clip, 8000))


# ----------------------------------------------------------------------- fake ESC-50 tree


def test_fake_esc_tree_loads_wav_release(tmp_path):
    root = write_esc_tree(tmp_path / "esc")
    data = load_esc50(root)
    assert data.classes == ("dog", "rooster", "rain") and len(data) == 6
    assert [c.source_id for c in data.clips[:2]] == ["100", "100"]
    assert data.load(data.clips[0], 8000).shape == (40000,)
    esc10 = load_esc10(root)
    assert esc10.classes == ("dog", "rain")
    assert [c.label for c in esc10.clips] == [0, 0, 1, 1]


def test_missing_root_says_how_to_get_it(tmp_path):
    with pytest.raises(DatasetError, match=r"esc50\.csv not found.*specnb download esc10"):
        load_esc10(tmp_path / "nowhere")
    with pytest.raises(DatasetError, match=r"UrbanSound8K\.csv not found.*specnb download"):
        load_urbansound8k(tmp_path / "nowhere")


def test_missing_column_is_named(tmp_path):
    header = [name for name in ESC_HEADER if name != "src_file"]
    rows = [[v for k, v in zip(ESC_HEADER, row) if k != "src_file"] for row in esc_rows()]
    root = write_esc_tree(tmp_path / "esc", rows, header)
    with pytest.raises(DatasetError, match=r"esc50\.csv: missing column\(s\) src_file"):
        load_esc50(root)


@pytest.mark.parametrize(
    "column, value, message",
    [
        (1, "one", r"column 'fold', line 4: 'one' is not an integer >= 1"),
        (1, "0", r"column 'fold', line 4: '0'"),
        (2, "1.5", r"column 'target', line 4"),
        (4, "maybe", r"column 'esc10', line 4: 'maybe' is not True or False"),
        (5, "", r"column 'src_file', line 4"),
    ],
)
def test_unparsable_values_are_named(tmp_path, column, value, message):
    rows = esc_rows()
    rows[2][column] = value
    root = write_esc_tree(tmp_path / "esc", rows)
    with pytest.raises(DatasetError, match=message):
        load_esc50(root)


def test_inconsistent_classes_are_refused(tmp_path):
    rows = esc_rows()
    rows[1][3] = "cat"
    with pytest.raises(DatasetError, match="'target' value 0 is named both 'dog' and 'cat'"):
        load_esc50(write_esc_tree(tmp_path / "a", rows))
    gap = [row for row in esc_rows() if row[2] != 1]
    with pytest.raises(DatasetError, match=r"0\.\.K-1 without gaps, found \[0, 2\]"):
        load_esc50(write_esc_tree(tmp_path / "b", gap))


def test_repeated_file_is_refused(tmp_path):
    rows = esc_rows()
    root = write_esc_tree(tmp_path / "esc", rows)
    _write_csv(root / "meta" / "esc50.csv", ESC_HEADER, rows + [rows[0]])
    with pytest.raises(DatasetError, match="line 8: '1-100-A-0.wav' appears twice"):
        load_esc50(root)


def test_missing_files_error_or_skip(tmp_path):
    root = write_esc_tree(tmp_path / "esc")
    (root / "audio" / "2-200-A-1.wav").unlink()
    (root / "audio" / "2-400-A-2.wav").unlink()
    with pytest.raises(DatasetError, match=r"2 of 6 audio files listed are missing: .*2-200-A-1"):
        load_esc50(root)
    with pytest.warns(DatasetWarning, match="skipping 2 rows"):
        data = load_esc50(root, missing="skip")
    assert len(data) == 4 and "2-200-A-1" not in {c.clip_id for c in data.clips}
    assert data.skipped == 2 and load_esc50(write_esc_tree(tmp_path / "whole")).skipped == 0
    with pytest.warns(DatasetWarning, match="skipping 1 rows"):
        assert len(load_esc10(root, missing="skip")) == 3
    with pytest.raises(ValueError, match="missing must be one of"):
        load_esc50(root, missing="ignore")


def test_unlisted_audio_files_warn(tmp_path):
    root = write_esc_tree(tmp_path / "esc")
    sf.write(root / "audio" / "9-999-A-0.wav", _tone(0.2, 8000, 100), 8000)
    (root / "audio" / "notes.txt").write_text("not audio")
    with pytest.warns(DatasetWarning, match=r"1 audio files have no row .*9-999-A-0\.wav"):
        data = load_esc50(root)
    assert len(data) == 6


def test_esc10_without_rows_is_refused(tmp_path):
    rows = esc_rows()
    for row in rows:
        row[4] = False
    with pytest.raises(DatasetError, match="'esc10' marks no row True"):
        load_esc10(write_esc_tree(tmp_path / "esc", rows))


# --------------------------------------------------------------------- fake UrbanSound8K tree


def test_fake_urbansound_tree(tmp_path):
    data = load_urbansound8k(write_us_tree(tmp_path / "us8k"))
    assert (data.name, data.key, data.duration) == ("urbansound8k", "urbansound8k", 4.0)
    assert len(data) == 5
    assert data.classes == ("air_conditioner", "car_horn", "children_playing")
    assert [c.source_id for c in data.clips] == ["100", "100", "200", "300", "400"]
    assert [c.fold for c in data.clips] == [1, 1, 2, 3, 2]
    clip = data.by_id("200-1-0-0")
    assert clip.path == tmp_path / "us8k" / "audio" / "fold2" / "200-1-0-0.wav"
    y = data.load(clip, 8000)
    assert y.shape == (32000,) and np.any(y[:11000]) and not np.any(y[12100:])


@pytest.mark.parametrize(
    "column, value, message",
    [
        (3, "1.0", r"column 'end', line 3: 1\.0 does not exceed start 4\.0"),
        (4, "3", r"column 'salience', line 3: '3' is not 1"),
        (1, "abc", r"column 'fsID', line 3"),
        (2, "-1", r"column 'start', line 3"),
        (6, "x", r"column 'classID', line 3"),
    ],
)
def test_urbansound_bad_values_are_named(tmp_path, column, value, message):
    root = write_us_tree(tmp_path / "us8k")
    rows = us_rows()
    rows[1][column] = value
    _write_csv(root / "metadata" / "UrbanSound8K.csv", US_HEADER, rows)
    with pytest.raises(DatasetError, match=message):
        load_urbansound8k(root)


def test_urbansound_missing_and_extra_files(tmp_path):
    root = write_us_tree(tmp_path / "us8k")
    (root / "audio" / "fold3" / "300-1-0-0.wav").unlink()
    sf.write(root / "audio" / "fold1" / "999-0-0-0.wav", _tone(0.1, 8000, 90), 8000)
    with pytest.raises(DatasetError, match=r"1 of 5 .*fold3/300-1-0-0\.wav"):
        load_urbansound8k(root)
    with pytest.warns(DatasetWarning) as record:
        data = load_urbansound8k(root, missing="skip")
    messages = " ".join(str(w.message) for w in record)
    assert "999-0-0-0.wav" in messages and "skipping 1 rows" in messages
    assert len(data) == 4


def test_urbansound_missing_column(tmp_path):
    root = write_us_tree(tmp_path / "us8k")
    _write_csv(
        root / "metadata" / "UrbanSound8K.csv", US_HEADER[:-1], [row[:-1] for row in us_rows()]
    )
    with pytest.raises(DatasetError, match=r"missing column\(s\) class "):
        load_urbansound8k(root)


# ------------------------------------------------------------------------------ load_dataset


def test_load_dataset_defaults_and_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("SPECNB_DATA", str(tmp_path))
    with pytest.raises(DatasetError, match=r"specnb download esc10.*path="):
        load_dataset("esc10")
    with pytest.raises(DatasetError, match=r"urbansound8k.*specnb download urbansound8k"):
        load_dataset("urbansound8k")
    write_esc_tree(tmp_path / "esc50")
    write_us_tree(tmp_path / "urbansound8k")
    assert len(load_dataset("esc50")) == 6
    assert load_dataset("esc10").classes == ("dog", "rain")
    assert len(load_dataset("urbansound8k")) == 5
    assert load_dataset("esc50", tmp_path / "esc50").root == tmp_path / "esc50"
    synthetic = load_dataset("synthetic", seed=3, n_per_class=2)
    assert synthetic.key == "synthetic-s3-n2" and len(synthetic) == 20
    with pytest.raises(ValueError, match="takes no path"):
        load_dataset("synthetic", tmp_path)
    with pytest.raises(ValueError, match="unknown dataset 'esc100'"):
        load_dataset("esc100")


# --------------------------------------------------------------- clip ids, cache keys, paths
def _esc_files(root: Path, names: list[str], freqs: list[float] | None = None) -> Path:
    """An ESC-50 layout listing ``names`` (subfolders allowed), one tone per file."""
    freqs = freqs or [200.0 + 100 * i for i in range(len(names))]
    rows = [
        [name, 1, i % 2, ("dog", "rain")[i % 2], True, 100 + i, "A"] for i, name in enumerate(names)
    ]
    _write_csv(root / "meta" / "esc50.csv", ESC_HEADER, rows)
    for name, freq in zip(names, freqs):
        target = root / "audio" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        sf.write(target, _tone(0.5, 8000, freq), 8000)
    return root


def test_two_files_with_one_stem_are_refused(tmp_path: Path) -> None:
    root = _esc_files(tmp_path / "esc", ["a.wav", "sub/a.wav"])
    with pytest.raises(DatasetError, match=r"clip id 'a'.*a\.wav.*sub/a\.wav"):
        load_esc50(root)


def test_urbansound_stems_must_be_unique_across_folds(tmp_path: Path) -> None:
    rows = [["x.wav", 1, 0.0, 0.5, 1, 1, 0, "air"], ["x.flac", 2, 0.0, 0.5, 1, 2, 1, "horn"]]
    with pytest.raises(DatasetError, match="clip id 'x'"):
        load_urbansound8k(write_us_tree(tmp_path / "us", rows))


def test_two_copies_of_a_dataset_never_share_cached_features(tmp_path: Path) -> None:
    names = ["1-1-A-0.wav", "1-2-A-1.wav"]
    first = load_esc50(_esc_files(tmp_path / "one" / "esc50", names, [200.0, 300.0]))
    second = load_esc50(_esc_files(tmp_path / "two" / "esc50", names, [900.0, 1500.0]))
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
    root = _esc_files(tmp_path / "esc50", ["1-1-A-0.wav", "1-2-A-1.wav"])
    before = load_esc50(root).cache_key
    csv_path = root / "meta" / "esc50.csv"
    csv_path.write_text(csv_path.read_text().replace(",dog,", ",hound,"))
    assert load_esc50(root).cache_key != before


@pytest.mark.parametrize("escape", ["../outside.wav", "../../outside.wav", "ABSOLUTE", "LINK"])
def test_metadata_paths_outside_the_audio_folder_are_refused(tmp_path: Path, escape: str) -> None:
    root = _esc_files(tmp_path / "data" / "esc50", ["1-1-A-0.wav"])
    outside = (
        tmp_path / "abs.wav"
        if escape in ("ABSOLUTE", "LINK")
        else (root / "audio" / escape).resolve()
    )
    sf.write(outside, _tone(0.5, 8000, 500), 8000)
    name = {"ABSOLUTE": str(outside), "LINK": "link.wav"}.get(escape, escape)
    if escape == "LINK":
        (root / "audio" / "link.wav").symlink_to(outside)
    rows = [["1-1-A-0.wav", 1, 0, "dog", True, 1, "A"], [name, 1, 1, "rain", True, 2, "A"]]
    _write_csv(root / "meta" / "esc50.csv", ESC_HEADER, rows)
    with pytest.raises(DatasetError, match="outside"):
        load_esc50(root)


def test_urbansound_names_cannot_leave_the_audio_folder(tmp_path: Path) -> None:
    root = write_us_tree(tmp_path / "us")
    sf.write(tmp_path / "secret.wav", _tone(0.5, 8000, 300), 8000)
    rows = [["../../../secret.wav", 1, 0.0, 0.5, 1, 1, 0, "air"]]
    _write_csv(root / "metadata" / "UrbanSound8K.csv", US_HEADER, rows)
    with pytest.raises(DatasetError, match="outside"):
        load_urbansound8k(root)


def test_missing_reaches_the_loader_from_a_notebook_parameter(tmp_path):
    from specnb.runs import TrainingJob

    root = write_esc_tree(tmp_path / "esc")
    (root / "audio" / "2-200-A-1.wav").unlink()
    setting = {"repr": "stft", "sr": 8000, "n_fft": 256}
    strict = TrainingJob(
        "esc50", data_path=root, dataset_options={"missing": "error"}, setting=setting
    )
    assert strict == TrainingJob("esc50", data_path=root, setting=setting)  # the default
    with pytest.raises(DatasetError, match="1 of 6 audio files listed are missing"):
        strict.load_dataset()
    partial = TrainingJob(
        "esc50", data_path=root, dataset_options={"missing": "skip"}, setting=setting
    )
    with pytest.warns(DatasetWarning, match="skipping 1 rows"):
        assert partial.load_dataset().skipped == 1


@pytest.mark.slow
def test_notebook_shows_how_many_clips_a_partial_copy_skips(tmp_path):
    from specnb.sweep.papermill_exec import run_notebook

    root = write_esc_tree(tmp_path / "esc")
    (root / "audio" / "2-200-A-1.wav").unlink()
    (root / "audio" / "2-400-A-2.wav").unlink()
    executed = run_notebook(
        "representations",
        tmp_path / "run",
        {
            "DATASET": "esc50",
            "DATA_PATH": str(root),
            "MISSING": "skip",
            "INTERACTIVE": False,
            "SETTINGS": [{"repr": "stft", "sr": 8000, "n_fft": 256}],
            "MAX_CLASSES": 2,
        },
        timeout=300,
    )
    assert "esc50: 4 clips, 3 classes; 2 listed clips skipped" in executed.read_text()
