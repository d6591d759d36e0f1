"""Running sweeps: crash-safety pieces, execution on Dask, failed and dependent points,
resuming after kill -9, and the command's exit codes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import nbformat
import pytest
from sweep_files import REPO, write

from specnb.store import ResultsStore
from specnb.sweep import SweepError, expand, load_sweep, main, run_sweep
from specnb.sweep.cluster import local_cluster
from specnb.sweep.estimate import estimate, measured_timings
from specnb.sweep.state import RunnerLock, WorkerId, stale_owner


@pytest.fixture(scope="module")
def on_cluster():
    """``run_sweep`` arguments for a LocalCluster of two single-thread worker processes,
    shared by tests, whose notebooks write the sweep's store directly."""
    from distributed import Client

    with local_cluster(workers=2, devices=[]) as cluster, Client(cluster) as client:
        client.wait_for_workers(2, timeout=120)
        yield {
            "scheduler": cluster.scheduler_address,
            "security": cluster.security,
            "point_stores": False,
        }


def marker_counts(marker: Path) -> Counter:
    lines = marker.read_text().split("\n") if marker.exists() else []
    return Counter(line.split()[0] for line in lines if line)


# --------------------------------------------------------------------- crash-safety pieces
def test_stale_running_points_are_recognised():
    here, me = socket.gethostname(), os.getpid()
    before = (datetime.now(timezone.utc) + timedelta(seconds=5)).isoformat()
    long_ago = "2000-01-01T00:00:00+00:00"
    alive = {"worker": f"{here}/{me}/old", "started_at": before}
    assert not stale_owner(alive, "new")  # a live orphan is left alone
    assert stale_owner({**alive, "started_at": long_ago}, "new")  # pid reused since the claim
    assert stale_owner({"worker": f"{here}/999999999/old", "started_at": before}, "new")
    assert stale_owner({"worker": f"elsewhere/{me}/old", "started_at": before}, "new")
    assert stale_owner({"worker": f"elsewhere/{me}/new", "started_at": before}, "new")
    assert stale_owner({**alive, "worker": f"{here}/{me}/new"}, "new")  # Dask re-ran the task
    assert stale_owner({"worker": None, "started_at": None}, "new")
    assert WorkerId.parse(str(WorkerId.here("s1"))) == WorkerId(here, me, "s1")


def test_one_runner_per_output_folder(tmp_path):
    with RunnerLock(tmp_path, "first"):
        with pytest.raises(SweepError, match="another sweep runner .*first"):
            with RunnerLock(tmp_path, "second"):
                pass
    with RunnerLock(tmp_path, "third"):
        pass


def test_estimate_projects_measured_timings(tmp_path):
    store = ResultsStore(tmp_path)
    store.add_points("s", "a.ipynb", {"k1": {}, "k2": {}})
    for key in ("k1", "k2"):
        store.mark_point(key, "running")
        time.sleep(0.05)
        store.mark_point(key, "done")
    timings = measured_timings(store)
    count, mean = timings["a.ipynb"]
    assert count == 2 and 0.04 < mean < 5
    from specnb.sweep import Point

    grid = [Point("s", f"p{i}", Path(nb), {}) for i, nb in enumerate(["a.ipynb"] * 3 + ["b.ipynb"])]
    cost = estimate(grid, {"p0": "done"}, timings, workers=2)
    assert cost.total_seconds == pytest.approx(2 * mean)
    measured, unknown = cost.steps
    assert (measured.notebook, measured.points, measured.to_run) == ("a.ipynb", 3, 2)
    assert (unknown.notebook, unknown.source, unknown.unestimated) == ("b.ipynb", "none", 1)
    text = str(cost)
    assert (
        "measured in this store (mean of 2)" in text
        and "no estimate" in text
        and "on 2 worker(s)" in text
    )


