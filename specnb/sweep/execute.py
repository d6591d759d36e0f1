"""One grid point on a Dask worker: claim it, execute its notebook atomically, record it."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from specnb.store import ResultsStore
from specnb.sweep.papermill_exec import run_notebook

from .state import WorkerId, stale_owner

__all__ = ["PointResult", "PointTask", "execute_notebook_atomically", "execute_point"]


@dataclass(frozen=True)
class PointTask:
    """Everything a worker needs to execute one point (picklable).

    Attributes
    ----------
    key : str
        The point key (row of ``sweep_points``).
    notebook : Path
        The notebook to execute.
    params : mapping
        Its parameters, those the runner fills included.
    run_dir : Path
        The point's run folder (the notebook's working directory).
    store : Path or None
        The results database the worker claims and records the point in; None when the
        sweep's driver does both (a sweep across hosts: the worker never opens it).
    session : str
        The submitting runner's session id.
    timeout : int or None
        Per-cell timeout in seconds.
    """

    key: str
    notebook: Path
    params: Mapping[str, Any]
    run_dir: Path
    store: Path | None
    session: str
    timeout: int | None = None


@dataclass(frozen=True)
class PointResult:
    """What became of one point on its worker.

    Attributes
    ----------
    key : str
        The point key.
    status : {"done", "failed", "busy"}
        ``busy``: another process holds the point, nothing was executed.
    error : str or None
        Why it failed.
    notebook_path : str or None
        The executed notebook (the partly executed one for a failure).
    seconds : float
        Wall time of the execution.
    worker : str
        The executing process (``host/pid/session``).
    """

    key: str
    status: str
    error: str | None
    notebook_path: str | None
    seconds: float
    worker: str


def execute_notebook_atomically(
    notebook: Path, run_dir: Path, params: Mapping[str, Any], *, timeout: int | None = None
) -> Path:
    """Execute ``notebook`` in ``run_dir``; the executed copy appears only when done.

    An earlier attempt's partial or failed notebook is removed, but the rest of the run
    folder is kept, so a retried training point resumes from its checkpoints instead of
    starting over (the chain's notebooks are written to resume). Papermill writes to
    ``.<stem>.partial.ipynb``; on success that file is synced and
    renamed to ``<run_dir>/<notebook name>`` in one step, so a notebook under its final name
    is always a complete execution. On failure it becomes ``<stem>.failed.ipynb``.

    Parameters
    ----------
    notebook : Path
        Source notebook.
    run_dir : Path
        Run folder (kept across attempts).
    params : mapping
        Values for the ``parameters`` cell; also written to ``parameters.json``.
    timeout : int, optional
        Per-cell timeout in seconds.

    Returns
    -------
    Path
        The executed notebook.

    Raises
    ------
    papermill.PapermillExecutionError
        A cell raised; the exception carries ``failed_notebook`` (attribute added here).
    """
    for stale in (f".{notebook.stem}.partial.ipynb", f"{notebook.stem}.failed.ipynb"):
        (run_dir / stale).unlink(missing_ok=True)
    return run_notebook(notebook, run_dir, params, timeout=timeout)


def execute_point(task: PointTask) -> PointResult:
    """Claim, execute and record one point (the function each Dask task runs).

    The point is claimed in the store (``running``, with this process's
    :class:`~specnb.sweep.state.WorkerId`) before anything runs, and marked ``done`` only
    after its executed notebook is in place; a failing notebook marks it ``failed`` with
    the error and the failed notebook's path. A point another live process holds is left
    alone (``busy``). Without a store (``task.store`` None) the point is only executed:
    the driver claimed it and records the outcome returned.

    Parameters
    ----------
    task : PointTask
        The point.

    Returns
    -------
    PointResult
        Its outcome.
    """
    me = str(WorkerId.here(task.session))
    store = ResultsStore(task.store) if task.store is not None else None
    if store is not None and not _claim(store, task.key, me, task.session):
        row = store.get_point(task.key) or {}
        return PointResult(task.key, "busy", None, row.get("notebook_path"), 0.0, me)
    start = time.perf_counter()
    try:
        executed = execute_notebook_atomically(
            task.notebook, task.run_dir, task.params, timeout=task.timeout
        )
    except Exception as error:
        message = _describe(error)
        failed = getattr(error, "failed_notebook", None)
        path = str(failed) if failed is not None else None
        if store is not None:
            store.mark_point(task.key, "failed", error=message, notebook_path=path, worker=me)
        return PointResult(task.key, "failed", message, path, time.perf_counter() - start, me)
    if store is not None:
        store.mark_point(task.key, "done", notebook_path=str(executed), error=None, worker=me)
    return PointResult(task.key, "done", None, str(executed), time.perf_counter() - start, me)


def _claim(store: ResultsStore, key: str, me: str, session: str) -> bool:
    """Claim ``key``; a point left ``running`` by a dead worker is retaken."""
    if store.claim_point(key, worker=me):
        return True
    row = store.get_point(key)
    if row is None or row["status"] != "running" or not stale_owner(row, session):
        return False
    store.mark_point(key, "pending")
    return store.claim_point(key, worker=me)


def _describe(error: Exception) -> str:
    """One line for a failure: the notebook's exception, or the execution error."""
    ename = getattr(error, "ename", None)
    if ename is not None:
        cell = getattr(error, "cell_index", None)
        where = f"cell {cell}: " if cell is not None else ""
        return f"{where}{ename}: {getattr(error, 'evalue', '')}"
    return f"{type(error).__name__}: {error}"
