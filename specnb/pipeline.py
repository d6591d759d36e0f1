"""The main job: run the notebook chain headlessly on the embedded default and export a report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from specnb.notebook_runner import run_notebook

__all__ = ["MAIN_CHAIN", "run_main_job", "export_html"]

#: (notebook, parameters) of the main job on the synthetic set: small enough for a 2-core CPU.
MAIN_CHAIN: list[tuple[str, dict[str, Any]]] = [
    ("representations", {"INTERACTIVE": False, "MAX_CLASSES": 10}),
    ("training", {}),
]


def export_html(notebook: Path) -> Path:
    """Render an executed notebook to a standalone HTML file beside it."""
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nbformat.read(notebook, as_version=4))
    html = notebook.with_suffix(".html")
    html.write_text(body, encoding="utf-8")
    return html


def run_main_job(data: Path | None = None, out: Path = Path("runs") / "main") -> Path:
    """Execute :data:`MAIN_CHAIN` into ``out`` and return the path of the HTML report.

    Parameters
    ----------
    data : Path, optional
        A real ESC-50 copy to use instead of the synthetic set (its ESC-10 subset is used).
    out : Path
        Run folder; each notebook gets its own sub-folder.
    """
    out = Path(out).resolve()
    dataset = {"DATASET": "esc10", "DATA_PATH": str(data)} if data else {}
    executed = None
    for name, params in MAIN_CHAIN:
        executed = run_notebook(name, out / name, {**params, **dataset})
        print(f"ran {name}: {executed}", flush=True)
    assert executed is not None
    return export_html(executed)
