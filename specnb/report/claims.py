"""The paper's claims: which of our runs each compares, its statistic and the paper's answer.

Every :class:`Claim` selects groups of runs from a :class:`ClaimData` (the victim model's runs
with a standard colour map for the representation tables; every model on the settings it
shares with ResNet-18 for Table 6...), maps their bootstrap replicates to one statistic
(positive: what the paper says) and reads the paper's own answer from its tables.
:mod:`specnb.report.verdicts` decides; the rule is written in :meth:`Claim.rule_text`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Optional

import numpy as np
import pandas as pd

from specnb.report.results import ATTACKS, StoreResults
from specnb.report.tables import MODEL_LABELS, ReportTable
from specnb.report.uncertainty import Group, Item, counts_item, mean_item, units_item

__all__ = ["CLAIMS", "Claim", "ClaimData", "Selection"]

_REPR_LABELS = {"mfcc": "MFCC", "stft": "STFT", "wavelet": "DWT", "mel": "Mel"}
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


@dataclass(frozen=True)
class Claim:
    """One claim of the paper and how our results decide it."""

    key: str
    where: str
    text: str
    statistic_name: str
    groups: Callable[[ClaimData], Selection]
    statistic: Callable[[Mapping[str, np.ndarray]], np.ndarray]
    paper: Optional[Callable[[Mapping[int, ReportTable]], str]]
    paper_text: str = ""
    unit: str = "test clips"
    threshold: float = 0.0
    min_groups: int = 2
    number: str = "{:+.2f}"
    group_number: str = "{:.1f} %"

    def fmt(self, value: float) -> str:
        return self.number.format(value)

    def fmt_group(self, value: float) -> str:
        return self.group_number.format(value)

    def rule_text(self) -> str:
        """How the verdict follows from the interval."""
        at = f"{self.threshold:g}"
        return (
            f"supported when the 95 % interval of {self.statistic_name} lies above {at}, "
            f"contradicted when below, inconclusive when it contains {at}."
        )


# ------------------------------------------------------------------ statistics
def _lead(name: str) -> Callable[[Mapping[str, np.ndarray]], np.ndarray]:
    """``name``'s value minus the best of the others."""
    return lambda g: g[name] - np.max([v for k, v in g.items() if k != name], axis=0)


def _relative_lead(name: str) -> Callable[[Mapping[str, np.ndarray]], np.ndarray]:
    """How much larger ``name`` is than the largest other, in percent."""
    return lambda g: (
        100.0 * (g[name] / np.max([v for k, v in g.items() if k != name], axis=0) - 1.0)
    )


def _trail(name: str) -> Callable[[Mapping[str, np.ndarray]], np.ndarray]:
    """The smallest other minus ``name``."""
    return lambda g: np.min([v for k, v in g.items() if k != name], axis=0) - g[name]


def _paired_drop(g: Mapping[str, np.ndarray]) -> np.ndarray:
    """Mean over ``standard:X`` / ``hsv:X`` pairs of standard minus HSV."""
    pairs = [k.partition(":")[2] for k in g if k.startswith("hsv:")]
    return np.mean([g[f"standard:{p}"] - g[f"hsv:{p}"] for p in pairs], axis=0)


def _correlation(g: Mapping[str, np.ndarray]) -> np.ndarray:
    """Pearson r across rows ``<row> @<dataset>`` of accuracy and AUC, centred per dataset."""
    rows = sorted({k.rpartition(":")[0] for k in g})
    acc = np.stack([g[f"{r}:acc"] for r in rows])
    auc = np.stack([g[f"{r}:auc"] for r in rows])
    datasets = np.array([r.rpartition("@")[2] for r in rows])
    for d in set(datasets):
        acc[datasets == d] -= acc[datasets == d].mean(axis=0)
        auc[datasets == d] -= auc[datasets == d].mean(axis=0)
    acc, auc = acc - acc.mean(axis=0), auc - auc.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (acc * auc).sum(axis=0) / np.sqrt((acc**2).sum(axis=0) * (auc**2).sum(axis=0))


# ------------------------------------------------------------------ selections
_TABLE_REPR = {2: ("mfcc", "sr"), 3: ("stft", "n_fft"), 4: ("wavelet", "sr"), 7: ("mel", "n_fft")}


