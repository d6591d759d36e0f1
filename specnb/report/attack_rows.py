"""The store's attack and transfer rows, read into the report's frames.

The attack vocabulary (:data:`ATTACKS`, :func:`attack_name`, :data:`GALLERY_KEY`) and, from the
rows of one store, each run's per-attack means, the per-sample units (named by their clips) the
verdicts pair, the transfers between runs and the gallery images; how they are aggregated is
written once in :mod:`specnb.report.results`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping, Optional

import numpy as np
import pandas as pd

from specnb.metrics import auc_score

__all__ = [
    "ATTACKS",
    "GALLERY_KEY",
    "SAMPLE_COLUMNS",
    "attack_name",
    "gallery_frame",
    "sample_frame",
    "transfer_frame",
    "with_attacks",
]

#: The paper's six attacks, in its column order.
ATTACKS = ("fgsm", "deepfool", "bim_a", "bim_b", "jsma", "cw")

#: Key of ``attacks.artefacts_json`` naming the adversarial gallery image (paper Fig. 6): a
#: PNG, JPEG or SVG file, absolute or relative to the store's folder.
GALLERY_KEY = "gallery"

#: Columns of :attr:`~specnb.report.results.StoreResults.samples`.
SAMPLE_COLUMNS = (
    "run_key",
    "attack",
    "auc_units",
    "grads_units",
    "final_units",
    "sample_ids",
)


def attack_name(name: str) -> str:
    """Canonical attack name: lower case, ``-`` read as ``_``.

    Examples
    --------
    >>> attack_name("BIM-a")
    'bim_a'
    """
    return str(name).strip().lower().replace("-", "_")


def sample_frame(attacks: pd.DataFrame, test_clip_ids: Mapping[str, Any]) -> pd.DataFrame:
    """Per attack row, its per-sample AUC, gradient count and final misclassification, and the
    attacked samples' clip ids (from ``attacked_indices``, positions in the run's test split,
    and the run's ``test_clip_ids``; None where either is not stored)."""
    rows = []
    for record in attacks.to_dict("records"):
        artefacts = record.get("artefacts_json")
        artefacts = artefacts if isinstance(artefacts, dict) else {}
        flags = artefacts.get("misclassified_per_budget")
        budgets = record.get("budgets_json")
        auc_units = grads_units = final_units = None
        if flags and budgets and len(flags) == len(budgets):
            per_sample = np.asarray(flags, dtype=np.float64).T
            auc_units = np.asarray([auc_score(budgets, curve) for curve in per_sample])
            final_units = per_sample[:, int(np.argmax(budgets))]
        counts = artefacts.get("grad_counts_per_budget")
        if counts:
            grads_units = np.asarray(counts, dtype=np.float64).mean(axis=0)
        rows.append(
            {
                "run_key": record["run_key"],
                "attack": attack_name(record["attack"]),
                "auc_units": auc_units,
                "grads_units": grads_units,
                "final_units": final_units,
                "sample_ids": _sample_ids(
                    artefacts.get("attacked_indices"), test_clip_ids.get(record["run_key"])
                ),
            }
        )
    return pd.DataFrame(rows, columns=list(SAMPLE_COLUMNS))


def _sample_ids(indices: Any, clip_ids: Any) -> Optional[tuple[str, ...]]:
    """The clip ids of the attacked samples, or None when not stored."""
    if not indices or clip_ids is None or max(indices) >= len(clip_ids):
        return None
    return tuple(str(clip_ids[i]) for i in indices)


def _grads(grads: Any) -> np.ndarray:
    """Gradient computations per sample at each budget (NaN where absent)."""
    if grads is None:
        return np.array([math.nan])
    return np.asarray(
        [math.nan if g is None else g for g in np.ravel(np.asarray(grads, dtype=object))],
        dtype=np.float64,
    )


def _mean_grads(grads: Any) -> float:
    """Mean gradient computations per sample over the budget grid (NaN when absent)."""
    values = _grads(grads)
    return float(np.nanmean(values)) if np.isfinite(values).any() else math.nan


def _most_grads(grads: Any) -> float:
    """Gradient computations per sample at the grid's costliest budget (NaN when absent): what
    an attack that never reached the matched fooling rate spent at least."""
    values = _grads(grads)
    return float(np.nanmax(values)) if np.isfinite(values).any() else math.nan


