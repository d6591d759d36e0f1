"""Attack results in the results store: one ``attacks`` row per (run, fold, attack, grid).

:func:`run_attack` is what the attack notebook calls for every attack: it marks the row
``running``, evaluates, saves the adversarial examples and writes the ``done`` row with
:func:`write_attack`, or marks it ``failed`` with the error. The row's key
(:func:`specnb.store.attack_key`) hashes the run, the fold, the attack and
:func:`attack_params` (grid, targeting, seed, sample cap), so the same experiment always
lands in the same row whatever its outcome.

Artefacts (``attacks.artefacts_json``)
--------------------------------------
``adversarial``
    Absolute path of a ``torch.save`` file with the kept adversarial examples, for the
    transferability notebook: ``adv_images`` (n, C, H, W), ``indices`` (their positions in
    the test split), ``labels``, ``targets`` (or None), ``adv_pred``, ``params`` (the kept
    grid point), ``budget``, ``attack``, ``targeted``.
``gallery``
    The adversarial gallery image (paper Fig. 6), added by the notebook once every attack ran
    (:func:`attach_artefacts`); absolute, as the report reads it.
``misclassified_per_budget``, ``grad_counts_per_budget``, ``attacked_indices``
    Per budget, per attacked sample: 0/1 whether its adversarial example is misclassified,
    and its gradient computations; the attacked samples' positions in the test split (the
    run's ``test_clip_ids`` name them), so the report pairs the same samples across attacks
    and runs (rows written before these were stored have none).
``grads_per_batch``, ``seconds_per_budget``, ``norms_per_budget``, ``n_attacked``,
``kept_budget``, ``budget_name``, ``clean_accuracy``, ``spent_grads_per_sample``
    The rest of the measurements (the last: gradients per sample the evaluation spent,
    each attack run counted once however many grid points it served).

Targeted attacks
----------------
``fooling_rates_json``, ``auc`` and ``cost_to_fr90`` are the misclassification curve (the
paper's fooling rate) for every attack; targeted rows add the target-hit curve in
``target_rates_json`` and its area in ``target_auc`` (NULL for untargeted rows).
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence, Union

import torch
from torch import Tensor, nn

from specnb.attack_eval.budgets import BudgetGrid
from specnb.attack_eval.evaluate import evaluate_attack
from specnb.attack_eval.results import AttackEvaluation
from specnb.attack_eval.targeting import resolve_targeted
from specnb.attacks.precision import attack_precision, precision_param
from specnb.store import ResultsStore, attack_key

__all__ = [
    "ADVERSARIAL_KEY",
    "attach_artefacts",
    "attack_params",
    "record_failure",
    "run_attack",
    "save_adversarial",
    "write_attack",
]

#: Key of ``attacks.artefacts_json`` naming the saved adversarial examples.
ADVERSARIAL_KEY = "adversarial"


def attack_params(
    grid: BudgetGrid,
    *,
    targeted: Optional[bool],
    seed: int,
    max_samples: Optional[int],
    precision: str = "fp32",
) -> dict[str, Any]:
    """The parameters that key an attack row (``targeted`` None: the paper's choice).

    Equal to :meth:`AttackEvaluation.params` of the evaluation they describe.

    Examples
    --------
    >>> from specnb.attack_eval import budget_grid
    >>> attack_params(budget_grid("jsma"), targeted=None, seed=0, max_samples=8)["targeted"]
    True
    """
    return {
        "grid": grid.to_dict(),
        "targeted": resolve_targeted(grid.attack, targeted),
        "seed": int(seed),
        "max_samples": max_samples,
        **precision_param(attack_precision(precision)),
    }


def write_attack(
    store: ResultsStore,
    run_key: str,
    evaluation: AttackEvaluation,
    params: Optional[Mapping[str, Any]] = None,
    *,
    fold: Optional[int] = None,
    artefacts: Optional[Mapping[str, Any]] = None,
) -> str:
    """Write a finished evaluation as a ``done`` attacks row; return its key.

    Parameters
    ----------
    store : ResultsStore
    run_key : str
        The attacked run (must be in the store).
    evaluation : AttackEvaluation
    params : mapping, optional
        The row's key parameters; default ``evaluation.params()``.
    fold : int, optional
        0-based fold model attacked.
    artefacts : mapping, optional
        Extra artefacts (paths...) merged into ``artefacts_json``.

    Returns
    -------
    str
        The attack key.
    """
    params = dict(params) if params is not None else evaluation.params()
    key = attack_key(run_key=run_key, attack=evaluation.attack, params=params, fold=fold)
    kept = evaluation.results[evaluation.kept]
    store.upsert_attack(
        key,
        run_key=run_key,
        fold=fold,
        attack=evaluation.attack,
        norm=evaluation.norm,
        targeted=evaluation.targeted,
        params_json=params,
        budgets_json=evaluation.budgets,
        fooling_rates_json=evaluation.fooling_rates,
        auc=evaluation.auc,
        cost_to_fr90=evaluation.cost_to_fr90,
        target_rates_json=evaluation.target_rates,
        target_auc=evaluation.target_auc,
        grads_per_sample_json=evaluation.grads_per_sample,
        n_samples=evaluation.n_samples,
        n_correct=evaluation.n_correct,
        seconds=evaluation.seconds,
        status="done",
        error=None,
        artefacts_json={
            "n_attacked": len(evaluation.indices),
            "clean_accuracy": evaluation.clean_accuracy,
            "budget_name": evaluation.grid.budget_name,
            "kept_budget": kept.budget,
            "grads_per_batch": evaluation.grads_per_batch,
            "spent_grads_per_sample": evaluation.spent_grads_per_sample,
            "seconds_per_budget": [r.seconds for r in evaluation.results],
            "norms_per_budget": [r.norms for r in evaluation.results],
            **_per_sample(evaluation),
            **dict(artefacts or {}),
        },
        **kept.norms,
    )
    return key


def _per_sample(evaluation: AttackEvaluation) -> dict[str, Any]:
    """The per-sample flags and gradient counts of every budget and the attacked samples'
    positions in the test split (empty when not measured)."""
    if any(len(r.fooled) != len(r.grad_counts) for r in evaluation.results):
        return {}
    return {
        "misclassified_per_budget": [r.fooled.astype(int).tolist() for r in evaluation.results],
        "grad_counts_per_budget": [r.grad_counts.astype(int).tolist() for r in evaluation.results],
        "attacked_indices": [int(i) for i in evaluation.indices.tolist()],
    }


def record_failure(
    store: ResultsStore,
    run_key: str,
    attack: str,
    params: Mapping[str, Any],
    error: BaseException,
    *,
    fold: Optional[int] = None,
) -> str:
    """Mark an attack row ``failed`` with ``error``'s type and message; return its key."""
    key = attack_key(run_key=run_key, attack=attack, params=dict(params), fold=fold)
    store.upsert_attack(
        key,
        run_key=run_key,
        fold=fold,
        attack=attack,
        params_json=dict(params),
        targeted=params.get("targeted"),
        status="failed",
        error=f"{type(error).__name__}: {error}",
    )
    return key


def save_adversarial(evaluation: AttackEvaluation, path: Union[str, PathLike]) -> Path:
    """Save the kept adversarial examples and what identifies them (see the module notes)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    kept = evaluation.results[evaluation.kept]
    partial = path.with_name(f".{path.name}.partial")
    torch.save(
        {
            "attack": evaluation.attack,
            "targeted": evaluation.targeted,
            "params": kept.params,
            "budget": kept.budget,
            "adv_images": evaluation.adv_images,
            "adv_pred": evaluation.adv_pred,
            "indices": evaluation.indices,
            "labels": evaluation.labels,
            "targets": evaluation.targets,
        },
        partial,
    )
    partial.replace(path)
    return path.resolve()


def attach_artefacts(store: ResultsStore, keys: Sequence[str], **artefacts: Any) -> None:
    """Merge ``artefacts`` into the ``artefacts_json`` of the attack rows ``keys``.

    Examples
    --------
    >>> attach_artefacts(store, keys, gallery="/runs/03/gallery.png")  # doctest: +SKIP
    """
    for key in keys:
        row = store.get_attack(key)
        if row is None:
            raise KeyError(f"attack {key!r} is not in the results store {store.path}")
        store.upsert_attack(key, artefacts_json={**(row["artefacts_json"] or {}), **artefacts})


def run_attack(
    store: ResultsStore,
    run_key: str,
    model: nn.Module,
    grid: BudgetGrid,
    images: Tensor,
    labels: Tensor,
    out_dir: Union[str, PathLike],
    *,
    fold: Optional[int] = None,
    targeted: Optional[bool] = None,
    seed: int = 0,
    max_samples: Optional[int] = None,
    batch_size: int = 32,
    device: Union[str, torch.device, None] = None,
    precision: str = "fp32",
) -> tuple[str, AttackEvaluation]:
    """Evaluate one attack on a run's model and record it in the store.

    The row is marked ``running`` first; on success it becomes ``done`` (with the saved
    adversarial examples ``out_dir / "adv_<attack>_<key>.pt"`` among its artefacts), on any
    exception ``failed`` with the error, which is then raised again.

    Parameters
    ----------
    store : ResultsStore
    run_key : str
        The attacked run (must be in the store).
    model : torch.nn.Module
        Its fold model ``fold``.
    grid : BudgetGrid
    images, labels : torch.Tensor
        Test images (n, C, H, W) in [0, 1] and classes (n,).
    out_dir : str or path-like
        Where the adversarial examples are saved.
    fold, targeted, seed, max_samples, batch_size, device, precision
        As for :func:`~specnb.attack_eval.evaluate_attack`; ``fold`` also keys the row, and
        so does a precision other than float32.

    Returns
    -------
    key : str
    evaluation : AttackEvaluation

    Examples
    --------
    >>> key, ev = run_attack(store, run_key, model, budget_grid("fgsm"), x, y, "runs/03")
    ... # doctest: +SKIP
    """
    try:
        params = attack_params(
            grid, targeted=targeted, seed=seed, max_samples=max_samples, precision=precision
        )
    except ValueError as error:
        params = {
            "grid": grid.to_dict(),
            "targeted": targeted,
            "seed": seed,
            "max_samples": max_samples,
        }
        record_failure(store, run_key, grid.attack, params, error, fold=fold)
        raise
    key = attack_key(run_key=run_key, attack=grid.attack, params=params, fold=fold)
    store.upsert_attack(
        key,
        run_key=run_key,
        fold=fold,
        attack=grid.attack,
        params_json=params,
        targeted=params["targeted"],
        status="running",
        error=None,
    )
    try:
        evaluation = evaluate_attack(
            model,
            grid,
            images,
            labels,
            targeted=targeted,
            seed=seed,
            max_samples=max_samples,
            batch_size=batch_size,
            device=device,
            precision=precision,
        )
        saved = save_adversarial(evaluation, Path(out_dir) / f"adv_{grid.attack}_{key}.pt")
        write_attack(
            store, run_key, evaluation, params, fold=fold, artefacts={ADVERSARIAL_KEY: str(saved)}
        )
    except BaseException as error:
        record_failure(store, run_key, grid.attack, params, error, fold=fold)
        raise
    return key, evaluation
