"""The main job: the quick sweep (the notebook chain on the embedded default), then the report.

With a real ESC-50 copy (``specnb run --data PATH``) the job is the real-data study instead,
``sweeps/esc10_cpu.yaml``: ESC-10, three seeds, sized for one 2-core CPU.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from specnb.sweep import SweepError, run_sweep

__all__ = ["ESC10_SWEEP", "QUICK_SWEEP", "REPORT_STEP", "main_sweep", "run_main_job"]

QUICK_SWEEP = Path(__file__).resolve().parents[2] / "sweeps" / "quick.yaml"
#: The real-data study that ``--data`` runs.
ESC10_SWEEP = QUICK_SWEEP.with_name("esc10_cpu.yaml")
#: The step of the quick sweep that renders the report.
REPORT_STEP = "report"


def main_sweep(data: Path | None) -> tuple[Path, Path]:
    """The main job's sweep file and default output folder, without or with a real copy.

    Examples
    --------
    >>> main_sweep(None)[0].name, main_sweep(Path("/data/esc50"))[0].name
    ('quick.yaml', 'esc10_cpu.yaml')
    """
    if data is None:
        return QUICK_SWEEP, Path("runs") / "main"
    return ESC10_SWEEP, Path("runs") / "esc10_cpu"


def _sweep_file(sweep: Path, out: Path, data: Path | None) -> Path:
    """The sweep file, pointed at a real ESC-50 copy (its ESC-10 subset) when given."""
    if data is None:
        return sweep
    spec = yaml.safe_load(sweep.read_text())
    spec.setdefault("defaults", {}).update(
        {"DATASET": "esc10", "DATA_PATH": str(Path(data).resolve())}
    )
    derived = out / f"{sweep.stem}_esc10.yaml"
    derived.write_text(yaml.safe_dump(spec, sort_keys=False))
    return derived


def run_main_job(
    data: Path | None = None,
    out: Path | None = None,
    workers: int | None = None,
    sweep: Path | None = None,
) -> Path:
    """Run the main job's sweep into ``out`` (resumable) and return the HTML report's path.

    Parameters
    ----------
    data : Path, optional
        A real ESC-50 copy: run ``sweeps/esc10_cpu.yaml`` on its ESC-10 subset instead of
        ``sweeps/quick.yaml`` on the synthetic set.
    out : Path, optional
        Sweep output folder: run folders, the results database and the feature cache
        (default ``runs/main``, with ``data`` ``runs/esc10_cpu``).
    workers : int, optional
        Dask workers (default: one per GPU, else one per CPU core, at most four).
    sweep : Path, optional
        Another sweep file; it must end with a step named ``report`` that runs notebook 08.

    Raises
    ------
    SweepError
        When a point of the chain failed; the message names the failed points and their
        executed notebooks.
    """
    default_sweep, default_out = main_sweep(data)
    sweep = Path(sweep) if sweep is not None else default_sweep
    out = Path(out if out is not None else default_out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    summary = run_sweep(_sweep_file(sweep, out, data), out=out, workers=workers)
    if not summary.ok:
        failed = [
            f"{p.step}/{p.key}: {p.status} {p.error or ''} ({p.notebook_path or 'no notebook'})"
            for p in summary.points
            if p.status != "done"
        ]
        raise SweepError("the main job did not finish:\n  " + "\n  ".join(failed))
    reports = sorted((out / REPORT_STEP).glob("*/report.html"), key=lambda p: p.stat().st_mtime)
    if not reports:
        raise SweepError(f"the report step ran but wrote no report.html under {out / REPORT_STEP}")
    return reports[-1]
