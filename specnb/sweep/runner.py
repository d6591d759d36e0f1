"""Run a sweep: register its points, skip the finished ones, execute the rest on Dask.

Crash safety rests on four rules. A point is claimed in the results store (``running``,
with the claiming process and runner session) before it executes, and marked ``done`` only
after its executed notebook has been renamed into place, so a notebook under its final name
is always complete. One runner at a time works in an output folder (an OS lock released
when the runner dies), so a point another session left ``running`` lost its runner: it is
re-run, unless its worker process still lives on this host (then the runner waits for it),
or its executed notebook is in place (then it finished and is marked ``done``). A point is
``done`` only while its executed notebook exists.

Who writes the results store depends on where the workers run. On one host (the local
cluster, the default) every worker and notebook writes the sweep's store directly. With
point stores (the default with ``scheduler``: workers on other hosts, where SQLite's WAL
cannot be shared) only this driver opens it: it claims each point, seeds the point's own
store ``<run folder>/point.sqlite`` with the sweep's results, hands the notebook that path
as ``STORE``, and, once the executed notebook is in place, merges the rows the point wrote
and marks it done in one transaction. A kill before that commit leaves the point
``running`` with its notebook in place; the next runner merges it then, and as merging is an
upsert by key, nothing is lost or written twice.

Points go to Dask one per free worker thread, in the order of their priorities
(:func:`~specnb.sweep.grid.point_priorities`): handed every ready point at once, Dask assigns
them to workers up front (each point is a task group of its own, which its queuing leaves
out), and a point queued behind a long one on a busy worker waited while another worker
idled (4 of 23 minutes of one of the ESC-10 study's two workers).
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specnb.errors import UnitCostsError
from specnb.store import ResultsStore
from specnb.store.point_stores import remove_store_files, seed_point_store

from .cluster import connect, cuda_devices, default_workers
from .cost_registry import projection_costs
from .grid import Point, expand, point_priorities
from .papermill_exec import PointResult, PointTask, execute_point
from .spec import SweepError, SweepSpec, load_sweep
from .state import RunnerLock, WorkerId, new_session, stale_owner, stop_here
from .summary import PointOutcome, SweepSummary, dry_run_summary
from .validate import check_points

if TYPE_CHECKING:
    from distributed.security import Security

__all__ = ["POINT_STORE_NAME", "STORE_NAME", "default_out", "run_sweep"]

#: File name of the shared results database in a sweep's output folder.
STORE_NAME = "results.sqlite"

#: File name of a point's own results store in its run folder (with point stores).
POINT_STORE_NAME = "point.sqlite"

_POLL_SECONDS = 0.2
_BUSY_POLL_SECONDS = 2.0


def default_out(spec: SweepSpec) -> Path:
    """Output folder of a sweep when none is given: ``runs/sweeps/<name>``."""
    return Path("runs") / "sweeps" / spec.name


def run_sweep(
    path: str | Path,
    *,
    out: str | Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    retry_failed: bool = False,
    dry_run: bool = False,
    progress: bool = True,
    point_stores: bool | None = None,
    security: Security | None = None,
    dashboard: int | None = None,
    device: str | None = None,
    unit_costs: str | Path | None = None,
) -> SweepSummary:
    """Execute every point of a sweep file not done yet; resumable after any crash.

    Parameters
    ----------
    path : str or Path
        The sweep file (YAML, see :mod:`specnb.sweep.spec`).
    out : str or Path, optional
        Output folder: ``<out>/<step>/<point key>/`` run folders, ``<out>/results.sqlite``
        and ``<out>/cache/``. Default: :func:`default_out`.
    workers : int, optional
        Workers of the local cluster (default: :func:`~specnb.sweep.cluster.default_workers`); with
        ``scheduler``, only the number the dry-run estimate divides by.
    scheduler : str, optional
        Address of an existing Dask scheduler to run on instead.
    retry_failed : bool
        Rerun failed points (otherwise they are reported and their dependants skipped).
    dry_run : bool
        List the points with their status and the projected cost; execute nothing.
    progress : bool
        Show a progress bar over the grid points.
    point_stores : bool, optional
        Each point writes its rows into a store of its own, merged into the sweep's by this
        process alone (see the module's notes). Default: with ``scheduler`` only.
    security : distributed.security.Security, optional
        TLS credentials for ``scheduler`` (:func:`~specnb.sweep.cluster.tls_security`).
        Default: Dask's configuration.
    dashboard : int, optional
        Serve the local cluster's dashboard on this port of 127.0.0.1. Default: none.
    device : {"auto", "cpu", "cuda"}, optional
        Dry run: the device whose unit costs it projects from (default the sweep's
        ``DEVICE``; see :func:`specnb.sweep.cost_registry.projection_costs`).
    unit_costs : str or Path, optional
        Dry run: a unit costs file to project from instead.

    Returns
    -------
    SweepSummary
        One outcome per point.

    Raises
    ------
    SweepError
        An invalid sweep file, a point whose setting, model, dataset or attacks no notebook
        could use (checked for every point before anything runs, dry runs included), or
        another runner working in ``out``.

    Examples
    --------
    >>> from pathlib import Path
    >>> quick = Path(__file__).parents[2] / "sweeps" / "quick.yaml"
    >>> summary = run_sweep(quick, out="/tmp/quick-doctest", dry_run=True)
    >>> summary.dry_run, len(summary.points) > 0
    (True, True)
    """
    spec = load_sweep(path)
    points = expand(spec)
    check_points(spec, points)
    out = Path(out if out is not None else default_out(spec)).resolve()
    if dry_run:
        if workers is None:
            workers = 1 if scheduler is not None else default_workers(cuda_devices())
        try:
            costs, note = projection_costs(device, spec.defaults, unit_costs)
        except UnitCostsError as error:
            raise SweepError(str(error)) from error
        return dry_run_summary(spec.name, points, out, out / STORE_NAME, workers, costs, note)
    session = new_session()
    with RunnerLock(out, session):
        store = ResultsStore(out / STORE_NAME)
        merge = scheduler is not None if point_stores is None else point_stores
        run = _Run(spec, points, out, store, session, retry_failed, progress, merge)
        return run.execute(scheduler, workers, security=security, dashboard=dashboard)


class _Run:
    """One runner session over the points of a sweep."""

    def __init__(
        self,
        spec: SweepSpec,
        points: list[Point],
        out: Path,
        store: ResultsStore,
        session: str,
        retry_failed: bool,
        progress: bool,
        point_stores: bool,
    ) -> None:
        from tqdm.auto import tqdm

        self.spec, self.points, self.out, self.store = spec, points, out, store
        self.session, self.retry_failed = session, retry_failed
        self.point_stores = point_stores
        self.by_key = {p.key: p for p in points}
        self.outcomes: dict[str, PointOutcome] = {}
        self.waiting: dict[str, Point] = {}
        self.busy: dict[str, Point] = {}
        self.queued: list[Point] = []
        self.active: dict[Any, Point] = {}
        self.slots, self.slots_read = 1, -float("inf")
        self.declared = {step.name: step.declared for step in spec.steps}
        self.bar = tqdm(total=len(points), desc=spec.name, unit="point", disable=not progress)

    # ------------------------------------------------------------------ bookkeeping
    def _finish(self, point: Point, status: str, **fields: Any) -> None:
        self.outcomes[point.key] = PointOutcome(
            point.step, point.key, point.notebook.name, point.params, status, **fields
        )
        self.bar.update(1)
        failures = sum(o.status in ("failed", "skipped") for o in self.outcomes.values())
        if failures:
            self.bar.set_postfix(not_done=failures)
        if status == "failed" and fields.get("ran"):
            self.bar.write(f"failed: {point.step}/{point.key}: {fields.get('error')}")

    def _reconcile(self) -> None:
        """Sort every point into done, failed, busy or waiting, repairing stale states."""
        for point in self.points:
            row = self.store.get_point(point.key) or {"status": "pending"}
            final = point.executed_notebook(self.out)
            status = row["status"]
            if status == "running" and stale_owner(row, self.session):
                status = "done" if final.is_file() else "pending"
                if status == "done":
                    self._record_done(point)
                else:
                    self.store.mark_point(point.key, status, notebook_path=None)
            if status == "done" and final.is_file():
                self._finish(point, "done", notebook_path=str(final))
            elif status == "done":
                self.store.mark_point(point.key, "pending", notebook_path=None)
                self.waiting[point.key] = point
            elif status == "failed" and not self.retry_failed:
                self._finish(
                    point, "failed", error=row.get("error"), notebook_path=row.get("notebook_path")
                )
            elif status == "running":
                self.busy[point.key] = point
            else:
                self.waiting[point.key] = point

    def _ready(self) -> list[Point]:
        """Waiting points whose dependencies are done; those with a lost dependency skip."""
        ready = []
        for key, point in list(self.waiting.items()):
            states = [self.outcomes.get(k) for k in point.after]
            lost = [
                (k, s.status)
                for k, s in zip(point.after, states)
                if s is not None and s.status != "done"
            ]
            if lost:
                dep, status = lost[0]
                reason = f"dependency {self.by_key[dep].step}/{dep} is {status}"
                del self.waiting[key]
                self.store.mark_point(key, "pending", error=f"skipped: {reason}")
                self._finish(point, "skipped", error=reason)
            elif all(s is not None for s in states):
                del self.waiting[key]
                ready.append(point)
        return ready

    # ------------------------------------------------------------------ execution
    def execute(
        self,
        scheduler: str | None,
        workers: int | None,
        *,
        security: Security | None = None,
        dashboard: int | None = None,
    ) -> SweepSummary:
        """Run the points left until every point has an outcome."""
        for step in self.spec.steps:
            params = {p.key: p.params for p in self.points if p.step == step.name}
            self.store.add_points(self.spec.name, step.notebook.name, params)
        self._reconcile()
        priorities = point_priorities(self.spec, self.points)
        last_busy_poll = 0.0
        with self.bar, ExitStack() as stack:
            client = None
            while self.waiting or self.queued or self.active or self.busy:
                ready = self._ready()
                if ready and client is None:
                    client = stack.enter_context(
                        connect(scheduler, workers, security=security, dashboard=dashboard)
                    )
                self.queued = sorted(self.queued + ready, key=lambda p: -priorities[p.key])
                while self.queued and len(self.active) < self._slots(client):
                    point = self.queued.pop(0)
                    self._submit(client, point, priorities[point.key])
                finished = [f for f in self.active if f.done()]
                for future in finished:
                    self._collect(future, self.active.pop(future))
                if self.busy and time.monotonic() - last_busy_poll > _BUSY_POLL_SECONDS:
                    last_busy_poll = time.monotonic()
                    self._poll_busy()
                if not finished:
                    time.sleep(_POLL_SECONDS)
        outcomes = tuple(self.outcomes[p.key] for p in self.points)
        return SweepSummary(self.spec.name, self.out, outcomes)

    def _slots(self, client: Any) -> int:
        """The cluster's worker threads (at least one), read at most every
        :data:`_BUSY_POLL_SECONDS`: workers may join or leave a scheduler."""
        if time.monotonic() - self.slots_read > _BUSY_POLL_SECONDS:
            self.slots_read = time.monotonic()
            self.slots = max(1, sum(client.nthreads().values()))
        return self.slots

    def _submit(self, client: Any, point: Point, priority: int) -> None:
        """Hand ``point`` to a worker; with point stores, claim it here first."""
        if self.point_stores:
            me = str(WorkerId.here(self.session))
            if not self.store.claim_point(point.key, worker=me):
                self.busy[point.key] = point
                return
        future = client.submit(
            execute_point,
            self._task(point),
            key=f"{point.key}-{self.session}",
            pure=False,
            priority=priority,
        )
        self.active[future] = point

    def _task(self, point: Point) -> PointTask:
        """The point's task; with point stores, its own store is seeded first."""
        run_dir = point.run_dir(self.out)
        point_store = run_dir / POINT_STORE_NAME
        store = point_store if self.point_stores else self.out / STORE_NAME
        offered = {
            "OUT_DIR": str(run_dir),
            "STORE": str(store),
            "CACHE_DIR": str(self.out / "cache"),
        }
        declared = self.declared[point.step]
        params = {**point.params, **{k: v for k, v in offered.items() if k in declared}}
        if "CACHE_DIR" in params:
            Path(params["CACHE_DIR"]).mkdir(parents=True, exist_ok=True)
        if self.point_stores and "STORE" in params:
            seed_point_store(self.store, point_store)
        else:
            remove_store_files(point_store)  # an earlier run's, never to be merged again
        return PointTask(
            key=point.key,
            notebook=point.notebook,
            params=params,
            run_dir=run_dir,
            store=None if self.point_stores else self.out / STORE_NAME,
            session=self.session,
            timeout=self.spec.cell_timeout,
        )

    def _record_done(self, point: Point, **fields: Any) -> None:
        """Mark a point whose executed notebook is in place done, merging its store first."""
        self.store.merge_point(
            point.key,
            "done",
            point.run_dir(self.out) / POINT_STORE_NAME,
            before_commit=lambda: stop_here("merge"),
            notebook_path=str(point.executed_notebook(self.out)),
            **fields,
        )

    def _collect(self, future: Any, point: Point) -> None:
        try:
            result: PointResult = future.result()
        except Exception as error:  # the worker died or the task could not run
            message = f"{type(error).__name__}: {error}"
            self.store.mark_point(point.key, "failed", error=message)
            self._finish(point, "failed", ran=True, error=message)
            return
        if result.status == "busy":
            self.busy[point.key] = point
            return
        if self.point_stores and result.status == "done":
            self._record_done(point, error=None, worker=result.worker)
        elif self.point_stores:
            self.store.merge_point(
                point.key,
                result.status,
                point.run_dir(self.out) / POINT_STORE_NAME,
                error=result.error,
                notebook_path=result.notebook_path,
                worker=result.worker,
            )
        self._finish(
            point,
            result.status,
            ran=True,
            error=result.error,
            notebook_path=result.notebook_path,
            seconds=result.seconds,
        )

    def _poll_busy(self) -> None:
        """Follow points held by live processes of an earlier runner until they settle."""
        for key, point in list(self.busy.items()):
            row = self.store.get_point(key) or {"status": "pending"}
            final = point.executed_notebook(self.out)
            if row["status"] == "running" and not stale_owner(row, self.session):
                continue
            del self.busy[key]
            if row["status"] == "failed":
                self._finish(
                    point, "failed", error=row.get("error"), notebook_path=row.get("notebook_path")
                )
            elif final.is_file() and row["status"] in ("done", "running"):
                self._record_done(point)
                self._finish(point, "done", notebook_path=str(final))
            else:
                self.store.mark_point(key, "pending")
                self.waiting[key] = point
