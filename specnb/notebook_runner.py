"""Execute the numbered notebooks headlessly with papermill, one run folder per execution."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

__all__ = ["NOTEBOOKS", "notebook_path", "run_notebook"]

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"

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


def notebook_path(name: str) -> Path:
    """Path of a chain notebook given its short name or file name."""
    file = NOTEBOOKS.get(name, name)
    path = NOTEBOOK_DIR / file
    if not path.is_file():
        raise FileNotFoundError(f"no notebook {name!r} (looked for {path})")
    return path


def run_notebook(
    name: str,
    out_dir: Path,
    parameters: Mapping[str, Any] | None = None,
    *,
    kernel_name: str | None = None,
    timeout: int | None = None,
) -> Path:
    """Execute a chain notebook with ``parameters`` and save the executed copy in ``out_dir``.

    The notebook runs with ``out_dir`` as its working directory and ``OUT_DIR`` set to it, so
    every artefact it writes lands in the run folder. The parameters are also written to
    ``out_dir/parameters.json``.

    Parameters
    ----------
    name : str
        Short name (``"representations"``) or file name of the notebook.
    out_dir : Path
        Run folder, created if needed.
    parameters : mapping
        Values for the notebook's ``parameters`` cell (upper-case names).
    kernel_name : str, optional
        Jupyter kernel; by default the notebook's own (the ``python3`` of this environment).
    timeout : int, optional
        Per-cell timeout in seconds.

    Returns
    -------
    Path
        The executed notebook.
    """
    import papermill as pm

    source = notebook_path(name)
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    params = {"OUT_DIR": str(out_dir), **dict(parameters or {})}
    (out_dir / "parameters.json").write_text(json.dumps(params, indent=2, default=str))
    executed = out_dir / source.name
    pm.execute_notebook(
        str(source), str(executed), parameters=params, cwd=str(out_dir),
        kernel_name=kernel_name, progress_bar=False, execution_timeout=timeout,
    )
    return executed
