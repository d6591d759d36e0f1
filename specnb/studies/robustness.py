"""Accuracy and robustness of several runs side by side (Tables 6 and 8).

:func:`attack_runs` attacks the most accurate fold model of every run of a study with the
same attacks, grids, samples and seed, records each attack in the results store as notebook
03 does, and returns one row per (run, attack) with the accuracy, the AUC score and the
gradient computations per sample — the columns the paper's comparison tables are built from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from specnb.attack_eval import budget_grid, run_attack
from specnb.models import count_parameters
from specnb.runs.variants import load_best_models
from specnb.store import ResultsStore

__all__ = ["ROBUSTNESS_COLUMNS", "attack_runs", "robustness_summary"]

#: Columns of :func:`attack_runs`' frame.
ROBUSTNESS_COLUMNS = (
    "name",
    "run_key",
    "model",
    "colormap",
    "accuracy",
    "fold",
    "fold_accuracy",
    "n_params",
    "attack",
    "auc",
    "fooling_rate_max",
    "grads_per_sample",
    "attack_key",
)


def attack_runs(
    store: ResultsStore,
    run_keys: Mapping[str, str],
    attacks: Sequence[str],
    out_dir: str | PathLike,
    *,
    grid: str = "quick",
    n_samples: int | None = None,
    seed: int = 0,
    batch_size: int = 32,
    device: str = "auto",
) -> pd.DataFrame:
    """Attack the best fold model of every run with every attack and record the results.

    Parameters
    ----------
    store : ResultsStore
        Holds the runs; receives one ``attacks`` row per (run, attack).
    run_keys : mapping of str to str
        Run key by name (from :func:`~specnb.runs.variants.train_runs`).
    attacks : sequence of str
        Attack names (see :data:`specnb.attack_eval.ATTACK_NAMES`).
    out_dir : str or path-like
        Where each run's adversarial examples are saved (``out_dir / name``).
    grid : {"quick", "paper"}
        Budget grids.
    n_samples : int, optional
        Correctly classified test clips attacked per run (default all).
    seed : int
        Seed of the targets of targeted attacks.
    batch_size : int
    device : str
        ``"auto"``, ``"cpu"`` or ``"cuda"``.

    Returns
    -------
    pd.DataFrame
        One row per (run, attack), columns :data:`ROBUSTNESS_COLUMNS`; ``accuracy`` is the
        run's mean over its fold models, in [0, 1]; ``grads_per_sample`` the mean over the
        grid of the gradient computations per attacked sample.
    """
    runs = load_best_models(store, run_keys, device=device)
    rows = []
    for name, run in runs.items():
        model, fold = run.models[0], run.folds[0]
        folder = Path(out_dir) / name
        folder.mkdir(parents=True, exist_ok=True)
        for attack in attacks:
            key, evaluation = run_attack(
                store,
                run.run_key,
                model,
                budget_grid(attack, grid),
                run.test_images,
                run.test_labels,
                folder,
                fold=fold,
                seed=seed,
                max_samples=n_samples,
                batch_size=batch_size,
            )
            rows.append(
                {
                    "name": name,
                    "run_key": run.run_key,
                    "model": run.job.config.model,
                    "colormap": run.setting.colormap,
                    "accuracy": run.result.acc_mean,
                    "fold": fold,
                    "fold_accuracy": run.result.fold_accuracies[fold],
                    "n_params": count_parameters(model),
                    "attack": evaluation.grid.attack,
                    "auc": evaluation.auc,
                    "fooling_rate_max": max(evaluation.fooling_rates),
                    "grads_per_sample": float(np.mean(evaluation.grads_per_sample)),
                    "attack_key": key,
                }
            )
    return pd.DataFrame(rows, columns=list(ROBUSTNESS_COLUMNS))


def robustness_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per run: accuracy, mean AUC and mean gradients over the attacks, parameters.

    Parameters
    ----------
    frame : pd.DataFrame
        From :func:`attack_runs`.

    Returns
    -------
    pd.DataFrame
        Indexed by name, in the order of ``frame``; accuracy in percent.
    """
    grouped = frame.groupby("name", sort=False)
    return pd.DataFrame(
        {
            "model": grouped["model"].first(),
            "colormap": grouped["colormap"].first(),
            "accuracy_pct": 100.0 * grouped["accuracy"].first(),
            "auc_mean": grouped["auc"].mean(),
            "grads_mean": grouped["grads_per_sample"].mean(),
            "n_params": grouped["n_params"].first(),
        }
    )