def test_local_cluster_pins_one_cuda_device_per_worker_and_serves_a_dashboard_if_asked():
    import urllib.request

    from distributed import Client

    with (
        local_cluster(workers=3, devices=["4", "7"], dashboard=0) as cluster,
        Client(cluster) as client,
    ):
        client.wait_for_workers(3, timeout=120)
        seen = client.run(lambda: os.environ.get("CUDA_VISIBLE_DEVICES"))
        threads = client.nthreads()
        link = cluster.dashboard_link
        assert link.startswith("http://127.0.0.1:") and not link.startswith("http://127.0.0.1:0/")
        no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with no_proxy.open(link, timeout=20) as page:
            assert page.status == 200
    assert sorted(seen.values()) == ["4", "4", "7"]
    assert set(threads.values()) == {1}


# --------------------------------------------------------------------- running sweeps
def test_dependants_run_after_their_dependencies_and_skip_when_they_fail(
    tmp_path, notebooks, on_cluster
):
    marker = tmp_path / "marker.log"
    sweep = write(
        tmp_path / "chain.yaml",
        f"""
name: chain
notebook_dir: {notebooks}
defaults: {{MARKER: {marker}}}
steps:
  - name: train
    notebook: marker.ipynb
    points: [{{GROUP: 1, LABEL: train1, SLEEP: 1.5}}, {{GROUP: 2, LABEL: train2, FAIL: true}}]
  - name: attack
    notebook: marker.ipynb
    product: {{GROUP: [1, 2]}}
    parameters: {{LABEL: attack}}
    after: train
    match: [GROUP]
  - name: report
    notebook: marker.ipynb
    parameters: {{LABEL: report}}
    after: attack
""",
    )
    out = tmp_path / "out"
    dry = run_sweep(sweep, out=out, dry_run=True, workers=2)
    assert dry.counts() == {"pending": 5} and not marker.exists() and not out.exists()
    assert "no estimate" in dry.report()

    summary = run_sweep(sweep, out=out, **on_cluster, progress=False)
    status = {(p.step, p.params.get("GROUP", 0)): p for p in summary.points}
    assert status["train", 1].status == "done" and status["attack", 1].status == "done"
    assert status["train", 2].status == "failed"
    assert "ValueError: impossible point train2" in status["train", 2].error
    assert Path(status["train", 2].notebook_path).name == "marker.failed.ipynb"
    assert status["attack", 2].status == "skipped" and "train/" in status["attack", 2].error
    assert status["report", 0].status == "skipped" and "attack/" in status["report", 0].error
    lines = marker.read_text().split()
    assert lines.index("attack") > lines.index("train1")  # order followed
    assert marker_counts(marker) == {"train1": 1, "train2": 1, "attack": 1}

    store = ResultsStore(out / "results.sqlite")
    failed = store.get_point(status["train", 2].key)
    assert failed["status"] == "failed" and "impossible point" in failed["error"]
    assert Path(failed["notebook_path"]).is_file()
    done = status["train", 1]
    run_dir = out / "train" / done.key
    assert store.get_point(done.key)["notebook_path"] == str(run_dir / "marker.ipynb")
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "kernel.log",
        "marker.ipynb",
        "parameters.json",
        "result.txt",
    ]
    given = json.loads((run_dir / "result.txt").read_text())
    assert given == {"STORE": str(out / "results.sqlite"), "CACHE_DIR": str(out / "cache")}

    # a second run executes nothing: done points stay done, failed ones are reported
    again = run_sweep(sweep, out=out, **on_cluster, progress=False)
    assert again.executed == 0 and again.counts() == summary.counts()
    assert "--retry-failed" in again.report()
    assert marker_counts(marker) == {"train1": 1, "train2": 1, "attack": 1}
    retried = run_sweep(sweep, out=out, **on_cluster, retry_failed=True, progress=False)
    assert retried.executed == 1 and marker_counts(marker)["train2"] == 2
    dry = run_sweep(sweep, out=out, dry_run=True, workers=2)
    steps = {s.step: (s.points, s.to_run, s.source) for s in dry.estimate.steps}
    assert steps == {
        "train": (2, 1, "measured"),
        "attack": (2, 1, "measured"),
        "report": (1, 1, "measured"),
    }
    assert "measured in this store" in dry.report()


