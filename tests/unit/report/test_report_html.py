"""The report page as a reader sees it: labels, verdict words, notes, figures."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from specnb.report import NOT_ENOUGH, build_report
from specnb.report.claim_answers import Judgement
from specnb.report.claims import CLAIMS
from specnb.report.figures import NO_COST, build_figure
from specnb.report.html import PAPER_ANSWER, VERDICT_CLASSES, display_label
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
    shown = re.findall(r'<tr class="(verdict-[\w-]+)"><td>[^<]*</td><td>[^<]*</td><td><strong>'
                       r"([^<]+)</strong>", page)  # fmt: skip
    assert shown == [(VERDICT_CLASSES[w], w) for w in words]
    colours = {cls: re.search(rf"\.{cls} strong {{ color: (#\w+);", page)[1] for cls, _ in shown}
    assert len(set(colours.values())) == 4, colours


def test_one_synthetic_note_and_the_paper_answer_header(empty_report) -> None:
    page = replace(empty_report, verdicts=[_verdict("supported")]).to_html()
    assert f"<em>{SYNTHETIC_NOTE}</em>" in page.replace("&#x27;", "'")
    assert page.count("proves the pipeline") == 1
    assert SYNTHETIC_NOTE in _verdict("supported").text()
    assert f"<th>{PAPER_ANSWER}</th>".replace("'", "&#x27;") in page
    assert "paper&#x27;s numbers</th>" not in page


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
    page = empty_report.to_html()
    table6 = page[page.index('id="table-6"') : page.index('id="table-7"')]
    assert "ours, vs SB-CNN" in table6 and "paper, vs ResNet-18" in table6
    assert "our numbers are relative to SB-CNN, the paper's to ResNet-18" in table6


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


def test_page_is_written(empty_report, tmp_path: Path) -> None:
    path = empty_report.write_html(tmp_path / "report.html")
    assert path.read_text(encoding="utf-8").count("<table") == 9
