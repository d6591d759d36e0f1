"""Each claim's two answers: our statistic over bootstrap replicates, and the paper's own.

The statistics map every group's bootstrap replicates to one number (positive: what the paper
says); the paper's side reads its yes or no from its published tables.
"""

from __future__ import annotations

from typing import Callable, Mapping, Optional

import numpy as np
import pandas as pd

from specnb.report.attack_rows import ATTACKS
from specnb.report.claim_groups import TABLE_REPR
from specnb.report.report_table import ReportTable

__all__ = [
    "correlation",
    "lead",
    "paired_drop",
    "paper_attack_cost",
    "paper_hsv",
    "paper_inverse",
    "paper_lead",
    "paper_mfcc",
    "paper_row",
    "paper_table6",
    "relative_lead",
    "trail",
]


# ------------------------------------------------------------------ statistics
def lead(name: str) -> Callable[[Mapping[str, np.ndarray]], np.ndarray]:
    """``name``'s value minus the best of the others."""
    return lambda g: g[name] - np.max([v for k, v in g.items() if k != name], axis=0)


def relative_lead(name: str) -> Callable[[Mapping[str, np.ndarray]], np.ndarray]:
    """How much larger ``name`` is than the largest other, in percent."""
    return lambda g: (
        100.0 * (g[name] / np.max([v for k, v in g.items() if k != name], axis=0) - 1.0)
    )


def trail(name: str) -> Callable[[Mapping[str, np.ndarray]], np.ndarray]:
    """The smallest other minus ``name``."""
    return lambda g: np.min([v for k, v in g.items() if k != name], axis=0) - g[name]


def paired_drop(g: Mapping[str, np.ndarray]) -> np.ndarray:
    """Mean over ``standard:X`` / ``hsv:X`` pairs of standard minus HSV."""
    pairs = [k.partition(":")[2] for k in g if k.startswith("hsv:")]
    return np.mean([g[f"standard:{p}"] - g[f"hsv:{p}"] for p in pairs], axis=0)


def correlation(g: Mapping[str, np.ndarray]) -> np.ndarray:
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


# ------------------------------------------------------------------ the paper's side
def _yes(condition: bool) -> str:
    return "yes" if condition else "no"


def paper_lead(tables: Mapping[int, ReportTable], numbers: Mapping[str, int], name: str) -> str:
    means = {}
    for label, number in numbers.items():
        values = tables[number].side("paper")["accuracy"].dropna()
        if len(values):
            means[label] = float(values.mean())
    if name not in means or len(means) < 2:
        return "—"
    return _yes(means[name] > max(v for k, v in means.items() if k != name))


def paper_inverse(numbers: tuple[int, ...]) -> Callable[[Mapping[int, ReportTable]], str]:
    def answer(tables: Mapping[int, ReportTable]) -> str:
        frames = [tables[n].side("paper") for n in numbers]
        side = pd.concat(frames)
        aucs = side[[f"{a}_auc" for a in ATTACKS]].mean(axis=1)
        frame = pd.DataFrame({"acc": side["accuracy"], "auc": aucs}).dropna()
        frame = frame - frame.groupby(level="dataset").transform("mean")
        return _yes(float(np.corrcoef(frame["acc"], frame["auc"])[0, 1]) > 0)

    return answer


def paper_row(
    number: int, row: str, dataset: Optional[str] = None
) -> Callable[[Mapping[int, ReportTable]], str]:
    def answer(tables: Mapping[int, ReportTable]) -> str:
        side = tables[number].side("paper")["accuracy"].dropna()
        if dataset is not None:
            side = side.loc[dataset]
        means = side.groupby(level="row").mean() if dataset is None else side
        return _yes(bool(means[row] >= means.max()))

    return answer


def paper_attack_cost(tables: Mapping[int, ReportTable]) -> str:
    sides = pd.concat([tables[n].side("paper") for n in TABLE_REPR])
    means = {a: float(sides[f"{a}_grads"].mean()) for a in ATTACKS}
    return _yes(means["cw"] >= max(means.values()))


def paper_hsv(quantity: str) -> Callable[[Mapping[int, ReportTable]], str]:
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


def paper_table6(column: str) -> Callable[[Mapping[int, ReportTable]], str]:
    return lambda tables: _yes(bool((tables[6].side("paper")[column].dropna() < 0).all()))


def paper_mfcc(tables: Mapping[int, ReportTable]) -> str:
    side = tables[9].side("paper").stack().dropna()
    rows = side.index.get_level_values(1).str.split(":")
    off = np.array([r[-1] != t for r, t in zip(rows, side.index.get_level_values(2))])
    means = pd.Series(side.to_numpy()[off]).groupby(np.array([r[0] for r in rows])[off]).mean()
    return _yes(bool(means["mfcc"] < means.drop("mfcc").min()))
