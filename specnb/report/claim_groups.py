"""The groups a claim compares: our results cut into bootstrap groups, selected per claim.

:class:`ClaimData` cuts the results store into bootstrap groups (the victim model's runs with a
standard colour map for the representation tables; every model on the settings it shares with
ResNet-18 for Table 6...); each selector here names the groups of one kind of claim and returns
a :class:`Selection`, or says what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Optional

import numpy as np
import pandas as pd

from specnb.report.attack_rows import ATTACKS
from specnb.report.report_table import MODEL_LABELS
from specnb.report.results import StoreResults
from specnb.report.uncertainty import Group, Item, counts_item, mean_item, units_item

__all__ = [
    "REPR_LABELS",
    "TABLE_REPR",
    "ClaimData",
    "Selection",
    "accuracy_groups",
    "attack_groups",
    "hsv_groups",
    "inverse_groups",
    "model_groups",
    "row_groups",
    "transfer_groups",
    "waveform_groups",
]

REPR_LABELS = {"mfcc": "MFCC", "stft": "STFT", "wavelet": "DWT", "mel": "Mel"}
_UNITS = {
    "accuracy": "test clips",
    "auc": "attacked samples",
    "grads": "attacked samples",
    "final": "attacked samples",
    "transfer": "examples",
}


@dataclass(frozen=True)
class Selection:
    """The groups a claim compares, or what is missing."""

    groups: dict[str, Group]
    missing: str = ""
    synthetic: bool = False


class ClaimData:
    """Our results, cut into bootstrap groups.

    Parameters
    ----------
    results : StoreResults
    victim : str
        The model of the representation tables (Tables 2–5, 7, 8).
    """

    def __init__(self, results: StoreResults, victim: str) -> None:
        self.runs = results.runs
        self.transfers = results.transfers
        self.victim = victim
        self.victim_label = MODEL_LABELS.get(victim, victim)
        self.samples = {k: g for k, g in results.samples.groupby("run_key")}

    def victim_runs(
        self,
        representation: Optional[str] = None,
        standard: bool = True,
        family: Optional[str] = "cmor",
    ) -> pd.DataFrame:
        """The victim's runs (of one representation; scalograms of one wavelet family)."""
        runs = self.runs[(self.runs["model"] == self.victim) & (self.runs["standard"] == standard)]
        if representation is not None:
            runs = runs[runs["repr"] == representation]
            if representation == "wavelet" and family is not None:
                runs = runs[runs["wavelet_family"] == family]
        return runs

    def item(self, run: Mapping, quantity: str) -> Optional[Item]:
        """One run's item for ``accuracy``, ``auc``, ``grads``, ``grads:<attack>`` or
        ``final`` (None when its per-clip or per-sample results are not stored)."""
        if quantity == "accuracy":
            units = run["clip_correct"]
            return None if units is None else units_item(100.0 * units)
        metric, _, attack = quantity.partition(":")
        rows = self.samples.get(run["run_key"])
        if rows is None:
            return None
        if attack:
            rows = rows[rows["attack"] == attack]
        elif metric != "final":  # the 1D model's attacks are all of its own
            rows = rows[rows["attack"].isin(ATTACKS)]
        units = [u for u in rows[f"{metric}_units"] if u is not None and len(u)]
        if not units or len(units) < len(rows):
            return None
        return mean_item([units_item(u) for u in units])

    def group(self, name: str, runs: pd.DataFrame, quantity: str) -> tuple[Group, int]:
        """The group of ``runs`` for ``quantity`` and how many runs lacked their units."""
        seeds: dict[int, list[Item]] = {}
        lacking = 0
        for run in runs.to_dict("records"):
            item = self.item(run, quantity)
            if item is None:
                lacking += 1
                continue
            seed = -1 if pd.isna(run["seed"]) else int(run["seed"])
            seeds.setdefault(seed, []).append(item)
        return Group(name, seeds), lacking

    def select(self, spec: Mapping[str, tuple[pd.DataFrame, str]]) -> Selection:
        """Groups named by ``spec`` (name: runs and quantity), or what is missing."""
        groups, missing = {}, []
        for name, (runs, quantity) in spec.items():
            if runs.empty:
                missing.append(f"no runs of {name}")
                continue
            group, lacking = self.group(name, runs, quantity)
            if lacking:
                missing.append(
                    f"{lacking} of {len(runs)} runs of {name} lack per-sample "
                    f"results ({_UNITS[quantity.partition(':')[0]]}: rerun them)"
                )
            groups[name] = group
        used = pd.concat([runs for runs, _ in spec.values()]) if spec else self.runs.iloc[:0]
        synthetic = bool(used["dataset"].astype(str).str.startswith("synthetic").any())
        return Selection(groups, "; ".join(missing), synthetic)

    def transfer_group(self, name: str, representation: str) -> Group:
        rows = self.transfers[
            (self.transfers["repr"] == representation)
            & (self.transfers["source"] != self.transfers["target"])
        ]
        seeds: dict[int, list[Item]] = {}
        for row in rows.to_dict("records"):
            counts = row["counts"]
            if counts is None or not (np.asarray(counts)[:, 1] > 0).any():
                continue
            seed = -1 if pd.isna(row["seed"]) else int(row["seed"])
            seeds.setdefault(seed, []).append(counts_item(counts))
        return Group(name, seeds)


