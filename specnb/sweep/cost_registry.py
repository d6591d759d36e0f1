"""The cost registry: each notebook's cost model, and the unit costs they are computed from.

The sweep engine knows no notebook and no benchmark. A package that models what its notebooks
cost (:mod:`specnb.bench.notebook_costs`) registers, once at the start of a command line:

- one cost model per notebook file name, ``cost(params, unit_costs) -> seconds``;
- the chooser of the unit costs a projection uses,
  ``choose(device, sweep defaults, file or None) -> (unit costs, a line saying why)``.

Without a registration a sweep still runs; its estimate uses measured timings only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Optional, Protocol, Union

__all__ = [
    "CostModel",
    "UnitCostTable",
    "UnitCostsChooser",
    "clear_costs",
    "cost_model",
    "projection_costs",
    "register_costs",
]


class UnitCostTable(Protocol):
    """What the estimate needs of the unit costs: where they were measured, in words."""

    def describe(self) -> str:
        """The machine the unit costs were measured on."""


#: ``cost(params, unit_costs) -> seconds`` of one point, the notebook's defaults merged in.
CostModel = Callable[[Mapping[str, Any], Any], float]

#: ``choose(device, sweep defaults, file or None) -> (unit costs, note)``.
UnitCostsChooser = Callable[
    [Optional[str], Mapping[str, Any], Union[str, Path, None]], tuple[UnitCostTable, str]
]

_MODELS: dict[str, CostModel] = {}
_CHOOSER: list[UnitCostsChooser] = []


def register_costs(models: Mapping[str, CostModel], unit_costs: UnitCostsChooser) -> None:
    """Register cost models by notebook file name and the chooser of their unit costs.

    A later registration replaces the models of the same notebooks and the chooser.

    Parameters
    ----------
    models : mapping of str to callable
        ``"02_training.ipynb" -> cost(params, unit_costs) -> seconds``.
    unit_costs : callable
        ``choose(device, defaults, path) -> (unit costs, note)``: the table for a device
        (``"auto"``, ``"cpu"``, ``"cuda"`` or None: the sweep's ``DEVICE``) or read from
        ``path``. It raises :class:`~specnb.errors.UnitCostsError` for an unreadable table.

    Examples
    --------
    >>> register_costs({"00_demo.ipynb": lambda params, unit: 1.0}, lambda *args: (None, ""))
    >>> cost_model("00_demo.ipynb")({}, None)
    1.0
    >>> clear_costs()
    """
    _MODELS.update(models)
    _CHOOSER[:] = [unit_costs]


def clear_costs() -> None:
    """Forget every registered cost model and the unit-costs chooser."""
    _MODELS.clear()
    _CHOOSER.clear()


def cost_model(notebook: str) -> CostModel | None:
    """The cost model registered for a notebook file name, or None."""
    return _MODELS.get(notebook)


def projection_costs(
    device: str | None, defaults: Mapping[str, Any], source: str | Path | None = None
) -> tuple[UnitCostTable | None, str]:
    """The unit costs a projection uses and a line saying why (the registered chooser's).

    Returns ``(None, note)`` when nothing is registered: estimates then use measured timings.

    Raises
    ------
    UnitCostsError
        From the chooser: an unreadable table or an unknown device.
    """
    if not _CHOOSER:
        return None, "no cost models registered: measured timings only"
    return _CHOOSER[0](device, defaults, source)