def with_attacks(runs: pd.DataFrame, attacks: pd.DataFrame) -> pd.DataFrame:
    """``runs`` with each attack's AUC, gradients, cost (to a 0.9 fooling rate), largest
    cost of its grid (``<attack>_cost_max``) and target AUC, and the means of the first
    three."""
    per_attack = pd.DataFrame(
        {
            "run_key": attacks["run_key"].astype(str),
            "attack": [attack_name(a) for a in attacks["attack"]],
            "auc": attacks["auc"].astype("float64"),
            "grads": [_mean_grads(g) for g in attacks["grads_per_sample_json"]],
            "cost": attacks["cost_to_fr90"].astype("float64"),
            "cost_max": [_most_grads(g) for g in attacks["grads_per_sample_json"]],
            "target_auc": _column(attacks, "target_auc"),
        }
    )
    means = per_attack.groupby(["run_key", "attack"]).mean()
    wide = means.unstack("attack")
    names = [*ATTACKS, *sorted(set(per_attack["attack"]) - set(ATTACKS))]
    out = runs.set_index("run_key")
    for name in names:
        for metric in ("auc", "grads", "cost", "cost_max", "target_auc"):
            column = (metric, name)
            values = wide[column] if column in wide.columns else pd.Series(dtype="float64")
            out[f"{name}_{metric}"] = values.reindex(out.index).astype("float64")
    for metric in ("auc", "grads", "cost"):
        six = out[[f"{a}_{metric}" for a in ATTACKS]]
        out[metric] = six.mean(axis=1, skipna=True)
    return out.reset_index()


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A float column of ``frame``, all NaN where the store predates it."""
    if name not in frame.columns:
        return pd.Series(math.nan, index=frame.index, dtype="float64")
    return frame[name].astype("float64")


def transfer_frame(frame: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """The finished transfers between two of ``runs`` of one dataset and representation."""
    columns = [
        "dataset",
        "repr",
        "source",
        "target",
        "attack",
        "ratio",
        "seed",
        "counts",
        "source_run_key",
        "target_run_key",
    ]
    info = runs.set_index("run_key")[["dataset", "repr", "model", "seed"]]
    frame = frame[frame["ratio"].notna()]
    known = frame["source_run_key"].isin(info.index) & frame["target_run_key"].isin(info.index)
    frame = frame[known]
    source = info.loc[frame["source_run_key"]].reset_index(drop=True)
    target = info.loc[frame["target_run_key"]].reset_index(drop=True)
    same = (source["dataset"] == target["dataset"]) & (source["repr"] == target["repr"])
    out = pd.DataFrame(
        {
            "dataset": source["dataset"],
            "repr": source["repr"],
            "source": source["model"],
            "target": target["model"],
            "attack": [attack_name(a) for a in frame["attack"]],
            "ratio": frame["ratio"].astype("float64").to_numpy(),
            "seed": source["seed"],
            "counts": [_transfer_counts(r) for r in frame.to_dict("records")],
            "source_run_key": frame["source_run_key"].astype(str).to_numpy(),
            "target_run_key": frame["target_run_key"].astype(str).to_numpy(),
        },
        columns=columns,
    )
    return out[same.to_numpy()].reset_index(drop=True)


def _transfer_counts(record: dict[str, Any]) -> Optional[np.ndarray]:
    """Per budget: samples, examples fooling the source, fooling both; shape (n_budgets, 3)."""
    params = record.get("params_json")
    params = params if isinstance(params, dict) else {}
    source, both = params.get("fooling_source"), params.get("fooling_both")
    n = record.get("n_samples")
    if not source or both is None or len(both) != len(source) or n is None or pd.isna(n):
        return None
    return np.asarray([[int(n), s, b] for s, b in zip(source, both)], dtype=np.int64)


def gallery_frame(attacks: pd.DataFrame, runs: pd.DataFrame, root: Path) -> pd.DataFrame:
    """The attack rows naming a gallery image, its path resolved against ``root``."""
    info = runs.set_index("run_key")[["dataset", "repr", "model"]]
    rows = []
    for record in attacks.to_dict("records"):
        artefacts = record.get("artefacts_json")
        name = artefacts.get(GALLERY_KEY) if isinstance(artefacts, dict) else None
        if not name:
            continue
        path = Path(str(name))
        path = path if path.is_absolute() else root / path
        inside = path.resolve().is_relative_to(root.resolve())
        run = info.loc[record["run_key"]]
        rows.append(
            {
                "run_key": record["run_key"],
                "dataset": run["dataset"],
                "repr": run["repr"],
                "model": run["model"],
                "attack": attack_name(record["attack"]),
                "path": path,
                "inside": inside,
                "exists": inside and path.is_file(),
            }
        )
    columns = ["run_key", "dataset", "repr", "model", "attack", "path", "inside", "exists"]
    return pd.DataFrame(rows, columns=columns)
