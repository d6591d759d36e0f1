"""The report as one standalone HTML page: verdicts, tables, figures embedded as images.

The page is read top down: what the store holds and how much of the paper it answers; one
line per verdict (where, the paper's claim, ours, our statistic and its interval), each with
a disclosure holding what the interval is over, the rule and the paper's own answer; the
tables, our lines beside the paper's; the figures. A table or figure the store cannot fill
is one line saying what it would need (a table's line opens on the paper's numbers).

This module knows nothing of :class:`~specnb.report.build.Report`: it is handed the parts.
"""

from __future__ import annotations

import base64
import html
from dataclasses import fields, replace
from typing import Iterable, Mapping, Sequence

import pandas as pd

from specnb.report.figures import VICTIM_FIGURES, ReportFigure
from specnb.report.report_table import (
    AUC_DIGITS,
    DATASET_LABELS,
    MODEL_LABELS,
    REPR_LABELS,
    ReportTable,
)
from specnb.report.results import StoreResults
from specnb.report.tables import TABLE_NEEDS
from specnb.report.verdicts import NOT_ENOUGH, SYNTHETIC_NOTE, VERDICTS, Verdict

__all__ = [
    "IMAGE_TYPES",
    "PAPER_ANSWER",
    "PAPER_VICTIM",
    "SYNTHETIC_TAG",
    "VERDICT_CLASSES",
    "display_label",
    "report_html",
    "table_html",
    "verdict_class",
    "verdict_html",
]

#: Image files the gallery may embed, by suffix.
IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".svg": "image/svg+xml",
}
#: The model the paper's Table 6 compares every other model with.
PAPER_VICTIM = "resnet18"
#: CSS class of each verdict word (each its own colour); any other word (a claim that is
#: not decided, e.g. "not comparable") is styled as :data:`NOT_ENOUGH` is.
VERDICT_CLASSES = {
    **{word: f"verdict-{word}" for word in VERDICTS},
    NOT_ENOUGH: "verdict-not-enough",
}
#: Label of the paper's own answer in a verdict's disclosure.
PAPER_ANSWER = "the paper's answer (from its own numbers)"
#: The mark of a verdict decided on a synthetic dataset (:data:`SYNTHETIC_NOTE` says once
#: what it means).
SYNTHETIC_TAG = "synthetic data"

