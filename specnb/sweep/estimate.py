"""What a sweep will cost: points per step and the seconds per point.

The seconds of a notebook's point come from the finished points of that notebook in the
sweep's own results store when there are some, otherwise from a cost model: a function of
the point's parameters over the unit costs measured on a CPU or a GPU, both taken from the
cost registry (:mod:`specnb.sweep.cost_registry`, filled by :mod:`specnb.bench.notebook_costs`
when a command line starts). A notebook with neither has no estimate. Training epochs are
upper bounds (early stopping ends folds sooner), and features are counted as computed by every
point (a shared feature cache computes them once).

A point's projected seconds, whole and by part, come from :mod:`specnb.sweep.point_projection`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from specnb.errors import UnitCostsError
from specnb.store import ResultsStore

from .cost_registry import UnitCostTable, cost_model, projection_costs
from .grid import Point
from .point_projection import sweep_parts
from .spec import SweepError

__all__ = ["Estimate", "StepEstimate", "estimate", "format_duration", "measured_timings"]


@dataclass(frozen=True)
class StepEstimate:
    """Cost of the points of one step.

    Attributes
    ----------
    step, notebook : str
        The step and its notebook's file name.
    points, to_run : int
        Points of the step, and those not done yet.
    seconds_per_point : float or None
        Mean seconds of a point left (of any point when none is left); None: no estimate.
    seconds : float or None
        Seconds of the points left that have an estimate.
    source : str
        ``"calibrated"`` (unit costs scaled by measured / projected over the finished points
        of the step: ``factor``), ``"measured"`` (the mean of the notebook's finished points
        in this store, where it has no cost model), ``"projected"`` (unit costs) or
        ``"none"``.
    measured : int
        Finished points of the notebook timed in the store.
    unestimated : int
        Points left without an estimate.
    parts : tuple of (str, float)
        Projected seconds of the points left by part
        (:func:`~specnb.sweep.point_projection.point_parts`); empty unless
        ``source`` is ``"projected"``.
    factor : float
        Measured over projected seconds of the step's finished points (``"calibrated"``).
    """

    step: str
    notebook: str
    points: int
    to_run: int
    seconds_per_point: float | None
    seconds: float | None
    source: str
    measured: int = 0
    unestimated: int = 0
    parts: tuple[tuple[str, float], ...] = ()
    factor: float = 1.0

    def describe_source(self) -> str:
        """Where the seconds per point come from, in words."""
        if self.source == "calibrated":
            return (
                f"projected x {self.factor:.2f}: measured / projected over {self.measured} "
                "finished points"
            )
        if self.source == "measured":
            return f"measured in this store (mean of {self.measured})"
        if self.source == "projected":
            return "projected from unit costs"
        return "no estimate (no finished point to time, no cost model)"


@dataclass(frozen=True)
class Estimate:
    """Projected cost of the points left in a sweep.

    Attributes
    ----------
    steps : tuple of StepEstimate
        One entry per step, in grid order.
    workers : int
        Workers the wall time is divided over.
    costs : UnitCostTable or None
        The unit costs projections used (None when none was needed).
    longest : float
        Seconds of the longest point left with an estimate.
    note : str
        A line on the choice of unit costs (empty when there is nothing to say).
    """

    steps: tuple[StepEstimate, ...]
    workers: int
    costs: UnitCostTable | None = None
    longest: float = 0.0
    note: str = ""

    @property
    def total_seconds(self) -> float:
        """Seconds of the points left that have an estimate, on one worker."""
        return sum(s.seconds or 0.0 for s in self.steps)

    @property
    def wall_seconds(self) -> float:
        """Wall time on :attr:`workers` workers: the total shared, at least the longest point."""
        return max(self.total_seconds / self.workers, self.longest)

    @property
    def unestimated(self) -> list[str]:
        """Steps with points left and no estimate for some of them."""
        return [s.step for s in self.steps if s.unestimated]

    def parts(self) -> dict[str, float]:
        """Projected seconds of the points left by part, over every projected step."""
        out: dict[str, float] = {}
        for step in self.steps:
            for name, seconds in step.parts:
                out[name] = out.get(name, 0.0) + seconds
        return out

    def _parts_lines(self, label: str) -> list[str]:
        """Where the projected time goes: each step's hours by part."""
        projected = [s for s in self.steps if s.parts and (s.seconds or 0) > 0]
        if not projected:
            return []
        lines = [f"  where the projected time goes ({label}):"]
        for step in projected:
            cells = ", ".join(
                f"{name} {seconds / 3600:,.1f}"
                for name, seconds in step.parts
                if seconds >= 0.05 * 3600
            )
            lines.append(f"    {step.step}: {cells or 'under 0.1 h'}")
        return lines

    def __str__(self) -> str:
        lines = ["estimate (training epochs are upper bounds: early stopping ends folds sooner):"]
        rows = [("step", "notebook", "points", "to run", "per point", "left", "source")]
        rows += [
            (
                s.step,
                s.notebook,
                str(s.points),
                str(s.to_run),
                format_duration(s.seconds_per_point),
                format_duration(s.seconds),
                s.describe_source(),
            )
            for s in self.steps
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(6)]
        for row in rows:
            cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1])]
            cells += [c.rjust(w) for c, w in zip(row[2:6], widths[2:6])]
            lines.append("  " + "  ".join(cells + [row[6]]))
        total = self.total_seconds
        label = self.costs.hours_label if self.costs is not None else "hours"
        hours = f" ({total / 3600:,.1f} {label})" if total >= 3600 else ""
        lines.append(
            f"  total: {format_duration(total)}{hours} of execution, about "
            f"{format_duration(self.wall_seconds)} on {self.workers} worker(s)"
        )
        lines += self._parts_lines(label)
        if self.costs is not None:
            lines.append(f"  unit costs measured on {self.costs.describe()}")
        if self.note:
            lines.append(f"  {self.note}")
        if self.unestimated:
            lines.append(f"  no estimate for some points of: {', '.join(self.unestimated)}")
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
    costs: UnitCostTable | str | Path | None = None,
    note: str = "",
) -> Estimate:
    """Project the cost of the points not done yet.

    Parameters
    ----------
    points : sequence of Point
        The grid.
    statuses : mapping of str to str
        ``point key -> status``; points absent or not ``done`` count as to run.
    timings : mapping
        :func:`measured_timings`; they take precedence over projections.
    workers : int
        Workers running in parallel.
    costs : unit costs, str or Path, optional
        Unit costs, or their file read by the registered chooser; default the CPU's packaged
        table, read only when a notebook without timings has a registered cost model.
    note : str
        A line the estimate prints about the choice of unit costs.

    Returns
    -------
    Estimate

    Raises
    ------
    SweepError
        The unit costs file is missing or unreadable (the message names it).

    Examples
    --------
    >>> p = Point("s", "k1", Path("a.ipynb"), {})
    >>> e = estimate([p], {}, {"a.ipynb": (3, 20.0)}, workers=2)
    >>> e.total_seconds
    20.0
    """
    order: list[tuple[str, str]] = []
    by_step: dict[tuple[str, str], list[Point]] = {}
    for point in points:
        ident = (point.step, point.notebook.name)
        if ident not in by_step:
            order.append(ident)
            by_step[ident] = []
        by_step[ident].append(point)
    modelled = [nb for _, nb in order if cost_model(nb) is not None]
    required = any(nb not in timings for nb in modelled)
    unit = _optional_unit_costs(costs, required) if modelled else None
    parts_of = sweep_parts(points, unit) if unit else {}
    steps, longest = [], 0.0
    for step, name in order:
        group = by_step[(step, name)]
        left = [p for p in group if statuses.get(p.key) != "done"]
        calibrated = _calibrated(step, name, group, left, timings.get(name), parts_of)
        if calibrated is not None:
            steps.append(calibrated)
            longest = max(longest, calibrated.seconds_per_point if left else 0.0)
            continue
        if name in timings:
            count, mean = timings[name]
            steps.append(
                StepEstimate(
                    step, name, len(group), len(left), mean, mean * len(left), "measured", count
                )
            )
            longest = max(longest, mean if left else 0.0)
            continue
        split = [parts_of.get(p.key) for p in (left or group)]
        seconds = [sum(s.values()) if s is not None else None for s in split]
        known = [s for s in seconds if s is not None]
        if not known:
            steps.append(
                StepEstimate(
                    step, name, len(group), len(left), None, None, "none", unestimated=len(left)
                )
            )
            continue
        total = sum(known) if left else 0.0
        parts: dict[str, float] = {}
        for point_split in (s for s in split if s is not None and left):
            for part, value in point_split.items():
                parts[part] = parts.get(part, 0.0) + value
        steps.append(
            StepEstimate(
                step,
                name,
                len(group),
                len(left),
                sum(known) / len(known),
                total,
                "projected",
                unestimated=len(seconds) - len(known) if left else 0,
                parts=tuple(parts.items()),
            )
        )
        longest = max(longest, max(known) if left else 0.0)
    return Estimate(tuple(steps), max(1, int(workers)), unit, longest, note)