def _inverse_groups(tables: tuple[int, ...]) -> Callable[[ClaimData], Selection]:
    def select(data: ClaimData) -> Selection:
        spec = {}
        for number in tables:
            representation, field = _TABLE_REPR[number]
            runs = data.victim_runs(representation)
            runs = runs[runs[field].notna()]
            for (dataset, value), part in runs.groupby(["dataset", field]):
                row = f"{_REPR_LABELS[representation]} {value:g} @{dataset}"
                spec[f"{row}:acc"] = (part, "accuracy")
                spec[f"{row}:auc"] = (part, "auc")
        selection = data.select(spec)
        if len(spec) < 6 and not selection.missing:
            return Selection(
                selection.groups, f"needs ≥ 3 rows, have {len(spec) // 2}", selection.synthetic
            )
        return selection

    return select


def _accuracy_groups(names: tuple[str, ...]) -> Callable[[ClaimData], Selection]:
    """The victim's accuracy per representation, on datasets that have ``names[0]``."""

    def select(data: ClaimData) -> Selection:
        first = data.victim_runs(names[0])
        datasets = set(first["dataset"])
        spec = {
            _REPR_LABELS[n]: (r[r["dataset"].isin(datasets)], "accuracy")
            for n in names
            for r in [data.victim_runs(n)]
        }
        others = [
            k for k, (runs, _) in spec.items() if not runs.empty and k != _REPR_LABELS[names[0]]
        ]
        if first.empty or not others:
            return Selection(
                {},
                f"needs {' and '.join(_REPR_LABELS[n] for n in names[:2])} "
                f"runs of {data.victim_label} on one dataset",
            )
        return data.select({k: v for k, v in spec.items() if not v[0].empty})

    return select