# Verdict fields the line or the disclosure shows by name; any other non-empty text field
# is shown in the disclosure under its own name.
_NAMED_FIELDS = {"key", "where", "claim", "ours", "estimate", "over", "rule", "paper", "synthetic"}

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; max-width: 100em; line-height: 1.35; }
table { border-collapse: collapse; font-size: 0.8em; margin: 0.5em 0 1em; }
th, td { border: 1px solid #ccc; padding: 0.15em 0.35em; text-align: right; }
thead th { white-space: normal; }
caption { font-weight: bold; text-align: left; padding: 0.3em 0; }
.missing { color: #a33; font-style: italic; }
.glance { margin: 0.5em 0 1em; padding-left: 1.2em; }
.folded { margin: 0.3em 0; color: #444; }
.folded summary { cursor: pointer; }
details.verdict { border-bottom: 1px solid #e3e3e3; font-size: 0.9em; }
details.verdict > summary { display: grid; cursor: pointer; list-style: none;
  grid-template-columns: 1em 7em minmax(0, 3fr) 10em minmax(0, 3fr); gap: 0.6em;
  padding: 0.25em 0; }
details.verdict > summary::-webkit-details-marker { display: none; }
details.verdict > summary::before { content: "\\25B8"; color: #888; }
details.verdict[open] > summary::before { content: "\\25BE"; }
details.verdict dl { margin: 0.2em 0 0.6em 8.2em; font-size: 0.95em; }
details.verdict dt { font-weight: bold; color: #555; }
details.verdict dd { margin: 0 0 0.3em 1em; }
.tag { font-size: 0.8em; color: #6e7781; border: 1px solid #d0d7de; border-radius: 0.6em;
  padding: 0 0.4em; margin-left: 0.4em; white-space: nowrap; }
.verdict-supported .word { color: #1a7f37; font-weight: bold; }
.verdict-contradicted .word { color: #b42318; font-weight: bold; }
.verdict-inconclusive .word { color: #9a6700; font-weight: bold; }
.verdict-not-enough .word, .lacking { color: #6e7781; }
tbody th { white-space: nowrap; }
img { max-width: 100%; }
section { overflow-x: auto; }
"""


def verdict_class(word: str) -> str:
    """CSS class of a verdict word (an undecided word other than :data:`NOT_ENOUGH`, such
    as "not comparable", is styled as "not enough results")."""
    return VERDICT_CLASSES.get(word, VERDICT_CLASSES[NOT_ENOUGH])


def verdict_html(verdict: Verdict) -> str:
    """One verdict: a line (where, the paper's claim, ours, our statistic and interval, or
    what is missing when undecided) that opens on what the interval is over, the rule, the
    paper's answer and every other non-empty text field of
    :class:`~specnb.report.verdicts.Verdict` (a field added later shows up by its name)."""
    tag = (
        f' <span class="tag" title="{_text(SYNTHETIC_NOTE)}">{SYNTHETIC_TAG}</span>'
        if verdict.synthetic and verdict.decided
        else ""
    )
    numbers = (
        f'<span class="estimate">{_text(verdict.estimate)}{tag}</span>'
        if verdict.decided
        else f'<span class="estimate lacking">{_text(verdict.over)}</span>'
    )
    line = (
        f'<span class="where">{_text(verdict.where)}</span>'
        f'<span class="claim">{_text(verdict.claim)}</span>'
        f'<span class="word">{_text(verdict.ours)}</span>{numbers}'
    )
    details = [
        ("our numbers", verdict.over if verdict.decided else ""),
        ("rule", verdict.rule),
        (PAPER_ANSWER, verdict.paper),
    ]
    for field in fields(verdict):
        value = getattr(verdict, field.name)
        if field.name not in _NAMED_FIELDS and isinstance(value, str) and value.strip():
            details.append((field.name.replace("_", " "), value))
    body = "".join(f"<dt>{_text(k)}</dt><dd>{_text(v)}</dd>" for k, v in details if v)
    return (
        f'<details class="verdict {verdict_class(verdict.ours)}" id="claim-{_text(verdict.key)}">'
        f"<summary>{line}</summary><dl>{body}</dl></details>"
    )


def _verdicts_html(verdicts: Sequence[Verdict]) -> list[str]:
    """Decided verdicts first, then the others, each group in the paper's order."""
    decided = [v for v in verdicts if v.decided]
    others = [v for v in verdicts if not v.decided]
    parts = [
        "<h2>Verdicts</h2>",
        f"<p>{_verdict_counts(verdicts)}. Each line: where the paper says it, its claim, our "
        "verdict, our statistic and its 95 % interval (or what is missing); open it for the "
        "counts behind the interval, the rule and the paper's own answer.</p>",
    ]
    if any(v.synthetic and v.decided for v in verdicts):
        note = SYNTHETIC_NOTE.removeprefix(f"{SYNTHETIC_TAG}: ")
        parts.append(
            f'<p>Marked <span class="tag">{SYNTHETIC_TAG}</span>: decided on a synthetic '
            f"dataset; {_text(note)}.</p>"
        )
    parts.extend(verdict_html(v) for v in decided)
    if others:
        parts.append(f"<h3>Not decided by this store ({len(others)})</h3>")
        parts.extend(verdict_html(v) for v in others)
    return parts


def _verdict_counts(verdicts: Sequence[Verdict]) -> str:
    words = [v.ours for v in verdicts]
    decided = [w for w in words if w in VERDICTS]
    counts = ", ".join(f"{decided.count(w)} {w}" for w in VERDICTS if w in decided)
    undecided = {w: words.count(w) for w in dict.fromkeys(words) if w not in VERDICTS}
    text = f"{len(decided)} of {len(words)} claims decided" + (f" ({counts})" if counts else "")
    if undecided:
        text += "; " + ", ".join(f"{n} {w}" for w, n in undecided.items())
    return text


def display_label(name: str) -> str:
    """A model's or representation's label (``"sbcnn"`` -> ``"SB-CNN"``, ``"wavelet"`` ->
    ``"DWT"``; ``"mfcc:resnet18"`` -> ``"MFCC: ResNet-18"``); other names as they are."""
    if ":" in name:
        first, _, second = name.partition(":")
        return f"{display_label(first)}: {display_label(second)}"
    return MODEL_LABELS.get(name, REPR_LABELS.get(name, name))


def table_html(table: ReportTable, victim: str) -> str:
    """One table as HTML: our lines beside the paper's (:meth:`ReportTable.shown`), models
    and representations by their labels; a table with no number of ours is one line saying
    what it needs, opening on the paper's numbers.

    Table 6 says which model each side is relative to: ours ``victim``, the paper's
    :data:`PAPER_VICTIM`.
    """
    frame = table.frame
    if table.number in (6, 8, 9) and len(frame.index):
        frame = frame.copy()
        frame.index = frame.index.set_levels(
            [display_label(str(r)) for r in frame.index.levels[1]], level=1
        )
    row_name = "representation: source" if table.number == 9 else table.row_name
    styled = replace(table, frame=frame, row_name=row_name).styled()
    relative = ""
    if table.number == 6:
        ours, paper = (MODEL_LABELS.get(m, m) for m in (victim, PAPER_VICTIM))
        sides = {"ours": f"ours, vs {ours}", "paper": f"paper, vs {paper}"}
        styled = styled.format_index(lambda side: _text(sides.get(side, side)), axis=0, level=2)
        relative = (
            f'<p class="relative">Table 6 compares each model with a reference model: our '
            f"numbers are relative to {_text(ours)}, the paper's to {_text(paper)}.</p>"
        )
    anchor = f'id="table-{table.number}"'
    if table.has_ours:
        return f"<section {anchor}>{relative}{styled.to_html()}</section>"
    needs = TABLE_NEEDS[table.number].format(victim=MODEL_LABELS.get(victim, victim))
    return (
        f'<details class="folded" {anchor}><summary><b>Table {table.number}</b>: '
        f"{_text(table.title)} \u2014 no number of ours: it needs {_text(needs)} "
        f"(open for the paper's numbers)</summary>{relative}{styled.to_html()}</details>"
    )


def _target_hits_html(hits: pd.DataFrame) -> list[str]:
    """Targeted attacks, per dataset, representation, model and attack: the mean over runs
    of the misclassification AUC beside the target-hit AUC; "—" where there is no number."""
    title = "Targeted attacks: misclassification and target hits"
    if hits.empty:
        return [
            f'<p class="folded" id="target-hits"><b>{title}</b> \u2014 no targeted attack '
            "with target hits in the store</p>"
        ]
    keys = ["dataset", "repr", "model", "attack"]
    shown = hits.groupby(keys, sort=False).agg(
        runs=("target_auc", "size"), auc=("auc", "mean"), target_auc=("target_auc", "mean")
    )
    shown = shown.reset_index()
    shown["dataset"] = shown["dataset"].map(lambda d: DATASET_LABELS.get(str(d), str(d)))
    for column in ("repr", "model"):
        shown[column] = shown[column].map(lambda name: display_label(str(name)))
    shown = shown.rename(
        columns={"repr": "representation", "auc": "AUC", "target_auc": "target-hit AUC"}
    )
    styled = (
        shown.style.format(
            f"{{:.{AUC_DIGITS}f}}", subset=["AUC", "target-hit AUC"], na_rep="\u2014"
        )
        .format(escape="html", subset=["dataset", "representation", "model", "attack"])
        .hide(axis="index")
    )
    return [
        f'<section id="target-hits"><h3>{title}</h3>',
        "<p>The tables' AUC is misclassification, for targeted attacks too; beside it the AUC "
        "of the share classified as its target. Each the mean over the runs; \u2014: not "
        "measured (a row stored before misclassification was kept apart); 0.000: a "
        "measurement, none of the attacked clips at any budget.</p>",
        styled.to_html(),
        "</section>",
    ]


def _figure_html(figure: ReportFigure, victim: str) -> list[str]:
    model = f" \u2014 {victim}" if figure.number in VICTIM_FIGURES else ""
    heading = f"Figure {figure.number}: {_text(figure.title)}{_text(model)}"
    if figure.missing:
        return [
            f'<p class="folded" id="figure-{figure.number}"><b>{heading}</b> \u2014 '
            f"{_text(figure.note)}</p>"
        ]
    parts = [f'<section id="figure-{figure.number}">', f"<h3>{heading}</h3>"]
    png = figure.png()
    if png is not None:
        parts.append(_img("image/png", png, f"Figure {figure.number}"))
    for path in figure.images:
        kind = IMAGE_TYPES.get(path.suffix.lower())
        if kind is None:
            parts.append(f'<p class="missing">missing: {_text(path)} is not an image</p>')
            continue
        parts.append(f"<p>{_text(path.name)}</p>")
        parts.append(_img(kind, path.read_bytes(), path.name))
    if figure.note:
        parts.append(f'<p class="missing">{_text(figure.note)}</p>')
    parts.append("</section>")
    return parts


def _glance(
    results: StoreResults,
    tables: Mapping[int, ReportTable],
    figures: Sequence[ReportFigure],
    victim: str,
) -> list[str]:
    """What the store holds and how much of the paper it answers, in three lines."""
    runs = results.runs
    held = "; ".join(
        f"{name}: {', '.join(values)}"
        for name, values in (
            ("datasets", _names(runs, "dataset", DATASET_LABELS.get)),
            ("models", _names(runs, "model", display_label)),
            ("representations", _names(runs, "repr", display_label)),
        )
        if values
    )
    filled = [n for n, t in tables.items() if t.has_ours]
    empty = [n for n, t in tables.items() if not t.has_ours]
    drawn = [f.number for f in figures if not f.missing]
    undrawn = [f.number for f in figures if f.missing]
    return [
        f"<p>Results store <code>{_text(results.store_path)}</code>: {len(runs)} finished runs"
        + (f" ({_text(held)})" if held else "")
        + f", {len(results.transfers)} transfer results. Victim model: {_text(victim)}.</p>",
        '<ul class="glance">',
        f"<li>Tables with numbers of ours: {_numbers(filled)}; none yet: {_numbers(empty)}.</li>",
        f"<li>Figures drawn: {_numbers(drawn)}; not drawn: {_numbers(undrawn)}.</li>",
        "</ul>",
    ]


def _names(runs: pd.DataFrame, column: str, label) -> list[str]:
    if runs.empty or column not in runs.columns:
        return []
    return [str(label(str(v)) or v) for v in sorted(set(runs[column].astype(str)))]


def _numbers(numbers: Iterable[int]) -> str:
    return ", ".join(str(n) for n in numbers) or "none"


def report_html(
    *,
    results: StoreResults,
    tables: Mapping[int, ReportTable],
    verdicts: Sequence[Verdict],
    figures: Sequence[ReportFigure],
    victim: str,
    target_hits: pd.DataFrame,
) -> str:
    """The report as a standalone HTML page.

    Parameters
    ----------
    results : StoreResults
        What was read from the store.
    tables : mapping of int to ReportTable
        Tables 2 to 9.
    verdicts : sequence of Verdict
        One per claim.
    figures : sequence of ReportFigure
        Figures 1 to 6.
    victim : str
        The model of the per-setting tables and figures (store key).
    target_hits : pd.DataFrame
        From :func:`~specnb.report.results.target_hits`.

    Returns
    -------
    str
        The page: a summary of the store, the verdicts, every table (ours beside the
        paper's, "—" for a missing cell), the targeted attacks' target hits and every
        figure as an embedded image; what the store cannot fill as one line each.
    """
    shown_victim = MODEL_LABELS.get(victim, victim)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>specnb report</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>specnb report: the paper's tables and figures from our results</h1>",
        *_glance(results, tables, figures, shown_victim),
        *_verdicts_html(verdicts),
        "<h2>Tables</h2>",
        "<p>Each row key holds the paper's lines and, right below, ours (shaded); \u2014 marks "
        "a cell without a number.</p>",
        *(table_html(table, victim) for table in tables.values()),
        *_target_hits_html(target_hits),
        "<h2>Figures</h2>",
    ]
    for figure in figures:
        parts.extend(_figure_html(figure, shown_victim))
    parts.append("</body></html>")
    return "\n".join(parts)


def _img(kind: str, data: bytes, alt: str) -> str:
    encoded = base64.b64encode(data).decode("ascii")
    return f'<img alt="{_text(alt)}" src="data:{kind};base64,{encoded}">'


def _text(value: object) -> str:
    return html.escape(str(value))