def _calibrated(
    step: str,
    name: str,
    group: list[Point],
    left: list[Point],
    timing: tuple[int, float] | None,
    parts_of: Mapping[str, Mapping[str, float] | None],
) -> StepEstimate | None:
    """A step's points projected from unit costs (``parts_of``: :func:`sweep_parts`) and
    scaled by what its finished points took against their own projection (measured /
    projected), so that points of unequal cost (ResNet-18 beside SB-CNN, the first point of
    a setting that computes its features beside the others) keep their proportions on this
    machine; None when there is no timing, no cost model or a point without a projection."""
    if timing is None or not parts_of:
        return None
    done = [p for p in group if p not in left]

    def seconds_of(point: Point) -> float | None:
        parts = parts_of.get(point.key)
        return None if parts is None else sum(parts.values())

    projected_done = [seconds_of(p) for p in done]
    projected_left = [seconds_of(p) for p in left]
    if not done or any(x is None for x in projected_done + projected_left):
        return None
    count, mean = timing
    factor = mean / (sum(projected_done) / len(projected_done))  # type: ignore[arg-type]
    seconds = [x * factor for x in projected_left]  # type: ignore[operator]
    per_point = sum(seconds) / len(seconds) if seconds else mean
    return StepEstimate(
        step,
        name,
        len(group),
        len(left),
        per_point,
        sum(seconds),
        "calibrated",
        count,
        factor=factor,
    )


def _optional_unit_costs(
    costs: UnitCostTable | str | Path | None, required: bool
) -> UnitCostTable | None:
    """The unit costs; where they only refine measured timings, None when unreadable."""
    try:
        return _unit_costs(costs)
    except SweepError:
        if required:
            raise
        return None


def _unit_costs(costs: UnitCostTable | str | Path | None) -> UnitCostTable:
    if costs is not None and not isinstance(costs, (str, Path)):
        return costs
    try:
        table, _ = projection_costs("cpu", {}, costs)
    except UnitCostsError as error:
        raise SweepError(str(error)) from error
    if table is None:
        raise SweepError("no unit costs are registered (see specnb.sweep.cost_registry)")
    return table


def format_duration(seconds: float | None) -> str:
    """``3725`` -> ``"1 h 02 min"``, ``42.5`` -> ``"42.5 s"``, ``None`` -> ``"-"``.

    Examples
    --------
    >>> format_duration(3725)
    '1 h 02 min'
    """
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes = int(round(seconds / 60))
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"
