"""The report as one standalone HTML page: verdicts, tables, figures embedded as images."""

from __future__ import annotations

import base64
import html
from dataclasses import replace
from typing import TYPE_CHECKING

from specnb.report.claim_groups import REPR_LABELS
from specnb.report.figures import VICTIM_FIGURES
from specnb.report.report_table import MODEL_LABELS, ReportTable
from specnb.report.verdicts import NOT_ENOUGH, SYNTHETIC_NOTE, VERDICTS

if TYPE_CHECKING:
    from specnb.report.build import Report

__all__ = [
    "AUC_DIGITS",
    "IMAGE_TYPES",
    "PAPER_ANSWER",
    "PAPER_VICTIM",
    "VERDICT_CLASSES",
    "display_label",
    "report_html",
    "table_html",
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
#: CSS class of each verdict word (each its own colour).
VERDICT_CLASSES = {
    **{word: f"verdict-{word}" for word in VERDICTS},
    NOT_ENOUGH: "verdict-not-enough",
}
#: Decimals of an AUC in Tables 2-4 and 7 (a few dozen clips per run: the fourth is noise).
AUC_DIGITS = 3
#: Header of the verdict table's last column: the paper's own answer to its claim.
PAPER_ANSWER = "the paper's answer (from its own numbers)"

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; max-width: 100em; }
table { border-collapse: collapse; font-size: 0.8em; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.15em 0.25em; text-align: right; }
thead th { white-space: normal; }
thead th.col_heading.level1 { font-weight: normal; font-size: 0.9em; }
caption { font-weight: bold; text-align: left; padding: 0.3em 0; }
.missing { color: #a33; font-style: italic; }
.verdicts { font-size: 0.85em; }
.verdicts td, .verdicts th { text-align: left; vertical-align: top; padding: 0.3em; }
.verdict-supported strong { color: #1a7f37; }
.verdict-contradicted strong { color: #b42318; }
.verdict-inconclusive strong { color: #9a6700; }
.verdict-not-enough strong { color: #6e7781; font-weight: normal; }
img { max-width: 100%; }
section { overflow-x: auto; }
tbody th.row_heading.level0 { position: sticky; left: 0; background: #fff; }
"""


def _verdict_table(report: "Report") -> str:
    """One row per claim: where, the paper's claim, our verdict, numbers and interval, rule."""
    head = (
        "<tr><th>where</th><th>the paper's claim</th><th>ours</th>"
        "<th>our numbers, 95 % interval, over what</th><th>rule</th>"
        f"<th>{_text(PAPER_ANSWER)}</th></tr>"
    )
    rows = []
    for v in report.verdicts:
        note = f"<br><em>{_text(SYNTHETIC_NOTE)}</em>" if (v.synthetic and v.decided) else ""
        numbers = f"{_text(v.estimate)}<br>" if v.estimate else ""
        rows.append(
            f'<tr class="{VERDICT_CLASSES[v.ours]}"><td>{_text(v.where)}</td>'
            f"<td>{_text(v.claim)}</td><td><strong>{_text(v.ours)}</strong>{note}</td>"
            f"<td>{numbers}<small>{_text(v.over)}</small></td><td><small>{_text(v.rule)}"
            f"</small></td><td>{_text(v.paper)}</td></tr>"
        )
    return f'<table class="verdicts">{head}{"".join(rows)}</table>'


def display_label(name: str) -> str:
    """A model's or representation's label (``"sbcnn"`` -> ``"SB-CNN"``, ``"wavelet"`` ->
    ``"DWT"``; ``"mfcc:resnet18"`` -> ``"MFCC: ResNet-18"``); other names as they are."""
    if ":" in name:
        first, _, second = name.partition(":")
        return f"{display_label(first)}: {display_label(second)}"
    return MODEL_LABELS.get(name, REPR_LABELS.get(name, name))


def table_html(table: ReportTable, victim: str) -> str:
    """One table as HTML, models and representations by their labels.

    The frame keeps the store's keys; only what is shown changes: labels, AUC to
    :data:`AUC_DIGITS` decimals. Table 6 says which model each side is relative to: ours
    ``victim``, the paper's :data:`PAPER_VICTIM`.
    """
    frame = table.frame
    if table.number in (6, 8, 9) and len(frame.index):
        frame = frame.copy()
        frame.index = frame.index.set_levels(
            [display_label(str(r)) for r in frame.index.levels[1]], level=1
        )
    row_name = "representation: source" if table.number == 9 else table.row_name
    styled = replace(table, frame=frame, row_name=row_name).styled()
    auc = [
        shown
        for shown, (quantity, _) in zip(styled.data.columns, table.frame.columns)
        if quantity.endswith("_auc")
    ]
    styled = styled.format(f"{{:.{AUC_DIGITS}f}}", subset=auc, na_rep="\u2014")
    if table.number != 6:
        return styled.to_html()
    ours, paper = (MODEL_LABELS.get(m, m) for m in (victim, PAPER_VICTIM))
    sides = {"ours": f"ours, vs {ours}", "paper": f"paper, vs {paper}"}
    styled = styled.format_index(lambda side: _text(sides.get(side, side)), axis=1, level=1)
    return (
        f'<p class="relative">Table 6 compares each model with a reference model: our '
        f"numbers are relative to {_text(ours)}, the paper's to {_text(paper)}.</p>"
        + styled.to_html()
    )


def report_html(report: "Report") -> str:
    """Render a :class:`~specnb.report.build.Report` as a standalone HTML page.

    The page holds a summary of the store, the verdicts as a list, every table (ours beside
    the paper's, "—" for a missing cell) and every figure as an embedded image, or the word
    "missing" with the reason.
    """
    results = report.results
    victim = MODEL_LABELS.get(report.victim, report.victim)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>specnb report</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>specnb report: the paper's tables and figures from our results</h1>",
        f"<p>Results store <code>{_text(results.store_path)}</code>: "
        f"{len(results.runs)} finished runs, {len(results.transfers)} transfer results. "
        f"Victim model: {_text(victim)}. Our numbers are beside the paper's; "
        "\u2014 marks a cell without a number.</p>",
        "<h2>Verdicts</h2>",
        _verdict_table(report),
        "<h2>Tables</h2>",
    ]
    for number, table in report.tables.items():
        parts.append(f'<section id="table-{number}">')
        parts.append(table_html(table, report.victim))
        parts.append("</section>")
    parts.append('<h3 id="target-hits">Targeted attacks: misclassification and target hits</h3>')
    if report.target_hits.empty:
        parts.append('<p class="missing">no targeted attack with target hits in the store</p>')
    else:
        hits = report.target_hits.copy()
        for column in ("repr", "model"):
            hits[column] = hits[column].map(lambda name: display_label(str(name)))
        parts.append(hits.to_html(index=False, float_format="{:.4f}".format))
    parts.append("<h2>Figures</h2>")
    for figure in report.figures:
        parts.append(f'<section id="figure-{figure.number}">')
        model = f" \u2014 {victim}" if figure.number in VICTIM_FIGURES else ""
        parts.append(f"<h3>Figure {figure.number}: {_text(figure.title)}{_text(model)}</h3>")
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
    parts.append("</body></html>")
    return "\n".join(parts)


def _img(kind: str, data: bytes, alt: str) -> str:
    encoded = base64.b64encode(data).decode("ascii")
    return f'<img alt="{_text(alt)}" src="data:{kind};base64,{encoded}">'


def _text(value: object) -> str:
    return html.escape(str(value))
