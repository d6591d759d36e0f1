"""The main job: the quick sweep (the notebook chain on the embedded default), then the report."""

from __future__ import annotations

from pathlib import Path

import yaml

from specnb.sweep import SweepError, run_sweep

__all__ = ["QUICK_SWEEP", "REPORT_STEP", "run_main_job"]

QUICK_SWEEP = Path(__file__).resolve().parents[2] / "sweeps" / "quick.yaml"
#: The step of the quick sweep that renders the report.
REPORT_STEP = "report"


def _sweep_file(sweep: Path, out: Path, data: Path | None) -> Path:
    """The sweep file, pointed at a real ESC-50 copy (its ESC-10 subset) when given."""
    if data is None:
        return sweep
    spec = yaml.safe_load(sweep.read_text())
    spec.setdefault("defaults", {}).update({"DATASET": "esc10", "DATA_PATH": str(data)})
    derived = out / f"{sweep.stem}_esc10.yaml"
    derived.write_text(yaml.safe_dump(spec, sort_keys=False))
    return derived


def run_main_job(
    data: Path | None = None,
    out: Path = Path("runs") / "main",
    workers: int | None = None,
    sweep: Path = QUICK_SWEEP,
) -> Path:
    """Run ``sweeps/quick.yaml`` into ``out`` (resumable) and return the HTML report's path.

    Parameters
    ----------
    data : Path, optional
        A real ESC-50 copy to use instead of the synthetic set (its ESC-10 subset is used).
    out : Path
        Sweep output folder: run folders, the results database and the feature cache.
    workers : int, optional
        Dask workers (default: one per GPU, else one).
    sweep : Path
        The sweep file; it must end with a step named ``report`` that runs notebook 08.

    Raises
    ------
    SweepError
        When a point of the chain failed; the message names the failed points and their
        executed notebooks.
    """
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    summary = run_sweep(_sweep_file(Path(sweep), out, data), out=out, workers=workers)
    if not summary.ok:
        failed = [f"{p.step}/{p.key}: {p.status} {p.error or ''} "
                  f"({p.notebook_path or 'no notebook'})"
                  for p in summary.points if p.status != "done"]
        raise SweepError("the main job did not finish:\n  " + "\n  ".join(failed))
    reports = sorted((out / REPORT_STEP).glob("*/report.html"), key=lambda p: p.stat().st_mtime)
    if not reports:
        raise SweepError(f"the report step ran but wrote no report.html under {out / REPORT_STEP}")
    return reports[-1]
