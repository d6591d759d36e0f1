"""The whole report: tables, verdicts and figures from one results store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Union

import pandas as pd

from specnb.report.figures import ReportFigure, build_figures
from specnb.report.html import report_html
from specnb.report.paper import load_paper_results
from specnb.report.report_table import ReportTable
from specnb.report.results import StoreResults, read_results, target_hits
from specnb.report.tables import build_tables
from specnb.report.verdicts import Verdict, claim_verdicts
from specnb.store import ResultsStore

__all__ = ["Report", "build_report"]


@dataclass(frozen=True, eq=False)
class Report:
    """The paper's Tables 2–9 and Figures 1–6 from our results, with verdicts.

    Attributes
    ----------
    results : StoreResults
        What was read from the store.
    tables : dict of int to ReportTable
        Tables 2 to 9, ours beside the paper's.
    verdicts : list of Verdict
        One per claim of the paper (:data:`~specnb.report.claims.CLAIMS`).
    figures : list of ReportFigure
        Figures 1 to 6.
    victim : str
        The model of the per-setting tables and figures.
    target_hits : pd.DataFrame
        Targeted attacks: misclassification AUC (the tables' number) beside the target-hit
        AUC, per run and attack (:func:`~specnb.report.results.target_hits`).
    """

    results: StoreResults
    tables: dict[int, ReportTable]
    verdicts: list[Verdict]
    figures: list[ReportFigure]
    victim: str
    target_hits: pd.DataFrame

    def to_html(self) -> str:
        """The report as one standalone HTML page (figures embedded)."""
        return report_html(
            results=self.results,
            tables=self.tables,
            verdicts=self.verdicts,
            figures=self.figures,
            victim=self.victim,
            target_hits=self.target_hits,
        )

    def write_html(self, path: Union[str, Path]) -> Path:
        """Write :meth:`to_html` to ``path`` (folders created) and return the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_html(), encoding="utf-8")
        return path


def build_report(
    store: Union[ResultsStore, str, Path],
    victim: str = "resnet18",
    paper: Union[pd.DataFrame, str, Path, None] = None,
) -> Report:
    """Read a results store and build every table, verdict and figure.

    Parameters
    ----------
    store : ResultsStore, str or Path
        The store, its file, or the run folder holding ``results.sqlite``.
    victim : str
        The model of Tables 2–5, 7, 8 and Figures 1–5, and the reference of Table 6.
    paper : DataFrame, str, Path or None
        The paper's numbers (a frame from :func:`load_paper_results` or a data file); None:
        the packaged file.

    Returns
    -------
    Report

    Raises
    ------
    FileNotFoundError
        No store (or paper data file) at the given path.

    Examples
    --------
    >>> report = build_report("runs/sweeps/quick/results.sqlite")  # doctest: +SKIP
    >>> print("\\n".join(v.text() for v in report.verdicts))  # doctest: +SKIP
    >>> report.write_html("runs/08_report/report.html")  # doctest: +SKIP
    """
    numbers = paper if isinstance(paper, pd.DataFrame) else load_paper_results(paper)
    results = read_results(store)
    tables = build_tables(results, numbers, victim)
    return Report(
        results=results,
        tables=tables,
        verdicts=claim_verdicts(results, tables, victim=victim),
        figures=build_figures(results, victim),
        victim=victim,
        target_hits=target_hits(results),
    )
