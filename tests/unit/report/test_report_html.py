"""The report page as a reader sees it: labels, verdict words, notes, figures."""

from __future__ import annotations

import ast
import re
from dataclasses import field, fields, make_dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from specnb.report import NOT_ENOUGH, build_report
from specnb.report import build as build_module
from specnb.report import html as html_module
from specnb.report.claim_answers import Judgement
from specnb.report.claims import CLAIMS
from specnb.report.figures import NO_COST, ONE_POINT, build_figure
from specnb.report.html import (
    PAPER_ANSWER,
    SYNTHETIC_TAG,
    VERDICT_CLASSES,
    display_label,
    table_html,
    verdict_class,
    verdict_html,
)
from specnb.report.uncertainty import Group, Units
from specnb.report.verdicts import SYNTHETIC_NOTE, Verdict, _over
from specnb.store import ResultsStore


@pytest.fixture(scope="module")
def empty_report(tmp_path_factory: pytest.TempPathFactory):
    """The report of an empty store, SB-CNN the victim: the paper's side of every table."""
    path = tmp_path_factory.mktemp("store") / "results.sqlite"
    ResultsStore(path)
    return build_report(path, victim="sbcnn")


def _verdict(word: str, synthetic: bool = True) -> Verdict:
    return Verdict(
        key="k", where="Table 4", claim="a claim", ours=word, estimate="x = 1" * (word != ""),
        over="over", rule="rule", paper="yes", synthetic=synthetic,
    )  # fmt: skip


def test_each_verdict_word_has_its_own_class_and_colour(empty_report) -> None:
    words = ["supported", "contradicted", "inconclusive", NOT_ENOUGH]
    page = replace(empty_report, verdicts=[_verdict(w) for w in words]).to_html()
    shown = re.findall(
        r'<details class="verdict (verdict-[\w-]+)"[^>]*><summary>.*?<span class="word">'
        r"([^<]+)</span>",
        page,
    )
    assert sorted(shown) == sorted((VERDICT_CLASSES[w], w) for w in words)
    colours = {
        cls: re.search(rf"\.{cls} \.word[^{{]*{{ color: (#\w+);", page)[1] for cls, _ in shown
    }
    assert len(set(colours.values())) == 4, colours
    assert verdict_class("not comparable") == VERDICT_CLASSES[NOT_ENOUGH]


def test_one_verdict_is_one_line_with_the_rule_and_counts_behind_a_disclosure() -> None:
    verdict = replace(
        _verdict("supported"),
        estimate="x = 1.0, 95 % interval [0.5, 1.5]",
        over="3 seeds × 40 in each",
        rule="supported when above 0",
    )
    shown = verdict_html(verdict)
    line = re.search(r"<summary>(.*)</summary>", shown)[1]
    for text in ("Table 4", "a claim", "supported", "x = 1.0, 95 % interval [0.5, 1.5]"):
        assert text in line, text
    assert SYNTHETIC_TAG in line
    assert "3 seeds × 40" not in line and "supported when above 0" not in line
    behind = shown[shown.index("</summary>") :]
    assert "<dd>3 seeds × 40 in each</dd>" in behind
    assert "<dd>supported when above 0</dd>" in behind and "<dd>yes</dd>" in behind
    # undecided: the line says what is missing, nothing is marked synthetic
    lacking = verdict_html(replace(verdict, ours=NOT_ENOUGH, estimate="", over="needs 3 seeds"))
    line = re.search(r"<summary>(.*)</summary>", lacking)[1]
    assert "needs 3 seeds" in line and SYNTHETIC_TAG not in line


def test_a_verdict_shows_its_reason_what_would_take_and_any_text_field_added_later() -> None:
    shown = verdict_html(
        replace(_verdict(NOT_ENOUGH), ours="not comparable", would_take="six seeds")
    )
    assert "<dt>would take</dt><dd>six seeds</dd>" in shown
    assert "<dt>reason</dt>" not in shown  # empty: left out
    assert f'class="verdict {VERDICT_CLASSES[NOT_ENOUGH]}"' in shown
    Later = make_dataclass(
        "Later", [("caveat", str, field(default=""))], bases=(Verdict,), frozen=True
    )
    base = _verdict(NOT_ENOUGH)
    later = Later(**{f.name: getattr(base, f.name) for f in fields(Verdict)}, caveat="one fold")
    assert "<dt>caveat</dt><dd>one fold</dd>" in verdict_html(later)


