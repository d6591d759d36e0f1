"""One point's projected seconds from its notebook's cost model, whole and by part.

A point's parameters are its notebook's ``parameters`` cell defaults updated by the point's
own; its cost model (:mod:`specnb.sweep.cost_registry`) turns them and the unit costs into
seconds. The cost models are linear in the unit costs, so a projection splits exactly into
:data:`PARTS`: each part is the cost with every other unit cost set to zero, less the fixed
seconds of figures and listening, which go with the notebook starts. The attacks' input
gradients are split by attack the same way (``"attack cw"``: only CW's gradient counts kept).

Over a whole sweep (:func:`sweep_parts`) the features of one dataset, raw setting and set of
copies are charged once, to the first point in the sweep's order that computes them: the
feature cache serves every later point (a colour map, a scaling of the rows, another seed,
model or test fold draws the same raw representation).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from specnb.store.keys import dumps

from .cost_registry import UnitCostTable, cost_model
from .grid import Point

__all__ = [
    "PARTS",
    "feature_key",
    "notebook_defaults",
    "point_parts",
    "point_seconds",
    "sweep_parts",
]

#: The parts a projection is split into, and the unit costs each one is made of (the rest,
#: ``"start and figures"``, is notebook starts, figures and listening).
PARTS: dict[str, tuple[str, ...]] = {
    "features": ("load", "augment", "represent"),
    "training": ("train",),
    "inference": ("predict",),
    "attack gradients": ("gradient",),
}
_FIXED = "start and figures"
#: The point parameters that, with a setting's raw fields, name the features a point computes.
_FEATURE_PARAMS = ("DATASET", "DATA_PATH", "N_PER_CLASS", "DATA_SEED", "MISSING", "AUGMENT")


@lru_cache(maxsize=32)
def _defaults(path: str, mtime: float) -> dict[str, Any]:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    values: dict[str, Any] = {}
    for cell in nb.cells:
        if cell.cell_type != "code" or "parameters" not in cell.metadata.get("tags", []):
            continue
        for node in ast.parse(cell.source).body:
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
            ):
                try:
                    values[node.targets[0].id] = ast.literal_eval(node.value)
                except ValueError:
                    continue
    return values


def notebook_defaults(notebook: Path) -> dict[str, Any]:
    """The literal values assigned in a notebook's ``parameters`` cell (empty if unreadable).

    Examples
    --------
    >>> from specnb.sweep.papermill_exec import notebook_path
    >>> notebook_defaults(notebook_path("training"))["FOLDS"] >= 1
    True
    """
    try:
        return dict(_defaults(str(notebook), Path(notebook).stat().st_mtime))
    except (OSError, ValueError, SyntaxError):
        return {}


def point_seconds(point: Point, costs: UnitCostTable) -> float | None:
    """Projected seconds of one point, or None when its notebook has no registered cost model
    or the unit costs lack what it needs (an architecture, a grid, an attack)."""
    cost = cost_model(point.notebook.name)
    if cost is None:
        return None
    params = {**notebook_defaults(point.notebook), **point.params}
    try:
        return float(cost(params, costs))
    except (KeyError, TypeError, ValueError):
        return None


def _only(costs: UnitCostTable, fields: Sequence[str]) -> UnitCostTable:
    """``costs`` with every unit cost of :data:`PARTS` and the notebook start set to zero,
    but ``fields``."""
    zeroed: dict[str, Any] = {"notebook_start": 0.0}
    for name in (f for part in PARTS.values() for f in part):
        if name not in fields:
            value = getattr(costs, name)
            zeroed[name] = {k: 0.0 for k in value} if isinstance(value, Mapping) else 0.0
    return replace(costs, **zeroed)


def point_parts(point: Point, costs: UnitCostTable) -> dict[str, float] | None:
    """Projected seconds of one point by part (:data:`PARTS` with the attack gradients split
    into ``"attack <name>"`` parts, and ``"start and figures"``), or None when
    :func:`point_seconds` has no projection; the parts sum to it.

    Examples
    --------
    >>> from specnb.sweep.papermill_exec import notebook_path
    >>> from specnb.bench.notebook_costs import register_notebook_costs
    >>> from specnb.bench.unit_costs import load_unit_costs
    >>> register_notebook_costs()
    >>> point = Point("report", "r", notebook_path("report"), {})
    >>> parts = point_parts(point, load_unit_costs())
    >>> parts["training"], parts["start and figures"] > 0
    (0.0, True)
    """
    total = point_seconds(point, costs)
    if total is None:
        return None
    fixed = point_seconds(point, _only(costs, ()))
    parts = {
        name: point_seconds(point, _only(costs, fields)) - fixed  # type: ignore[operator]
        for name, fields in PARTS.items()
        if fields != ("gradient",)
    }
    gradients = _only(costs, ("gradient",))
    for attack in sorted({a for grid in costs.attack_gradients.values() for a in grid}):
        counts = {
            grid: {a: (n if a == attack else 0.0) for a, n in by_attack.items()}
            for grid, by_attack in costs.attack_gradients.items()
        }
        seconds = point_seconds(point, replace(gradients, attack_gradients=counts)) - fixed
        if seconds > 0:  # type: ignore[operator]
            parts[f"attack {attack}"] = seconds  # type: ignore[assignment]
    parts[_FIXED] = total - sum(parts.values())  # type: ignore[arg-type]
    return parts  # type: ignore[return-value]


def feature_key(point: Point) -> str | None:
    """What a point's features are: its dataset parameters, its pitch-shifted copies and its
    setting's raw fields (:data:`~specnb.representations.settings.IMAGE_FIELDS` left out, as
    in the feature cache); None for a point without a ``SETTING`` mapping."""
    from specnb.representations.settings import IMAGE_FIELDS

    params = {**notebook_defaults(point.notebook), **point.params}
    setting = params.get("SETTING")
    if not isinstance(setting, Mapping):
        return None
    raw = {k: v for k, v in setting.items() if k not in IMAGE_FIELDS}
    data = [params.get(name) for name in _FEATURE_PARAMS]
    return dumps([data, raw])


def sweep_parts(
    points: Sequence[Point], costs: UnitCostTable
) -> dict[str, dict[str, float] | None]:
    """Every point's :func:`point_parts` by point key, with the features of each
    :func:`feature_key` charged only to the first point in ``points``' order that computes
    them (later ones read the feature cache: their ``"features"`` part is 0).

    Examples
    --------
    >>> from specnb.sweep.papermill_exec import notebook_path
    >>> from specnb.bench.notebook_costs import register_notebook_costs
    >>> from specnb.bench.unit_costs import load_unit_costs
    >>> register_notebook_costs()
    >>> train = notebook_path("training")
    >>> a, b = (Point("t", k, train, {"SEED": s}) for k, s in (("a", 0), ("b", 1)))
    >>> parts = sweep_parts([a, b], load_unit_costs())
    >>> parts["a"]["features"] > 0, parts["b"]["features"]
    (True, 0.0)
    """
    charged: set[str] = set()
    out: dict[str, dict[str, float] | None] = {}
    for point in points:
        parts = point_parts(point, costs)
        key = feature_key(point)
        if parts is not None and key is not None and parts["features"] > 0:
            if key in charged:
                parts = {**parts, "features": 0.0}
            charged.add(key)
        out[point.key] = parts
    return out
