"""Each claim's two answers: our decision from paired per-seed estimates, and the paper's own.

Our side (:class:`Judgement`) comes from the groups' paired comparisons
(:mod:`specnb.report.uncertainty`), oriented so that a positive value is what the paper says:

* a *lead* ("A is the most accurate of k") compares A with every other group, paired; it is
  supported when every paired difference's 95 % interval lies above the threshold (each pair at
  95 %: all must hold) and contradicted when some other group is significantly better, at the
  Bonferroni-corrected level ``1 - 0.05 / (k - 1)``; its headline is the closest rival;
* a *trail* ("A is the lowest") is the same with the signs turned;
* a *difference* of two groups and a *level* of one group against a threshold are decided by
  their interval;
* the *correlation* of accuracy and AUC across settings rows is decided only from
  :data:`MIN_ROWS` rows or more (each row's value the mean over its seeds; Fisher's z interval
  with the rows, less one per extra dataset centred away, as its sample size); with fewer it is
  described, not decided.

An inconclusive judgement says what would decide it (:func:`would_take`). The paper's side reads
its yes or no from its published tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, Optional

import numpy as np
import pandas as pd
from scipy import stats

from specnb.report.attack_rows import ATTACKS
from specnb.report.claim_groups import TABLE_REPR
from specnb.report.report_table import ReportTable
from specnb.report.uncertainty import (
    LEVEL,
    MIN_SEEDS,
    Estimate,
    Group,
    NoSharedCells,
    compare,
    level,
    seeds_needed,
    units_needed,
)

__all__ = [
    "MIN_ROWS",
    "NOT_COMPARABLE",
    "NOT_ENOUGH",
    "Judgement",
    "Test",
    "at_least",
    "correlation",
    "difference",
    "lead",
    "paper_attack_cost",
    "paper_hsv",
    "paper_inverse",
    "paper_lead",
    "paper_mfcc",
    "paper_row",
    "paper_table6",
    "trail",
    "would_take",
]

#: The answer when the results a claim needs are missing.
NOT_ENOUGH = "not enough results"
#: The answer when the results there are cannot answer the claim (the reason is given).
NOT_COMPARABLE = "not comparable"
#: Settings rows a correlation across settings is decided from.
MIN_ROWS = 8


@dataclass(frozen=True)
class Judgement:
    """Our answer to one claim.

    Attributes
    ----------
    ours : str
        ``"supported"``, ``"contradicted"``, ``"inconclusive"``, :data:`NOT_COMPARABLE` or
        :data:`NOT_ENOUGH`.
    value, low, high : float
        The headline statistic and its 95 % interval (NaN when not decided).
    method : str
        What the interval is (``"t over 3 seeds of paired differences"``).
    note : str
        Which pair the headline is (the closest rival), or a descriptive value.
    reason : str
        Why the claim is not comparable (or not decided).
    estimate : Estimate, optional
        The headline estimate (for :func:`would_take`).
    """

    ours: str
    value: float = math.nan
    low: float = math.nan
    high: float = math.nan
    method: str = ""
    note: str = ""
    reason: str = ""
    estimate: Optional[Estimate] = None


Test = Callable[[Mapping[str, Group], float], Judgement]


_BOUNDS = {
    "lower": "; a lower bound: some costs never reached the matched fooling rate and count "
    "as their grid's largest, so it can support the claim, never contradict it",
    "upper": "; an upper bound: some compared costs never reached the matched fooling rate "
    "and count as their grid's largest, so it can contradict the claim, never support it",
}


def _t_method(estimate: Estimate) -> str:
    method = f"t interval over {estimate.n_seeds} seeds of the per-seed paired values"
    return method + _BOUNDS.get(estimate.bound, "")


def _decided(estimate: Estimate, word: str, note: str = "") -> Judgement:
    return Judgement(
        word, estimate.value, estimate.low, estimate.high, _t_method(estimate), note, "", estimate
    )


def _against(
    name: str, groups: Mapping[str, Group], reverse: bool, contrast: str, threshold: float
) -> Judgement:
    if name not in groups:
        return Judgement(NOT_ENOUGH, reason=f"no results of {name}")
    pairs: dict[str, Estimate] = {}
    unshared = []
    for other, group in groups.items():
        if other == name:
            continue
        a, b = (group, groups[name]) if reverse else (groups[name], group)
        try:
            pairs[other] = compare(a, b, contrast)  # type: ignore[arg-type]
        except NoSharedCells:
            unshared.append(other)
    few = {k: e.n_seeds for k, e in pairs.items() if e.n_seeds < MIN_SEEDS}
    if few:
        return Judgement(NOT_ENOUGH, reason=_few_shared(name, few))
    if not pairs:
        return Judgement(
            NOT_COMPARABLE,
            reason=f"{name} shares no dataset and setting with {', '.join(unshared)}",
        )
    return _best_of(pairs, unshared, threshold)


def _best_of(pairs: Mapping[str, Estimate], unshared: list[str], threshold: float) -> Judgement:
    closest = min(pairs, key=lambda k: pairs[k].value)
    headline = pairs[closest]
    corrected = 1.0 - (1.0 - LEVEL) / len(pairs)
    if all(e.decide(threshold) == "supported" for e in pairs.values()):
        word = "supported"
    elif any(e.interval(corrected)[1] < threshold and e.bound != "lower" for e in pairs.values()):
        word = "contradicted"
    else:
        word = "inconclusive"
    note = f"closest: {closest}" if len(pairs) > 1 else ""
    if unshared:
        note += f"{'; ' if note else ''}left out (no shared cell): {', '.join(unshared)}"
    return _decided(headline, word, note)


def _few_shared(name: str, few: Mapping[str, int]) -> str:
    pairs = ", ".join(f"{k}: {n}" for k, n in few.items())
    return (
        f"needs ≥ {MIN_SEEDS} training seeds that {name} shares with each other group "
        f"(on a shared dataset and setting), have {pairs}"
    )


def lead(name: str, relative: bool = False) -> Test:
    """``name`` above every other group (relative: by how many percent)."""
    contrast = "relative" if relative else "difference"
    return lambda groups, threshold: _against(name, groups, False, contrast, threshold)


def trail(name: str) -> Test:
    """``name`` below every other group: each other minus ``name``."""
    return lambda groups, threshold: _against(name, groups, True, "difference", threshold)


def difference(first: str, second: str) -> Test:
    """``first`` minus ``second``, paired."""

    def test(groups: Mapping[str, Group], threshold: float) -> Judgement:
        try:
            estimate = compare(groups[first], groups[second])
        except NoSharedCells as error:
            return Judgement(NOT_COMPARABLE, reason=str(error))
        if estimate.n_seeds < MIN_SEEDS:
            return Judgement(NOT_ENOUGH, reason=_few_shared(first, {second: estimate.n_seeds}))
        return _decided(estimate, estimate.decide(threshold))

    return test


def at_least(name: str) -> Test:
    """``name``'s own level, at least the threshold."""

    def test(groups: Mapping[str, Group], threshold: float) -> Judgement:
        estimate = level(groups[name])
        return _decided(estimate, estimate.decide(threshold))

    return test


