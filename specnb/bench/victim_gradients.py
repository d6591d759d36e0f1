"""Input gradients per attacked sample on trained victims, counted from a results store.

How many gradients an attack takes depends on its victim: the iterative attacks stop each
sample at its first success (BIM, DeepFool) or search its smallest perturbation (CW), and a
trained network sits much farther from its decision boundaries than a randomly initialised
one. ``specnb bench sweep`` counts the gradients on a random
:data:`~specnb.bench.unit_costs.ATTACK_MODEL` (it needs no data); on the ESC-10 study's trained
ResNet-18s CW took 3.4 times as many on the quick grid, DeepFool 1.3 times and BIM-a 1.1
times. The dry run therefore projects with the counts of :data:`VICTIM_GRADIENTS_FILE`, taken
from the attack runs of a real study (``specnb bench victims STORE`` writes them), wherever that
table has the grid and the attack, and with the random model's counts elsewhere
(:func:`with_victim_gradients`, :func:`victims_projection_costs`).

Examples
--------
>>> table = load_victim_gradients()
>>> sorted(table.gradients["quick"])
['bim-a', 'cw', 'deepfool', 'fgsm']
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from specnb.errors import UnitCostsError

if TYPE_CHECKING:
    from specnb.bench.unit_costs import UnitCosts
    from specnb.store import ResultsStore

__all__ = [
    "VICTIM_GRADIENTS_FILE",
    "VictimGradients",
    "count_victim_gradients",
    "load_victim_gradients",
    "main",
    "victims_projection_costs",
    "with_victim_gradients",
]

#: The packaged counts, measured on the trained victims of a published study.
VICTIM_GRADIENTS_FILE = Path(__file__).parents[1] / "data_files" / "victim_attack_gradients.json"


@dataclass(frozen=True)
class VictimGradients:
    """Mean input gradients per attacked sample over a whole budget grid, on trained victims.

    Attributes
    ----------
    gradients : mapping of str to mapping of str to float
        By grid name, then attack: the gradients per sample that the grid's attack runs
        spent (:func:`specnb.bench.attack_grid_costs.grid_gradients`, one run serving the
        points of a curve), averaged over the counted attack runs.
    runs : mapping of str to mapping of str to int
        How many attack runs each mean is over.
    victims : str
        The architectures, datasets and representations attacked.
    source : str
        Where the counts come from.
    """

    gradients: Mapping[str, Mapping[str, float]]
    runs: Mapping[str, Mapping[str, int]]
    victims: str
    source: str


def count_victim_gradients(store: "ResultsStore", source: str = "") -> VictimGradients:
    """The gradients per attacked sample of every finished attack run of ``store``.

    Parameters
    ----------
    store : ResultsStore
        A store with attack results (``grads_per_sample_json`` and the grid in
        ``params_json``).
    source : str
        Where the store comes from (kept with the counts).

    Returns
    -------
    VictimGradients

    Raises
    ------
    UnitCostsError
        The store has no finished attack run with gradient counts.
    """
    from specnb.attack_eval.budgets import BudgetGrid
    from specnb.bench.attack_grid_costs import grid_gradients

    attacks = store.attacks_df(status="done")
    runs = store.runs_df()
    sums: dict[str, dict[str, list[float]]] = {}
    victims: dict[str, set[str]] = {}
    for row in attacks.itertuples():
        params, counts = row.params_json, row.grads_per_sample_json
        if not isinstance(params, dict) or "grid" not in params or not counts:
            continue
        grid = BudgetGrid.from_dict(params["grid"])
        spent = grid_gradients(grid, [float(c) for c in counts])[1]
        sums.setdefault(grid.name, {}).setdefault(grid.attack, []).append(spent)
        run = runs[runs["run_key"] == row.run_key]
        if not run.empty:
            first = run.iloc[0]
            victims.setdefault(f"{first['model']} on {first['dataset']}", set()).add(
                str(first["repr"])
            )
    if not sums:
        raise UnitCostsError(
            f"{store.path}: no finished attack run with gradient counts to count; run "
            "notebook 03 (or a sweep's attack step) first"
        )
    return VictimGradients(
        gradients={g: {a: sum(v) / len(v) for a, v in by.items()} for g, by in sums.items()},
        runs={g: {a: len(v) for a, v in by.items()} for g, by in sums.items()},
        victims="; ".join(f"{v} ({', '.join(sorted(r))})" for v, r in sorted(victims.items()))
        or "runs of unknown victims",
        source=source or str(store.path),
    )


def write_victim_gradients(table: VictimGradients, path: str | Path) -> Path:
    """Write ``table`` as JSON to ``path`` atomically; return the path."""
    from dataclasses import asdict

    from specnb.atomic import atomic_write

    text = json.dumps(asdict(table), indent=1, sort_keys=True) + "\n"
    atomic_write(Path(path), lambda stream: stream.write(text.encode()))
    return Path(path)


def load_victim_gradients(path: str | Path = VICTIM_GRADIENTS_FILE) -> VictimGradients:
    """Read counts written by ``specnb bench victims``.

    Raises
    ------
    UnitCostsError
        The file is missing, not JSON, or not a table of counts (the message names it).
    """
    path = Path(path)
    try:
        return VictimGradients(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError) as error:
        raise UnitCostsError(
            f"{path}: not a table of victim gradient counts ({error}); "
            "`specnb bench victims STORE --out FILE` writes one"
        ) from error


def with_victim_gradients(costs: "UnitCosts", table: VictimGradients) -> "UnitCosts":
    """``costs`` with the gradient counts of ``table`` wherever it has the grid and attack.

    The attacks' seconds per counted gradient
    (:attr:`~specnb.bench.unit_costs.UnitCosts.attack_overhead`) stay those measured.

    Examples
    --------
    >>> from specnb.bench.unit_costs import load_unit_costs
    >>> costs = with_victim_gradients(load_unit_costs(), load_victim_gradients())
    >>> costs.attack_gradients["quick"]["cw"] == load_victim_gradients().gradients["quick"]["cw"]
    True
    """
    counts = {
        grid: {a: table.gradients.get(grid, {}).get(a, n) for a, n in by_attack.items()}
        for grid, by_attack in costs.attack_gradients.items()
    }
    return replace(costs, attack_gradients=counts)


def victims_projection_costs(
    device: str | None, defaults: Mapping[str, Any], unit_costs: str | Path | None = None
) -> tuple["UnitCosts", str]:
    """The unit costs a dry run projects from
    (:func:`~specnb.bench.unit_costs.projection_costs`), with the gradient counts of
    :data:`VICTIM_GRADIENTS_FILE`; the line names the victims.

    Examples
    --------
    >>> from specnb.bench.unit_costs import UNIT_COSTS_FILE
    >>> costs, note = victims_projection_costs("cpu", {}, UNIT_COSTS_FILE)
    >>> "attack gradients counted on resnet18 on esc10" in note
    True
    """
    from specnb.bench.unit_costs import projection_costs

    costs, note = projection_costs(device, defaults, unit_costs)
    victims = load_victim_gradients()
    note += f"; attack gradients counted on {victims.victims} ({victims.source})"
    return with_victim_gradients(costs, victims), note


def main(argv: Sequence[str] | None = None) -> int:
    """``specnb bench victims STORE [--out FILE]``: count and write."""
    from specnb.store import ResultsStore

    parser = argparse.ArgumentParser(
        prog="specnb bench victims",
        description="Count the input gradients per attacked sample of a store's attack runs "
        "(the dry run's counts on trained victims).",
    )
    parser.add_argument("store", type=Path, help="results store (results.sqlite)")
    parser.add_argument(
        "--out",
        type=Path,
        default=VICTIM_GRADIENTS_FILE,
        help=f"JSON file written (default: the packaged {VICTIM_GRADIENTS_FILE.name})",
    )
    parser.add_argument("--source", default="", help="where the store comes from (kept)")
    args = parser.parse_args(argv)
    if not args.store.is_file():
        raise UnitCostsError(f"store={str(args.store)!r}: no such results store")
    store = ResultsStore(args.store, read_only=True)
    try:
        table = count_victim_gradients(store, args.source)
    finally:
        store.close()
    path = write_victim_gradients(table, args.out)
    print(f"{path}: {table.victims}")
    for grid, by_attack in table.gradients.items():
        line = ", ".join(
            f"{a} {n:.1f} ({table.runs[grid][a]} runs)" for a, n in sorted(by_attack.items())
        )
        print(f"  {grid} grid (gradients per sample): {line}")
    return 0
