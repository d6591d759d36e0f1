"""What a sweep did (or, dry, would do): one outcome per grid point."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from specnb.store import ResultsStore
from specnb.store.keys import dumps

from .cost_registry import UnitCostTable
from .estimate import Estimate, estimate, measured_timings
from .grid import Point

__all__ = ["PointOutcome", "SweepSummary", "dry_run_summary"]


@dataclass(frozen=True)
class PointOutcome:
    """The state of one grid point after (or, dry, before) a sweep.

    Attributes
    ----------
    step, key, notebook : str
        The point: its step, key and notebook file name.
    params : mapping
        Its parameters from the sweep file.
    status : str
        ``done``, ``failed``, ``skipped`` (a dependency is not done), ``busy`` (another live
        process holds it); in a dry run also ``pending`` and ``running``.
    ran : bool
        Whether this call executed it.
    error : str or None
        The failure, or why it was skipped.
    notebook_path : str or None
        The executed notebook (the failed one for a failure).
    seconds : float or None
        Wall time of this call's execution.
    """

    step: str
    key: str
    notebook: str
    params: Mapping[str, Any] = field(repr=False)
    status: str
    ran: bool = False
    error: str | None = None
    notebook_path: str | None = None
    seconds: float | None = None


@dataclass(frozen=True)
class SweepSummary:
    """Outcomes of every point of a sweep, in grid order.

    Attributes
    ----------
    sweep : str
        Sweep name.
    out : Path
        Output folder (run folders, ``results.sqlite``, ``cache/``).
    points : tuple of PointOutcome
        One per grid point.
    dry_run : bool
        Whether nothing was executed.
    estimate : Estimate or None
        The projected cost (dry runs).
    """

    sweep: str
    out: Path
    points: tuple[PointOutcome, ...]
    dry_run: bool = False
    estimate: Estimate | None = None

    def counts(self) -> dict[str, int]:
        """Number of points per status."""
        return dict(Counter(p.status for p in self.points))

    @property
    def ok(self) -> bool:
        """Whether every point is done."""
        return all(p.status == "done" for p in self.points)

    @property
    def executed(self) -> int:
        """How many points this call executed."""
        return sum(p.ran for p in self.points)

    def frame(self) -> pd.DataFrame:
        """One row per point: step, key, notebook, status, ran, error, notebook_path, seconds,
        params (JSON)."""
        rows = [
            {
                "step": p.step,
                "key": p.key,
                "notebook": p.notebook,
                "status": p.status,
                "ran": p.ran,
                "error": p.error,
                "notebook_path": p.notebook_path,
                "seconds": p.seconds,
                "params": dumps(dict(p.params)),
            }
            for p in self.points
        ]
        return pd.DataFrame(rows)

    def report(self) -> str:
        """A plain-text report: every point for a dry run, else counts and the problems."""
        counts = ", ".join(f"{n} {s}" for s, n in sorted(self.counts().items()))
        head = f"sweep {self.sweep} ({len(self.points)} points; {counts}) in {self.out}"
        lines = [head]
        if self.dry_run:
            lines += [
                f"  {p.status:<8} {p.step}/{p.key}  {p.notebook}  {dumps(dict(p.params))}"
                for p in self.points
            ]
            if self.estimate is not None:
                lines.append(str(self.estimate))
            return "\n".join(lines)
        lines.append(f"  executed now: {self.executed}")
        for p in self.points:
            if p.status == "failed":
                lines.append(f"  failed   {p.step}/{p.key}: {p.error}")
                lines.append(f"           notebook: {p.notebook_path}")
            elif p.status in ("skipped", "busy"):
                lines.append(f"  {p.status:<8} {p.step}/{p.key}: {p.error}")
        if any(p.status == "failed" and not p.ran for p in self.points):
            lines.append("  failed points were not rerun; use --retry-failed to rerun them")
        return "\n".join(lines)


def dry_run_summary(
    name: str,
    points: Sequence[Point],
    out: Path,
    store_path: Path,
    workers: int,
    costs: UnitCostTable | None,
    note: str,
) -> SweepSummary:
    """A dry run's summary: each point with its stored status (``done`` only with its
    executed notebook in place under ``out``) and the projected cost of the rest.

    Parameters
    ----------
    name : str
        The sweep's name.
    points : sequence of Point
        The grid.
    out : Path
        The sweep's output folder.
    store_path : Path
        Its results store (absent: nothing has run yet).
    workers : int
        Workers the estimate divides by.
    costs : unit costs, optional
        What the projections use (:func:`~specnb.sweep.estimate.estimate`).
    note : str
        The line saying which unit costs.

    Returns
    -------
    SweepSummary
    """
    store = ResultsStore(store_path, read_only=True) if store_path.is_file() else None
    outcomes = []
    for point in points:
        row = store.get_point(point.key) if store is not None else None
        status = row["status"] if row is not None else "pending"
        if status == "done" and not point.executed_notebook(out).is_file():
            status = "pending"
        outcomes.append(
            PointOutcome(
                point.step,
                point.key,
                point.notebook.name,
                point.params,
                status,
                error=row["error"] if row is not None else None,
                notebook_path=row["notebook_path"] if row is not None else None,
            )
        )
    timings = measured_timings(store) if store is not None else {}
    cost = estimate(points, {o.key: o.status for o in outcomes}, timings, workers, costs, note)
    return SweepSummary(name, out, tuple(outcomes), dry_run=True, estimate=cost)
