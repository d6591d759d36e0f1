"""Our results, read from the results store into tidy frames for the report.

Aggregation (documented once here, used by every table and figure)
------------------------------------------------------------------
* Only rows whose status is ``done`` count, and runs need an accuracy.
* One attack row gives an AUC score (``auc``, of the misclassification curve, the paper's
  fooling rate, for targeted attacks too; targeted rows add ``target_auc``, the area under
  their target-hit curve, kept per attack beside it and left out of every mean), a cost per budget
  (``grads_per_sample_json``: gradient computations per sample at each budget of the grid)
  and ``cost_to_fr90`` (cost at which the fooling rate first reaches 0.9, NaN if never).
  Its *gradient count* is the mean of ``grads_per_sample_json`` over the budgets, the
  paper's "averaged over budgets".
* Several attack rows of one run and one attack (fold models, norms, parameter sets) are
  averaged into one value per run and attack.
* A run's ``auc`` and ``grads`` are the means over the paper's six attacks (:data:`ATTACKS`)
  that it has; its ``cost`` is the mean ``cost_to_fr90`` over those that reached 0.9. L-BFGS,
  the paper's baseline, is kept per attack but left out of these means.
* Attack names are compared in lower case with ``-`` read as ``_`` (``bim-a`` is ``bim_a``).

What the verdicts' paired inference needs (:mod:`specnb.report.uncertainty`) is read beside
the means: each run's ``seed``, ``clip_correct`` (per test clip, the share of fold models that
classify it correctly, from ``artefacts_json["test_correct"]``), ``test_clip_ids`` (the clips
in that order, which pair two runs of a seed clip by clip) and ``n_classes`` (from
``artefacts_json["classes"]``: where chance lies); per attack row, the per-sample AUC, gradient
count and final misclassification and the attacked samples' clip ids
(:attr:`StoreResults.samples`, from ``misclassified_per_budget``, ``grad_counts_per_budget``
and ``attacked_indices``); per transfer, its per-budget counts and its two runs. Everything
lives in the rows' JSON columns, so the store's schema is unchanged: rows written before these
were stored read as None (NaN classes), and the verdicts then say what is missing or pair by
seed and dataset only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Union

import numpy as np
import pandas as pd

from specnb.report.attack_rows import (
    ATTACKS,
    GALLERY_KEY,
    SAMPLE_COLUMNS,
    attack_name,
    gallery_frame,
    sample_frame,
    transfer_frame,
    with_attacks,
)
from specnb.store import ResultsStore

__all__ = [
    "ATTACKS",
    "GALLERY_KEY",
    "HSV_COLORMAP",
    "SETTING_FIELDS",
    "StoreResults",
    "attack_name",
    "open_results_store",
    "read_results",
    "target_hits",
    "wavelet_family",
]

#: The uniformly distributed HSV rendering of Table 8; every other colour map is "standard".
HSV_COLORMAP = "hsv-uniform"

#: Setting fields copied into :attr:`StoreResults.runs` (NaN where a representation lacks one).
SETTING_FIELDS = (
    "sr",
    "n_mfcc",
    "dct_norm",
    "lifter",
    "n_fft",
    "win_length",
    "wavelet",
    "frame_ms",
    "colormap",
)

_RUN_COLUMNS = (
    "run_key",
    "dataset",
    "repr",
    "model",
    "setting_key",
    "seed",
    "accuracy",
    "n_params",
    "clip_correct",
    "test_clip_ids",
    "n_classes",
    "official_test_fold",
)


def wavelet_family(wavelet: Any) -> Any:
    """Mother-wavelet family of Table 5: ``cmor<B>-<C>`` is ``"cmor"``, others unchanged.

    Examples
    --------
    >>> wavelet_family("cmor1.5-1.0"), wavelet_family("haar")
    ('cmor', 'haar')
    """
    if isinstance(wavelet, str) and wavelet.startswith("cmor"):
        return "cmor"
    return wavelet


@dataclass(frozen=True)
class StoreResults:
    """The finished results of one store, shaped for the report.

    Attributes
    ----------
    runs : pd.DataFrame
        One row per finished run: ``run_key``, ``dataset``, ``repr``, ``model``,
        ``setting_key``, ``seed``, ``accuracy`` (percent), ``n_params``, ``clip_correct``,
        ``test_clip_ids``, ``n_classes``, ``official_test_fold`` (NaN for a random test
        split), the :data:`SETTING_FIELDS`,
        ``wavelet_family``, ``standard`` (True unless the colour map is
        :data:`HSV_COLORMAP`), per attack ``<attack>_auc``, ``<attack>_grads``,
        ``<attack>_cost`` and ``<attack>_target_auc`` (NaN unless targeted) for
        :data:`ATTACKS` and any other stored attack, and the means over the six attacks
        ``auc``, ``grads``, ``cost``.
    transfers : pd.DataFrame
        One row per finished transfer between two runs of the same dataset and
        representation: ``dataset``, ``repr``, ``source``, ``target`` (models), ``attack``,
        ``ratio``, ``seed``, ``counts``, ``source_run_key``, ``target_run_key``.
    galleries : pd.DataFrame
        One row per attack row naming a gallery image: ``run_key``, ``dataset``, ``repr``,
        ``model``, ``attack``, ``path`` (absolute Path), ``inside`` (the file lies under the
        store's folder, symbolic links followed; only such files are read), ``exists``
        (inside and present).
    store_path : Path
        The database file.
    samples : pd.DataFrame
        One row per finished attack row: ``run_key``, ``attack``, ``auc_units`` and
        ``grads_units`` (per attacked sample: the AUC of its own misclassified-or-not curve,
        whose mean is the attack's AUC, and its gradient computations averaged over the
        budgets; arrays, or None when the row predates them), ``final_units`` (1 when
        misclassified at the largest budget) and ``sample_ids`` (the attacked samples' clip
        ids, or None).
    other_renderings : pd.DataFrame
        Runs of MFCC images scaled per coefficient (``MFCCSetting.per_coefficient``), in the
        columns of ``runs``: the paper renders the MFCC matrix under one colour range, so
        its tables and claims leave these runs out; they are reported beside them.
    """

    runs: pd.DataFrame
    transfers: pd.DataFrame
    galleries: pd.DataFrame
    store_path: Path
    samples: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(SAMPLE_COLUMNS))
    )
    other_renderings: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def empty(self) -> bool:
        """True when the store holds no finished run."""
        return self.runs.empty


def open_results_store(store: Union[ResultsStore, str, Path]) -> ResultsStore:
    """Open an existing results store (a database file or a run folder holding one) to read.

    A path is opened read-only, so a finished store on a read-only file system can be read
    and the report never writes to it; a :class:`ResultsStore` passed in is used as it is.

    Raises
    ------
    FileNotFoundError
        Nothing is there: the report never creates an empty store by mistake.
    """
    if isinstance(store, ResultsStore):
        return store
    path = Path(store)
    file = path / "results.sqlite" if path.is_dir() else path
    if not file.is_file():
        raise FileNotFoundError(f"no results store at {path}")
    return ResultsStore(file, read_only=True)


def read_results(
    store: Union[ResultsStore, str, Path],
    run_keys: Optional[Iterable[str]] = None,
    *,
    any_seed: bool = False,
) -> StoreResults:
    """Read the finished runs, attacks and transfers of a results store.

    Parameters
    ----------
    store : ResultsStore, str or Path
        The store, its file, or the run folder holding ``results.sqlite``.
    run_keys : iterable of str, optional
        Only these runs, their attacks and the transfers between them (e.g. the runs of one
        study in a store that others share); default every run.
    any_seed : bool
        With ``run_keys``: also every finished run of the same dataset, setting and model
        trained with another seed (a study notebook's runs and their repetitions by a sweep).

    Returns
    -------
    StoreResults

    Raises
    ------
    FileNotFoundError
        No store at that path.

    Examples
    --------
    >>> results = read_results("runs/sweeps/paper/results.sqlite")  # doctest: +SKIP
    >>> results.runs[["dataset", "repr", "model", "accuracy", "auc"]]  # doctest: +SKIP
    """
    opened = open_results_store(store)
    runs = _runs(opened.runs_df(status="done"))
    per_coefficient = runs["per_coefficient"].astype(bool)
    other_renderings = runs[per_coefficient].reset_index(drop=True)
    runs = runs[~per_coefficient].reset_index(drop=True)
    if run_keys is not None:
        chosen = runs["run_key"].isin(set(run_keys))
        if any_seed:
            same = ["dataset", "setting_key", "model"]
            studied = set(map(tuple, runs.loc[chosen, same].to_numpy()))
            chosen = pd.Series(
                [tuple(r) in studied for r in runs[same].to_numpy()], index=runs.index, dtype=bool
            )
        runs = runs[chosen].reset_index(drop=True)
    attacks = opened.attacks_df(status="done")
    attacks = attacks[attacks["run_key"].isin(runs["run_key"])]
    runs = with_attacks(runs, attacks)
    transfers = transfer_frame(opened.transfers_df(status="done"), runs)
    galleries = gallery_frame(attacks, runs, opened.path.parent)
    return StoreResults(
        runs=runs,
        transfers=transfers,
        galleries=galleries,
        store_path=opened.path,
        samples=sample_frame(attacks, dict(zip(runs["run_key"], runs["test_clip_ids"]))),
        other_renderings=other_renderings,
    )


def _runs(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame[frame["acc_mean"].notna()]
    rows = []
    for record in frame.to_dict("records"):
        setting = record.get("setting_json") or {}
        artefacts = record.get("artefacts_json")
        row: dict[str, Any] = {
            "run_key": record["run_key"],
            "dataset": record["dataset"],
            "repr": record["repr"] or setting.get("repr"),
            "model": record["model"],
            "setting_key": record["setting_key"],
            "seed": _number(record.get("seed")),
            "accuracy": 100.0 * float(record["acc_mean"]),
            "n_params": _number(record["n_params"]),
            "clip_correct": _clip_correct(artefacts),
            "test_clip_ids": _listed(artefacts, "test_clip_ids"),
            "n_classes": len(_listed(artefacts, "classes") or ()) or math.nan,
            "official_test_fold": _test_fold(artefacts),
        }
        for name in SETTING_FIELDS:
            row[name] = setting.get(name, math.nan)
        rows.append(row)
    runs = pd.DataFrame(rows, columns=[*_RUN_COLUMNS, *SETTING_FIELDS])
    runs = runs.astype({"accuracy": "float64", "n_params": "float64", "n_classes": "float64"})
    runs["wavelet_family"] = [wavelet_family(w) for w in runs["wavelet"]]
    runs["standard"] = [c != HSV_COLORMAP for c in runs["colormap"]]
    runs["per_coefficient"] = [
        bool((r.get("setting_json") or {}).get("per_coefficient", False))
        for r in frame.to_dict("records")
    ]
    return runs


def _test_fold(artefacts: Any) -> float:
    """The official fold a run tested on (NaN for a random test split or when not stored)."""
    job = artefacts.get("job") if isinstance(artefacts, dict) else None
    config = job.get("config") if isinstance(job, dict) else None
    fold = config.get("official_test_fold") if isinstance(config, dict) else None
    known = isinstance(fold, (int, float)) and not isinstance(fold, bool)
    return float(fold) if known else math.nan


def _clip_correct(artefacts: Any) -> Optional[np.ndarray]:
    """Per test clip, the share of fold models right about it (None when not stored)."""
    flags = artefacts.get("test_correct") if isinstance(artefacts, dict) else None
    if not flags:
        return None
    return np.asarray(flags, dtype=np.float64).mean(axis=0)


def _listed(artefacts: Any, key: str) -> Optional[list]:
    """``artefacts[key]`` when it is a non-empty list (None when not stored)."""
    value = artefacts.get(key) if isinstance(artefacts, dict) else None
    return list(value) if isinstance(value, list) and value else None


def _number(value: Any) -> float:
    return math.nan if value is None or pd.isna(value) else float(value)


def target_hits(results: StoreResults) -> pd.DataFrame:
    """Targeted attacks: the AUC of misclassification beside the AUC of target hits.

    Parameters
    ----------
    results : StoreResults

    Returns
    -------
    pd.DataFrame
        One row per run and attack with a target-hit AUC: ``dataset``, ``repr``, ``model``,
        ``attack``, ``auc`` (misclassification, the paper's fooling rate; NaN for rows
        stored before misclassification was measured) and ``target_auc``.

    Examples
    --------
    >>> target_hits(read_results("runs/sweeps/quick"))  # doctest: +SKIP
    """
    columns = ["dataset", "repr", "model", "attack", "auc", "target_auc"]
    rows = []
    for record in results.runs.to_dict("records"):
        for key in record:
            if not key.endswith("_target_auc") or pd.isna(record[key]):
                continue
            attack = key[: -len("_target_auc")]
            rows.append(
                {
                    "dataset": record["dataset"],
                    "repr": record["repr"],
                    "model": record["model"],
                    "attack": attack,
                    "auc": record[f"{attack}_auc"],
                    "target_auc": record[key],
                }
            )
    return pd.DataFrame(rows, columns=columns)
