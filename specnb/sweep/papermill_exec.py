"""Papermill execution: the notebooks of the chain, one atomic execution, one sweep point.

:func:`run_notebook` is the one path by which a notebook is executed (by the sweep's workers,
the main job and the tests); :func:`execute_point` is what a Dask task runs for a grid point.
"""

from __future__ import annotations

import json
import logging
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from specnb.store import ResultsStore

from .state import WorkerId, stale_owner

__all__ = [
    "NOTEBOOKS",
    "NOTEBOOK_DIR",
    "PointResult",
    "PointTask",
    "execute_point",
    "KERNEL_LOG",
    "ipc_kernel_manager",
    "notebook_path",
    "quiet_papermill",
    "run_notebook",
]

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"

#: The chain, by short name.
NOTEBOOKS = {
    "representations": "01_representations.ipynb",
    "training": "02_training.ipynb",
    "attacks": "03_attacks.ipynb",
    "transferability": "04_transferability.ipynb",
    "colour_maps": "05_colour_maps.ipynb",
    "raw_audio": "06_raw_audio.ipynb",
    "architectures": "07_architectures.ipynb",
    "report": "08_report.ipynb",
}


def notebook_path(name: str | Path, notebook_dir: Path | None = None) -> Path:
    """The notebook file for a short name of the chain, a file name, or a path.

    Parameters
    ----------
    name : str or Path
        A short name (``"representations"``, see :data:`NOTEBOOKS`), the file name of a
        notebook in ``notebook_dir`` (``"01_representations.ipynb"``), or a path to one.
    notebook_dir : Path, optional
        Folder of the notebooks; by default the repository's ``notebooks/``.

    Raises
    ------
    LookupError
        When no such notebook exists; the message lists the short names.

    Examples
    --------
    >>> notebook_path("representations").name
    '01_representations.ipynb'
    """
    if isinstance(name, Path) and name.is_file():
        return name
    folder = Path(notebook_dir) if notebook_dir is not None else NOTEBOOK_DIR
    file = NOTEBOOKS.get(str(name), str(name))
    path = folder / file
    if file.endswith(".ipynb") and path.is_file():
        return path
    if name in NOTEBOOKS:
        raise LookupError(f"notebook {name!r} is not written yet (no {path})")
    raise LookupError(
        f"unknown notebook {name!r}: neither a short name ({', '.join(NOTEBOOKS)}) nor a "
        f".ipynb file in {folder}"
    )


#: The kernel's own messages (its stderr), in the run folder of the notebook it executes.
KERNEL_LOG = "kernel.log"


def ipc_kernel_manager() -> type:
    """The kernel manager of headless executions: kernels on local IPC sockets, their stderr
    in the run folder.

    Jupyter's default transport is TCP on 127.0.0.1, unencrypted, so every kernel warns
    "Kernel is running over TCP without encryption" (into the sweep's progress bar) and any
    local user could connect. A kernel on IPC sockets (files in the private Jupyter runtime
    folder) is reachable by nothing else and has nothing to warn about. What a kernel writes
    to its stderr (the "KeyboardInterrupt caught in kernel" of a shutdown, a crash) goes to
    :data:`KERNEL_LOG` in its working directory, the run folder, not into the progress bar.
    """
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import CaselessStrEnum

    class IpcKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            if "stderr" in kw:
                return await super()._async_launch_kernel(kernel_cmd, **kw)
            log = Path(kw.get("cwd") or ".") / KERNEL_LOG
            with open(log, "ab") as handle:
                kw["stderr"] = handle
                await super()._async_launch_kernel(kernel_cmd, **kw)

    return IpcKernelManager


@contextmanager
def quiet_papermill() -> Iterator[None]:
    """Silence papermill's warnings about lines of a ``parameters`` cell it cannot read.

    Its line reader skips assignments whose comment holds an ``=`` sign, then warns about
    them and calls them unknown parameters although the cell assigns them.
    """
    logger = logging.getLogger("papermill")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def run_notebook(
    name: str | Path,
    out_dir: Path,
    parameters: Mapping[str, Any] | None = None,
    *,
    timeout: int | None = None,
) -> Path:
    """Execute a notebook with ``parameters``; its executed copy appears in ``out_dir`` only
    when the execution is complete.

    The notebook runs with ``out_dir`` as its working directory and ``OUT_DIR`` set to it, so
    every artefact it writes lands in the run folder; the parameters are also written to
    ``out_dir/parameters.json``. An earlier attempt's partial or failed notebook is removed,
    the rest of the folder kept, so a retried training point resumes from its checkpoints.
    Papermill writes to ``.<stem>.partial.ipynb``; on success the
    file is synced and renamed to ``<out_dir>/<notebook name>`` in one step, so a notebook
    under its final name is always a complete execution. On failure it becomes
    ``<stem>.failed.ipynb`` and the raised error carries its path as ``failed_notebook``.

    Parameters
    ----------
    name : str or Path
        Short name (``"representations"``), file name, or path of the notebook.
    out_dir : Path
        Run folder, created if needed.
    parameters : mapping
        Values for the notebook's ``parameters`` cell (upper-case names).
    timeout : int, optional
        Per-cell timeout in seconds.

    Returns
    -------
    Path
        The executed notebook.

    Raises
    ------
    papermill.PapermillExecutionError
        A cell raised; the exception carries ``failed_notebook`` (the failed copy's path).
    """
    import papermill as pm

    source = notebook_path(name)
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    params = {"OUT_DIR": str(out_dir), **dict(parameters or {})}
    (out_dir / "parameters.json").write_text(json.dumps(params, indent=2, default=str))
    partial = out_dir / f".{source.stem}.partial.ipynb"
    failed = out_dir / f"{source.stem}.failed.ipynb"
    partial.unlink(missing_ok=True)
    failed.unlink(missing_ok=True)
    try:
        with quiet_papermill():
            pm.execute_notebook(
                str(source),
                str(partial),
                parameters=params,
                cwd=str(out_dir),
                progress_bar=False,
                execution_timeout=timeout,
                kernel_manager_class=ipc_kernel_manager(),
            )
    except Exception as error:
        if partial.exists():
            os.replace(partial, failed)
            error.failed_notebook = failed  # type: ignore[attr-defined]
        raise
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    final = out_dir / source.name
    os.replace(partial, final)
    return final


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
        executed = run_notebook(task.notebook, task.run_dir, task.params, timeout=task.timeout)
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