@pytest.mark.parametrize("point_stores", [False, True])
def test_stale_running_points_are_rerun_or_recovered(tmp_path, notebooks, on_cluster, point_stores):
    marker = tmp_path / "marker.log"
    sweep = write(
        tmp_path / "stale.yaml",
        f"""
name: stale
notebook_dir: {notebooks}
defaults: {{MARKER: {marker}}}
steps:
  - {{name: s, notebook: marker.ipynb, product: {{LABEL: [lost, finished, fresh]}}}}
""",
    )
    out = tmp_path / "out"
    lost, finished, fresh = expand(load_sweep(sweep))
    store = ResultsStore(out / "results.sqlite")
    dead = f"{socket.gethostname()}/999999999/crashed"
    for point in (lost, finished):
        store.add_points("stale", "marker.ipynb", {point.key: point.params})
        store.mark_point(point.key, "running", worker=dead)
    half = lost.run_dir(out)
    half.mkdir(parents=True)
    (half / ".marker.partial.ipynb").write_text("{}")  # killed mid-execution
    (half / "checkpoint.pt").write_text("epoch 3")  # what it had saved
    finished.run_dir(out).mkdir(parents=True)  # killed before marked done
    (finished.executed_notebook(out)).write_text("{}")

    options = {**on_cluster, "point_stores": point_stores}
    summary = run_sweep(sweep, out=out, **options, progress=False)
    assert summary.ok and summary.executed == 2
    assert marker_counts(marker) == {"lost": 1, "fresh": 1}
    assert not (half / ".marker.partial.ipynb").exists()
    assert (half / "checkpoint.pt").read_text() == "epoch 3"  # kept, so it can resume
    given = json.loads((half / "result.txt").read_text())["STORE"]
    assert given == str(half / "point.sqlite" if point_stores else out / "results.sqlite")
    assert store.get_point(finished.key)["status"] == "done"
    assert store.get_point(lost.key)["attempts"] == 2


@pytest.mark.slow
def test_sweep_of_notebook_01_with_a_failing_point(tmp_path, on_cluster):
    sweep = write(
        tmp_path / "nb01.yaml",
        """
name: nb01
defaults: {DATASET: synthetic, DATA_SEED: 0, DATA_PATH: null}
steps:
  - name: representations
    notebook: representations
    parameters: {INTERACTIVE: false, MAX_CLASSES: 1, CLIPS_PER_CLASS: 1}
    points:
      - {SETTINGS: [{repr: mfcc, sr: 8000, n_mfcc: 13}]}
      - {SETTINGS: [{repr: stft, sr: 8000, n_fft: 256}]}
      - {SETTINGS: [{repr: mfcc, sr: 8000, n_mfcc: 20}], DATASET: esc10, DATA_PATH: /nonexistent}
""",
    )
    out = tmp_path / "out"
    summary = run_sweep(sweep, out=out, **on_cluster, progress=False)
    good, other, bad = summary.points
    assert (good.status, other.status, bad.status) == ("done", "done", "failed")
    assert "DatasetError" in bad.error and "/nonexistent" in bad.error
    failed_nb = nbformat.read(bad.notebook_path, as_version=4)
    assert any(
        o.get("ename") == "DatasetError" for c in failed_nb.cells for o in c.get("outputs", [])
    )
    for point in (good, other):
        run_dir = out / "representations" / point.key
        assert (run_dir / "feature_statistics.csv").is_file()
        executed = nbformat.read(run_dir / "01_representations.ipynb", as_version=4)
        injected = next(
            c.source for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])
        )
        assert "MAX_CLASSES = 1" in injected and f'OUT_DIR = "{run_dir}"' in injected
        assert "STORE" not in injected and "CACHE_DIR" not in injected  # not declared by 01
    rows = ResultsStore(out / "results.sqlite").points_df(sweep="nb01")
    assert sorted(rows["status"]) == ["done", "done", "failed"]
    assert set(rows["attempts"]) == {1}