def test_one_synthetic_note_and_the_paper_answer_label(empty_report) -> None:
    verdicts = [_verdict("supported"), _verdict("contradicted"), _verdict(NOT_ENOUGH)]
    page = replace(empty_report, verdicts=verdicts).to_html().replace("&#x27;", "'")
    note = SYNTHETIC_NOTE.removeprefix(f"{SYNTHETIC_TAG}: ")
    assert page.count(f": decided on a synthetic dataset; {note}.</p>") == 1
    assert page.count(f">{SYNTHETIC_TAG}</span>") == 3  # the note's own mark and two verdicts
    assert page.count(f"<dt>{PAPER_ANSWER}</dt>") == 3
    assert SYNTHETIC_NOTE in _verdict("supported").text()
    assert "2 of 3 claims decided (1 supported, 1 contradicted); 1 not enough results" in page
    decided = page.index("contradicted</span>")
    assert decided < page.index("Not decided by this store (1)") < page.index(NOT_ENOUGH + "<")


def test_models_and_representations_by_their_labels(empty_report) -> None:
    page = empty_report.to_html()
    table6 = page[page.index('id="table-6"') : page.index('id="table-7"')]
    table8 = page[page.index('id="table-8"') : page.index('id="table-9"')]
    for table, raw, label in (
        (table6, "resnet34", "ResNet-34"),
        (table6, "sbcnn", "SB-CNN"),
        (table8, "wavelet", "DWT"),
        (table8, "mel", "Mel"),
    ):
        assert f">{label}</th>" in table and f">{raw}</th>" not in table
    assert ">MFCC: ResNet-18</th>" in page and ">mfcc:resnet18</th>" not in page
    assert display_label("stft:googlenet") == "STFT: GoogLeNet"
    assert display_label("haar") == "haar"
    # the frames keep the store's keys
    assert ("all", "sbcnn") in empty_report.tables[6].frame.index


def test_table6_names_the_model_of_each_side(empty_report) -> None:
    table = empty_report.tables[6]
    frame = table.frame.copy()
    frame.loc[("all", "googlenet"), ("accuracy_diff", "ours")] = -2.0
    page = table_html(replace(table, frame=frame), "sbcnn")
    assert page.startswith('<section id="table-6">')
    assert ">ours, vs SB-CNN</th>" in page and ">paper, vs ResNet-18</th>" in page
    assert "our numbers are relative to SB-CNN, the paper's to ResNet-18" in page.replace(
        "&#x27;", "'"
    )


def test_a_table_without_numbers_of_ours_is_one_line(empty_report) -> None:
    page = empty_report.to_html()
    for number in range(2, 10):
        folded = re.search(
            rf'<details class="folded" id="table-{number}"><summary>(.*?)</summary>', page
        )
        assert folded, f"Table {number} is not folded"
        assert f"Table {number}</b>: " in folded[1] and "no number of ours: it needs " in folded[1]
        assert "<table" not in folded[1] and "\n" not in folded[1]
    assert "it needs finished MFCC runs of SB-CNN with a standard colour map" in page
    assert "it needs transfer results between two models" in page
    assert "Tables with numbers of ours: none; none yet: 2, 3, 4, 5, 6, 7, 8, 9." in page


def test_targeted_table_shows_missing_as_missing(empty_report) -> None:
    hits = pd.DataFrame(
        {
            "dataset": ["esc10"] * 3,
            "repr": ["mfcc"] * 3,
            "model": ["sbcnn"] * 3,
            "attack": ["cw", "cw", "fgsm"],
            "auc": [0.5, 0.7, np.nan],
            "target_auc": [0.25, 0.35, 0.0],
        }
    )
    page = replace(empty_report, target_hits=hits).to_html()
    section = page[page.index('id="target-hits"') : page.index("<h2>Figures")]
    rows = re.findall(r"<tr>(.*?)</tr>", section, re.S)[1:]
    cells = [re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in rows]
    # one line per dataset, representation, model and attack: the mean over its runs
    assert cells == [
        ["ESC-10", "MFCC", "SB-CNN", "cw", "2", "0.600", "0.300"],
        ["ESC-10", "MFCC", "SB-CNN", "fgsm", "1", "—", "0.000"],
    ]
    assert "nan" not in section.lower()
    empty = empty_report.to_html()
    assert '<p class="folded" id="target-hits">' in empty


def test_attack_tables_show_auc_with_three_decimals(empty_report) -> None:
    page = empty_report.to_html()
    table2 = page[page.index('id="table-2"') : page.index('id="table-3"')]
    assert ">0.982<" in table2 and "0.9822" not in table2  # the paper's MFCC 8 kHz FGSM AUC
    assert ">73.23<" in table2


