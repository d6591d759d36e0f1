"""Grid expansion: the points of a sweep, their stable keys and their dependencies."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from specnb.store import stable_key
from specnb.store.keys import dumps

from .spec import GridBlock, StepSpec, SweepSpec

__all__ = ["Point", "expand", "point_key", "point_priorities"]


@dataclass(frozen=True)
class Point:
    """One notebook execution of a sweep.

    Attributes
    ----------
    step : str
        The step it belongs to; its run folder is ``<out>/<step>/<key>/``.
    key : str
        :func:`point_key` of the notebook and parameters.
    notebook : Path
        The notebook to execute.
    params : mapping
        The full parameters from the sweep file (defaults merged), without the ones the
        runner adds (``OUT_DIR``, ``STORE``, ``CACHE_DIR``).
    after : tuple of str
        Keys of the points that must be done before this one runs.
    """

    step: str
    key: str
    notebook: Path
    params: Mapping[str, Any]
    after: tuple[str, ...] = ()

    def run_dir(self, out: Path) -> Path:
        """The point's run folder under the sweep's output folder ``out``."""
        return Path(out) / self.step / self.key

    def executed_notebook(self, out: Path) -> Path:
        """Where the executed notebook of a successful run lies."""
        return self.run_dir(out) / self.notebook.name


def point_key(notebook: str | Path, params: Mapping[str, Any]) -> str:
    """Stable key of a grid point: a hash of the notebook file name and its parameters.

    Parameters
    ----------
    notebook : str or Path
        The notebook (only its file name counts, so moving the notebook folder keeps keys).
    params : mapping
        Parameter values (order of keys does not matter).

    Returns
    -------
    str
        16 hexadecimal digits.

    Examples
    --------
    >>> point_key("01_representations.ipynb", {"SEED": 0, "MAX_CLASSES": 1}) == point_key(
    ...     "01_representations.ipynb", {"MAX_CLASSES": 1, "SEED": 0})
    True
    """
    return stable_key({"notebook": Path(notebook).name, "parameters": dict(params)})


def expand(spec: SweepSpec) -> list[Point]:
    """Every point of a sweep, steps in dependency order, each step in grid order.

    Parameters
    ----------
    spec : SweepSpec
        A validated sweep (:func:`~specnb.sweep.spec.load_sweep`).

    Returns
    -------
    list of Point
        Points with their keys and the keys of the points they depend on.

    Raises
    ------
    SweepError
        A ``NAME.field`` assignment on a parameter that holds no mapping, a point repeated,
        a ``match`` key a point does not set, or a point that matches no point of its
        ``after`` step.
    """
    by_step: dict[str, list[Point]] = {}
    seen: dict[str, str] = {}
    points: list[Point] = []
    for step in spec.steps:
        step_points = []
        for params in _step_params(spec, step):
            key = point_key(step.notebook, params)
            if key in seen:
                raise spec.error(
                    step.where, f"point {dumps(params)} repeats a point of step {seen[key]}"
                )
            seen[key] = step.name
            after = _dependencies(spec, step, params, by_step)
            step_points.append(Point(step.name, key, step.notebook, params, after))
        by_step[step.name] = step_points
        points.extend(step_points)
    return points


def _step_params(spec: SweepSpec, step: StepSpec) -> list[dict[str, Any]]:
    """The merged parameters of every point of ``step``."""
    out = []
    for block in step.blocks:
        for assignment in _assignments(block):
            out.append(_merge(spec, block.where, step.parameters, assignment))
    return out


def _assignments(block: GridBlock) -> list[dict[str, Any]]:
    names = list(block.product)
    combos = [dict(zip(names, values)) for values in itertools.product(*block.product.values())]
    return [{**point, **combo} for point in block.points for combo in combos]


def _merge(
    spec: SweepSpec, where: str, base: Mapping[str, Any], assignment: Mapping[str, Any]
) -> dict[str, Any]:
    """``base`` updated by ``assignment``; ``NAME.field`` keys set one field of ``NAME``."""
    items = {**base, **assignment}
    params = {k: copy.deepcopy(v) for k, v in items.items() if "." not in k}
    for key, value in items.items():
        if "." not in key:
            continue
        name, _, field = key.partition(".")
        if not isinstance(params.get(name), dict):
            raise spec.error(
                f"{where}: {key}", f"{name} holds no mapping to set the field {field!r} in"
            )
        params[name][field] = copy.deepcopy(value)
    return params


def _dependencies(
    spec: SweepSpec, step: StepSpec, params: Mapping[str, Any], done: Mapping[str, list[Point]]
) -> tuple[str, ...]:
    """Keys of the points of ``step.after`` whose ``step.match`` values equal ``params``'."""
    for name in step.match:
        if name not in params:
            raise spec.error(f"{step.where}.match", f"its points do not set {name}")
    keys: list[str] = []
    for upstream in step.after:
        found = 0
        for other in done[upstream]:
            missing = [n for n in step.match if n not in other.params]
            if missing:
                raise spec.error(
                    f"{step.where}.match", f"the points of step {upstream} do not set {missing[0]}"
                )
            if all(dumps(other.params[n]) == dumps(params[n]) for n in step.match):
                keys.append(other.key)
                found += 1
        if not found:
            wanted = {n: params[n] for n in step.match}
            raise spec.error(
                f"{step.where}.after", f"no point of step {upstream} has {dumps(wanted)}"
            )
    return tuple(keys)


def point_priorities(spec: SweepSpec, points: Sequence[Point]) -> dict[str, int]:
    """Each point's scheduling priority (higher runs first).

    Points without dependencies run in the order the sweep file declares them (steps in
    order, within a step its points in order); a point with dependencies runs right after the
    last of them. A sweep stopped early has so finished whole lines of work, the first seeds
    trained, attacked and compared, rather than every training and no attack, or a scattered
    sample of points.
    """
    steps = {step.name: i for i, step in enumerate(spec.steps)}
    declared = sorted(range(len(points)), key=lambda n: (steps[points[n].step], n))
    rank = {points[n].key: r for r, n in enumerate(declared)}
    anchor: dict[str, int] = {}
    for n in declared:  # a step's dependencies are in the steps before it
        point = points[n]
        anchor[point.key] = max((anchor[k] for k in point.after), default=rank[point.key])
    ordered = sorted(points, key=lambda p: (anchor[p.key], steps[p.step], rank[p.key]))
    return {point.key: -position for position, point in enumerate(ordered)}