def _row_groups(
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


def _model_groups(quantity: str) -> Callable[[ClaimData], Selection]:
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


def _attack_groups(data: ClaimData) -> Selection:
    runs = data.victim_runs()
    present = {a for k in runs["run_key"] for a in data.samples.get(k, {"attack": []})["attack"]}
    chosen = [a for a in ATTACKS if a in present]
    if "cw" not in chosen or len(chosen) < 2:
        return Selection({}, f"needs CW and another attack on {data.victim_label}'s runs")
    return data.select({a: (runs, f"grads:{a}") for a in chosen})


def _hsv_groups(quantity: str) -> Callable[[ClaimData], Selection]:
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


def _transfer_groups(data: ClaimData) -> Selection:
    groups = {
        _REPR_LABELS.get(r, r): data.transfer_group(_REPR_LABELS.get(r, r), r)
        for r in sorted(set(data.transfers["repr"]))
    }
    groups = {k: g for k, g in groups.items() if g.n_seeds}
    if "MFCC" not in groups or len(groups) < 2:
        return Selection({}, "needs transfer counts on MFCC and another representation")
    return Selection(
        groups, "", bool(data.transfers["dataset"].astype(str).str.startswith("synthetic").any())
    )


def _waveform_groups(data: ClaimData) -> Selection:
    runs = data.runs[data.runs["repr"] == "waveform"]
    present = {a for k in runs["run_key"] for a in data.samples.get(k, {"attack": []})["attack"]}
    if runs.empty or not present:
        return Selection({}, "no attacks on a waveform (1D) model")
    return data.select({"1D": (runs, "final")})


# ------------------------------------------------------------------ the paper's side
def _yes(condition: bool) -> str:
    return "yes" if condition else "no"


def _paper_lead(tables: Mapping[int, ReportTable], numbers: Mapping[str, int], name: str) -> str:
    means = {}
    for label, number in numbers.items():
        values = tables[number].side("paper")["accuracy"].dropna()
        if len(values):
            means[label] = float(values.mean())
    if name not in means or len(means) < 2:
        return "—"
    return _yes(means[name] > max(v for k, v in means.items() if k != name))


def _paper_inverse(numbers: tuple[int, ...]) -> Callable[[Mapping[int, ReportTable]], str]:
    def answer(tables: Mapping[int, ReportTable]) -> str:
        frames = [tables[n].side("paper") for n in numbers]
        side = pd.concat(frames)
        aucs = side[[f"{a}_auc" for a in ATTACKS]].mean(axis=1)
        frame = pd.DataFrame({"acc": side["accuracy"], "auc": aucs}).dropna()
        frame = frame - frame.groupby(level="dataset").transform("mean")
        return _yes(float(np.corrcoef(frame["acc"], frame["auc"])[0, 1]) > 0)

    return answer


def _paper_row(
    number: int, row: str, dataset: Optional[str] = None
) -> Callable[[Mapping[int, ReportTable]], str]:
    def answer(tables: Mapping[int, ReportTable]) -> str:
        side = tables[number].side("paper")["accuracy"].dropna()
        if dataset is not None:
            side = side.loc[dataset]
        means = side.groupby(level="row").mean() if dataset is None else side
        return _yes(bool(means[row] >= means.max()))

    return answer


def _paper_attack_cost(tables: Mapping[int, ReportTable]) -> str:
    sides = pd.concat([tables[n].side("paper") for n in _TABLE_REPR])
    means = {a: float(sides[f"{a}_grads"].mean()) for a in ATTACKS}
    return _yes(means["cw"] >= max(means.values()))


def _paper_hsv(quantity: str) -> Callable[[Mapping[int, ReportTable]], str]:
    def answer(tables: Mapping[int, ReportTable]) -> str:
        hsv = tables[8].side("paper")
        if quantity == "accuracy":
            pairs = hsv[["accuracy", "accuracy_standard"]].dropna()
            return _yes(float((pairs["accuracy_standard"] - pairs["accuracy"]).mean()) > 0)
        drops = []
        for representation, number in (("mfcc", 2), ("stft", 3), ("wavelet", 4), ("mel", 7)):
            side = tables[number].side("paper")
            standard = side[[f"{a}_auc" for a in ATTACKS]].mean(axis=1)
            for dataset, values in standard.groupby(level="dataset"):
                if (dataset, representation) in hsv.index:
                    drops.append(values.mean() - hsv.loc[(dataset, representation), "auc"])
        return _yes(float(np.nanmean(drops)) > 0) if drops else "—"

    return answer


def _paper_table6(column: str) -> Callable[[Mapping[int, ReportTable]], str]:
    return lambda tables: _yes(bool((tables[6].side("paper")[column].dropna() < 0).all()))


def _paper_mfcc(tables: Mapping[int, ReportTable]) -> str:
    side = tables[9].side("paper").stack().dropna()
    rows = side.index.get_level_values(1).str.split(":")
    off = np.array([r[-1] != t for r, t in zip(rows, side.index.get_level_values(2))])
    means = pd.Series(side.to_numpy()[off]).groupby(np.array([r[0] for r in rows])[off]).mean()
    return _yes(bool(means["mfcc"] < means.drop("mfcc").min()))


# ------------------------------------------------------------------ the claims
def _claims() -> dict[str, Claim]:
    claims = []
    r = "r(accuracy, mean AUC) across rows, centred per dataset"
    inverse = (
        "accuracy and robustness are inversely related (a more accurate setting is "
        "fooled more easily: higher AUC)"
    )
    for number in (2, 3, 4, 7):
        claims.append(
            Claim(
                f"table{number}_inverse",
                f"Table {number}",
                inverse,
                r,
                _inverse_groups((number,)),
                _correlation,
                _paper_inverse((number,)),
                min_groups=6,
                number="{:+.2f}",
                group_number="{:.2f}",
            )
        )
    claims.append(
        Claim(
            "pooled_inverse",
            "Tables 2–4, 7",
            inverse + ", over every representation",
            r,
            _inverse_groups((2, 3, 4, 7)),
            _correlation,
            _paper_inverse((2, 3, 4, 7)),
            min_groups=6,
            group_number="{:.2f}",
        )
    )
    claims.append(
        Claim(
            "table3_nfft1024",
            "Table 3",
            "on ESC-10, n_fft = 1024 gives the most accurate STFT",
            "accuracy of 1024 minus the best other n_fft (points)",
            lambda d: _row_groups(
                d,
                d.victim_runs("stft")[d.victim_runs("stft")["dataset"] == "esc10"],
                "n_fft",
                "accuracy",
                "1024",
            ),
            _lead("1024"),
            _paper_row(3, "1024", "esc10"),
        )
    )
    claims.append(
        Claim(
            "table4_dwt",
            "Table 4",
            "the wavelet scalogram (DWT) is more accurate than MFCC and STFT",
            "DWT accuracy minus the better of MFCC and STFT (points)",
            _accuracy_groups(("wavelet", "stft", "mfcc")),
            _lead("DWT"),
            lambda t: _paper_lead(t, {"DWT": 4, "STFT": 3, "MFCC": 2}, "DWT"),
        )
    )
    claims.append(
        Claim(
            "stft_over_mfcc",
            "Tables 2, 3",
            "STFT is more accurate than MFCC",
            "STFT accuracy minus MFCC accuracy (points)",
            _accuracy_groups(("stft", "mfcc")),
            _lead("STFT"),
            lambda t: _paper_lead(t, {"STFT": 3, "MFCC": 2}, "STFT"),
        )
    )
    claims.append(
        Claim(
            "table5_cmor",
            "Table 5",
            "the complex Morlet is the most accurate mother wavelet",
            "complex Morlet accuracy minus the best other family (points)",
            lambda d: _row_groups(
                d, d.victim_runs("wavelet", family=None), "wavelet_family", "accuracy", "cmor"
            ),
            _lead("cmor"),
            _paper_row(5, "cmor"),
        )
    )
    claims.append(
        Claim(
            "cw_costliest",
            "Tables 2–4, 7",
            "Carlini–Wagner is the costliest attack (gradient computations)",
            "CW gradients over the costliest other attack (+ %)",
            _attack_groups,
            _relative_lead("cw"),
            _paper_attack_cost,
            unit="attacked samples",
            number="{:+.0f} %",
            group_number="{:.0f}",
        )
    )
    claims.append(
        Claim(
            "table6_accuracy",
            "Table 6",
            "ResNet-18 is more accurate than the other six models",
            "ResNet-18 accuracy minus the best other model (points)",
            _model_groups("accuracy"),
            _lead("ResNet-18"),
            _paper_table6("accuracy_diff"),
        )
    )
    claims.append(
        Claim(
            "table6_costliest",
            "Table 6",
            "ResNet-18 is the costliest model to attack (gradient computations)",
            "ResNet-18 gradients over the costliest other model (+ %)",
            _model_groups("grads"),
            _relative_lead("ResNet-18"),
            _paper_table6("grads_ratio"),
            unit="attacked samples",
            number="{:+.0f} %",
            group_number="{:.0f}",
        )
    )
    claims.append(
        Claim(
            "table8_hsv_accuracy",
            "Table 8, §5.5",
            "uniform HSV rendering lowers accuracy against the standard colour maps",
            "standard minus HSV accuracy (points)",
            _hsv_groups("accuracy"),
            _paired_drop,
            _paper_hsv("accuracy"),
        )
    )
    claims.append(
        Claim(
            "hsv_auc",
            "§5.5",
            "uniform HSV rendering lowers the fooling rate (AUC)",
            "standard minus HSV mean AUC",
            _hsv_groups("auc"),
            _paired_drop,
            _paper_hsv("auc"),
            unit="attacked samples",
            number="{:+.3f}",
            group_number="{:.3f}",
        )
    )
    claims.append(
        Claim(
            "table9_mfcc",
            "Table 9",
            "adversarial examples transfer least on MFCC",
            "lowest other mean ratio minus MFCC's",
            _transfer_groups,
            _trail("MFCC"),
            _paper_mfcc,
            unit="examples",
            number="{:+.3f}",
            group_number="{:.3f}",
        )
    )
    claims.append(
        Claim(
            "raw_audio_drop",
            "§5.6",
            "attacks on end-to-end 1D ConvNets cut their accuracy by 30 % on average",
            "relative accuracy drop (fooling rate at the largest budget)",
            _waveform_groups,
            lambda g: g["1D"],
            None,
            "stated in §5.6 (no table)",
            unit="attacked samples",
            threshold=0.30,
            min_groups=1,
            number="{:.2f}",
            group_number="{:.2f}",
        )
    )
    claims.append(
        Claim(
            "raw_audio_restore",
            "§5.6",
            "multiplying a 1D adversarial waveform by a small random "
            "scalar restores its correct label",
            "restored share",
            lambda d: Selection(
                {},
                "the store holds no per-sample restoration results "
                "(notebook 06 writes them to its summary.json)",
            ),
            lambda g: g["1D"],
            None,
            "stated in §5.6 (no table)",
            min_groups=1,
        )
    )
    return {c.key: c for c in claims}


#: Every claim, by key, in the paper's order.
CLAIMS: dict[str, Claim] = _claims()
