"""The results store: round trips, idempotent upserts, concurrent writers, migrations."""

from __future__ import annotations

import multiprocessing as mp
import pickle
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from specnb.report.results import open_results_store
from specnb.store import (
    MIGRATIONS,
    SCHEMA_VERSION,
    ResultsStore,
    StoreError,
    attack_key,
    run_key,
    stable_key,
    transfer_key,
)
from specnb.store import database as database_module

N_WRITERS = 4
ROWS_PER_WRITER = 40


def _key(model: str = "resnet18", seed: int = 0) -> str:
    return run_key(
        dataset="esc10",
        setting={"repr": "stft", "n_fft": 1024, "sr": 22050},
        model=model,
        seed=seed,
        protocol={"epochs": 30, "n_folds": 5},
    )


@pytest.fixture()
def store(tmp_path: Path) -> ResultsStore:
    return ResultsStore(tmp_path)


def test_keys_are_stable_and_discriminating() -> None:
    assert stable_key({"a": 1, "b": {"x": [1, 2]}}) == stable_key({"b": {"x": [1, 2]}, "a": 1})
    assert stable_key({"a": np.int64(3)}) == stable_key({"a": 3})
    assert _key() != _key(seed=1) != _key(model="alexnet")
    params = {"norm": "linf", "budgets": [0.01, 0.02]}
    assert attack_key(run_key=_key(), attack="fgsm", params=params) != attack_key(
        run_key=_key(), attack="fgsm", params=params, fold=0
    )
    a = transfer_key(source_run_key="s", target_run_key="t", attack="fgsm", params={})
    b = transfer_key(source_run_key="t", target_run_key="s", attack="fgsm", params={})
    assert a != b and len(a) == 16


def test_folder_path_gives_wal_file_at_current_schema(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "run")
    assert store.path == tmp_path / "run"  # a missing path is the file itself
    folder_store = ResultsStore(tmp_path)
    assert folder_store.path == tmp_path / "results.sqlite"
    for s in (store, folder_store):
        assert s.journal_mode == "wal"
        with sqlite3.connect(s.path) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert s.schema_version == SCHEMA_VERSION


def test_run_round_trip_decodes_json_and_keeps_types(store: ResultsStore) -> None:
    key = _key()
    curves = {"dev_acc": np.array([0.5, 0.75])}
    store.upsert_run(
        key,
        dataset="esc10",
        repr="stft",
        setting_json={"repr": "stft", "n_fft": 1024},
        model="resnet18",
        seed=np.int64(3),
        status="done",
        acc_mean=np.float32(0.75),
        fold_accs_json=np.array([0.5, 1.0]),
        epochs_json=[3, 4],
        checkpoint_path=Path("/runs/x"),
        artefacts_json={"curves": curves},
    )
    row = store.get_run(key)
    assert row is not None
    assert row["setting_json"] == {"repr": "stft", "n_fft": 1024}
    assert row["fold_accs_json"] == [0.5, 1.0]
    assert row["artefacts_json"] == {"curves": {"dev_acc": [0.5, 0.75]}}
    assert row["seed"] == 3 and isinstance(row["seed"], int)
    assert row["acc_mean"] == pytest.approx(0.75)
    assert row["checkpoint_path"] == "/runs/x"
    assert store.get_run("absent") is None


def test_upsert_is_idempotent_and_updates_only_given_columns(store: ResultsStore) -> None:
    key = _key()
    store.upsert_run(key, dataset="esc10", status="running")
    first = store.get_run(key)
    store.upsert_run(key, dataset="esc10", status="running")
    store.upsert_run(key, status="done", acc_mean=0.9)
    frame = store.runs_df()
    assert len(frame) == 1
    row = store.get_run(key)
    assert row["dataset"] == "esc10" and row["status"] == "done" and row["acc_mean"] == 0.9
    assert row["created_at"] == first["created_at"]
    assert row["updated_at"] > first["updated_at"]


