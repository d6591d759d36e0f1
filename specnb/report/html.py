"""The report as one standalone HTML page: verdicts, tables, figures embedded as images."""

from __future__ import annotations

import base64
import html
from typing import TYPE_CHECKING

from specnb.report.tables import MODEL_LABELS

if TYPE_CHECKING:
    from specnb.report.build import Report

__all__ = ["IMAGE_TYPES", "report_html"]

#: Image files the gallery may embed, by suffix.
IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".svg": "image/svg+xml",
}

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; max-width: 100em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: right; }
caption { font-weight: bold; text-align: left; padding: 0.3em 0; }
.missing { color: #a33; font-style: italic; }
.verdicts td, .verdicts th { text-align: left; vertical-align: top; padding: 0.3em; }
.verdict-supported strong { color: #1a7f37; } .verdict-contradicted strong { color: #b42318; }
img { max-width: 100%; }
section { overflow-x: auto; }
"""


def _verdict_table(report: "Report") -> str:
    """One row per claim: where, the paper's claim, our verdict, numbers and interval, rule."""
    head = (
        "<tr><th>where</th><th>the paper's claim</th><th>ours</th>"
        "<th>our numbers, 95 % interval, over what</th><th>rule</th>"
        "<th>paper's numbers</th></tr>"
    )
    rows = []
    for v in report.verdicts:
        note = (
            "<br><em>synthetic data: proves the pipeline, not the paper</em>"
            if (v.synthetic and v.decided)
            else ""
        )
        numbers = f"{_text(v.estimate)}<br>" if v.estimate else ""
        rows.append(
            f'<tr class="verdict-{_text(v.ours.split()[0])}"><td>{_text(v.where)}</td>'
            f"<td>{_text(v.claim)}</td><td><strong>{_text(v.ours)}</strong>{note}</td>"
            f"<td>{numbers}<small>{_text(v.over)}</small></td><td><small>{_text(v.rule)}"
            f"</small></td><td>{_text(v.paper)}</td></tr>"
        )
    return f'<table class="verdicts">{head}{"".join(rows)}</table>'


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
        parts.append(table.styled().to_html())
        parts.append("</section>")
    parts.append('<h3 id="target-hits">Targeted attacks: misclassification and target hits</h3>')
    if report.target_hits.empty:
        parts.append('<p class="missing">no targeted attack with target hits in the store</p>')
    else:
        parts.append(report.target_hits.to_html(index=False, float_format="{:.4f}".format))
    parts.append("<h2>Figures</h2>")
    for figure in report.figures:
        parts.append(f'<section id="figure-{figure.number}">')
        parts.append(f"<h3>Figure {figure.number}: {_text(figure.title)}</h3>")
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
