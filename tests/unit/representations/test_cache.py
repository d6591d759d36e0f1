"""Feature cache: layout, keys, atomic writes under SIGKILL, damaged files."""

from __future__ import annotations

import builtins
import errno
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from specnb.atomic import atomic_write
from specnb.representations import make_setting
from specnb.representations.cache import FeatureCache, save_npy_atomic

STFT = make_setting("stft", n_fft=512)
REPO = Path(__file__).resolve().parents[3]


def _array(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(257, 40)).astype(np.float32)


def test_put_get_layout_and_setting_json(tmp_path: Path) -> None:
    cache = FeatureCache(tmp_path)
    assert cache.get("esc10", "1-100032-A-0", STFT) is None
    assert ("esc10", "1-100032-A-0", STFT) not in cache
    data = _array()
    cache.put("esc10", "1-100032-A-0", STFT, data.astype(np.float64))
    folder = tmp_path / "esc10" / f"stft-{STFT.feature_key}"
    assert (folder / "1-100032-A-0.npy").is_file()
    assert json.loads((folder / "setting.json").read_text()) == STFT.feature_dict()
    assert ("esc10", "1-100032-A-0", STFT) in cache
    got = cache.get("esc10", "1-100032-A-0", STFT)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, data)
    assert sorted(p.name for p in folder.iterdir()) == ["1-100032-A-0.npy", "setting.json"]


def test_colormap_shares_entries_but_feature_fields_do_not(tmp_path: Path) -> None:
    cache = FeatureCache(tmp_path)
    cache.put("d", "c", STFT, _array())
    assert ("d", "c", STFT.replace(colormap="hsv-uniform")) in cache
    assert ("d", "c", STFT.replace(n_fft=1024)) not in cache
    assert ("d", "c", make_setting("mel", n_fft=512)) not in cache
    assert ("other", "c", STFT) not in cache


def test_get_or_compute_computes_once(tmp_path: Path) -> None:
    cache = FeatureCache(tmp_path)
    calls = []

    def compute() -> np.ndarray:
        calls.append(1)
        return _array(len(calls))

    first = cache.get_or_compute("d", "c", STFT, compute)
    second = cache.get_or_compute("d", "c", STFT, compute)
    assert len(calls) == 1
    np.testing.assert_array_equal(first, second)


def test_clip_ids_map_to_distinct_files_inside_the_root(tmp_path: Path) -> None:
    cache = FeatureCache(tmp_path / "cache")
    ids = ["a/b", "a_b", "a%2Fb", "..", ".hidden", "x@pitch0.75", "café"]
    for i, clip_id in enumerate(ids):
        cache.put("d", clip_id, STFT, _array(i))
    paths = {cache.path("d", clip_id, STFT) for clip_id in ids}
    assert len(paths) == len(ids)
    folder = cache.folder("d", STFT)
    assert all(p.parent == folder and not p.name.startswith(".") for p in paths)
    for i, clip_id in enumerate(ids):
        np.testing.assert_array_equal(cache.get("d", clip_id, STFT), _array(i))