def test_dataframes_have_the_schema_columns_and_filters(store: ResultsStore) -> None:
    runs = store.runs_df()
    assert runs.empty
    for column in (
        "run_key",
        "dataset",
        "repr",
        "setting_key",
        "setting_json",
        "model",
        "seed",
        "protocol_json",
        "status",
        "acc_mean",
        "acc_std",
        "fold_accs_json",
        "n_params",
        "epochs_json",
        "train_seconds",
        "checkpoint_path",
        "artefacts_json",
        "error",
        "created_at",
        "updated_at",
    ):
        assert column in runs.columns
    for column in (
        "attack_key",
        "run_key",
        "attack",
        "norm",
        "targeted",
        "budgets_json",
        "fooling_rates_json",
        "auc",
        "cost_to_fr90",
        "grads_per_sample_json",
        "l0_mean",
        "l2_mean",
        "linf_mean",
        "n_samples",
        "seconds",
        "status",
    ):
        assert column in store.attacks_df().columns
    for column in ("source_run_key", "target_run_key", "attack", "ratio", "n_fooling_source"):
        assert column in store.transfers_df().columns
    for column in (
        "point_key",
        "sweep",
        "notebook",
        "params_json",
        "status",
        "error",
        "notebook_path",
        "started_at",
        "finished_at",
        "attempts",
    ):
        assert column in store.points_df().columns

    store.upsert_run(_key(), model="resnet18", status="done", acc_mean=0.8, n_params=11)
    store.upsert_run(_key(seed=1), model="resnet18", status="failed", error="boom")
    done = store.runs_df(status="done")
    assert list(done["run_key"]) == [_key()]
    assert done["acc_mean"].dtype == np.float64
    assert str(store.runs_df()["n_params"].dtype) == "Int64"
    assert pd.isna(store.runs_df()["acc_mean"]).sum() == 1
    with pytest.raises(StoreError, match="no column 'colour'"):
        store.runs_df(colour="red")


def test_attacks_and_transfers_refer_to_stored_runs(store: ResultsStore) -> None:
    source, target = _key(), _key(model="alexnet")
    key = attack_key(run_key=source, attack="fgsm", params={"norm": "linf"})
    with pytest.raises(StoreError, match="not in the store"):
        store.upsert_attack(key, run_key=source, attack="fgsm")
    store.upsert_run(source, status="done")
    store.upsert_run(target, status="done")
    store.upsert_attack(
        key,
        run_key=source,
        attack="fgsm",
        norm="linf",
        targeted=True,
        budgets_json=[0.0, 0.5, 1.0],
        fooling_rates_json=[0.0, 0.6, 0.95],
        auc=0.55,
        n_samples=20,
        status="done",
    )
    row = store.get_attack(key)
    assert row["targeted"] == 1 and row["fooling_rates_json"] == [0.0, 0.6, 0.95]
    assert list(store.attacks_df(run_key=source)["attack_key"]) == [key]
    assert store.attacks_df(run_key=target).empty

    tkey = transfer_key(source_run_key=source, target_run_key=target, attack="fgsm", params={})
    store.upsert_transfer(
        tkey,
        source_run_key=source,
        target_run_key=target,
        attack="fgsm",
        ratio=0.4,
        n_fooling_source=10,
        n_fooling_both=4,
        status="done",
    )
    store.upsert_transfer(tkey, ratio=0.5)
    frame = store.transfers_df()
    assert len(frame) == 1 and frame.loc[0, "ratio"] == 0.5
    assert frame.loc[0, "n_fooling_source"] == 10


def test_bad_writes_name_the_column(store: ResultsStore) -> None:
    key = _key()
    with pytest.raises(StoreError, match="no writable column 'acc'"):
        store.upsert_run(key, acc=0.5)
    with pytest.raises(StoreError, match="status='finished'"):
        store.upsert_run(key, status="finished")
    with pytest.raises(StoreError, match="runs.acc_mean takes a number"):
        store.upsert_run(key, acc_mean=[0.5])
    with pytest.raises(StoreError, match="runs.epochs_json"):
        store.upsert_run(key, epochs_json={1, 2})
    with pytest.raises(StoreError, match="created_at"):
        store.upsert_run(key, created_at="yesterday")
    with pytest.raises(StoreError, match="run_key must be a non-empty string"):
        store.upsert_run("", status="done")
    assert store.runs_df().empty


