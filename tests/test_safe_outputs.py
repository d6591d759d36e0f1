"""What specnb writes and opens stays safe: the feature cache, atomic writes, the report, the
results store, the command lines, sweep names and the tests' own loading of files."""

from __future__ import annotations

import ast
import builtins
import errno
import os
import stat
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from specnb.atomic import atomic_write
from specnb.cache import FeatureCache
from specnb.cli import main as specnb_main
from specnb.report import build_tables, load_paper_results, read_results
from specnb.report.results import open_results_store
from specnb.representations import make_setting
from specnb.store import ResultsStore, StoreError, attack_key, run_key
from specnb.sweep import SweepError, load_sweep
from specnb.sweep.cli import main as sweep_main

REPO = Path(__file__).resolve().parents[1]
STFT = make_setting("stft", n_fft=512)
EVIL = "<img src=x onerror=alert(1)>"


# ----------------------------------------------------------------------- feature cache
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


# ----------------------------------------------------------------------- atomic writes
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


# ----------------------------------------------------------------------- the report
def _store_with(tmp_path: Path, dataset: str) -> ResultsStore:
    store = ResultsStore(tmp_path / "results.sqlite")
    setting = make_setting("stft", n_fft=1024)
    key = run_key(dataset=dataset, setting=setting.to_dict(), model="resnet18", seed=0,
                  protocol={})
    store.upsert_run(key, dataset=dataset, repr=setting.kind, setting_key=setting.key,
                     setting_json=setting.to_dict(), model="resnet18", seed=0, status="done",
                     acc_mean=0.8, acc_std=0.01, n_params=10)
    return store


def test_report_tables_escape_both_axes(tmp_path) -> None:
    _store_with(tmp_path, EVIL)
    pages = [t.styled().to_html() for t in build_tables(read_results(tmp_path),
                                                         load_paper_results()).values()]
    assert sum("&lt;img src=x onerror=alert(1)&gt;" in page for page in pages) >= 1
    assert not any("<img" in page for page in pages)


def test_report_embeds_only_images_under_the_stores_folder(tmp_path) -> None:
    from specnb.report import build_figure

    outside = tmp_path / "elsewhere" / "secret.png"
    outside.parent.mkdir()
    outside.write_bytes(b"\x89PNG not really")
    store = _store_with(tmp_path / "run", "esc10")
    key = store.runs_df()["run_key"].iloc[0]
    for name, path in (("fgsm", str(outside)), ("bim", "../elsewhere/secret.png")):
        store.upsert_attack(attack_key(run_key=key, attack=name, params={}), run_key=key,
                            attack=name, status="done", auc=0.5, budgets_json=[0.1],
                            fooling_rates_json=[0.5], grads_per_sample_json=[1.0],
                            cost_to_fr90=1.0, artefacts_json={"gallery": path})
        gallery = build_figure(6, read_results(tmp_path / "run"))
        assert gallery.images == ()
        assert "outside" in gallery.note and "secret.png" in gallery.note


# ----------------------------------------------------------------------- the results store
def test_reading_a_store_opens_it_read_only(tmp_path) -> None:
    _store_with(tmp_path, "esc10").close()
    before = (tmp_path / "results.sqlite").read_bytes()
    opened = open_results_store(tmp_path)
    assert len(read_results(opened).runs) == 1
    with pytest.raises(StoreError, match="read-only"):
        opened.upsert_run("k", dataset="esc10", status="done")
    opened.close()
    assert (tmp_path / "results.sqlite").read_bytes() == before


def test_a_read_only_store_refuses_a_missing_file(tmp_path) -> None:
    with pytest.raises(StoreError, match="no results store"):
        ResultsStore(tmp_path / "absent.sqlite", read_only=True)
    assert not (tmp_path / "absent.sqlite").exists()


# ----------------------------------------------------------------------- command lines
def test_sweep_command_reports_os_errors_with_exit_2(tmp_path, capsys) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code = sweep_main([str(REPO / "sweeps" / "quick.yaml"), "--out", str(blocker / "out"),
                       "--no-progress"])
    assert code == 2
    assert "specnb sweep: error:" in capsys.readouterr().err


def test_specnb_command_reports_os_errors_with_exit_2(tmp_path, capsys) -> None:
    wav = tmp_path / "tone.wav"
    sf.write(wav, np.sin(np.arange(8000) * 0.1) * 0.1, 8000)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code = specnb_main(["features", str(wav), "--repr", "stft", "--set", "sr=8000",
                        "--out", str(blocker / "x.npy")])
    assert code == 2
    assert "specnb: error:" in capsys.readouterr().err


# ----------------------------------------------------------------------- sweep names
@pytest.mark.parametrize("name", ["/abs/path", "../up", "a/b", ".hidden", "two words"])
def test_sweep_name_must_be_a_plain_folder_name(tmp_path, name: str) -> None:
    text = (REPO / "sweeps" / "quick.yaml").read_text()
    lines = [f"name: {name!r}" if line.startswith("name:") else line
             for line in text.splitlines()]
    path = tmp_path / "s.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SweepError, match="name"):
        load_sweep(path)


# ----------------------------------------------------------------------- the tests themselves
def test_every_torch_load_in_the_project_sets_weights_only() -> None:
    unsafe = []
    for path in sorted([*REPO.glob("tests/**/*.py"), *REPO.glob("specnb/**/*.py")]):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "load"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "torch"):
                flags = {k.arg: k.value for k in node.keywords}
                value = flags.get("weights_only")
                if not (isinstance(value, ast.Constant) and value.value is True):
                    unsafe.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert unsafe == []