def test_kill9_mid_sweep_then_resume_runs_each_finished_point_once(tmp_path, notebooks, on_cluster):
    import psutil

    marker = tmp_path / "marker.log"
    labels = [f"p{i}" for i in range(4)]
    sweep = write(
        tmp_path / "kill.yaml",
        f"""
name: kill
notebook_dir: {notebooks}
defaults: {{MARKER: {marker}, SLEEP: 1.0}}
steps:
  - {{name: s, notebook: marker.ipynb, product: {{LABEL: {labels}}}}}
""",
    )
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "specnb",
        "sweep",
        str(sweep),
        "--workers",
        "2",
        "--out",
        str(out),
        "--no-progress",
    ]
    runner = subprocess.Popen(
        command,
        cwd=tmp_path,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 150
    done_before: set[str] = set()
    try:
        while time.monotonic() < deadline and runner.poll() is None:
            if (out / "results.sqlite").is_file():
                rows = ResultsStore(out / "results.sqlite").points_df()
                if not rows.empty:
                    by_status = rows.groupby("status")["params_json"].agg(list)
                    if "done" in by_status and "running" in by_status:
                        done_before = {p["LABEL"] for p in by_status["done"]}
                        break
            time.sleep(0.2)
    finally:
        os.killpg(runner.pid, signal.SIGKILL)
        runner.wait()
    assert done_before, "the sweep never had a point done and another running"
    kernels = [int(line.split()[1]) for line in marker.read_text().split("\n") if line]
    gone, alive = psutil.wait_procs([p for p in map(_process, kernels) if p], timeout=15)
    assert not alive, "orphaned kernels kept running after their worker died"
    rows = ResultsStore(out / "results.sqlite").points_df()
    assert "running" in set(rows["status"])  # left behind by the kill

    rerun = run_sweep(sweep, out=out, **on_cluster, progress=False)  # a new session
    assert rerun.ok and rerun.executed <= len(labels) - len(done_before)
    rows = ResultsStore(out / "results.sqlite").points_df(sweep="kill")
    assert list(rows["status"]) == ["done"] * len(labels)
    counts = marker_counts(marker)
    assert set(counts) == set(labels)
    assert all(counts[label] == 1 for label in done_before)
    assert all(counts[label] <= 2 for label in labels)
    for point in rows.itertuples():
        assert Path(point.notebook_path).is_file()
        assert not list(Path(point.notebook_path).parent.glob(".*partial*"))


def _process(pid: int):
    import psutil

    try:
        return psutil.Process(pid)
    except psutil.NoSuchProcess:
        return None


def test_sweep_command_reports_os_errors_with_exit_2(tmp_path, capsys) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code = main(
        [str(REPO / "sweeps" / "quick.yaml"), "--out", str(blocker / "out"), "--no-progress"]
    )
    assert code == 2
    assert "specnb sweep: error:" in capsys.readouterr().err


def test_cpu_workers_default_to_one_per_core_and_share_the_cores_out(monkeypatch):
    from distributed import Client

    from specnb.sweep import cluster as cluster_module

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(cluster_module.os, "cpu_count", lambda: 8)
    assert cluster_module.default_workers([]) == cluster_module.CPU_WORKERS_MAX == 4
    assert cluster_module.default_workers(["0", "1", "2"]) == 3
    assert cluster_module.cpu_thread_env(3) == {"OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"}
    assert cluster_module.cpu_thread_env(16)["OMP_NUM_THREADS"] == "1"
    with local_cluster(workers=2, devices=[]) as cluster, Client(cluster) as client:
        client.wait_for_workers(2, timeout=120)
        seen = client.run(lambda: os.environ.get("OMP_NUM_THREADS"))
    assert sorted(seen.values()) == ["4", "4"]
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert cluster_module.cpu_thread_env(2)["MKL_NUM_THREADS"] == "3"
