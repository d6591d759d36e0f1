"""The house's floors: no import circle inside a package of specnb, none between its rooms (its
subpackages and top-level modules), and no room importing one above it.

Imports are read from the source with :mod:`ast`, wherever they stand: at module level, inside
a function, under ``if TYPE_CHECKING``. A circle hidden in a function is still a circle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "specnb"

#: (lower room, higher room): the lower must not import the higher, directly or through
#: another room. The sweep engine runs notebooks and knows none of their costs: the benchmarks
#: model those costs and the command line registers them with it. Datasets know nothing of
#: representations, representations nothing of training, attacks nothing of their evaluation,
#: the store nothing of the report.
FLOORS = [
    ("sweep", "bench"),
    ("data", "representations"),
    ("representations", "training"),
    ("attacks", "attack_eval"),
    ("store", "report"),
]


def _modules() -> dict[str, Path]:
    """Every module of specnb by dotted name; a package by its own name (its ``__init__``)."""
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _known(name: str) -> str | None:
    """The longest specnb module that ``name`` (a module or a name inside one) lies in."""
    while name not in MODULES:
        if "." not in name:
            return None
        name = name.rsplit(".", 1)[0]
    return name


def imports_of(module: str) -> set[str]:
    """The specnb modules that ``module`` imports anywhere in its source."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            # ``from pkg import name`` imports the submodule ``pkg.name`` when there is one.
            found.update(
                f"{source}.{alias.name}" if f"{source}.{alias.name}" in MODULES else source
                for alias in node.names
            )
    return {known for name in found if (known := _known(name)) and known != module}


def room(module: str) -> str:
    """The room of a module: its subpackage of specnb, or itself for a top-level module."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """One cycle of a directed graph as ``[a, b, ..., a]``, or ``[]`` when it has none."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        path.pop()
        return []

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return []


PACKAGES = sorted(
    name for name, path in MODULES.items() if path.name == "__init__.py" and name != "specnb"
)


def _room_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module in MODULES:
        if module == "specnb":
            continue
        here = room(module)
        targets = {room(other) for other in imports_of(module) if other != "specnb"}
        graph.setdefault(here, set()).update(targets - {here})
    return graph


def _reachable(graph: Mapping[str, Iterable[str]], start: str) -> dict[str, str]:
    """Every node reachable from ``start``, each with the node it was first reached from."""
    came_from: dict[str, str] = {}
    todo = [start]
    while todo:
        node = todo.pop()
        for nxt in graph.get(node, ()):
            if nxt not in came_from and nxt != start:
                came_from[nxt] = node
                todo.append(nxt)
    return came_from


def test_the_reader_sees_imports_at_every_level_and_relative_ones():
    assert "specnb.bench.unit_costs" in imports_of("specnb.bench.notebook_costs")
    assert "specnb.sweep.cost_registry" in imports_of("specnb.bench.notebook_costs")
    # Imported inside functions only.
    assert {"specnb.bench.gpu_check", "specnb.sweep"} <= imports_of("specnb.cli")
    # ``from specnb.representations import wavelets`` is the submodule, not the package.
    assert "specnb.representations.wavelets" in imports_of("specnb.representations.reference")
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_circle_inside_a_package(package):
    inside = {m for m in MODULES if m == package or m.startswith(package + ".")}
    graph = {m: imports_of(m) & inside for m in inside}
    cycle = find_cycle(graph)
    assert not cycle, f"{package} imports in a circle: {' -> '.join(cycle)}"


def test_no_import_circle_between_rooms():
    cycle = find_cycle(_room_graph())
    assert not cycle, f"specnb's rooms import in a circle: {' -> '.join(cycle)}"


def test_only_the_entry_point_imports_the_command_line():
    importers = sorted(m for m in MODULES if "specnb.cli" in imports_of(m))
    assert importers == ["specnb.__main__"]


@pytest.mark.parametrize(("lower", "higher"), FLOORS)
def test_no_room_imports_one_above_it(lower, higher):
    came_from = _reachable(_room_graph(), lower)
    assert higher in MODULES or f"specnb.{higher}" in MODULES
    if higher in came_from:
        chain = [higher]
        while chain[-1] != lower:
            chain.append(came_from.get(chain[-1], lower))
        pytest.fail(f"{lower} reaches {higher}: {' -> '.join(reversed(chain))}")
