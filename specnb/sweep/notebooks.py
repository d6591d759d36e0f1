"""Which notebook a sweep step runs, and which parameters its ``parameters`` cell declares."""

from __future__ import annotations

import ast
from pathlib import Path

from specnb.errors import ParameterError
from specnb.sweep.papermill_exec import notebook_path, quiet_papermill

__all__ = ["RUNNER_PARAMETERS", "declared_parameters", "quiet_papermill", "resolve_notebook"]

#: Parameters the runner fills itself, for notebooks that declare them: the run folder of the
#: point, the results store it writes (the sweep's, or its own point store) and the shared
#: feature cache.
RUNNER_PARAMETERS = ("OUT_DIR", "STORE", "CACHE_DIR")


def resolve_notebook(name: str, notebook_dir: Path | None = None) -> Path:
    """The notebook file a step names (see :func:`specnb.sweep.papermill_exec.notebook_path`)."""
    return notebook_path(name, notebook_dir)


def declared_parameters(notebook: Path) -> frozenset[str]:
    """Names assigned in the notebook's cell tagged ``parameters``.

    The names papermill's ``inspect_notebook`` finds are completed with a parse of the cell
    by :mod:`ast`, since papermill's line reader skips assignments whose comment holds an
    ``=`` sign.

    Parameters
    ----------
    notebook : Path
        A ``.ipynb`` file.

    Returns
    -------
    frozenset of str
        The declared names; empty when the notebook has no ``parameters`` cell.

    Raises
    ------
    ValueError
        An unreadable notebook, or one without a kernel name papermill could run it with.
    """
    import nbformat
    import papermill as pm

    try:
        with quiet_papermill():
            names = set(pm.inspect_notebook(str(notebook)))
        nb = nbformat.read(notebook, as_version=4)
    except (ValueError, OSError) as error:
        raise ParameterError(f"cannot read the parameters of {notebook}: {error}") from error
    cell = next(
        (
            c
            for c in nb.cells
            if c.cell_type == "code" and "parameters" in c.get("metadata", {}).get("tags", [])
        ),
        None,
    )
    if cell is not None:
        names |= _assigned_names(cell.source)
    return frozenset(names)


def _assigned_names(source: str) -> set[str]:
    """Top-level names bound by plain or annotated assignments (none if it does not parse)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in tree.body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else ([node.target] if isinstance(node, ast.AnnAssign) else [])
        )
        for target in targets:
            for leaf in ast.walk(target):
                if isinstance(leaf, ast.Name):
                    names.add(leaf.id)
    return names