def test_bad_keys_and_values_are_refused(tmp_path: Path) -> None:
    cache = FeatureCache(tmp_path)
    with pytest.raises(ValueError, match="clip_id"):
        cache.put("d", "", STFT, _array())
    with pytest.raises(ValueError, match="dataset_key"):
        cache.get("", "c", STFT)
    bad = _array()
    bad[3, 3] = np.nan
    with pytest.raises(ValueError, match="non-finite.*'c'"):
        cache.put("d", "c", STFT, bad)
    assert ("d", "c", STFT) not in cache


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_damaged_file_is_a_miss_removed_and_recomputed(tmp_path: Path, damage: str) -> None:
    cache = FeatureCache(tmp_path)
    cache.put("d", "c", STFT, _array())
    path = cache.path("d", "c", STFT)
    blob = path.read_bytes()
    path.write_bytes(
        {"truncate": blob[: len(blob) // 2], "garbage": b"not an npy file", "empty": b""}[damage]
    )
    assert ("d", "c", STFT) not in cache
    assert cache.get("d", "c", STFT) is None
    assert not path.exists()
    path.write_bytes(blob[:-7])
    calls = []
    got = cache.get_or_compute("d", "c", STFT, lambda: calls.append(1) or _array(5))
    assert calls == [1]
    np.testing.assert_array_equal(got, _array(5))
    np.testing.assert_array_equal(cache.get("d", "c", STFT), _array(5))


def _child(code: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )


def test_process_killed_before_rename_leaves_no_readable_file(tmp_path: Path) -> None:
    # The child stops inside the atomic write (data written, before fsync + rename) and is
    # killed there: the deterministic worst case.
    child = _child(
        f"""
        import os, sys, time
        import numpy as np
        from specnb.representations.cache import FeatureCache
        from specnb.representations import make_setting

        def stall(fd):
            print("writing", flush=True)
            time.sleep(60)

        cache = FeatureCache({str(tmp_path)!r})
        setting = make_setting("stft", n_fft=512)
        cache.put("d", "small", setting, np.zeros((4, 4)))
        os.fsync = stall
        cache.put("d", "big", setting, np.ones((1024, 2048), dtype=np.float32))
        """
    )
    try:
        assert child.stdout.readline().strip() == "writing", child.stderr.read()
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        child.kill()
    cache = FeatureCache(tmp_path)
    folder = cache.folder("d", STFT)
    assert not cache.path("d", "big", STFT).exists()
    assert [p.name for p in folder.glob("*.npy")] == ["small.npy"]
    leftovers = [p for p in folder.iterdir() if p.name not in ("setting.json", "small.npy")]
    assert leftovers and all(p.name.startswith(".") and p.suffix == ".tmp" for p in leftovers)
    assert ("d", "big", STFT) not in cache
    assert cache.get("d", "big", STFT) is None


def test_process_killed_at_any_moment_leaves_only_complete_files(tmp_path: Path) -> None:
    child = _child(
        f"""
        import numpy as np
        from specnb.representations.cache import FeatureCache
        from specnb.representations import make_setting

        cache = FeatureCache({str(tmp_path)!r})
        setting = make_setting("stft", n_fft=512)
        big = np.ones((2048, 2048), dtype=np.float32)
        print("start", flush=True)
        for i in range(1000):
            cache.put("d", f"big{{i}}", setting, big)
        """
    )
    try:
        assert child.stdout.readline().strip() == "start", child.stderr.read()
        time.sleep(0.2)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        child.kill()
    cache = FeatureCache(tmp_path)
    entries = list(cache.folder("d", STFT).iterdir())
    assert len(entries) > 1, "the child was killed before it wrote anything"
    for path in cache.folder("d", STFT).glob("*.npy"):
        got = cache.get("d", path.stem, STFT)
        assert got is not None and got.shape == (2048, 2048) and float(got.min()) == 1.0


def test_save_npy_atomic_replaces_whole_files(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "x.npy"
    save_npy_atomic(target, np.zeros(3))
    save_npy_atomic(target, np.arange(5))
    assert np.load(target).tolist() == [0, 1, 2, 3, 4]
    assert [p.name for p in target.parent.iterdir()] == ["x.npy"]


def test_a_passing_os_error_on_reading_keeps_the_cache_file(tmp_path, monkeypatch) -> None:
    cache = FeatureCache(tmp_path)
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    cache.put("d", "c", STFT, data)
    path = cache.path("d", "c", STFT)
    real_open = builtins.open

    def too_many(file, *args, **kwargs):
        if str(file) == str(path):
            raise OSError(errno.EMFILE, "Too many open files", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", too_many)
    with pytest.raises(OSError, match="Too many open files"):
        cache.get("d", "c", STFT)
    monkeypatch.setattr(builtins, "open", real_open)
    assert path.is_file()
    np.testing.assert_array_equal(cache.get("d", "c", STFT), data)


def test_a_format_error_still_removes_the_file(tmp_path) -> None:
    cache = FeatureCache(tmp_path)
    cache.put("d", "c", STFT, np.ones((2, 2), dtype=np.float32))
    path = cache.path("d", "c", STFT)
    path.write_bytes(path.read_bytes()[:-3])
    assert cache.get("d", "c", STFT) is None and not path.exists()


def test_clip_ids_too_long_for_a_file_name_are_hashed(tmp_path) -> None:
    cache = FeatureCache(tmp_path)
    first, second = "x" * 300 + "a", "x" * 300 + "b"
    cache.put("d" * 400, first, STFT, np.zeros((2, 2)))
    cache.put("d" * 400, second, STFT, np.ones((2, 2)))
    paths = {cache.path("d" * 400, clip, STFT) for clip in (first, second)}
    assert len(paths) == 2
    assert all(len(part.encode()) <= 255 for path in paths for part in path.parts)
    np.testing.assert_array_equal(cache.get("d" * 400, second, STFT), np.ones((2, 2)))
    assert cache.path("d", "short", STFT).name == "short.npy"


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_write_honours_the_umask(tmp_path, umask: int, mode: int) -> None:
    old = os.umask(umask)
    try:
        atomic_write(tmp_path / "f.bin", lambda stream: stream.write(b"x"))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f.bin").stat().st_mode) == mode


def test_atomic_write_fsyncs_the_folder_after_the_rename(tmp_path, monkeypatch) -> None:
    synced: list[bool] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    atomic_write(tmp_path / "f.bin", lambda stream: stream.write(b"x"))
    assert synced == [False, True]
