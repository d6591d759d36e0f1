"""The groups a claim compares: our results cut into per-seed, per-cell groups, selected per claim.

:class:`ClaimData` cuts the results store into groups (the victim model's runs with a standard
colour map for the representation tables; every model on the settings it shares with ResNet-18
for Table 6...). Every run of a group sits in a *cell*, what the compared groups must share to
be compared (the dataset; the dataset and setting; the dataset, the setting and the attack for
costs): :func:`~specnb.report.uncertainty.compare` pairs groups only on the cells they share.
Each selector here names the groups of one kind of claim and returns a :class:`Selection`, or
says what is missing or why the results are not comparable:

* a model whose accuracy interval over seeds reaches chance (100 / classes) on a cell of the
  claim (:func:`~specnb.report.model_levels.at_chance`);
* a transfer group with fewer than :data:`MIN_TRANSFER_EXAMPLES` examples fooling its source at a
  seed, or whose source or target model is at chance;
* a cost whose attack never reaches the matched fooling rate (0.9, ``cost_to_fr90``) on a
  group's runs.

A selection also names the models behind its groups with their mean accuracy over seeds, weak
ones called so (:func:`~specnb.report.model_levels.strengths`): a verdict from weak models says
so beside itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Mapping, Optional, Sequence

import numpy as np
import pandas as pd

from specnb.report.attack_rows import ATTACKS
from specnb.report.model_levels import at_chance, strengths
from specnb.report.report_table import MODEL_LABELS, REPR_LABELS
from specnb.report.results import SETTING_FIELDS, StoreResults
from specnb.report.uncertainty import Group, Units

__all__ = [
    "MIN_TRANSFER_EXAMPLES",
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

#: Examples fooling the source, per seed, below which a transfer group is not comparable.
MIN_TRANSFER_EXAMPLES = 30
_UNITS = {
    "accuracy": "test clips",
    "auc": "attacked samples",
    "cost": "attacked samples",
    "final": "attacked samples",
}
_NEVER = "never"  # a cost whose attack never reached the matched fooling rate
_DATASET = ("dataset",)
_SETTING = ("dataset", "setting_key")


@dataclass(frozen=True)
class Selection:
    """The groups a claim compares, or what is missing, or why they are not comparable."""

    groups: dict[str, Group]
    missing: str = ""
    synthetic: bool = False
    not_comparable: str = ""
    models: str = ""


class ClaimData:
    """Our results, cut into groups.

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

    def pieces(self, run: Mapping, quantity: str) -> Optional[list[tuple[Hashable, Any]]]:
        """One run's units for ``accuracy``, ``auc``, ``auc:<attack>``, ``final``,
        ``cost:<attack>`` or ``cost`` (every attack), each with its sub-cell (the attack for
        costs); None when the per-clip or per-sample results are not stored; empty for a
        model that was not attacked (it neither counts nor lacks); a cost whose attack never
        reached 0.9 is :data:`_NEVER`."""
        metric, _, attack = quantity.partition(":")
        if metric == "accuracy":
            units = run["clip_correct"]
            if units is None:
                return None
            ids = run.get("test_clip_ids")
            ids = tuple(ids) if ids is not None and len(ids) == len(units) else None
            return [((), Units(100.0 * units, ids))]
        if metric == "cost":
            names = [attack] if attack else [a for a in ATTACKS if f"{a}_cost" in run]
            out = []
            for name in names:
                if pd.isna(run.get(f"{name}_auc", math.nan)):
                    continue  # the attack was not run on this model
                cost = run.get(f"{name}_cost", math.nan)
                most = run.get(f"{name}_cost_max", math.nan)
                sub = () if attack else (name,)  # every attack: each is a cell of its own
                if not pd.isna(cost):
                    out.append((sub, Units(np.array([cost]))))
                elif not pd.isna(most):  # never reached 0.9: it costs more than its grid's most
                    out.append((sub, Units(np.array([most]), at_least=True)))
                else:
                    out.append((sub, _NEVER))
            return out
        rows = self.samples.get(run["run_key"])
        if rows is None:
            return []  # a model that was not attacked (a study attacks one test fold's)
        if attack:
            rows = rows[rows["attack"] == attack]
        elif metric != "final":  # the 1D model's attacks are all of its own
            rows = rows[rows["attack"].isin(ATTACKS)]
        if rows.empty:
            return []
        units = [u for u in rows[f"{metric}_units"] if u is not None and len(u)]
        if not units or len(units) < len(rows):
            return None
        ids = [i for i in rows["sample_ids"]]
        if len({len(u) for u in units}) == 1:
            same = all(i is not None and list(i) == list(ids[0]) for i in ids)
            return [((), Units(np.mean(units, axis=0), tuple(ids[0]) if same else None))]
        return [((), Units(np.array([np.mean([u.mean() for u in units])])))]

    def group(
        self, name: str, runs: pd.DataFrame, quantity: str, cell: Sequence[str] = _DATASET
    ) -> tuple[Group, int, int]:
        """The group of ``runs`` for ``quantity``, cells by the ``cell`` columns, how many runs
        lacked their units and how many costs never reached the matched fooling rate."""
        cells: dict[tuple[int, Hashable], list[Units]] = {}
        lacking = never = 0
        for run in runs.to_dict("records"):
            pieces = self.pieces(run, quantity)
            if pieces is None:
                lacking += 1
                continue
            seed = -1 if pd.isna(run["seed"]) else int(run["seed"])
            base = tuple(str(run[c]) for c in cell)
            for sub, units in pieces:
                if isinstance(units, str):
                    never += 1
                    continue
                cells.setdefault((seed, base + tuple(sub)), []).append(units)
        return Group(name, cells), lacking, never

    def select(
        self, spec: Mapping[str, tuple[pd.DataFrame, str]], cell: Sequence[str] = _DATASET
    ) -> Selection:
        """Groups named by ``spec`` (name: runs and quantity), cells by ``cell``, or what is
        missing or not comparable."""
        groups, missing, refused = {}, [], []
        for name, (runs, quantity) in spec.items():
            if runs.empty:
                missing.append(f"no runs of {name}")
                continue
            group, lacking, never = self.group(name, runs, quantity, cell)
            if lacking:
                missing.append(
                    f"{lacking} of {len(runs)} runs of {name} lack per-sample "
                    f"results ({_UNITS[quantity.partition(':')[0]]}: rerun them)"
                )
            if never and not group.runs:
                refused.append(
                    f"{name}: its attacks never reach a fooling rate of 0.9 on its grids "
                    f"({never} runs and attacks), so no cost at a matched fooling rate"
                )
            groups[name] = group
        used = pd.concat([runs for runs, _ in spec.values()]) if spec else self.runs.iloc[:0]
        synthetic = bool(used["dataset"].astype(str).str.startswith("synthetic").any())
        used = used.drop_duplicates("run_key")
        refused += at_chance(used) if not used.empty else []
        models = strengths(used) if not used.empty else ""
        return Selection(groups, "; ".join(missing), synthetic, "; ".join(refused), models)

    def transfer_group(self, name: str, representation: str) -> tuple[Group, list[str]]:
        """The transfers on ``representation`` by source seed and dataset, and the seeds whose
        examples fooling the source are under :data:`MIN_TRANSFER_EXAMPLES`."""
        rows = self.transfers[
            (self.transfers["repr"] == representation)
            & (self.transfers["source"] != self.transfers["target"])
        ]
        cells: dict[tuple[int, Hashable], list[Units]] = {}
        examples: dict[int, int] = {}
        for row in rows.to_dict("records"):
            counts = row["counts"]
            if counts is None or not (np.asarray(counts)[:, 1] > 0).any():
                continue
            counts = np.asarray(counts)
            used = counts[:, 1] > 0
            ratio = float(np.mean(counts[used, 2] / counts[used, 1]))
            seed = -1 if pd.isna(row["seed"]) else int(row["seed"])
            cells.setdefault((seed, (str(row["dataset"]),)), []).append(Units(np.array([ratio])))
            examples[seed] = examples.get(seed, 0) + int(counts[:, 1].max())
        few = [
            f"{name}: {n} examples fooling the source at seed {s} (minimum {MIN_TRANSFER_EXAMPLES})"
            for s, n in sorted(examples.items())
            if n < MIN_TRANSFER_EXAMPLES
        ]
        return Group(name, cells), few


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
        if len(spec) < 4:
            return Selection({}, f"needs ≥ 2 settings rows, have {len(spec) // 2}")
        return data.select(spec)

    return select


