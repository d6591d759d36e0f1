"""The paper's claims checked against our results: what each verdict means.

Every claim is the paper's own (Tables 2–9, §5.5, §5.6), whatever model our runs take as the
victim. Each is decided from a paired comparison of its groups over training seeds, oriented so
that a positive value is what the paper says (:mod:`specnb.report.uncertainty`,
:mod:`specnb.report.claim_answers`):

* **supported**: the 95 % interval lies above the claim's threshold (0 unless stated) — for
  "A is the best of k", above it against every other group;
* **contradicted**: it lies below — for "best of k", another group is significantly ahead
  (Bonferroni-corrected);
* **inconclusive**: it contains the threshold; the verdict says how many seeds (and test clips
  per seed) would decide it at the observed effect (:attr:`Verdict.would_take`);
* :data:`NOT_COMPARABLE`: the results there are cannot answer the claim, with the reason: a
  model at chance, too few transferred examples, a cost whose grid never reaches the matched
  fooling rate, groups that share no dataset and setting;
* :data:`NOT_ENOUGH`: a group has fewer than :data:`~specnb.report.uncertainty.MIN_SEEDS`
  seeds, lacks per-clip results, or a correlation has fewer settings rows than it needs; the
  verdict says what is missing.

A verdict is about our runs: supported means our seeds and clips show the paper's effect beyond
their noise at 95 %, not that the effect is large, nor that it holds for other datasets or
settings than ours; inconclusive is not "no effect". The paper's side answers "yes" or "no":
the same statistic on its published numbers. A claim decided on a synthetic dataset says so:
it proves the pipeline, not the paper.

The study notebooks 04–07 print their verdict lines from :func:`claim_verdicts` too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Optional, Union

from specnb.report.claim_answers import NOT_COMPARABLE, NOT_ENOUGH, Judgement, would_take
from specnb.report.claims import CLAIMS, Claim, ClaimData
from specnb.report.paper import load_paper_results
from specnb.report.report_table import DATASET_LABELS, ReportTable
from specnb.report.results import StoreResults, read_results
from specnb.report.tables import build_tables
from specnb.report.uncertainty import MIN_SEEDS, Group
from specnb.store import ResultsStore

__all__ = [
    "NOT_COMPARABLE",
    "NOT_ENOUGH",
    "SYNTHETIC_NOTE",
    "VERDICTS",
    "Verdict",
    "claim_verdicts",
    "study_verdicts",
]

#: The three decisions.
VERDICTS = ("supported", "contradicted", "inconclusive")
#: Appended to a verdict decided on a synthetic dataset.
SYNTHETIC_NOTE = "synthetic data: this proves the pipeline, not the paper"


@dataclass(frozen=True)
class Verdict:
    """One claim of the paper checked against our results.

    Attributes
    ----------
    key : str
        The claim's key in :data:`~specnb.report.claims.CLAIMS`.
    where : str
        Where the paper makes it (``"Table 6"``, ``"§5.5"``).
    claim : str
        The paper's own claim.
    ours : str
        One of :data:`VERDICTS`, :data:`NOT_COMPARABLE` or :data:`NOT_ENOUGH`.
    estimate : str
        Our statistic with its 95 % interval ("" when not decided).
    over : str
        What the interval is over (each group's value, seeds × units per run, the interval's
        kind), or what is missing.
    rule : str
        How the verdict follows from the interval.
    paper : str
        ``"yes"`` / ``"no"``: the same statistic on the paper's numbers (or how the paper
        states it when it gives no table).
    synthetic : bool
        Decided on a synthetic dataset.
    reason : str
        Why the claim is :data:`NOT_COMPARABLE` (or, for a correlation on too few rows, its
        descriptive value); "" otherwise.
    would_take : str
        For an inconclusive verdict: how many seeds (and test clips per seed) would decide it
        at the observed effect, from the same paired variance; "" otherwise.
    models : str
        The models behind the verdict with their mean test accuracy, those far below the
        literature's level on their dataset called weak
        (:func:`~specnb.report.model_levels.strengths`); "" when not decided.
    value, low, high : float
        The statistic and its 95 % interval as numbers (NaN when not decided).
    """

    key: str
    where: str
    claim: str
    ours: str
    estimate: str
    over: str
    rule: str
    paper: str
    synthetic: bool = False
    reason: str = ""
    would_take: str = ""
    models: str = ""
    value: float = math.nan
    low: float = math.nan
    high: float = math.nan

    @property
    def decided(self) -> bool:
        """True when supported, contradicted or inconclusive."""
        return self.ours in VERDICTS

    def text(self) -> str:
        """One line: the claim, our verdict, the numbers and their interval, the rule."""
        numbers = f" — {self.estimate}" if self.estimate else ""
        note = f" [{SYNTHETIC_NOTE}]" if self.synthetic and self.decided else ""
        why = f" Why: {self.reason}." if self.reason else ""
        more = f" What would decide it: {self.would_take}." if self.would_take else ""
        models = f" Models: {self.models}." if self.models else ""
        return (
            f"{self.where} — the paper: {self.claim}. Ours: {self.ours}{numbers} "
            f"({self.over}){note}.{why}{more}{models} Rule: {self.rule} The paper's answer: "
            f"{self.paper}."
        )


def claim_verdicts(
    results: StoreResults,
    tables: Mapping[int, ReportTable],
    keys: Optional[list[str]] = None,
    victim: str = "resnet18",
) -> list[Verdict]:
    """The verdict of every claim (or of ``keys``), in the paper's order.

    Parameters
    ----------
    results : StoreResults
        From :func:`~specnb.report.results.read_results`.
    tables : mapping of int to ReportTable
        From :func:`~specnb.report.tables.build_tables` (the paper's side is read there).
    keys : list of str, optional
        Only these claims (keys of :data:`~specnb.report.claims.CLAIMS`).
    victim : str
        The model our per-setting tables are about (the paper's ResNet-18); the claims
        about architectures always name the paper's models.

    Examples
    --------
    >>> for verdict in claim_verdicts(results, tables):  # doctest: +SKIP
    ...     print(verdict.text())
    """
    chosen = list(CLAIMS) if keys is None else keys
    unknown = [k for k in chosen if k not in CLAIMS]
    if unknown:
        raise ValueError(f"keys: unknown claim {unknown[0]!r}; known: {sorted(CLAIMS)}")
    data = ClaimData(results, victim)
    return [_verdict(CLAIMS[key], data, tables) for key in chosen]


def study_verdicts(
    store: Union[ResultsStore, str, Path],
    run_keys: Iterable[str],
    keys: list[str],
    victim: str = "resnet18",
) -> list[Verdict]:
    """A study notebook's verdict lines: its runs and their repetitions with other seeds.

    Parameters
    ----------
    store : ResultsStore, str or Path
    run_keys : iterable of str
        The notebook's runs; finished runs of the same dataset, setting and model trained
        with other seeds (e.g. by a sweep sharing the store) count too.
    keys : list of str
        The claims the notebook is about (keys of :data:`~specnb.report.claims.CLAIMS`).
    victim : str
        As for :func:`claim_verdicts`.

    Examples
    --------
    >>> for verdict in study_verdicts(store, run_keys.values(), ["table6_accuracy"]):
    ...     print(verdict.text())  # doctest: +SKIP
    """
    results = read_results(store, run_keys=list(run_keys), any_seed=True)
    tables = build_tables(results, load_paper_results(), victim)
    return claim_verdicts(results, tables, keys, victim)


def _verdict(claim: Claim, data: ClaimData, tables: Mapping[int, ReportTable]) -> Verdict:
    paper = claim.paper(tables) if claim.paper is not None else claim.paper_text
    selection = claim.groups(data)
    groups, missing = selection.groups, selection.missing
    common = dict(
        key=claim.key,
        where=claim.where,
        claim=claim.text,
        rule=claim.rule_text(),
        paper=paper,
        synthetic=selection.synthetic,
    )
    if selection.not_comparable and not missing:
        reason = selection.not_comparable
        return Verdict(
            ours=NOT_COMPARABLE,
            estimate="",
            over=reason,
            reason=reason,
            models=selection.models,
            **common,
        )
    few = {n: g.n_seeds for n, g in groups.items() if g.n_seeds < MIN_SEEDS}
    if missing or few or len(groups) < claim.min_groups:
        needs = missing or (
            f"needs ≥ {MIN_SEEDS} training seeds per group, have "
            + ", ".join(f"{n} {k}" for n, k in few.items())
            if few
            else f"needs {claim.min_groups} groups, have {len(groups)}"
        )
        return Verdict(ours=NOT_ENOUGH, estimate="", over=needs, **common)
    judgement = claim.test(groups, claim.threshold)
    if judgement.ours in (NOT_ENOUGH, NOT_COMPARABLE):
        return Verdict(
            ours=judgement.ours,
            estimate="",
            over=judgement.reason,
            reason=judgement.reason,
            **common,
        )
    text = (
        f"{claim.statistic_name} = {claim.fmt(judgement.value)}, 95 % interval "
        f"[{claim.fmt(judgement.low)}, {claim.fmt(judgement.high)}]"
    )
    return Verdict(
        ours=judgement.ours,
        estimate=text,
        over=_over(claim, groups, judgement),
        would_take=would_take(judgement, claim.threshold, fmt=claim.fmt),
        models=selection.models,
        value=judgement.value,
        low=judgement.low,
        high=judgement.high,
        **common,
    )


def _over(claim: Claim, groups: Mapping[str, Group], judgement: Judgement) -> str:
    """What the interval is over: each group's value, then its seeds and units per run, the
    interval's kind and which pair the headline is.

    The groups of the inverse claims come in pairs, ``<row> @<dataset>:acc`` and ``:auc``;
    each pair is shown as one row with both values. Counts every group shares are said once.
    """
    method = judgement.method + (f"; {judgement.note}" if judgement.note else "")
    parts = {name.rpartition(":")[2] for name in groups}
    if parts != {"acc", "auc"}:
        values = ", ".join(
            f"{n} {claim.fmt_group(g.value)}{_where(n, groups)}" for n, g in groups.items()
        )
        return f"{values}; {claim.unit} per run: {_counts(groups)}; {method}"
    rows = list(dict.fromkeys(name.rpartition(":")[0] for name in groups))
    values = "; ".join(
        f"{_row_label(row)} (accuracy {groups[f'{row}:acc'].value:.1f} %, "
        f"mean AUC {groups[f'{row}:auc'].value:.2f})"
        for row in rows
    )
    counts = {
        quantity: _counts({_row_label(r): groups[f"{r}:{part}"] for r in rows})
        for quantity, part in (("accuracy", "acc"), ("AUC", "auc"))
    }
    return (
        f"{len(rows)} rows: {values}; accuracy {counts['accuracy']}; AUC {counts['AUC']}; {method}"
    )


def _where(name: str, groups: Mapping[str, Group]) -> str:
    """`` on ESC-10, ESC-50``: the datasets of group ``name`` when the groups were not all run on
    the same ones (each group's value is over its own; the comparison over the shared)."""
    datasets = {
        n: sorted({str(c[0]) for c in g.cells if isinstance(c, tuple) and c})
        for n, g in groups.items()
    }
    if len({tuple(d) for d in datasets.values()}) < 2:
        return ""
    return " on " + ", ".join(DATASET_LABELS.get(d, d) for d in datasets[name])


def _row_label(row: str) -> str:
    """``"MFCC 16 kHz @esc10"`` -> ``"MFCC 16 kHz on ESC-10"``."""
    setting, _, dataset = row.rpartition(" @")
    return f"{setting} on {DATASET_LABELS.get(dataset, dataset)}" if setting else row


def _counts(groups: Mapping[str, Group]) -> str:
    """Seeds × units per run of each group, by the name it has in ``groups``; said once when
    every group has the same."""
    counts = {
        name: f"{g.n_seeds} seeds" + (f" × {g.n_units}" if g.n_units > 1 else "")
        for name, g in groups.items()
    }
    if len(set(counts.values())) == 1 and len(groups) > 1:
        return f"{next(iter(counts.values()))} in each"
    return ", ".join(f"{name}: {count}" for name, count in counts.items())
