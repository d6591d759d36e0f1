"""Sweeps across hosts and the safety of their Dask clusters: point stores merged by the
driver alone (idempotently, through kill -9), workers refused the sweep's store, TLS, and no
HTTP server unless the dashboard is asked for."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import dask
import nbformat
import psutil
import pytest

from specnb.store import ResultsStore, StoreError
from specnb.store.database import REFUSED_STORES_VARIABLE
from specnb.store.point_stores import seed_point_store
from specnb.sweep import expand, load_sweep, main, run_sweep
from specnb.sweep.cluster import connect, local_cluster, tls_security
from specnb.sweep.state import STOP_VARIABLE

ROWS_PARAMETERS = """\
LABEL = "a"         # names the rows this point writes
GROUP = 0
READS = []          # run keys this point reads from STORE (its dependencies' rows)
OUT_DIR = "."
STORE = None
"""

ROWS_BODY = """\
import os
from specnb.store import ResultsStore
with open("marker.log", "a") as fh:
    fh.write(f"{LABEL} {os.getpid()}\\n")
store = ResultsStore(STORE)
read = [store.get_run(key) for key in READS]
assert all(row is not None and row["status"] == "done" for row in read), READS
run = f"run-{LABEL}"
store.upsert_run(run, dataset="synthetic", model=LABEL, seed=GROUP, status="done",
                 fold_accs_json=[GROUP, sum(row["seed"] for row in read)])
store.upsert_attack(f"attack-{LABEL}", run_key=run, attack="fgsm", status="done", auc=0.5)
if READS:
    store.upsert_transfer(f"transfer-{LABEL}", source_run_key=READS[0],
                          target_run_key=READS[-1], attack="fgsm", ratio=0.25)
"""

SWEEP = """
name: nodes
notebook_dir: {notebooks}
steps:
  - name: train
    notebook: rows.ipynb
    points: [{{LABEL: a, GROUP: 1}}, {{LABEL: b, GROUP: 2}}]
  - name: report
    notebook: rows.ipynb
    parameters: {{LABEL: r, READS: [run-a, run-b]}}
    after: train