def accuracy_groups(names: tuple[str, ...]) -> Callable[[ClaimData], Selection]:
    """The victim's accuracy per representation; compared per dataset (the cell)."""

    def select(data: ClaimData) -> Selection:
        first = data.victim_runs(names[0])
        spec = {REPR_LABELS[n]: (data.victim_runs(n), "accuracy") for n in names}
        others = [
            k for k, (runs, _) in spec.items() if not runs.empty and k != REPR_LABELS[names[0]]
        ]
        if first.empty or not others:
            return Selection(
                {},
                f"needs {' and '.join(REPR_LABELS[n] for n in names[:2])} "
                f"runs of {data.victim_label} on one dataset",
            )
        return data.select({k: v for k, v in spec.items() if not v[0].empty}, _DATASET)

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
            {MODEL_LABELS.get(m, m): (part, quantity) for m, part in shared.groupby("model")},
            _SETTING,
        )

    return select


def attack_groups(data: ClaimData) -> Selection:
    runs = data.victim_runs()
    present = {a for k in runs["run_key"] for a in data.samples.get(k, {"attack": []})["attack"]}
    chosen = [a for a in ATTACKS if a in present]
    if "cw" not in chosen or len(chosen) < 2:
        return Selection({}, f"needs CW and another attack on {data.victim_label}'s runs")
    return data.select({a: (runs, f"cost:{a}") for a in chosen}, _SETTING)


