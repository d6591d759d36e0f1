"""The sweep file: YAML loading and validation into a :class:`SweepSpec`.

A sweep file names a grid of notebook executions::

    name: quick                     # names the sweep and its output folder (letters, digits, _ . -)
    notebook_dir: null              # optional: folder of the notebooks, relative to this file
    cell_timeout: null              # optional: seconds a notebook cell may run
    defaults:                       # given to every step whose notebook declares the name
      DATASET: synthetic
      SEED: 0
    steps:
      - name: features              # optional (default: the notebook name); unique
        notebook: representations   # a short name of the chain or a .ipynb file name
        parameters: {INTERACTIVE: false}   # fixed for every point of the step
        product:                    # cartesian product of lists
          SEED: [0, 1]
          SETTING.n_fft: [512, 1024]       # NAME.field sets one field of a mapping parameter
        points:                     # explicit partial points, each crossed with the product
          - {MAX_CLASSES: 1}
        grid:                       # instead of product/points: a list of such blocks whose
          - {product: {...}}        # points are joined (one sub-grid per representation...)
        after: train                # optional: a step name or a list of them
        match: [DATASET, SEED]      # each point depends on the points of ``after`` that
                                    # share these values (no match: on every point of it)

A step with no ``product``, ``points`` or ``grid`` runs once. Later values win: defaults, then
``parameters``, then the point's own values. ``OUT_DIR``, ``STORE`` and ``CACHE_DIR`` are set
by the runner and cannot appear in the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from specnb.errors import SweepError
from specnb.store.keys import json_default

from .notebooks import RUNNER_PARAMETERS, declared_parameters, resolve_notebook

__all__ = ["GridBlock", "StepSpec", "SweepError", "SweepSpec", "load_sweep"]

#: A sweep or step name: it names a folder under the output folder, so no paths.
_FOLDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")

_TOP_KEYS = {"name", "notebook_dir", "cell_timeout", "defaults", "steps"}
_STEP_KEYS = {"name", "notebook", "parameters", "product", "points", "grid", "after", "match"}
_BLOCK_KEYS = {"product", "points"}

#: Builds the error for a location of the file and a problem.
_Fail = Callable[[str, str], "SweepError"]


@dataclass(frozen=True)
class GridBlock:
    """One sub-grid: every explicit point crossed with every combination of the product.

    Attributes
    ----------
    product : mapping of str to list
        Parameter name (or ``NAME.field``) -> the values it takes.
    points : tuple of mapping
        Explicit partial assignments; ``({},)`` when the block has none.
    where : str
        Location in the file, for error messages (``"steps[0].grid[1]"``).
    """

    product: Mapping[str, list[Any]]
    points: tuple[Mapping[str, Any], ...]
    where: str


@dataclass(frozen=True)
class StepSpec:
    """One validated step of a sweep.

    Attributes
    ----------
    name : str
        Unique step name; also the folder ``<out>/<name>/`` of its run folders.
    notebook : Path
        The notebook file each point executes.
    declared : frozenset of str
        The parameters its ``parameters`` cell declares.
    parameters : mapping
        Values fixed for every point of the step (defaults already merged).
    blocks : tuple of GridBlock
        Sub-grids whose points are joined.
    after : tuple of str
        Steps this one depends on.
    match : tuple of str
        Parameters a point shares with the points it depends on (empty: all of them).
    where : str
        Location in the file (``"steps[1]"``).
    """

    name: str
    notebook: Path
    declared: frozenset[str]
    parameters: Mapping[str, Any]
    blocks: tuple[GridBlock, ...]
    after: tuple[str, ...]
    match: tuple[str, ...]
    where: str


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep file; ``steps`` come in dependency order.

    Attributes
    ----------
    name : str
        Sweep name.
    path : Path
        The sweep file.
    defaults : mapping
        Values given to every step whose notebook declares the name.
    steps : tuple of StepSpec
        Steps, each after the steps it depends on.
    cell_timeout : int or None
        Seconds a notebook cell may run before the point fails.
    """

    name: str
    path: Path
    defaults: Mapping[str, Any]
    steps: tuple[StepSpec, ...]
    cell_timeout: int | None = None

    def error(self, where: str, problem: str) -> SweepError:
        """A :class:`SweepError` naming this file and ``where``."""
        return SweepError(f"{self.path}: {where}: {problem}")


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and validate a sweep file.

    Parameters
    ----------
    path : str or Path
        The YAML file.

    Returns
    -------
    SweepSpec
        Steps in dependency order, notebooks resolved, parameter names checked against each
        notebook's ``parameters`` cell.

    Raises
    ------
    SweepError
        Missing file, bad YAML, unknown key, unknown notebook or parameter, empty grid,
        unknown ``after`` or a dependency cycle; the message names the file and the key.

    Examples
    --------
    >>> from pathlib import Path
    >>> spec = load_sweep(Path(__file__).parents[2] / "sweeps" / "quick.yaml")
    >>> spec.steps[0].notebook.name
    '01_representations.ipynb'
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise SweepError(f"{path}: no such sweep file")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise SweepError(f"{path}: bad YAML: {error}") from error

    def fail(where: str, problem: str) -> SweepError:
        return SweepError(f"{path}: {where}: {problem}")

    if not isinstance(raw, dict):
        raise fail("top level", "expected a mapping with name, defaults and steps")
    _check_keys(raw, _TOP_KEYS, "top level", fail)
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise fail("name", "the sweep needs a non-empty name")
    if not _FOLDER_NAME.fullmatch(name):
        raise fail("name", f"{name!r} cannot name a folder (letters, digits, _ . -)")
    notebook_dir = raw.get("notebook_dir")
    if notebook_dir is not None:
        notebook_dir = (path.parent / str(notebook_dir)).resolve()
        if not notebook_dir.is_dir():
            raise fail("notebook_dir", f"no folder {notebook_dir}")
    cell_timeout = raw.get("cell_timeout")
    if cell_timeout is not None and (
        isinstance(cell_timeout, bool) or not isinstance(cell_timeout, int) or cell_timeout <= 0
    ):
        raise fail("cell_timeout", f"expected a positive number of seconds, got {cell_timeout!r}")
    defaults = _mapping(raw.get("defaults") or {}, "defaults", fail)
    steps_raw = raw.get("steps")
    if not isinstance(steps_raw, list) or not steps_raw:
        raise fail("steps", "expected a non-empty list of steps")
    steps = [_step(s, i, defaults, notebook_dir, fail) for i, s in enumerate(steps_raw)]
    declared_anywhere = set().union(*(s.declared for s in steps))
    for key in defaults:
        if key not in declared_anywhere:
            raise fail(f"defaults.{key}", "no notebook of the sweep declares this parameter")
    return SweepSpec(
        name=name,
        path=path,
        defaults=defaults,
        steps=_ordered(steps, fail),
        cell_timeout=cell_timeout,
    )