"""


@pytest.fixture
def sweep(tmp_path: Path, write_notebook) -> Path:
    """A sweep of three ``rows.ipynb`` points: two write a run each, the third reads both."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    write_notebook(folder / "rows.ipynb", ROWS_PARAMETERS, ROWS_BODY)
    path = tmp_path / "nodes.yaml"
    path.write_text(SWEEP.format(notebooks=folder), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def cluster():
    """The sweep's own LocalCluster (two workers), shared by the tests of this file."""
    from distributed import Client

    with local_cluster(workers=2, devices=[]) as cluster, Client(cluster) as client:
        client.wait_for_workers(2, timeout=120)
        yield cluster


def stored_rows(path: Path) -> dict[str, list]:
    """Every row of the store but its time stamps, worker and paths, table by table."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        tables: dict[str, list] = {}
        for table in ("runs", "attacks", "transfers", "sweep_points"):
            cursor = conn.execute(f"SELECT * FROM {table} ORDER BY 1")
            names = [d[0] for d in cursor.description]
            skip = {
                "created_at",
                "updated_at",
                "started_at",
                "finished_at",
                "worker",
                "notebook_path",
            }
            tables[table] = [{n: v for n, v in zip(names, row) if n not in skip} for row in cursor]
    return tables


# --------------------------------------------------------------------- the stores
def test_a_store_the_refusal_variable_names_is_not_opened(tmp_path, monkeypatch):
    main_store = tmp_path / "sweep" / "results.sqlite"
    monkeypatch.setenv(REFUSED_STORES_VARIABLE, f"/elsewhere.sqlite{os.pathsep}{main_store}")
    for given in (main_store, tmp_path / "sweep" / ".." / "sweep" / "results.sqlite"):
        with pytest.raises(StoreError, match=f"{REFUSED_STORES_VARIABLE} names it"):
            ResultsStore(given)
    assert not main_store.parent.exists()  # refused before anything is made
    ResultsStore(tmp_path / "sweep" / "train" / "point.sqlite").upsert_run("r", model="m")


def test_merging_a_point_store_twice_leaves_the_rows_of_merging_once(tmp_path):
    store = ResultsStore(tmp_path / "results.sqlite")
    store.upsert_run("r0", model="seeded", acc_mean=0.1)
    store.add_points("s", "rows.ipynb", {"k": {}})
    store.claim_point("k", worker="driver")
    point_path = seed_point_store(store, tmp_path / "k" / "point.sqlite")
    store.upsert_run("r0", acc_mean=0.2)  # another point merged since
    point = ResultsStore(point_path)
    assert point.get_run("r0")["acc_mean"] == 0.1 and point.points_df().empty
    point.upsert_run("r1", model="new", acc_mean=0.5)
    point.upsert_attack("a1", run_key="r1", attack="fgsm", auc=0.4)
    point.upsert_transfer("t1", source_run_key="r0", target_run_key="r1", attack="fgsm")
    point.close()

    def interrupted() -> None:
        raise KeyboardInterrupt("killed mid-merge")

    with pytest.raises(KeyboardInterrupt):
        store.merge_point("k", "done", point_path, before_commit=interrupted)
    assert store.get_run("r1") is None and store.get_point("k")["status"] == "running"

    assert store.merge_point("k", "done", point_path, notebook_path="nb") == 3
    once = stored_rows(store.path)
    assert store.merge_point("k", "done", point_path, notebook_path="nb") == 3
    assert stored_rows(store.path) == once
    assert store.get_run("r0")["acc_mean"] == 0.2  # untouched by the point: kept
    assert store.get_run("r1")["acc_mean"] == 0.5 and store.get_attack("a1")["auc"] == 0.4
    assert len(store.runs_df()) == 2 and len(store.transfers_df()) == 1
    assert store.get_point("k")["status"] == "done"

    ResultsStore(point_path).upsert_run("r0", acc_mean=0.3)  # changed by the point: merged
    store.merge_point("k", "done", point_path)
    assert store.get_run("r0")["acc_mean"] == 0.3
    assert store.merge_point("k", "failed", tmp_path / "none.sqlite", error="x") == 0
    assert store.get_point("k")["status"] == "failed"


# --------------------------------------------------------------------- TLS, no HTTP
def test_local_cluster_speaks_tls_only_and_serves_no_http(cluster):
    from distributed import Client
    from distributed.security import Security

    address = cluster.scheduler_address
    assert address.startswith("tls://127.0.0.1:")
    for other, security in [
        (address.replace("tls://", "tcp://"), None),
        (address, None),
        (address, Security.temporary()),
    ]:
        with pytest.raises((OSError, TypeError)):
            Client(other, timeout="5s", security=security)
    with Client(cluster) as client:
        info = client.scheduler_info()
        pids = {os.getpid(), *client.run(os.getpid).values()}
    comm = {int(address.rsplit(":", 1)[1])}
    for worker, details in info["workers"].items():
        comm |= {int(worker.rsplit(":", 1)[1]), int(details["nanny"].rsplit(":", 1)[1])}
        assert worker.startswith("tls://127.0.0.1:")
    listening = {
        c.laddr.port
        for c in psutil.net_connections("tcp")
        if c.status == psutil.CONN_LISTEN and c.pid in pids
    }
    assert listening == comm  # no dashboard, no metrics pages


def test_tls_options_are_checked_and_a_tls_scheduler_needs_them(tmp_path, sweep, cluster, capsys):
    base = [str(sweep), "--out", str(tmp_path / "out"), "--no-progress"]
    assert (
        main(base + ["--scheduler", "tls://127.0.0.1:1", "--tls-cert", str(tmp_path / "none.pem")])
        == 2
    )
    assert "--tls-cert: no such file" in capsys.readouterr().err
    key = tmp_path / "key.pem"
    key.write_text("not used")
    assert main(base + ["--scheduler", "tls://127.0.0.1:1", "--tls-key", str(key)]) == 2
    assert "without --tls-ca-file and --tls-cert" in capsys.readouterr().err
    assert main(base + ["--scheduler", cluster.scheduler_address]) == 2
    assert (
        f"cannot reach the Dask scheduler at {cluster.scheduler_address}" in capsys.readouterr().err
    )
    assert main(base + ["--scheduler", "tcp://127.0.0.1:1", "--dry-run"]) == 0
    assert "plain tcp://" in capsys.readouterr().err
    pair = cluster.security  # Dask's own settings instead
    with dask.config.set(
        {
            "distributed.comm.tls.ca-file": pair.tls_ca_file,
            "distributed.comm.tls.client.cert": pair.tls_client_cert,
            "distributed.comm.tls.client.key": pair.tls_client_key,
        }
    ):
        with connect(cluster.scheduler_address) as client:
            assert client.scheduler_info()["address"] == cluster.scheduler_address


# --------------------------------------------------------------------- many nodes
def _start(command: list[str], log: Path, **env: str) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **env},
        )


def _wait(condition, seconds: float, what: str, process=None) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if process is not None and process.poll() is not None:
            pytest.fail(f"{what}: the process ended with {process.returncode}")
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {seconds} s")
        time.sleep(0.2)


def test_workers_refused_the_store_complete_a_sweep_through_kill9_mid_merge(
    tmp_path, sweep, cluster
):
    from distributed import Client
    from distributed.security import Security

    pair = Security.temporary()  # one certificate for every role
    files = {
        "--tls-ca-file": ("ca.pem", pair.tls_ca_file),
        "--tls-cert": ("cert.pem", pair.tls_client_cert),
        "--tls-key": ("key.pem", pair.tls_client_key),
    }
    tls = []
    for option, (name, text) in files.items():
        (tmp_path / name).write_text(text)
        tls += [option, str(tmp_path / name)]
    out = tmp_path / "out"
    dask = [sys.executable, "-m", "dask"]
    info = tmp_path / "scheduler.json"
    quiet = ["--no-dashboard", "--dashboard-address", "127.0.0.1:0"]
    processes = [
        _start(
            dask
            + [
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--protocol",
                "tls",
                "--scheduler-file",
                str(info),
                *quiet,
                *tls,
            ],
            tmp_path / "scheduler.log",
        )
    ]
    try:
        _wait(info.is_file, 60, "the scheduler file", processes[0])
        for i in range(2):
            processes.append(
                _start(
                    dask
                    + [
                        "worker",
                        "--scheduler-file",
                        str(info),
                        "--nthreads",
                        "1",
                        "--no-nanny",
                        "--host",
                        "127.0.0.1",
                        *quiet,
                        *tls,
                    ],
                    tmp_path / f"worker{i}.log",
                    **{REFUSED_STORES_VARIABLE: str(out / "results.sqlite")},
                )
            )
        address = json.loads(info.read_text())["address"]
        security = tls_security(*tls[1::2])
        with Client(address, security=security, timeout="30s") as client:
            client.wait_for_workers(2, timeout=120)
            with pytest.raises(StoreError, match=REFUSED_STORES_VARIABLE):
                client.submit(ResultsStore, out / "results.sqlite", pure=False).result()
        driver = [
            sys.executable,
            "-m",
            "specnb",
            "sweep",
            str(sweep),
            "--scheduler",
            address,
            "--out",
            str(out),
            "--no-progress",
            *tls,
        ]

        first = _start(driver, tmp_path / "driver1.log", **{STOP_VARIABLE: "merge"})
        stopped = lambda: psutil.Process(first.pid).status() == psutil.STATUS_STOPPED  # noqa: E731
        _wait(stopped, 180, "the driver stopping mid-merge", first)
        with sqlite3.connect(f"file:{out / 'results.sqlite'}?mode=ro", uri=True) as conn:
            assert conn.execute("SELECT count(*) FROM runs").fetchone() == (0,)
        train = [p for p in expand(load_sweep(sweep)) if p.step == "train"]
        _wait(
            lambda: all(p.executed_notebook(out).is_file() for p in train),
            120,
            "both training notebooks in place",
        )
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        left = ResultsStore(out / "results.sqlite")
        assert left.runs_df().empty
        assert list(left.points_df(sweep="nodes")["status"]) == ["running", "running", "pending"]

        second = subprocess.run(driver, capture_output=True, text=True, timeout=180)
        assert second.returncode == 0, second.stdout + second.stderr
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    reference = run_sweep(
        sweep,
        out=tmp_path / "reference",
        progress=False,
        point_stores=False,
        scheduler=cluster.scheduler_address,
        security=cluster.security,
    )
    assert reference.ok
    rows = stored_rows(out / "results.sqlite")
    assert rows == stored_rows(tmp_path / "reference" / "results.sqlite")
    assert [len(rows[t]) for t in ("runs", "attacks", "transfers")] == [3, 3, 1]
    assert {r["run_key"]: r["fold_accs_json"] for r in rows["runs"]}["run-r"] == "[0, 3]"
    labels = Counter(
        line.split()[0] for log in out.rglob("marker.log") for line in log.read_text().splitlines()
    )
    assert labels == {"a": 1, "b": 1, "r": 1}  # nothing ran twice
    report = next(p for p in expand(load_sweep(sweep)) if p.step == "report")
    executed = nbformat.read(report.executed_notebook(out), as_version=4)
    injected = next(
        c.source for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])
    )
    assert f'STORE = "{report.run_dir(out) / "point.sqlite"}"' in injected