#: The cell of an HSV comparison: the dataset and every setting field but the colour map.
_HSV_CELL = ("dataset", "repr", *(f for f in SETTING_FIELDS if f != "colormap"))


def hsv_groups(quantity: str) -> Callable[[ClaimData], Selection]:
    """The victim's runs with the HSV map and with standard maps, paired on the dataset and
    every other setting field."""

    def select(data: ClaimData) -> Selection:
        hsv, standard = data.victim_runs(standard=False), data.victim_runs()
        cells = set(map(tuple, hsv[list(_HSV_CELL)].astype(str).to_numpy()))
        same = standard[
            np.array(
                [tuple(c) in cells for c in standard[list(_HSV_CELL)].astype(str).to_numpy()],
                dtype=bool,
            )
        ]
        if hsv.empty or same.empty:
            return Selection(
                {},
                f"needs HSV and standard-map runs of {data.victim_label} on one "
                "dataset and setting",
            )
        return data.select({"standard": (same, quantity), "HSV": (hsv, quantity)}, _HSV_CELL)

    return select


def transfer_groups(data: ClaimData) -> Selection:
    """Transfer ratios per representation; not comparable where a group has too few examples
    fooling its source or a source or target model is at chance."""
    groups, refused = {}, []
    for representation in sorted(set(data.transfers["repr"])):
        name = REPR_LABELS.get(representation, representation)
        group, few = data.transfer_group(name, representation)
        if group.n_seeds:
            groups[name] = group
            refused += few
    if "MFCC" not in groups or len(groups) < 2:
        return Selection({}, "needs transfer counts on MFCC and another representation")
    keys = set(data.transfers["source_run_key"]) | set(data.transfers["target_run_key"])
    partners = data.runs[data.runs["run_key"].isin(keys)]
    refused += at_chance(partners)
    synthetic = bool(data.transfers["dataset"].astype(str).str.startswith("synthetic").any())
    return Selection(groups, "", synthetic, "; ".join(refused), strengths(partners))


def waveform_groups(data: ClaimData) -> Selection:
    runs = data.runs[data.runs["repr"] == "waveform"]
    present = {a for k in runs["run_key"] for a in data.samples.get(k, {"attack": []})["attack"]}
    if runs.empty or not present:
        return Selection({}, "no attacks on a waveform (1D) model")
    return data.select({"1D": (runs, "final")}, _SETTING)