def correlation(groups: Mapping[str, Group], threshold: float = 0.0) -> Judgement:
    """Pearson r across rows ``<row> @<dataset>`` of accuracy and AUC, centred per dataset."""
    rows = sorted({k.rpartition(":")[0] for k in groups})
    acc = np.array([groups[f"{r}:acc"].value for r in rows])
    auc = np.array([groups[f"{r}:auc"].value for r in rows])
    datasets = np.array([r.rpartition("@")[2] for r in rows])
    for d in set(datasets):
        acc[datasets == d] -= acc[datasets == d].mean()
        auc[datasets == d] -= auc[datasets == d].mean()
    with np.errstate(invalid="ignore", divide="ignore"):
        r = float((acc * auc).sum() / np.sqrt((acc**2).sum() * (auc**2).sum()))
    n = len(rows) - (len(set(datasets)) - 1)
    if len(rows) < MIN_ROWS or not math.isfinite(r):
        return Judgement(
            NOT_ENOUGH,
            note=f"r = {r:+.2f} across {len(rows)} rows (descriptive)",
            reason=(
                f"a relation across settings is decided from ≥ {MIN_ROWS} settings rows, "
                f"have {len(rows)}: r = {r:+.2f} is descriptive only"
            ),
        )
    z, half = math.atanh(np.clip(r, -0.9999, 0.9999)), stats.norm.ppf(0.5 + LEVEL / 2.0)
    half /= math.sqrt(max(n - 3, 1))
    low, high = math.tanh(z - half), math.tanh(z + half)
    word = "inconclusive"
    if low > threshold or high < threshold:
        word = "supported" if low > threshold else "contradicted"
    method = f"Fisher's z interval over {len(rows)} settings rows (each the mean of its seeds)"
    return Judgement(word, r, low, high, method)


def would_take(
    judgement: Judgement,
    threshold: float,
    most_units: Optional[int] = None,
    fmt: Callable[[float], str] = "{:+.3g}".format,
) -> str:
    """What would decide an inconclusive judgement at the effect observed, from the same
    paired variance: the seeds, and the test clips per seed where the runs are per clip
    (``most_units``: the most the dataset allows; None where unknown); ``fmt`` writes the
    statistic."""
    estimate = judgement.estimate
    if judgement.ours != "inconclusive" or estimate is None:
        return ""
    if estimate.value == threshold:
        return "the observed effect is exactly the threshold: no number of seeds decides it"
    seeds = seeds_needed(estimate, threshold)
    parts = [f"about {seeds} seeds" if seeds else "more than 1000 seeds"]
    cap = most_units if most_units is not None else 10_000
    units = units_needed(estimate, threshold, cap)
    if units is not None:
        parts.append(f"{units} test clips per seed with the {estimate.n_seeds} seeds there are")
    return (
        f"at the observed effect ({fmt(estimate.value)}, per-seed spread "
        f"{fmt(estimate.sd).lstrip('+')}), {' or '.join(parts)} would decide it"
    )


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
