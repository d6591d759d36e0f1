"""Attacks on waveforms: budget grids on the waveform scale, store rows, SNR in dB.

Waveform inputs are in the [0, 1] layout ``x = (y / 2 + 1) / 2`` (:mod:`.waveforms`), so every
attack of :mod:`specnb.attacks` runs on them unchanged through
:func:`specnb.attack_eval.evaluate_attack`. An ℓ∞ budget ε on ``x`` moves each sample of the
waveform by at most ``4 ε``; recordings sit far below full scale, so FGSM and BIM use the
smaller ε of :data:`WAVEFORM_EPS`. The other attacks keep their grids (iterations, not sizes).
Perturbation size is reported as the SNR in dB of the adversarial waveform against the clean
one (:func:`specnb.metrics.snr_db`), over the examples that fool.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from os import PathLike
from pathlib import Path

import numpy as np
import torch
from torch import nn

from specnb.attack_eval import (
    ADVERSARIAL_KEY,
    AttackEvaluation,
    BudgetGrid,
    bim_grid,
    budget_grid,
    canonical_attack,
    evaluate_attack,
    fgsm_grid,
    record_failure,
    save_adversarial,
    write_attack,
)
from specnb.attack_eval.run import attack_params
from specnb.errors import ParameterError
from specnb.metrics import snr_db
from specnb.raw_audio.waveforms import from_unit
from specnb.store import ResultsStore, attack_key

__all__ = [
    "WAVEFORM_EPS",
    "accuracy_under_attack",
    "attack_waveforms",
    "fooled_snr_db",
    "waveform_grid",
]

#: ℓ∞ budgets of FGSM and BIM on the [0, 1] waveform layout (twice that on the waveform).
WAVEFORM_EPS = (0.000025, 0.00005, 0.0001, 0.00025, 0.0005)


def waveform_grid(
    attack: str, grid: str = "quick", eps: Sequence[float] = WAVEFORM_EPS
) -> BudgetGrid:
    """The budget grid of ``attack`` on waveforms: ``eps`` for FGSM and BIM, else ``grid``'s.

    Examples
    --------
    >>> waveform_grid("fgsm").budgets[-1]
    0.0005
    >>> waveform_grid("cw").name
    'quick'
    """
    name = canonical_attack(attack)
    if name == "fgsm":
        return fgsm_grid(eps, name=f"waveform-{grid}")
    if name in ("bim-a", "bim-b"):
        return bim_grid(eps, name[-1], name=f"waveform-{grid}")
    return budget_grid(name, grid)


def fooled_snr_db(evaluation: AttackEvaluation, inputs: torch.Tensor) -> list[float]:
    """SNR in dB of each fooling kept adversarial waveform against its clean waveform.

    Parameters
    ----------
    evaluation : AttackEvaluation
        An attack on waveform inputs.
    inputs : torch.Tensor, shape (n, 1, 1, N)
        The clean inputs the evaluation was given (``evaluation.indices`` index them).

    Returns
    -------
    list of float
        One value per fooling example, in the order of ``evaluation.indices``.
    """
    clean = from_unit(inputs[evaluation.indices])
    adv = from_unit(evaluation.adv_images)
    return [snr_db(clean[i], adv[i]) for i in evaluation.fooled.nonzero().flatten().tolist()]


def accuracy_under_attack(evaluation: AttackEvaluation) -> float:
    """Test accuracy once the attacked clips are replaced by their kept adversarial examples.

    ``clean accuracy x (share of attacked clips still classified correctly)``: exact when
    every correctly classified clip was attacked, an estimate from the attacked ones when
    ``max_samples`` capped them. A targeted example that misses its target but leaves the true
    class also counts as an error here: this is accuracy, not the fooling rate.

    Examples
    --------
    >>> accuracy_under_attack(ev)  # doctest: +SKIP
    0.41
    """
    kept = float((evaluation.adv_pred == evaluation.labels).float().mean())
    return evaluation.clean_accuracy * kept


def attack_waveforms(
    store: ResultsStore,
    run_key: str,
    model: nn.Module,
    grid: BudgetGrid,
    inputs: torch.Tensor,
    labels: torch.Tensor,
    out_dir: str | PathLike,
    *,
    fold: int | None = None,
    targeted: bool | None = None,
    seed: int = 0,
    max_samples: int | None = None,
    batch_size: int = 32,
) -> tuple[str, AttackEvaluation, float]:
    """Attack waveform inputs of a model and record an ``attacks`` row with its SNR.

    Like :func:`specnb.attack_eval.run_attack`, with ``"input": "waveform"`` added to the
    row's key parameters (so that attacking a 2D run on its waveforms, through
    :class:`~specnb.raw_audio.WaveformPipeline`, never overwrites an attack on its images)
    and the mean SNR in dB over the fooling examples in ``snr_db_mean`` (the SNR of every
    fooling example is in ``artefacts_json["snr_db"]``).

    Parameters
    ----------
    store, run_key, model, grid, out_dir, fold, targeted, seed, max_samples, batch_size
        As for :func:`specnb.attack_eval.run_attack`.
    inputs : torch.Tensor, shape (n, 1, 1, N)
        Clean waveforms in the [0, 1] layout.
    labels : torch.Tensor, shape (n,)

    Returns
    -------
    key : str
    evaluation : AttackEvaluation
    snr_db_mean : float
        NaN when nothing fools.

    Raises
    ------
    ValueError
        Inputs that are not (n, 1, 1, N), or any error of the evaluation (then the row is
        ``failed``).
    """
    if inputs.ndim != 4 or tuple(inputs.shape[1:3]) != (1, 1):
        raise ParameterError(f"inputs must be waveforms (n, 1, 1, N), got {tuple(inputs.shape)}")
    params = {
        **attack_params(grid, targeted=targeted, seed=seed, max_samples=max_samples),
        "input": "waveform",
    }
    try:
        evaluation = evaluate_attack(
            model,
            grid,
            inputs,
            labels,
            targeted=targeted,
            seed=seed,
            max_samples=max_samples,
            batch_size=batch_size,
        )
        key = attack_key(run_key=run_key, attack=grid.attack, params=params, fold=fold)
        saved = save_adversarial(evaluation, Path(out_dir) / f"adv_{grid.attack}_{key}.pt")
        snrs = fooled_snr_db(evaluation, inputs)
        finite = [s for s in snrs if math.isfinite(s)]
        mean = float(np.mean(finite)) if finite else math.nan
        write_attack(
            store,
            run_key,
            evaluation,
            params,
            fold=fold,
            artefacts={ADVERSARIAL_KEY: str(saved), "snr_db": snrs},
        )
        store.upsert_attack(key, snr_db_mean=mean)
    except BaseException as error:
        record_failure(store, run_key, grid.attack, params, error, fold=fold)
        raise
    return key, evaluation, mean
