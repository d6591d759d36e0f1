"""Evaluating attacks on a trained model: budget grids, fooling-rate curves, store rows, figures.

The attack notebook (03) runs every attack of :mod:`specnb.attacks` over its budget grid on
one fold model of a trained run, keeps the correctly classified test samples, and measures
the fooling rate, the AUC score, the attack cost and the perturbation sizes (SPEC
"Metrics"); it writes one ``attacks`` row per attack, draws the adversarial gallery (paper
Fig. 6) and the fooling-rate curves, and plays the adversarial audio.

Modules
-------
- ``budgets`` -- Budget grids as data: :class:`BudgetGrid` and the attacks' names.
- ``evaluate`` -- Run one attack over its budget grid and measure it: fooling rate, cost,
  perturbation sizes.
- ``figures`` -- Figures of an attack suite: the adversarial gallery (paper Fig. 6) and fooling-rate
  curves.
- ``grids`` -- The attacks' budget grids (paper §4.3.1): the paper's, and quick ones for a CPU;
  the attack runs that serve a grid (:func:`curve_runs`).
- ``results`` -- What an attack evaluation measured: one :class:`BudgetResult` per grid point,
  gathered in an :class:`AttackEvaluation` with the curve's AUC score and cost (see
  :mod:`specnb.attack_eval.evaluate` for the definitions).
- ``run`` -- Attack results in the results store: one ``attacks`` row per (run, fold, attack, grid).
- ``tables`` -- Tables of an attack suite: one row per attack, and one row per run as in the paper's
  Tables 2-4.
- ``targeting`` -- How each attack runs unless told otherwise: targeted or not as in the paper, the
  targeting modes it supports, and its norm.
"""

from specnb.attack_eval.budgets import (
    ATTACK_NAMES,
    GRID_NAMES,
    BudgetGrid,
    attack_label,
    canonical_attack,
)
from specnb.attack_eval.evaluate import evaluate_attack, predict
from specnb.attack_eval.figures import (
    CURVES_FILE,
    GALLERY_FILE,
    amplified,
    common_samples,
    curves_frame,
    fooling_curves_figure,
    gallery_figure,
    save_gallery,
)
from specnb.attack_eval.grids import (
    BIM_STEP,
    GRIDS,
    bim_grid,
    bim_steps,
    budget_grid,
    curve_runs,
    cw_grid,
    deepfool_grid,
    fgsm_grid,
    jsma_grid,
    jsma_iterations,
    lbfgs_grid,
)
from specnb.attack_eval.results import AttackEvaluation, BudgetResult
from specnb.attack_eval.run import (
    ADVERSARIAL_KEY,
    attach_artefacts,
    attack_params,
    record_failure,
    run_attack,
    save_adversarial,
    write_attack,
)
from specnb.attack_eval.tables import attack_summary, grid_table, paper_table
from specnb.attack_eval.targeting import PAPER_TARGETED, TARGETING, resolve_targeted
from specnb.runs.attack_target import STANDALONE_SETTING, find_run, resolve_run, standalone_job

__all__ = [
    "ADVERSARIAL_KEY",
    "ATTACK_NAMES",
    "AttackEvaluation",
    "BIM_STEP",
    "BudgetGrid",
    "BudgetResult",
    "CURVES_FILE",
    "GALLERY_FILE",
    "GRIDS",
    "GRID_NAMES",
    "PAPER_TARGETED",
    "STANDALONE_SETTING",
    "TARGETING",
    "amplified",
    "attach_artefacts",
    "attack_label",
    "attack_params",
    "attack_summary",
    "bim_grid",
    "bim_steps",
    "budget_grid",
    "canonical_attack",
    "common_samples",
    "curve_runs",
    "curves_frame",
    "cw_grid",
    "deepfool_grid",
    "evaluate_attack",
    "fgsm_grid",
    "find_run",
    "fooling_curves_figure",
    "gallery_figure",
    "grid_table",
    "jsma_grid",
    "jsma_iterations",
    "lbfgs_grid",
    "paper_table",
    "predict",
    "record_failure",
    "resolve_run",
    "resolve_targeted",
    "run_attack",
    "save_adversarial",
    "save_gallery",
    "standalone_job",
    "write_attack",
]