def test_pooled_inverse_over_reads_as_rows() -> None:
    rng = np.random.default_rng(0)

    def group(name: str, p: float, n: int) -> Group:
        return Group(name, {(s, "esc10"): [Units(rng.random(n) < p)] for s in range(3)})

    groups = {}
    for row, acc, auc in (("MFCC 16 kHz @esc10", 0.7, 0.3), ("STFT n_fft 512 @esc10", 0.3, 0.2)):
        groups[f"{row}:acc"] = group(f"{row}:acc", acc, 40)
        groups[f"{row}:auc"] = group(f"{row}:auc", auc, 20)
    judgement = Judgement("inconclusive", method="the method")
    over = _over(CLAIMS["pooled_inverse"], groups, judgement)
    assert over.startswith("2 rows: MFCC 16 kHz on ESC-10 (accuracy ")
    assert "STFT n_fft 512 on ESC-10 (accuracy " in over and "mean AUC 0." in over
    assert over.endswith("accuracy 3 seeds × 40 in each; AUC 3 seeds × 20 in each; the method")
    assert "@" not in over and ":acc" not in over

    groups["STFT n_fft 512 @esc10:auc"] = group("STFT n_fft 512 @esc10:auc", 0.2, 12)
    uneven = _over(CLAIMS["pooled_inverse"], groups, judgement)
    assert uneven.endswith(
        "AUC MFCC 16 kHz on ESC-10: 3 seeds × 20, STFT n_fft 512 on ESC-10: 3 seeds × 12; "
        "the method"
    )
    assert "@" not in uneven and ":auc" not in uneven


def test_figure_without_attack_cost_draws_one_panel_and_says_why(empty_report) -> None:
    runs = pd.DataFrame(
        {
            "model": ["sbcnn"] * 2,
            "repr": ["mfcc"] * 2,
            "standard": [True] * 2,
            "dataset": ["esc10"] * 2,
            "n_mfcc": [20, 40],
            "accuracy": [60.0, 70.0],
            "cost": [np.nan, np.nan],
        }
    )
    results = replace(empty_report.results, runs=runs)
    figure = build_figure(1, results, victim="sbcnn")
    assert len(figure.figure.axes) == 1 and figure.note == NO_COST
    assert figure.figure._suptitle is None and not figure.figure.axes[0].get_title()
    costly = build_figure(1, replace(results, runs=runs.assign(cost=[30.0, 40.0])), "sbcnn")
    assert len(costly.figure.axes) == 2 and costly.note == ""
    page = replace(empty_report, figures=[figure]).to_html()
    assert "<h3>Figure 1: MFCC n_mfcc vs accuracy and attack cost \u2014 SB-CNN</h3>" in page
    assert f'<p class="missing">{NO_COST}</p>' in page


def test_single_points_are_not_drawn_and_say_what_a_curve_needs(empty_report) -> None:
    def runs(datasets: list[str], n_mfcc: list[int]) -> pd.DataFrame:
        n = len(datasets)
        return pd.DataFrame(
            {
                "model": ["sbcnn"] * n,
                "repr": ["mfcc"] * n,
                "standard": [True] * n,
                "dataset": datasets,
                "n_mfcc": n_mfcc,
                "sr": [16000] * n,
                "dct_norm": ["ortho"] * n,
                "accuracy": [60.0 + i for i in range(n)],
                "cost": [30.0] * n,
            }
        )

    one = replace(empty_report.results, runs=runs(["esc10", "esc10", "esc50"], [40, 40, 20]))
    figure = build_figure(1, one, victim="sbcnn")
    assert figure.figure is None and figure.missing and figure.png() is None
    assert figure.note == (
        f"{ONE_POINT}: n_mfcc = 40 on ESC-10 from 2 runs; n_mfcc = 20 on ESC-50 from 1 run; "
        "a curve needs MFCC runs of SB-CNN at two or more n_mfcc on one dataset"
    )
    page = replace(empty_report, figures=[figure]).to_html()
    line = re.search(r'<p class="folded" id="figure-1">(.*?)</p>', page)[1]
    assert "Figure 1: MFCC n_mfcc" in line and "a curve needs" in line
    assert "<img" not in page
    two = replace(empty_report.results, runs=runs(["esc10", "esc10", "esc50"], [40, 20, 20]))
    drawn = build_figure(1, two, victim="sbcnn")
    assert drawn.figure is not None and not drawn.missing
    nothing = build_figure(4, one, victim="sbcnn")
    assert nothing.note.startswith("missing: ") and "a curve needs STFT runs" in nothing.note


def test_page_is_written(empty_report, tmp_path: Path) -> None:
    page = empty_report.write_html(tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.count("<table") == 8  # the paper's side of Tables 2-9, each folded
    # every table, the targeted attacks and every figure: one line each
    assert page.count('class="folded"') == 8 + 1 + 6


def test_the_page_does_not_import_the_report() -> None:
    """One direction only: build imports html, html knows nothing of build."""
    tree = ast.parse(Path(html_module.__file__).read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert "specnb.report.html" in {
        n.module
        for n in ast.walk(ast.parse(Path(build_module.__file__).read_text(encoding="utf-8")))
        if isinstance(n, ast.ImportFrom)
    }
    assert not any(name.startswith("specnb.report.build") for name in imported), imported
