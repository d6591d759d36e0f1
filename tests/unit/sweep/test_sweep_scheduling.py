"""The runner hands Dask one point per free worker thread, in priority order: a point never
waits behind a long one on a busy worker while another worker idles."""

from __future__ import annotations

from contextlib import contextmanager

from sweep_files import write

import specnb.sweep.runner as runner_module
from specnb.sweep import run_sweep
from specnb.sweep.papermill_exec import PointResult


class _Future:
    def __init__(self, task, polls: int) -> None:
        self.task, self.polls = task, polls

    def done(self) -> bool:
        self.polls -= 1
        return self.polls < 0

    def result(self) -> PointResult:
        return PointResult(self.task.key, "done", None, None, 0.0, "fake/1/s")


class _Client:
    """Two worker threads; a point labelled ``long`` runs for many polls, others for one."""

    def __init__(self) -> None:
        self.submitted: list[str] = []
        self.most_in_flight = 0
        self.in_flight: list[_Future] = []

    def nthreads(self) -> dict[str, int]:
        return {"tcp://a": 1, "tcp://b": 1}

    def submit(self, function, task, **options) -> _Future:
        self.submitted.append(task.params["LABEL"])
        future = _Future(task, 40 if task.params["LABEL"] == "long" else 1)
        self.in_flight = [f for f in self.in_flight if f.polls >= 0] + [future]
        self.most_in_flight = max(self.most_in_flight, len(self.in_flight))
        return future


def test_points_go_to_free_workers_one_at_a_time_in_priority_order(
    tmp_path, notebooks, monkeypatch
):
    client = _Client()

    @contextmanager
    def connect(*args, **kwargs):
        yield client

    monkeypatch.setattr(runner_module, "connect", connect)
    monkeypatch.setattr(runner_module, "_POLL_SECONDS", 0.0)
    labels = ["long"] + [f"short{i}" for i in range(5)]
    sweep = write(
        tmp_path / "queue.yaml",
        f"""
name: queue
notebook_dir: {notebooks}
steps:
  - name: work
    notebook: marker.ipynb
    points: [{", ".join(f"{{LABEL: {label}}}" for label in labels)}]
""",
    )
    summary = run_sweep(sweep, out=tmp_path / "out", workers=2, progress=False)
    assert summary.counts() == {"done": 6}
    # declared order, never more points in flight than worker threads: the five short points
    # went through one thread while the long one held the other
    assert client.submitted == labels
    assert client.most_in_flight == 2