def _check_keys(raw: Mapping[str, Any], known: set[str], where: str, fail: _Fail) -> None:
    unknown = sorted(set(raw) - known)
    if unknown:
        raise fail(f"{where}.{unknown[0]}", f"unknown key; expected one of {sorted(known)}")


def _mapping(value: Any, where: str, fail: _Fail) -> dict[str, Any]:
    """A mapping of parameter names to JSON-serialisable values."""
    if not isinstance(value, dict):
        raise fail(where, f"expected a mapping of parameters, got {type(value).__name__}")
    for key, item in value.items():
        if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z_]\w*(\.\w+)?", key):
            raise fail(f"{where}.{key}", "expected a parameter name, or NAME.field")
        if key.split(".")[0] in RUNNER_PARAMETERS:
            raise fail(f"{where}.{key}", "set by the sweep runner for each point")
        try:
            json.dumps(item, default=json_default)
        except (TypeError, ValueError) as error:
            raise fail(f"{where}.{key}", f"value is not JSON-serialisable: {error}") from error
    return dict(value)


def _step(
    raw: Any, index: int, defaults: Mapping[str, Any], notebook_dir: Path | None, fail: _Fail
) -> StepSpec:
    where = f"steps[{index}]"
    if not isinstance(raw, dict):
        raise fail(where, "expected a mapping with a notebook and a grid")
    _check_keys(raw, _STEP_KEYS, where, fail)
    if "notebook" not in raw:
        raise fail(f"{where}.notebook", "missing")
    try:
        notebook = resolve_notebook(str(raw["notebook"]), notebook_dir)
    except LookupError as error:
        raise fail(f"{where}.notebook", str(error)) from error
    name = str(raw.get("name") or Path(str(raw["notebook"])).stem)
    if not _FOLDER_NAME.fullmatch(name):
        raise fail(f"{where}.name", f"{name!r} cannot name a folder (letters, digits, _ . -)")
    where = f"steps[{index}] ({name})"
    try:
        declared = declared_parameters(notebook)
    except ValueError as error:
        raise fail(f"{where}.notebook", str(error)) from error
    parameters = _mapping(raw.get("parameters") or {}, f"{where}.parameters", fail)
    if "grid" in raw:
        if "product" in raw or "points" in raw:
            raise fail(f"{where}.grid", "give either grid or product/points, not both")
        if not isinstance(raw["grid"], list) or not raw["grid"]:
            raise fail(f"{where}.grid", "expected a non-empty list of {product, points} blocks")
        blocks = tuple(_block(b, f"{where}.grid[{j}]", fail) for j, b in enumerate(raw["grid"]))
    else:
        blocks = (_block({k: raw[k] for k in _BLOCK_KEYS if k in raw}, where, fail),)
    used = set(parameters) | {n for b in blocks for n in b.product}
    used |= {n for b in blocks for p in b.points for n in p}
    for key in sorted(used):
        if key.split(".")[0] not in declared:
            raise fail(
                f"{where}: {key}",
                f"notebook {notebook.name} has no parameter {key.split('.')[0]}; it declares "
                f"{sorted(declared)}",
            )
    after = raw.get("after") or []
    after = [after] if isinstance(after, str) else after
    match = raw.get("match") or []
    if not isinstance(after, list) or not all(isinstance(a, str) for a in after):
        raise fail(f"{where}.after", "expected a step name or a list of step names")
    if not isinstance(match, list) or not all(isinstance(m, str) for m in match):
        raise fail(f"{where}.match", "expected a list of parameter names")
    if match and not after:
        raise fail(f"{where}.match", "match needs an after step")
    for key in match:
        if key not in declared:
            raise fail(f"{where}.match", f"notebook {notebook.name} has no parameter {key}")
    merged = {k: v for k, v in defaults.items() if k in declared}
    return StepSpec(
        name=name,
        notebook=notebook,
        declared=declared,
        parameters={**merged, **parameters},
        blocks=blocks,
        after=tuple(after),
        match=tuple(match),
        where=where,
    )


