"""What a sweep will cost: points per notebook and, from measured timings, the time left."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import pandas as pd

from specnb.store import ResultsStore

from .grid import Point

__all__ = ["Estimate", "NotebookEstimate", "estimate", "format_duration", "measured_timings"]


@dataclass(frozen=True)
class NotebookEstimate:
    """Cost of the points of one notebook.

    Attributes
    ----------
    notebook : str
        Notebook file name.
    points : int
        Points of the grid that execute it.
    to_run : int
        Those not done yet.
    measured : int
        Finished executions of it with timings in the store (any sweep).
    mean_seconds : float or None
        Their mean wall time; None without measurements.
    """

    notebook: str
    points: int
    to_run: int
    measured: int
    mean_seconds: float | None

    @property
    def seconds(self) -> float | None:
        """Projected seconds for the points left; None without measurements."""
        return None if self.mean_seconds is None else self.to_run * self.mean_seconds


@dataclass(frozen=True)
class Estimate:
    """Projected cost of the points left in a sweep.

    Attributes
    ----------
    notebooks : tuple of NotebookEstimate
        One entry per notebook, in grid order.
    workers : int
        Workers the wall time is divided over.
    """

    notebooks: tuple[NotebookEstimate, ...]
    workers: int

    @property
    def total_seconds(self) -> float:
        """Projected seconds of the measured notebooks' points left (one worker)."""
        return sum(n.seconds or 0.0 for n in self.notebooks)

    @property
    def unmeasured(self) -> list[str]:
        """Notebooks with points left and no timing to project them."""
        return [n.notebook for n in self.notebooks if n.to_run and n.mean_seconds is None]

    def __str__(self) -> str:
        lines = ["estimate:"]
        for n in self.notebooks:
            timing = (
                f"{format_duration(n.mean_seconds)} per point (mean of {n.measured} measured)"
                f", {format_duration(n.seconds)} left"
                if n.mean_seconds is not None and n.seconds is not None
                else "no measured timing yet"
            )
            lines.append(f"  {n.notebook}: {n.points} points, {n.to_run} to run; {timing}")
        if any(n.mean_seconds is not None for n in self.notebooks):
            total = self.total_seconds
            lines.append(
                f"  projected: {format_duration(total)} of execution, about "
                f"{format_duration(total / self.workers)} on {self.workers} worker(s)"
            )
        if self.unmeasured:
            lines.append(
                f"  not projected (no finished point to time): {', '.join(self.unmeasured)}"
            )
        return "\n".join(lines)


def measured_timings(store: ResultsStore) -> dict[str, tuple[int, float]]:
    """Finished sweep points per notebook: how many, and their mean wall time in seconds."""
    done = store.points_df(status="done")
    if done.empty:
        return {}
    seconds = (
        pd.to_datetime(done["finished_at"], format="ISO8601")
        - pd.to_datetime(done["started_at"], format="ISO8601")
    ).dt.total_seconds()
    table = seconds.groupby(done["notebook"]).agg(["count", "mean"]).dropna()
    return {str(nb): (int(row["count"]), float(row["mean"])) for nb, row in table.iterrows()}


def estimate(
    points: Sequence[Point],
    statuses: Mapping[str, str],
    timings: Mapping[str, tuple[int, float]],
    workers: int = 1,
) -> Estimate:
    """Project the cost of the points not done yet.

    Parameters
    ----------
    points : sequence of Point
        The grid.
    statuses : mapping of str to str
        ``point key -> status``; points absent or not ``done`` count as to run.
    timings : mapping
        :func:`measured_timings`.
    workers : int
        Workers running in parallel.

    Returns
    -------
    Estimate

    Examples
    --------
    >>> from pathlib import Path
    >>> p = Point("s", "k1", Path("01_representations.ipynb"), {})
    >>> e = estimate([p], {}, {"01_representations.ipynb": (3, 20.0)}, workers=2)
    >>> e.total_seconds
    20.0
    """
    order: list[str] = []
    counts: dict[str, list[int]] = {}
    for point in points:
        name = point.notebook.name
        if name not in counts:
            order.append(name)
            counts[name] = [0, 0]
        counts[name][0] += 1
        counts[name][1] += statuses.get(point.key) != "done"
    notebooks = tuple(
        NotebookEstimate(
            notebook=name, points=counts[name][0], to_run=counts[name][1],
            measured=timings.get(name, (0, 0.0))[0],
            mean_seconds=timings[name][1] if name in timings else None,
        )
        for name in order
    )
    return Estimate(notebooks=notebooks, workers=max(1, int(workers)))


def format_duration(seconds: float | None) -> str:
    """``3725`` -> ``"1 h 02 min"``, ``42.5`` -> ``"42.5 s"``.

    Examples
    --------
    >>> format_duration(3725)
    '1 h 02 min'
    """
    if seconds is None:
        return "unknown"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes = int(round(seconds / 60))
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"
