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
