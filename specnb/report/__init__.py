"""The report: the paper's Tables 2–9 and Figures 1–6 rebuilt from the results store.

:func:`build_report` reads a results store, builds every table with the paper's published
numbers beside ours (:mod:`~specnb.report.tables`), a verdict with its paired 95 % interval
per claim of the paper (:mod:`~specnb.report.verdicts`) and the figures
(:mod:`~specnb.report.figures`), and :meth:`Report.write_html` exports it as one HTML page.
The paper's numbers come from the packaged data file read by :func:`load_paper_results`.

Examples
--------
>>> from specnb.report import build_report
>>> report = build_report("runs/sweeps/quick/results.sqlite")  # doctest: +SKIP
>>> report.tables[3].side("paper").loc[("esc10", "1024"), "accuracy"]  # doctest: +SKIP
85.17

Modules
-------
- ``attack_rows`` -- The store's attack and transfer rows, read into the report's frames.
- ``build`` -- The whole report: tables, verdicts and figures from one results store.
- ``claim_answers`` -- Each claim's two answers: our decision from paired per-seed estimates, and
  the paper's own.
- ``claim_groups`` -- The groups a claim compares: our results cut into per-seed, per-cell groups,
  selected per claim.
- ``claims`` -- The paper's claims: which of our runs each compares, its test and the paper's
  answer.
- ``figures`` -- The paper's Figures 1–6 drawn from our results.
- ``html`` -- The report as one standalone HTML page: verdicts, tables, figures embedded as images.
- ``paper`` -- The paper's published numbers (Tables 2–9), read from the package's data file.
- ``report_table`` -- One report table, ours beside the paper's: its two sides, and how it is shown
  (display names of datasets, models and attacks, number formats, column labels).
- ``results`` -- Our results, read from the results store into tidy frames for the report.
- ``tables`` -- The paper's Tables 2–9 rebuilt from our results, with the paper's numbers beside
  ours.
- ``uncertainty`` -- How sure a comparison is: paired per-seed differences and their t interval
  over seeds.
- ``verdicts`` -- The paper's claims checked against our results: what each verdict means.
"""

from specnb.report.attack_rows import ATTACKS, GALLERY_KEY
from specnb.report.build import Report, build_report
from specnb.report.claims import CLAIMS
from specnb.report.figures import ReportFigure, build_figure, build_figures, figure_data
from specnb.report.paper import load_paper_results, paper_csv_path
from specnb.report.report_table import ReportTable
from specnb.report.results import HSV_COLORMAP, StoreResults, read_results
from specnb.report.tables import build_table, build_tables
from specnb.report.verdicts import (
    NOT_COMPARABLE,
    NOT_ENOUGH,
    VERDICTS,
    Verdict,
    claim_verdicts,
    study_verdicts,
)

__all__ = [
    "ATTACKS",
    "CLAIMS",
    "GALLERY_KEY",
    "HSV_COLORMAP",
    "NOT_COMPARABLE",
    "NOT_ENOUGH",
    "Report",
    "ReportFigure",
    "ReportTable",
    "StoreResults",
    "VERDICTS",
    "Verdict",
    "build_figure",
    "build_figures",
    "build_report",
    "build_table",
    "build_tables",
    "claim_verdicts",
    "figure_data",
    "load_paper_results",
    "paper_csv_path",
    "read_results",
    "study_verdicts",
]