def test_sweep_point_life_cycle(store: ResultsStore) -> None:
    points = {"p0": {"n_fft": 512}, "p1": {"n_fft": 1024}}
    assert store.add_points("grid", "02_training.ipynb", points) == 2
    assert store.add_points("grid", "02_training.ipynb", points) == 0
    assert store.claim_point("p0", worker="w1")
    assert not store.claim_point("p0", worker="w2")  # already running elsewhere
    store.mark_point("p0", "failed", error="CUDA out of memory")
    failed = store.get_point("p0")
    assert failed["finished_at"] is not None and failed["error"] == "CUDA out of memory"
    assert store.claim_point("p0")  # a failed point may be retried
    store.mark_point("p0", "done", notebook_path="runs/p0.ipynb", run_key=_key())
    done = store.get_point("p0")
    assert done["attempts"] == 2 and done["status"] == "done" and done["error"] is None
    assert done["params_json"] == {"n_fft": 512}
    assert not store.claim_point("p0")
    store.mark_point("p2", "running", sweep="grid", params_json={"n_fft": 2048})
    assert store.get_point("p2")["attempts"] == 1
    frame = store.points_df(sweep="grid")
    assert dict(zip(frame["point_key"], frame["status"])) == {
        "p0": "done",
        "p1": "pending",
        "p2": "running",
    }
    with pytest.raises(StoreError, match="attempts is set by mark_point"):
        store.mark_point("p1", "done", attempts=3)


def _writer(path: str, worker: int, barrier) -> None:
    store = ResultsStore(path, timeout=0.001)  # tiny busy timeout: retries must absorb locks
    barrier.wait(timeout=60)
    for i in range(ROWS_PER_WRITER):
        key = f"w{worker}-{i}"
        store.upsert_run(key, model=f"m{worker}", seed=i, status="running")
        store.upsert_run(key, status="done", acc_mean=i / ROWS_PER_WRITER)
        store.mark_point(key, "done", sweep="concurrent", run_key=key)


