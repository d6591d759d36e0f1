"""Sweeps: one papermill execution per grid point of a YAML file, on Dask, resumably.

``specnb sweep FILE`` (:func:`main`) or :func:`run_sweep` reads a sweep file
(:mod:`specnb.sweep.spec` documents the format), expands its grid into points with stable
keys, and executes each point's notebook into its own run folder ``<out>/<step>/<key>/``
on a Dask cluster, recording every point in the results store ``<out>/results.sqlite``.
Points already done are skipped; a crash at any moment loses nothing (see
:mod:`specnb.sweep.runner`).

Examples
--------
>>> from pathlib import Path
>>> from specnb.sweep import expand, load_sweep
>>> spec = load_sweep(Path(__file__).parents[2] / "sweeps" / "quick.yaml")
>>> len({p.key for p in expand(spec)}) == len(expand(spec))
True

Modules
-------
- ``cli`` -- ``specnb sweep FILE``: run a sweep file from the command line.
- ``cluster`` -- Where the points run: a local Dask cluster (one worker per GPU) or an existing
  scheduler.
- ``cost_registry`` -- The cost registry: each notebook's cost model, and the unit costs they are
  computed from.
- ``estimate`` -- What a sweep will cost: points per step and the seconds per point.
- ``grid`` -- Grid expansion: the points of a sweep, their stable keys and their dependencies.
- ``main_job`` -- The main job: the quick sweep (the notebook chain on the embedded default), then
  the report; with ``--data``, the real-data study ``sweeps/esc10_cpu.yaml``.
- ``no_http`` -- Dask plugins that close the HTTP servers Dask opens even when no dashboard is
  wanted.
- ``notebooks`` -- Which notebook a sweep step runs, and which parameters its ``parameters`` cell
  declares.
- ``papermill_exec`` -- Papermill execution: the notebooks of the chain, one atomic execution, one
  sweep point.
- ``point_projection`` -- One point's projected seconds from its notebook's cost model, whole and by
  part.
- ``runner`` -- Run a sweep: register its points, skip the finished ones, execute the rest on Dask.
- ``spec`` -- The sweep file: YAML loading and validation into a :class:`SweepSpec`.
- ``state`` -- Crash safety: who runs a point, whether that process still lives, one runner per
  folder.
- ``summary`` -- What a sweep did (or, dry, would do): one outcome per grid point.
- ``validate`` -- Every point's values checked before anything runs: settings, models, datasets,
  attacks.
"""

from .cli import main
from .estimate import Estimate, estimate, measured_timings
from .grid import Point, expand, point_key
from .runner import STORE_NAME, default_out, run_sweep
from .spec import StepSpec, SweepError, SweepSpec, load_sweep
from .summary import PointOutcome, SweepSummary

__all__ = [
    "STORE_NAME",
    "Estimate",
    "Point",
    "PointOutcome",
    "StepSpec",
    "SweepError",
    "SweepSpec",
    "SweepSummary",
    "default_out",
    "estimate",
    "expand",
    "load_sweep",
    "main",
    "measured_timings",
    "point_key",
    "run_sweep",
]
