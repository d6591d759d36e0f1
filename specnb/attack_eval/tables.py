"""Tables of an attack suite: one row per attack, and one row per run as in the paper's Tables 2-4.

The paper's cell "AUC score, number of gradients" reads here as the AUC of the fooling-rate
curve and the gradient computations per sample averaged over the budget grid, the convention
of :mod:`specnb.report.results`, so that these tables and the report agree.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from specnb.attack_eval.budgets import ATTACK_NAMES, BudgetGrid, attack_label
from specnb.attack_eval.results import AttackEvaluation
from specnb.attack_eval.targeting import PAPER_TARGETED

__all__ = ["attack_summary", "grid_table", "paper_table"]


def _in_paper_order(evaluations: Sequence[AttackEvaluation]) -> list[AttackEvaluation]:
    return sorted(evaluations, key=lambda ev: ATTACK_NAMES.index(ev.attack))


def attack_summary(evaluations: Sequence[AttackEvaluation]) -> pd.DataFrame:
    """One row per attack: targeting, norm, samples, AUC, costs, largest fooling rate, time.

    The fooling rate is misclassification for every attack (the paper's); targeted attacks
    show their target-hit AUC and rate beside it.

    Returns
    -------
    pd.DataFrame
        Indexed by the attack's paper spelling; columns ``targeted``, ``norm``, ``grid``
        (its name), ``points``, ``n_correct``, ``n_attacked``, ``auc``, ``target_auc``
        (NaN when untargeted), ``grads`` (mean gradient computations per sample over the
        grid), ``cost_to_fr90``, ``fr_max`` (fooling rate at the largest budget),
        ``target_fr_max`` (target-hit rate there, NaN when untargeted), ``seconds``.
    """
    rows = [
        {
            "attack": ev.label,
            "targeted": ev.targeted,
            "norm": ev.norm,
            "grid": ev.grid.name,
            "points": len(ev.grid),
            "n_correct": ev.n_correct,
            "n_attacked": len(ev.indices),
            "auc": ev.auc,
            "target_auc": math.nan if ev.target_auc is None else ev.target_auc,
            "grads": float(np.mean(ev.grads_per_sample)),
            "cost_to_fr90": ev.cost_to_fr90,
            "fr_max": ev.fooling_rates[-1],
            "target_fr_max": math.nan if ev.target_rates is None else ev.target_rates[-1],
            "seconds": ev.seconds,
        }
        for ev in _in_paper_order(evaluations)
    ]
    return pd.DataFrame(rows).set_index("attack") if rows else pd.DataFrame()


def paper_table(
    evaluations: Sequence[AttackEvaluation],
    accuracy: Optional[float] = None,
    *,
    row: str = "this run",
) -> pd.DataFrame:
    """One row laid out as the paper's Tables 2-4: accuracy, then "AUC, gradients" per attack.

    Parameters
    ----------
    evaluations : sequence of AttackEvaluation
        The attacks of one run.
    accuracy : float, optional
        Recognition accuracy in [0, 1] (e.g. the run's mean over fold models); default the
        clean accuracy of the attacked model on the evaluated samples.
    row : str
        Row label (the setting, for instance).

    Returns
    -------
    pd.DataFrame
        Columns ``Recog. Acc. (%)`` and one per attack, in the paper's order, holding
        ``"0.9822, 12"``: the AUC score and the mean gradient computations per sample.
    """
    ordered = _in_paper_order(evaluations)
    if accuracy is None and ordered:
        accuracy = ordered[0].clean_accuracy
    cells = {"Recog. Acc. (%)": "" if accuracy is None else f"{100 * accuracy:.2f}"}
    for ev in ordered:
        cells[ev.label] = f"{ev.auc:.4f}, {np.mean(ev.grads_per_sample):.0f}"
    return pd.DataFrame([cells], index=pd.Index([row], name="run"))


def grid_table(grids: Sequence[BudgetGrid]) -> pd.DataFrame:
    """The budget grids about to run: what the budget is, its range, the fixed parameters.

    Returns
    -------
    pd.DataFrame
        Indexed by the attack's paper spelling; columns ``grid``, ``targeted`` (the paper's
        choice), ``budget`` (what the scalar budget is), ``points``, ``smallest``,
        ``largest`` and ``fixed`` (the parameters shared by every point).

    Examples
    --------
    >>> from specnb.attack_eval import budget_grid
    >>> grid_table([budget_grid("deepfool", "paper")])["points"].tolist()
    [10]
    """
    rows = [
        {
            "attack": attack_label(g.attack),
            "grid": g.name,
            "targeted": PAPER_TARGETED[g.attack],
            "budget": g.budget_name,
            "points": len(g),
            "smallest": g.budgets[0],
            "largest": g.budgets[-1],
            "fixed": ", ".join(
                f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in g.fixed
            ),
        }
        for g in grids
    ]
    return pd.DataFrame(rows).set_index("attack") if rows else pd.DataFrame()