def _block(raw: Any, where: str, fail: _Fail) -> GridBlock:
    if not isinstance(raw, dict):
        raise fail(where, "expected a mapping with product and/or points")
    _check_keys(raw, _BLOCK_KEYS, where, fail)
    product = _mapping(raw.get("product") or {}, f"{where}.product", fail)
    for key, values in product.items():
        if not isinstance(values, list):
            raise fail(f"{where}.product.{key}", "expected a list of values")
        if not values:
            raise fail(f"{where}.product.{key}", "empty list: the grid would have no point")
    points: tuple[Mapping[str, Any], ...] = ({},)
    if "points" in raw:
        if not isinstance(raw["points"], list) or not raw["points"]:
            raise fail(f"{where}.points", "expected a non-empty list of parameter mappings")
        points = tuple(
            _mapping(p, f"{where}.points[{i}]", fail) for i, p in enumerate(raw["points"])
        )
        for i, point in enumerate(points):
            both = sorted(set(point) & set(product))
            if both:
                raise fail(f"{where}.points[{i}].{both[0]}", "also set by the product")
    return GridBlock(product=product, points=points, where=where)


def _ordered(steps: list[StepSpec], fail: _Fail) -> tuple[StepSpec, ...]:
    """Steps in dependency order (Kahn); unknown ``after`` names and cycles are errors."""
    by_name: dict[str, StepSpec] = {}
    for step in steps:
        if step.name in by_name:
            raise fail(f"{step.where}.name", f"two steps are named {step.name!r}")
        by_name[step.name] = step
    for step in steps:
        for name in step.after:
            if name not in by_name:
                raise fail(f"{step.where}.after", f"unknown step {name!r}; steps: {list(by_name)}")
    ordered: list[StepSpec] = []
    placed: set[str] = set()
    remaining = list(steps)
    while remaining:
        ready = [s for s in remaining if set(s.after) <= placed]
        if not ready:
            cycle = " -> ".join(s.name for s in remaining)
            raise fail("steps", f"the after dependencies form a cycle among: {cycle}")
        for step in ready:
            ordered.append(step)
            placed.add(step.name)
        remaining = [s for s in remaining if s.name not in placed]
    return tuple(ordered)