# ------------------------------------------------------------------ selections
TABLE_REPR = {2: ("mfcc", "sr"), 3: ("stft", "n_fft"), 4: ("wavelet", "sr"), 7: ("mel", "n_fft")}
_ROW_VALUES: dict[str, Callable[[float], str]] = {
    "sr": lambda value: f"{value / 1000:g} kHz",
    "n_fft": lambda value: f"n_fft {value:g}",
}


def inverse_groups(tables: tuple[int, ...]) -> Callable[[ClaimData], Selection]:
    def select(data: ClaimData) -> Selection:
        spec = {}
        for number in tables:
            representation, field = TABLE_REPR[number]
            runs = data.victim_runs(representation)
            runs = runs[runs[field].notna()]
            for (dataset, value), part in runs.groupby(["dataset", field]):
                row = f"{REPR_LABELS[representation]} {_ROW_VALUES[field](value)} @{dataset}"
                spec[f"{row}:acc"] = (part, "accuracy")
                spec[f"{row}:auc"] = (part, "auc")
        selection = data.select(spec)
        if len(spec) < 6 and not selection.missing:
            return Selection(
                selection.groups, f"needs ≥ 3 rows, have {len(spec) // 2}", selection.synthetic
            )
        return selection

    return select


def accuracy_groups(names: tuple[str, ...]) -> Callable[[ClaimData], Selection]:
    """The victim's accuracy per representation, on datasets that have ``names[0]``."""

    def select(data: ClaimData) -> Selection:
        first = data.victim_runs(names[0])
        datasets = set(first["dataset"])
        spec = {
            REPR_LABELS[n]: (r[r["dataset"].isin(datasets)], "accuracy")
            for n in names
            for r in [data.victim_runs(n)]
        }
        others = [
            k for k, (runs, _) in spec.items() if not runs.empty and k != REPR_LABELS[names[0]]
        ]
        if first.empty or not others:
            return Selection(
                {},
                f"needs {' and '.join(REPR_LABELS[n] for n in names[:2])} "
                f"runs of {data.victim_label} on one dataset",
            )
        return data.select({k: v for k, v in spec.items() if not v[0].empty})

    return select


def row_groups(
    data: ClaimData, runs: pd.DataFrame, field: str, quantity: str, needed: str
) -> Selection:
    runs = runs[runs[field].notna()]
    spec = {
        str(v if not isinstance(v, float) else f"{v:g}"): (part, quantity)
        for v, part in runs.groupby(field)
    }
    if needed not in spec or len(spec) < 2:
        what = "mother wavelet" if field == "wavelet_family" else field
        return Selection({}, f"needs {needed} and another {what} of {data.victim_label}")
    return data.select(spec)


def model_groups(quantity: str) -> Callable[[ClaimData], Selection]:
    """Every model on the (dataset, setting) pairs it shares with ResNet-18."""

    def select(data: ClaimData) -> Selection:
        runs = data.runs[data.runs["standard"].astype(bool)]
        keys = ["dataset", "setting_key"]
        reference = set(map(tuple, runs.loc[runs["model"] == "resnet18", keys].to_numpy()))
        shared = runs.loc[
            np.array([tuple(k) in reference for k in runs[keys].to_numpy()], dtype=bool)
        ]
        if shared["model"].nunique() < 2:
            return Selection({}, "needs ResNet-18 and another model on one setting")
        return data.select(
            {MODEL_LABELS.get(m, m): (part, quantity) for m, part in shared.groupby("model")}
        )

    return select


def attack_groups(data: ClaimData) -> Selection:
    runs = data.victim_runs()
    present = {a for k in runs["run_key"] for a in data.samples.get(k, {"attack": []})["attack"]}
    chosen = [a for a in ATTACKS if a in present]
    if "cw" not in chosen or len(chosen) < 2:
        return Selection({}, f"needs CW and another attack on {data.victim_label}'s runs")
    return data.select({a: (runs, f"grads:{a}") for a in chosen})


def hsv_groups(quantity: str) -> Callable[[ClaimData], Selection]:
    def select(data: ClaimData) -> Selection:
        hsv, spec = data.victim_runs(standard=False), {}
        standard = data.victim_runs()
        for (dataset, representation), part in hsv.groupby(["dataset", "repr"]):
            same = standard[(standard["dataset"] == dataset) & (standard["repr"] == representation)]
            if not same.empty:
                spec[f"hsv:{dataset} {representation}"] = (part, quantity)
                spec[f"standard:{dataset} {representation}"] = (same, quantity)
        if not spec:
            return Selection(
                {},
                f"needs HSV and standard-map runs of {data.victim_label} on one "
                "dataset and representation",
            )
        return data.select(spec)

    return select


def transfer_groups(data: ClaimData) -> Selection:
    groups = {
        REPR_LABELS.get(r, r): data.transfer_group(REPR_LABELS.get(r, r), r)
        for r in sorted(set(data.transfers["repr"]))
    }
    groups = {k: g for k, g in groups.items() if g.n_seeds}
    if "MFCC" not in groups or len(groups) < 2:
        return Selection({}, "needs transfer counts on MFCC and another representation")
    return Selection(
        groups, "", bool(data.transfers["dataset"].astype(str).str.startswith("synthetic").any())
    )


def waveform_groups(data: ClaimData) -> Selection:
    runs = data.runs[data.runs["repr"] == "waveform"]
    present = {a for k in runs["run_key"] for a in data.samples.get(k, {"attack": []})["attack"]}
    if runs.empty or not present:
        return Selection({}, "no attacks on a waveform (1D) model")
    return data.select({"1D": (runs, "final")})