def test_concurrent_processes_lose_no_row(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(N_WRITERS)
    workers = [ctx.Process(target=_writer, args=(str(path), w, barrier)) for w in range(N_WRITERS)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(60)
    assert [p.exitcode for p in workers] == [0] * N_WRITERS
    store = ResultsStore(path)
    runs = store.runs_df()
    assert len(runs) == N_WRITERS * ROWS_PER_WRITER
    assert set(runs["status"]) == {"done"}
    expected = {
        f"w{w}-{i}": i / ROWS_PER_WRITER for w in range(N_WRITERS) for i in range(ROWS_PER_WRITER)
    }
    assert dict(zip(runs["run_key"], runs["acc_mean"])) == expected
    assert len(store.points_df(sweep="concurrent", status="done")) == N_WRITERS * ROWS_PER_WRITER


def test_threads_sharing_one_store_lose_no_row(store: ResultsStore) -> None:
    def write(worker: int) -> None:
        for i in range(ROWS_PER_WRITER):
            store.upsert_run(f"t{worker}-{i}", status="done", seed=i)

    with ThreadPoolExecutor(N_WRITERS) as pool:
        list(pool.map(write, range(N_WRITERS)))
    assert len(store.runs_df(status="done")) == N_WRITERS * ROWS_PER_WRITER


def _write_one(store: ResultsStore) -> None:
    store.upsert_run("from-child", status="done")


def test_store_pickles_and_forks_for_workers(store: ResultsStore) -> None:
    store.upsert_run(_key(), status="done")  # the parent's connection is open now
    clone = pickle.loads(pickle.dumps(store))
    assert clone.get_run(_key())["status"] == "done"
    child = mp.get_context("fork").Process(target=_write_one, args=(store,))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    assert store.get_run("from-child")["status"] == "done"
    store.upsert_run(_key(), status="failed")  # the parent's connection still works
    assert clone.get_run(_key())["status"] == "failed"


def test_migration_hook_upgrades_and_refuses_newer_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "results.sqlite"
    ResultsStore(path).upsert_run(_key(), status="done", acc_mean=0.7)

    def add_notes(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE runs ADD COLUMN notes TEXT")

    monkeypatch.setattr(database_module, "MIGRATIONS", [*MIGRATIONS, add_notes])
    upgraded = ResultsStore(path)
    assert upgraded.schema_version == SCHEMA_VERSION + 1
    upgraded.upsert_run(_key(), notes="kept")
    row = upgraded.get_run(_key())
    assert row["notes"] == "kept" and row["acc_mean"] == 0.7

    monkeypatch.setattr(database_module, "MIGRATIONS", list(MIGRATIONS))
    with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 1}"):
        ResultsStore(path)


def test_unusable_paths_are_named(tmp_path: Path) -> None:
    bogus = tmp_path / "not-a-db.sqlite"
    bogus.write_bytes(b"this is not an sqlite file" * 100)
    with pytest.raises(StoreError, match="not-a-db.sqlite"):
        ResultsStore(bogus)


def test_reading_a_store_opens_it_read_only(tmp_path) -> None:
    writer = ResultsStore(tmp_path / "results.sqlite")
    writer.upsert_run("a-run", dataset="esc10", status="done", acc_mean=0.8)
    writer.close()
    before = (tmp_path / "results.sqlite").read_bytes()
    opened = open_results_store(tmp_path)
    assert opened.get_run("a-run")["acc_mean"] == 0.8
    with pytest.raises(StoreError, match="read-only"):
        opened.upsert_run("k", dataset="esc10", status="done")
    opened.close()
    assert (tmp_path / "results.sqlite").read_bytes() == before


def test_a_read_only_store_refuses_a_missing_file(tmp_path) -> None:
    with pytest.raises(StoreError, match="no results store"):
        ResultsStore(tmp_path / "absent.sqlite", read_only=True)
    assert not (tmp_path / "absent.sqlite").exists()


def test_version_one_targeted_rows_move_to_the_target_columns(tmp_path: Path) -> None:
    """A version-1 file stored target hits as the fooling rate of targeted attacks; opening
    it keeps them as target hits and leaves misclassification unmeasured."""
    path = tmp_path / "results.sqlite"
    conn = sqlite3.connect(path)
    MIGRATIONS[0](conn)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    conn.execute("INSERT INTO schema_version VALUES (1)")
    stamp = "2026-01-01T00:00:00"
    conn.execute(
        "INSERT INTO runs (run_key, status, created_at, updated_at) VALUES ('r', 'done', ?, ?)",
        (stamp, stamp),
    )
    for key, targeted in (("t", 1), ("u", 0)):
        conn.execute(
            "INSERT INTO attacks (attack_key, run_key, attack, targeted, fooling_rates_json, "
            "auc, cost_to_fr90, status, created_at, updated_at) "
            "VALUES (?, 'r', 'cw', ?, '[0.25, 0.5]', 0.4, 12.0, 'done', ?, ?)",
            (key, targeted, stamp, stamp),
        )
    conn.commit()
    conn.close()
    store = ResultsStore(path)
    assert store.schema_version == SCHEMA_VERSION
    targeted, untargeted = store.get_attack("t"), store.get_attack("u")
    assert targeted["target_rates_json"] == [0.25, 0.5] and targeted["target_auc"] == 0.4
    assert targeted["fooling_rates_json"] is None and targeted["auc"] is None
    assert targeted["cost_to_fr90"] is None
    assert untargeted["fooling_rates_json"] == [0.25, 0.5] and untargeted["auc"] == 0.4
    assert untargeted["target_rates_json"] is None and untargeted["target_auc"] is None
    assert store.attacks_df()["target_auc"].isna().tolist() == [False, True]
