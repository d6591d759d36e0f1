"""Transferability of adversarial examples between models of one representation (Table 9).

Definition (SPEC "Metrics"): of the adversarial examples that fool the *source* model, the
fraction that also fool the *target* model, on the same representation and test samples.
Here, precisely:

* The test samples are the test clips that **every** model of the comparison classifies
  correctly (the runs share their test split: same dataset, setting and seed). A sample one
  model gets wrong anyway would count as "fooled" without any attack.
* An example *fools* a model when the model's answer differs from the true class, for
  targeted and untargeted attacks alike: transfer asks whether the change misleads the other
  model, not whether it reaches the same target.
* For every grid point of an attack with a budget above zero, the examples are crafted on the
  source and the ratio computed; the stored ratio is the mean over the budgets at which at
  least one example fooled the source ("averaged over budgets", paper §5.7). The diagonal
  (source = target) is 1 by definition and is stored as measured.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from specnb.attack_eval import budget_grid, evaluate_attack, predict
from specnb.attack_eval.budgets import BudgetGrid
from specnb.errors import ParameterError
from specnb.metrics import fooled
from specnb.runs.finished import TrainedRun
from specnb.store import ResultsStore, transfer_key

__all__ = [
    "TransferResult",
    "common_correct",
    "mean_transfer",
    "measure_transfers",
    "point_grid",
    "transfer_frame",
    "write_transfers",
]


@dataclass(frozen=True)
class TransferResult:
    """Examples of one attack crafted on ``source`` and tried on ``target``.

    Attributes
    ----------
    source, target : str
        Names of the two runs in the comparison.
    attack : str
        Attack name.
    targeted : bool
    budgets : tuple of float
        Scalar budgets of the grid points used (those above zero).
    fooling_source : tuple of int
        Per budget, examples that fool the source.
    fooling_both : tuple of int
        Per budget, those of them that also fool the target.
    n_samples : int
        Test samples attacked (correct for every model).
    seconds : float
        Time spent trying the examples on the target (crafting is shared by all targets).
    """

    source: str
    target: str
    attack: str
    targeted: bool
    budgets: tuple[float, ...]
    fooling_source: tuple[int, ...]
    fooling_both: tuple[int, ...]
    n_samples: int
    seconds: float

    @property
    def ratios(self) -> tuple[float, ...]:
        """Transfer ratio at each budget, in [0, 1]; NaN where nothing fooled the source.

        The ratio of :func:`specnb.metrics.transfer_ratio`, from the counts.
        """
        return tuple(
            b / s if s else math.nan for s, b in zip(self.fooling_source, self.fooling_both)
        )

    @property
    def ratio(self) -> float:
        """Mean ratio over the budgets where the source was fooled; NaN if at none."""
        defined = [r for r in self.ratios if not math.isnan(r)]
        return float(np.mean(defined)) if defined else math.nan


def point_grid(grid: BudgetGrid, index: int) -> BudgetGrid:
    """The one-point grid of point ``index`` of ``grid`` (same attack, fixed parameters)."""
    return BudgetGrid(
        grid.attack,
        grid.param_names,
        [grid.values[index]],
        [grid.budgets[index]],
        grid.budget_name,
        grid.fixed,
        grid.name,
    )


def common_correct(runs: Mapping[str, TrainedRun], batch_size: int = 64) -> Tensor:
    """Indices of the test clips that every run's (first) model classifies correctly.

    Raises
    ------
    ValueError
        The runs do not share their test split (different clips or order): they differ in
        more than the model.
    """
    first = next(iter(runs.values()))
    ids = [clip.clip_id for clip in first.test_clips]
    ok = torch.ones(len(ids), dtype=torch.bool)
    for name, run in runs.items():
        if [clip.clip_id for clip in run.test_clips] != ids:
            raise ParameterError(
                f"run {name!r} ({run.run_key}) has another test split than "
                f"{next(iter(runs))!r}: transfer needs runs of one dataset, setting and seed"
            )
        model = run.models[0]
        ok &= predict(model, run.test_images, batch_size) == run.test_labels
    return ok.nonzero().flatten()


def measure_transfers(
    runs: Mapping[str, TrainedRun],
    attacks: Sequence[str | BudgetGrid],
    *,
    grid: str = "quick",
    n_samples: int | None = None,
    seed: int = 0,
    batch_size: int = 32,
) -> list[TransferResult]:
    """Craft examples on every model with every attack and try them on every model.

    Parameters
    ----------
    runs : mapping of str to TrainedRun
        The models to compare (from :func:`~specnb.runs.variants.load_best_models`): one
        dataset, setting and seed, different architectures.
    attacks : sequence of str or BudgetGrid
        Attack names (their ``grid`` grid) or grids.
    grid : {"quick", "paper"}
        Grid of the attacks given by name.
    n_samples : int, optional
        Attack at most this many of the commonly correct test clips (default all).
    seed : int
        Seed of the targets of targeted attacks.
    batch_size : int

    Returns
    -------
    list of TransferResult
        One per (source, attack, target), target included when equal to the source.

    Raises
    ------
    ValueError
        Fewer than two runs, runs with different test splits, or no test clip that every
        model classifies correctly.
    """
    if len(runs) < 2:
        raise ParameterError(f"transfer needs at least two runs, got {len(runs)}")
    chosen = common_correct(runs)
    if chosen.numel() == 0:
        raise ParameterError("no test clip is classified correctly by every model")
    chosen = chosen[:n_samples] if n_samples is not None else chosen
    first = next(iter(runs.values()))
    images, labels = first.test_images[chosen], first.test_labels[chosen]
    grids = [a if isinstance(a, BudgetGrid) else budget_grid(a, grid) for a in attacks]
    results = []
    for source, run in runs.items():
        for attack_grid in grids:
            results.extend(
                _one_source(
                    source, run.models[0], attack_grid, images, labels, runs, seed, batch_size
                )
            )
    return results


def _one_source(
    source: str,
    model: nn.Module,
    grid: BudgetGrid,
    images: Tensor,
    labels: Tensor,
    runs: Mapping[str, TrainedRun],
    seed: int,
    batch_size: int,
) -> list[TransferResult]:
    evaluation = evaluate_attack(
        model, grid, images, labels, seed=seed, batch_size=batch_size, keep_every=True
    )
    targeted = evaluation.targeted
    crafted = [
        (budget, adv, fooled(adv_pred, evaluation.labels))
        for budget, (adv, adv_pred) in zip(grid.budgets, evaluation.point_adv or [])
        if budget > 0
    ]
    results = []
    for target, run in runs.items():
        start = time.perf_counter()
        target_model = run.models[0]
        source_counts, both_counts = [], []
        for _, adv, fooled_source in crafted:
            fooled_target = fooled(predict(target_model, adv, batch_size), labels)
            source_counts.append(int(fooled_source.sum()))
            both_counts.append(int((fooled_source & fooled_target).sum()))
        results.append(
            TransferResult(
                source=source,
                target=target,
                attack=grid.attack,
                targeted=targeted,
                budgets=tuple(b for b, _, _ in crafted),
                fooling_source=tuple(source_counts),
                fooling_both=tuple(both_counts),
                n_samples=int(labels.numel()),
                seconds=time.perf_counter() - start,
            )
        )
    return results


def write_transfers(
    store: ResultsStore,
    results: Sequence[TransferResult],
    run_keys: Mapping[str, str],
    *,
    grid: str = "quick",
    seed: int = 0,
) -> list[str]:
    """Record every result as a ``done`` row of the store's ``transfers`` table.

    The per-budget counts and ratios go to ``params_json`` beside the grid, seed and sample
    count; ``ratio`` is :attr:`TransferResult.ratio` (NULL when undefined).

    Returns
    -------
    list of str
        The transfer keys, in the order of ``results``.
    """
    keys = []
    for result in results:
        params = {
            "grid": grid,
            "seed": seed,
            "n_samples": result.n_samples,
            "targeted": result.targeted,
        }
        key = transfer_key(
            source_run_key=run_keys[result.source],
            target_run_key=run_keys[result.target],
            attack=result.attack,
            params=params,
        )
        ratio = result.ratio
        store.upsert_transfer(
            key,
            source_run_key=run_keys[result.source],
            target_run_key=run_keys[result.target],
            attack=result.attack,
            targeted=int(result.targeted),
            status="done",
            error=None,
            params_json={
                **params,
                "budgets": list(result.budgets),
                "fooling_source": list(result.fooling_source),
                "fooling_both": list(result.fooling_both),
                "ratios": [None if math.isnan(r) else r for r in result.ratios],
            },
            ratio=None if math.isnan(ratio) else ratio,
            n_fooling_source=int(sum(result.fooling_source)),
            n_fooling_both=int(sum(result.fooling_both)),
            n_samples=result.n_samples,
            seconds=result.seconds,
        )
        keys.append(key)
    return keys


def transfer_frame(results: Sequence[TransferResult]) -> pd.DataFrame:
    """One row per (source, target, attack): ratio, fooling counts, samples."""
    return pd.DataFrame(
        [
            {
                "source": r.source,
                "target": r.target,
                "attack": r.attack,
                "ratio": r.ratio,
                "fooling_source": sum(r.fooling_source),
                "fooling_both": sum(r.fooling_both),
                "n_samples": r.n_samples,
            }
            for r in results
        ],
        columns=[
            "source",
            "target",
            "attack",
            "ratio",
            "fooling_source",
            "fooling_both",
            "n_samples",
        ],
    )


def mean_transfer(matrix: pd.DataFrame) -> float:
    """Mean of the off-diagonal ratios of a source × target matrix (NaN cells skipped).

    Examples
    --------
    >>> m = pd.DataFrame([[1.0, 0.5], [0.25, 1.0]], index=["a", "b"], columns=["a", "b"])
    >>> mean_transfer(m)
    0.375
    """
    values = matrix.to_numpy(dtype=float)
    mask = ~np.eye(*values.shape, dtype=bool)
    off = values[mask]
    off = off[~np.isnan(off)]
    return float(off.mean()) if off.size else math.nan
