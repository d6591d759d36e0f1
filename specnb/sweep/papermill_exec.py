"""Execute the numbered notebooks headlessly with papermill, one run folder per execution."""

from __future__ import annotations

import json
import logging
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping

__all__ = ["NOTEBOOKS", "NOTEBOOK_DIR", "ipc_kernel_manager", "notebook_path", "quiet_papermill",
           "run_notebook"]

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


def ipc_kernel_manager() -> type:
    """The kernel manager of headless executions: kernels on local IPC sockets.

    Jupyter's default transport is TCP on 127.0.0.1, unencrypted, so every kernel warns
    "Kernel is running over TCP without encryption" (into the sweep's progress bar) and any
    local user could connect. A kernel on IPC sockets (files in the private Jupyter runtime
    folder) is reachable by nothing else and has nothing to warn about.
    """
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import CaselessStrEnum

    class IpcKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

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
    ``out_dir/parameters.json``. Papermill writes to ``.<stem>.partial.ipynb``; on success the
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
        A cell raised.
    """
    import papermill as pm

    source = notebook_path(name)
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    params = {"OUT_DIR": str(out_dir), **dict(parameters or {})}
    (out_dir / "parameters.json").write_text(json.dumps(params, indent=2, default=str))
    partial = out_dir / f".{source.stem}.partial.ipynb"
    try:
        with quiet_papermill():
            pm.execute_notebook(
                str(source), str(partial), parameters=params, cwd=str(out_dir),
                progress_bar=False, execution_timeout=timeout,
                kernel_manager_class=ipc_kernel_manager(),
            )
    except Exception as error:
        if partial.exists():
            failed = out_dir / f"{source.stem}.failed.ipynb"
            os.replace(partial, failed)
            error.failed_notebook = failed  # type: ignore[attr-defined]
        raise
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    final = out_dir / source.name
    os.replace(partial, final)
    return final
