"""One short automatic verdict per table: does the paper's claim hold in our numbers?

Each verdict answers ``"yes"``, ``"no"`` or ``"not enough results"`` (when the cells it needs
are missing), computed the same way from our side of the tables and from the paper's, so the
report shows both.

Claims and how they are decided
-------------------------------
* Tables 2, 3, 4, 7 — *inverse accuracy–robustness relation*: the Pearson correlation between
  accuracy and the mean AUC over the six attacks, across the table's rows after removing each
  dataset's mean (a higher fooling AUC is a less robust model), is positive. Needs 3 rows.
* Table 3 — *n_fft 1024 most accurate on ESC-10*: no other ESC-10 row is more accurate.
* Table 4 — *wavelet scalogram ("DWT") most accurate*: over the datasets that have scalogram
  rows and rows of Table 2 (MFCC) or 3 (STFT), the scalogram's mean accuracy is the highest.
* Table 5 — *complex Morlet most accurate*: likewise among the mother wavelets.
* Table 6 — *the victim (ResNet-18) costliest to attack*: every other model needs fewer
  gradient computations (negative gradients ratio).
* Table 8 — *HSV lowers accuracy vs standard colour maps*: the mean of HSV accuracy minus the
  standard-map accuracy, over the rows that have both, is negative.
* Table 9 — *MFCC transfers least*: the mean off-diagonal transfer ratio of MFCC is the lowest
  of the representations present.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from specnb.report.results import ATTACKS
from specnb.report.tables import MODEL_LABELS, SOURCES, ReportTable

__all__ = ["NOT_ENOUGH", "Verdict", "table_verdicts"]

#: The answer when the cells a verdict needs are missing.
NOT_ENOUGH = "not enough results"

_Decision = tuple[str, str]


@dataclass(frozen=True)
class Verdict:
    """One claim of the paper checked against a table.

    Attributes
    ----------
    table : int
        The table the claim is about.
    claim : str
        The claim, e.g. ``"MFCC transfers least"``.
    ours, paper : str
        ``"yes"``, ``"no"`` or :data:`NOT_ENOUGH`, from our numbers and the paper's.
    detail : str
        The numbers behind our answer.
    """

    table: int
    claim: str
    ours: str
    paper: str
    detail: str

    def text(self) -> str:
        """One line, e.g. ``Table 9 — MFCC transfers least: yes (mfcc 0.41, ...); paper: yes``."""
        detail = f" ({self.detail})" if self.detail else ""
        return f"Table {self.table} — {self.claim}: {self.ours}{detail}; paper: {self.paper}"


def table_verdicts(tables: Mapping[int, ReportTable], victim: str = "resnet18") -> list[Verdict]:
    """Every verdict, in table order.

    Parameters
    ----------
    tables : mapping of int to ReportTable
        From :func:`~specnb.report.tables.build_tables` (Tables 2 to 9).
    victim : str
        The victim model of Table 6, named in its claim.

    Examples
    --------
    >>> for verdict in table_verdicts(tables):  # doctest: +SKIP
    ...     print(verdict.text())
    """
    checks: list[tuple[int, str, Callable[[str], _Decision]]] = []
    for number in (2, 3, 4, 7):
        checks.append((number, "inverse accuracy–robustness relation",
                       lambda s, n=number: _inverse_relation(tables[n].side(s))))
        if number == 3:
            checks.append((3, "n_fft 1024 most accurate on ESC-10",
                           lambda s: _best_row(tables[3].side(s), "esc10", "1024")))
        if number == 4:
            checks.append((4, "wavelet scalogram (DWT) most accurate vs MFCC and STFT",
                           lambda s: _dwt_most_accurate(tables, s)))
    checks.append((5, "complex Morlet most accurate",
                   lambda s: _most_accurate_row(tables[5].side(s), "cmor")))
    label = MODEL_LABELS.get(victim, victim)
    checks.append((6, f"{label} costliest to attack", lambda s: _costliest(tables[6].side(s))))
    checks.append((8, "HSV lowers accuracy vs standard colour maps",
                   lambda s: _hsv_lowers(tables[8].side(s))))
    checks.append((9, "MFCC transfers least", lambda s: _mfcc_least(tables[9].side(s))))
    out = []
    for number, claim, check in checks:
        answers = {source: check(source) for source in SOURCES}
        out.append(Verdict(number, claim, answers["ours"][0], answers["paper"][0],
                           answers["ours"][1]))
    return sorted(out, key=lambda verdict: verdict.table)


def _yes(condition: bool) -> str:
    return "yes" if condition else "no"


def _inverse_relation(side: pd.DataFrame) -> _Decision:
    aucs = side[[f"{a}_auc" for a in ATTACKS]]
    frame = pd.DataFrame({"accuracy": side["accuracy"], "auc": aucs.mean(axis=1, skipna=True)})
    frame = frame.dropna()
    if len(frame) < 3:
        return NOT_ENOUGH, f"{len(frame)} rows with accuracy and AUC"
    centred = frame - frame.groupby(level="dataset").transform("mean")
    if centred["accuracy"].std() == 0 or centred["auc"].std() == 0:
        return NOT_ENOUGH, "no variation within a dataset"
    r = float(np.corrcoef(centred["accuracy"], centred["auc"])[0, 1])
    return _yes(r > 0), f"r(accuracy, mean AUC) = {r:+.2f} over {len(frame)} rows"


def _best_row(side: pd.DataFrame, dataset: str, row: str) -> _Decision:
    if dataset not in side.index.get_level_values("dataset"):
        return NOT_ENOUGH, f"no {dataset} rows"
    accuracy = side.loc[dataset, "accuracy"].dropna()
    if row not in accuracy.index or len(accuracy) < 2:
        return NOT_ENOUGH, f"needs {row} and another row on {dataset}"
    best = str(accuracy.idxmax())
    return _yes(accuracy[row] >= accuracy.max()), f"best {best}: {accuracy.max():.2f} %"


def _most_accurate_row(side: pd.DataFrame, row: str) -> _Decision:
    accuracy = side["accuracy"].dropna()
    datasets = accuracy.index.get_level_values("dataset")
    rows = accuracy.index.get_level_values("row")
    common = set(datasets[rows == row])
    keep = [d in common for d in datasets]
    accuracy = accuracy[keep]
    means = accuracy.groupby(level="row").mean()
    if row not in means.index or len(means) < 2:
        return NOT_ENOUGH, f"needs {row} and another row on one dataset"
    others = means.drop(row)
    return _yes(bool(means[row] > others.max())), _means_text(means)


def _dwt_most_accurate(tables: Mapping[int, ReportTable], source: str) -> _Decision:
    sides = {"MFCC": tables[2], "STFT": tables[3], "DWT": tables[4]}
    accuracy = {name: t.side(source)["accuracy"].dropna() for name, t in sides.items()}
    common = set(accuracy["DWT"].index.get_level_values("dataset"))
    means = {}
    for name, values in accuracy.items():
        values = values[[d in common for d in values.index.get_level_values("dataset")]]
        if len(values):
            means[name] = float(values.mean())
    if "DWT" not in means or len(means) < 2:
        return NOT_ENOUGH, "needs scalogram rows and MFCC or STFT rows on one dataset"
    others = max(v for k, v in means.items() if k != "DWT")
    return _yes(means["DWT"] > others), _means_text(pd.Series(means))


def _costliest(side: pd.DataFrame) -> _Decision:
    ratios = side["grads_ratio"].dropna()
    if ratios.empty:
        return NOT_ENOUGH, "no other model paired with the victim"
    highest = ratios.idxmax()[1]
    return _yes(bool((ratios < 0).all())), f"highest ratio {highest}: {ratios.max():+.1f} %"


def _hsv_lowers(side: pd.DataFrame) -> _Decision:
    pairs = side[["accuracy", "accuracy_standard"]].dropna()
    if pairs.empty:
        return NOT_ENOUGH, "needs HSV and standard-map accuracies of one dataset"
    change = float((pairs["accuracy"] - pairs["accuracy_standard"]).mean())
    rows = "row" if len(pairs) == 1 else "rows"
    return _yes(change < 0), f"mean change {change:+.2f} points over {len(pairs)} {rows}"


def _mfcc_least(side: pd.DataFrame) -> _Decision:
    if side.dropna(how="all").empty:
        return NOT_ENOUGH, "no transfer results"
    cells = side.stack().dropna()
    cells.index.names = ["dataset", "row", "target"]
    rows = cells.index.get_level_values("row").str.split(":")
    representation = [r[0] for r in rows]
    source = [r[-1] for r in rows]
    target = cells.index.get_level_values("target")
    off = np.asarray([s != t for s, t in zip(source, target)], dtype=bool)
    means = pd.Series(cells.to_numpy()[off]).groupby(np.asarray(representation)[off]).mean()
    if "mfcc" not in means.index or len(means) < 2:
        return NOT_ENOUGH, "needs MFCC and another representation"
    others = means.drop("mfcc")
    return _yes(bool(means["mfcc"] < others.min())), _means_text(means)


def _means_text(means: pd.Series) -> str:
    return ", ".join(f"{k} {v:.3g}" for k, v in means.items())
