"""Budget grids as data: :class:`BudgetGrid` and the attacks' names.

An attack's *budget* is the resource the adversary grants it: the perturbation size of FGSM
and BIM, the iterations of DeepFool, L-BFGS and Carlini-Wagner, the share of changed pixels
of JSMA. A :class:`BudgetGrid` lists the attack's constructor parameters at every point of a
grid together with one *scalar budget* per point, the x axis of the fooling-rate curve whose
area is the AUC score (:func:`specnb.metrics.auc_score` maps that axis onto [0, 1]). The
paper's grids and the quick ones are in :mod:`specnb.attack_eval.grids`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Union

from specnb.attacks import ATTACKS, BIM, BIM_VARIANTS
from specnb.errors import ParameterError

__all__ = ["ATTACK_NAMES", "GRID_NAMES", "BudgetGrid", "attack_label", "canonical_attack"]

#: Attack names, in the paper's column order (L-BFGS, the baseline, last).
ATTACK_NAMES = ("fgsm", "deepfool", "bim-a", "bim-b", "jsma", "cw", "lbfgs")

#: Names of the grids every attack has.
GRID_NAMES = ("quick", "paper")

_LABELS = {
    name: f"{BIM.label}-{BIM_VARIANTS[name]}" if name in BIM_VARIANTS else ATTACKS[name].label
    for name in ATTACK_NAMES
}

Point = tuple[Any, ...]


def canonical_attack(name: str) -> str:
    """The attack's name as this package spells it: lower case, ``_`` read as ``-``.

    Raises
    ------
    ValueError
        For a name that is not one of :data:`ATTACK_NAMES`.

    Examples
    --------
    >>> canonical_attack("BIM_a")
    'bim-a'
    """
    key = str(name).strip().lower().replace("_", "-")
    if key not in ATTACK_NAMES:
        raise ParameterError(f"unknown attack {name!r}; choose one of {list(ATTACK_NAMES)}")
    return key


def attack_label(name: str) -> str:
    """The paper's spelling of an attack (``"BIM-a"``, ``"CWA"``...).

    Examples
    --------
    >>> attack_label("cw")
    'CWA'
    """
    return _LABELS[canonical_attack(name)]


@dataclass(frozen=True)
class BudgetGrid:
    """The points of one attack's budget grid.

    Parameters
    ----------
    attack : str
        Attack name (see :data:`ATTACK_NAMES`; ``_`` is read as ``-``).
    param_names : tuple of str
        Constructor parameters of the attack that change along the grid.
    values : sequence of tuple
        One tuple of values of ``param_names`` per point (a bare value when there is one
        name).
    budgets : sequence of float
        Scalar budget of each point, strictly increasing: the x axis of the fooling-rate curve.
    budget_name : str
        What the scalar budget is (axis label), e.g. ``"eps"`` or ``"search_steps x
        max_iterations"``.
    fixed : mapping
        Constructor parameters shared by every point (stored as sorted pairs).
    name : str
        The grid's name (``"quick"``, ``"paper"`` or ``"custom"``).

    Raises
    ------
    ValueError
        An unknown attack, a point whose length does not match ``param_names``, a name both
        varied and fixed, budgets that are not finite, not >= 0 or not strictly increasing,
        or an empty grid (each message names the field).

    Examples
    --------
    >>> grid = BudgetGrid("fgsm", ("eps",), [0.0, 0.01, 0.1], [0.0, 0.01, 0.1], "eps",
    ...                   {"norm": "linf"})
    >>> grid.points()[1]
    {'norm': 'linf', 'eps': 0.01}
    >>> grid.budgets
    (0.0, 0.01, 0.1)
    """

    attack: str
    param_names: tuple[str, ...]
    values: tuple[Point, ...]
    budgets: tuple[float, ...]
    budget_name: str
    fixed: Union[Mapping[str, Any], tuple[tuple[str, Any], ...]] = field(default=())
    name: str = "custom"

    def __post_init__(self) -> None:
        object.__setattr__(self, "attack", canonical_attack(self.attack))
        names = tuple(str(n) for n in self.param_names)
        if not names:
            raise ParameterError("BudgetGrid.param_names is empty")
        values = tuple(tuple(v) if isinstance(v, (tuple, list)) else (v,) for v in self.values)
        budgets = tuple(float(b) for b in self.budgets)
        if not values:
            raise ParameterError(f"BudgetGrid.values of {self.attack} is empty")
        if len(values) != len(budgets):
            raise ParameterError(
                f"BudgetGrid.budgets has {len(budgets)} entries for {len(values)} points"
            )
        for point in values:
            if len(point) != len(names):
                raise ParameterError(
                    f"BudgetGrid.values: point {point} does not match param_names {names}"
                )
        if not all(math.isfinite(b) and b >= 0 for b in budgets):
            raise ParameterError(f"BudgetGrid.budgets must be finite and >= 0, got {budgets}")
        if any(b <= a for a, b in zip(budgets, budgets[1:])):
            raise ParameterError(f"BudgetGrid.budgets must be strictly increasing, got {budgets}")
        fixed = tuple(sorted(dict(self.fixed).items()))
        clash = sorted(set(names) & {k for k, _ in fixed})
        if clash:
            raise ParameterError(f"BudgetGrid: {clash[0]!r} is both varied and fixed")
        object.__setattr__(self, "param_names", names)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "budgets", budgets)
        object.__setattr__(self, "fixed", fixed)

    def __len__(self) -> int:
        return len(self.budgets)

    def points(self) -> list[dict[str, Any]]:
        """Constructor parameters of every point: the fixed ones and that point's values."""
        return [{**dict(self.fixed), **dict(zip(self.param_names, v))} for v in self.values]

    def with_fixed(self, **params: Any) -> "BudgetGrid":
        """A copy with more (or other) fixed parameters, e.g. ``norm="l2"``.

        Examples
        --------
        >>> grid = BudgetGrid("fgsm", ("eps",), [0.1], [0.1], "eps", {"norm": "linf"})
        >>> grid.with_fixed(norm="l2").points()[0]["norm"]
        'l2'
        """
        fixed = {**dict(self.fixed), **params}
        return BudgetGrid(
            self.attack,
            self.param_names,
            self.values,
            self.budgets,
            self.budget_name,
            fixed,
            self.name,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (stored in the attack's key and ``params_json``)."""
        return {
            "attack": self.attack,
            "name": self.name,
            "param_names": list(self.param_names),
            "values": [list(v) for v in self.values],
            "budgets": list(self.budgets),
            "budget_name": self.budget_name,
            "fixed": dict(self.fixed),
        }

    @classmethod
    def from_dict(cls, fields: Mapping[str, Any]) -> "BudgetGrid":
        """Inverse of :meth:`to_dict`."""
        return cls(
            fields["attack"],
            tuple(fields["param_names"]),
            tuple(tuple(v) for v in fields["values"]),
            tuple(fields["budgets"]),
            fields["budget_name"],
            dict(fields.get("fixed", {})),
            fields.get("name", "custom"),
        )
