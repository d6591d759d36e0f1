"""The report: the paper's numbers, tables from a crafted store, verdicts, figures, notebook 08."""

from __future__ import annotations

import base64
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from specnb.report import (
    ATTACKS,
    NOT_ENOUGH,
    build_figure,
    build_report,
    build_tables,
    figure_data,
    load_paper_results,
    read_results,
)
from specnb.store import ResultsStore

PAPER_TXT = Path(__file__).resolve().parents[4] / "shared" / "paper.txt"
SYNTH = "synthetic-s0-n8"
PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


# --------------------------------------------------------------------------- a crafted store
@pytest.fixture()
def filled(new_store) -> tuple[Path, Any, dict[str, str]]:
    """A small store like a small sweep leaves: every table and figure has some cells."""
    f = new_store()
    keys: dict[str, str] = {}
    # Table 2 / Figures 1-3: MFCC (accuracy and AUC rise together: an inverse relation).
    for sr, acc in ((8000, 0.80), (16000, 0.75), (22050, 0.70)):
        keys[f"mfcc{sr}"] = f.summary_run(
            "esc10", "resnet18", acc, auc=acc + 0.1, repr="mfcc", sr=sr
        )
    f.summary_run(
        "esc10",
        "resnet18",
        0.60,
        auc=0.70,
        cost=20.0,
        repr="mfcc",
        sr=22050,
        n_mfcc=13,
        lifter=13.0,
    )
    f.summary_run("esc10", "resnet18", 0.70, auc=0.80, repr="mfcc", sr=16000, dct_norm="none")
    f.summary_run(SYNTH, "resnet18", 0.55, repr="mfcc", sr=16000)
    # Table 3 / Figure 4: STFT, 1024 most accurate.
    for n_fft, acc in ((512, 0.82), (1024, 0.86), (2048, 0.80)):
        keys[f"stft{n_fft}"] = f.summary_run(
            "esc10", "resnet18", acc, auc=acc + 0.05, grads=200.0, repr="stft", n_fft=n_fft
        )
    f.summary_run("esc10", "resnet18", 0.84, auc=0.89, repr="stft", n_fft=1024, win_length=512)
    # Table 7: Mel.
    for n_fft, acc in ((512, 0.81), (1024, 0.84), (2048, 0.77)):
        f.summary_run("esc10", "resnet18", acc, auc=acc + 0.1, repr="mel", n_fft=n_fft)
    # Tables 4, 5 / Figure 5: scalograms, complex Morlet most accurate.
    keys["cmor8000"] = f.summary_run("esc10", "resnet18", 0.90, auc=0.95, repr="wavelet", sr=8000)
    f.summary_run("esc10", "resnet18", 0.88, auc=0.93, repr="wavelet", sr=16000)
    f.summary_run("esc10", "resnet18", 0.80, auc=0.92, repr="wavelet", sr=8000, frame_ms=30.0)
    keys["haar"] = f.summary_run(
        "esc10", "resnet18", 0.85, auc=0.90, repr="wavelet", wavelet="haar"
    )
    f.summary_run("esc10", "resnet18", 0.84, auc=0.91, repr="wavelet", wavelet="mexh")
    # Table 8: uniform HSV lowers accuracy.
    keys["hsv"] = f.summary_run(
        "esc10", "resnet18", 0.60, auc=0.70, repr="mfcc", sr=8000, colormap="hsv-uniform"
    )
    # Tables 6 and 9: other models on the same settings; ResNet-18 costliest to attack.
    for name, setting in (
        ("mfcc", {"repr": "mfcc", "sr": 8000}),
        ("stft", {"repr": "stft", "n_fft": 1024}),
        ("wavelet", {"repr": "wavelet", "sr": 8000}),
    ):
        keys[f"{name}:googlenet"] = f.summary_run(
            "esc10", "googlenet", 0.78, auc=0.85, grads=50.0, n_params=1500, **setting
        )
        keys[f"{name}:alexnet"] = f.summary_run(
            "esc10", "alexnet", 0.70, auc=0.80, grads=40.0, n_params=600, **setting
        )
    resnet = {"mfcc": keys["mfcc8000"], "stft": keys["stft1024"], "wavelet": keys["cmor8000"]}
    for name, ratio in (("mfcc", 0.3), ("stft", 0.6), ("wavelet", 0.7)):
        f.transfer(resnet[name], keys[f"{name}:googlenet"], ratio=ratio)
        f.transfer(resnet[name], keys[f"{name}:googlenet"], ratio=ratio + 0.1, attack="cw")
        f.transfer(keys[f"{name}:alexnet"], resnet[name], ratio=ratio)
    return f.path, f, keys


class Tables:
    """Tables without the figures (faster than a whole report)."""

    def __init__(self, path: Path) -> None:
        self.tables = build_tables(read_results(path), load_paper_results())


def _cell(report, number: int, dataset: str, row: str, quantity: str, source: str) -> float:
    return float(report.tables[number].frame.loc[(dataset, row), (quantity, source)])


# --------------------------------------------------------------------------- paper numbers
def test_paper_file_holds_every_number_of_tables_2_to_9() -> None:
    paper = load_paper_results()
    counts = paper.groupby("table").size().to_dict()
    # 6 attacks x (AUC, gradients) + accuracy per row; rows: 12, 9, 6, 9 (Tables 2, 3, 4, 7)
    assert counts == {2: 156, 3: 117, 4: 78, 5: 18, 6: 24, 7: 117, 8: 24, 9: 81}
    assert not paper.duplicated(["table", "dataset", "row", "column"]).any()
    one = paper.set_index(["table", "dataset", "row", "column"])["value"]
    assert one[(2, "esc10", "8000", "deepfool_grads")] == 74  # printed "0.9473,074"
    assert one[(2, "esc50", "22050", "accuracy")] == 69.97  # the "ESC-30" row
    assert one[(4, "urbansound8k", "8000", "accuracy")] == 94.70
    assert one[(5, "esc50", "cmor", "auc")] == 95.38
    assert one[(6, "all", "sbcnn", "params_ratio")] == -14.14
    assert one[(8, "urbansound8k", "wavelet", "auc")] == 0.8805
    assert one[(9, "esc10", "mfcc:resnet18", "resnet18")] == 1.0


def _paper_lines() -> list[str]:
    if not PAPER_TXT.is_file():
        pytest.skip(f"paper text not found at {PAPER_TXT}")
    return PAPER_TXT.read_text(encoding="utf-8").splitlines()


def test_table3_row_matches_the_paper_text() -> None:
    lines = _paper_lines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Dataset\tof FFTs"))
    row = next(line for line in lines[start:] if line.startswith("ESC-50\t1 024"))
    numbers = [float(x) for x in re.findall(r"\d+\.\d+|\d+", row.replace("1 024", "1024"))]
    # ESC-50, 1024, accuracy, then (AUC, gradients) for six attacks
    assert numbers[0] == 50 and numbers[1] == 1024 and len(numbers) == 15
    paper = load_paper_results().query("table == 3 and dataset == 'esc50' and row == '1024'")
    got = paper.set_index("column")["value"]
    assert got["accuracy"] == numbers[2]
    for i, attack in enumerate(ATTACKS):
        assert got[f"{attack}_auc"] == numbers[3 + 2 * i]
        assert got[f"{attack}_grads"] == numbers[4 + 2 * i]


def test_table9_row_matches_the_paper_text() -> None:
    lines = _paper_lines()
    start = next(i for i, line in enumerate(lines) if "ResNet-18\tGoogLeNet\tAlexNet" in line)
    rows = [line.split("\t") for line in lines[start : start + 12]]
    googlenet = [cells for cells in rows if cells[1:2] == ["GoogLeNet"]][1]
    values = [float(x) for x in googlenet[-9:]]  # ESC-50, crafted on GoogLeNet
    paper = load_paper_results().query("table == 9 and dataset == 'esc50'")
    ours = [
        paper.query(f"row == '{r}:googlenet' and column == '{t}'")["value"].item()
        for r in ("mfcc", "stft", "wavelet")
        for t in ("resnet18", "googlenet", "alexnet")
    ]
    assert ours == values


def test_bad_paper_file_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "paper.csv"
    bad.write_text("table,dataset,row,column,value,unit\n2,esc10,8000,accuracy,7x,percent\n")
    with pytest.raises(ValueError, match=r"paper\.csv, line 2: value '7x'"):
        load_paper_results(bad)
    bad.write_text("table,dataset,row,value,unit\n")
    with pytest.raises(ValueError, match="missing column 'column'"):
        load_paper_results(bad)
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        load_paper_results(tmp_path / "nope.csv")


def test_missing_store_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no results store at .*absent"):
        build_report(tmp_path / "absent")
    assert not (tmp_path / "absent").exists()


# --------------------------------------------------------------------------- tables
def test_tables_put_ours_beside_the_papers_and_leave_missing_cells_missing(filled) -> None:
    path, _, _ = filled
    report = Tables(path)
    t2 = report.tables[2]
    assert [c for c in t2.frame.columns[:2]] == [("accuracy", "ours"), ("accuracy", "paper")]
    assert _cell(report, 2, "esc10", "8000", "accuracy", "ours") == pytest.approx(80.0)
    assert _cell(report, 2, "esc10", "8000", "accuracy", "paper") == 73.23
    # gradients: the mean over the budgets ([50, 150] -> 100), averaged over runs
    assert _cell(report, 2, "esc10", "8000", "fgsm_grads", "ours") == pytest.approx(100.0)
    assert _cell(report, 2, "esc10", "8000", "bim_b_auc", "ours") == pytest.approx(0.90)
    # 16 kHz: two runs (ortho and no DCT normalisation) averaged
    assert _cell(report, 2, "esc10", "16000", "accuracy", "ours") == pytest.approx(72.5)
    assert math.isnan(_cell(report, 2, "esc10", "24000", "accuracy", "ours"))
    assert _cell(report, 2, "esc10", "24000", "accuracy", "paper") == 70.13
    assert math.isnan(_cell(report, 2, "esc50", "8000", "cw_auc", "ours"))
    assert _cell(report, 2, SYNTH, "16000", "accuracy", "ours") == pytest.approx(55.0)
    assert math.isnan(_cell(report, 2, SYNTH, "16000", "accuracy", "paper"))
    # Table 3 averages the window lengths of n_fft 1024; Table 4 keeps complex Morlet only
    assert _cell(report, 3, "esc10", "1024", "accuracy", "ours") == pytest.approx(85.0)
    assert _cell(report, 4, "esc10", "8000", "accuracy", "ours") == pytest.approx(85.0)
    assert _cell(report, 5, "esc10", "haar", "auc", "ours") == pytest.approx(90.0)
    assert _cell(report, 5, "esc10", "haar", "auc", "paper") == 95.14
    # Table 6: GoogLeNet against ResNet-18 on the same three settings
    assert _cell(report, 6, "all", "googlenet", "accuracy_diff", "ours") == pytest.approx(
        np.mean([78 - 80, 78 - 86, 78 - 90])
    )
    assert _cell(report, 6, "all", "googlenet", "params_ratio", "ours") == pytest.approx(50.0)
    assert _cell(report, 6, "all", "alexnet", "grads_ratio", "ours") == pytest.approx(
        100 * np.mean([40 / 100 - 1, 40 / 200 - 1, 40 / 100 - 1])
    )
    assert math.isnan(_cell(report, 6, "all", "lstm", "grads_ratio", "ours"))
    # Table 8: HSV beside the standard colour maps' mean of Table 2's rows
    assert _cell(report, 8, "esc10", "mfcc", "accuracy", "ours") == pytest.approx(60.0)
    assert _cell(report, 8, "esc10", "mfcc", "accuracy_standard", "ours") == pytest.approx(
        np.mean([80.0, 72.5, 65.0])
    )
    # Table 9: averaged over attacks; the diagonal has no result of ours
    assert _cell(report, 9, "esc10", "mfcc:resnet18", "googlenet", "ours") == pytest.approx(0.35)
    assert _cell(report, 9, "esc10", "stft:alexnet", "resnet18", "ours") == pytest.approx(0.6)
    assert math.isnan(_cell(report, 9, "esc10", "mfcc:resnet18", "resnet18", "ours"))
    # shown: each row key's lines, ours right below the paper's line of the same dataset,
    # and the synthetic set's line of 16 kHz after the paper's lines of 16 kHz
    lines = list(report.tables[2].shown().index)
    assert lines[:4] == [
        ("8000", "esc10", "paper"),
        ("8000", "esc10", "ours"),
        ("8000", "esc50", "paper"),
        ("8000", "urbansound8k", "paper"),
    ]
    at = lines.index(("16000", "urbansound8k", "paper"))
    assert lines[at + 1] == ("16000", SYNTH, "ours")
    assert ("24000", "esc10", "ours") not in lines  # no line without a number
    html = report.tables[2].styled().to_html()
    assert "73.23" in html and "80.00" in html
    html = report.tables[8].styled().to_html()
    assert "—" in html  # our HSV line has no standard-map accuracy of ESC-10's paper rows


def test_only_finished_rows_count(filled) -> None:
    path, f, keys = filled
    f.store.upsert_run(keys["mfcc8000"], status="failed")
    report = Tables(path)
    assert math.isnan(_cell(report, 2, "esc10", "8000", "accuracy", "ours"))
    results = read_results(path)
    assert keys["mfcc8000"] not in set(results.runs["run_key"])


def test_targeted_attacks_show_target_hits_beside_misclassification(filled) -> None:
    """Tables use the misclassification AUC; the target-hit AUC stands beside it."""
    path, f, keys = filled
    f.attack(
        keys["mfcc8000"],
        "cw",
        targeted=True,
        target_rates_json=[0.25, 0.5],
        target_auc=0.375,
    )
    report = build_report(path)
    assert _cell(report, 2, "esc10", "8000", "cw_auc", "ours") == pytest.approx(0.90)
    hits = report.target_hits
    assert hits[["dataset", "model", "attack"]].values.tolist() == [["esc10", "resnet18", "cw"]]
    assert hits.loc[0, "auc"] == pytest.approx(0.90)
    assert hits.loc[0, "target_auc"] == pytest.approx(0.375)
    runs = report.results.runs.set_index("run_key")
    assert math.isnan(runs.loc[keys["mfcc16000"], "cw_target_auc"])
    assert runs.loc[keys["mfcc8000"], "cw_auc"] == pytest.approx(0.90)
    html = report.to_html()
    assert 'id="target-hits"' in html and ">0.375<" in html


# --------------------------------------------------------------------------- verdicts
def test_verdicts_say_when_results_are_missing(tmp_path: Path) -> None:
    ResultsStore(tmp_path / "empty.sqlite")
    report = build_report(tmp_path / "empty.sqlite")
    assert {v.ours for v in report.verdicts} == {NOT_ENOUGH}
    assert all(t.side("ours").isna().all().all() for t in report.tables.values())
    assert all(f.missing and f.note.startswith("missing") for f in report.figures)


# --------------------------------------------------------------------------- figures, HTML
def test_figures_plot_the_setting_grids(filled) -> None:
    path, f, keys = filled
    results = read_results(path)
    fig1 = figure_data(1, results).set_index("x")
    assert fig1.loc[13.0, "accuracy"] == pytest.approx(60.0)
    assert fig1.loc[13.0, "cost"] == pytest.approx(20.0)
    fig2 = figure_data(2, results)  # orthonormal DCT only: the 16 kHz point is one run
    assert fig2.set_index("x").loc[16.0].query("dataset == 'esc10'")["runs"].item() == 1
    fig3 = figure_data(3, results).query("dataset == 'esc10'").set_index("x")
    assert fig3.loc[1.0, "accuracy"] == pytest.approx(60.0)
    fig4 = figure_data(4, results).set_index("x")
    assert fig4.loc[0.5, "accuracy"] == pytest.approx(84.0)
    assert sorted(figure_data(5, results)["x"]) == [30.0, 50.0]
    report = build_report(path)
    assert [fig.number for fig in report.figures] == [1, 2, 3, 4, 5, 6]
    assert report.figures[0].png().startswith(b"\x89PNG")
    assert report.figures[5].note == "missing: no attack in the store names a gallery image"


def test_gallery_is_shown_when_its_image_exists(filled) -> None:
    path, f, keys = filled
    f.summary_attack(
        keys["mfcc8000"],
        "fgsm",
        auc=0.9,
        grads=1.0,
        cost=1.0,
        artefacts={"gallery": "attack_run/gallery.png"},
    )
    image = path.parent / "attack_run" / "gallery.png"
    gallery = build_figure(6, read_results(path))
    assert gallery.missing and gallery.note == f"missing: gallery image {image} not found"
    image.parent.mkdir()
    image.write_bytes(PNG_1PX)
    report = build_report(path)
    assert report.figures[5].images == (image,)
    assert report.figures[5].data["repr"].tolist() == ["mfcc"]
    assert "data:image/png;base64," + base64.b64encode(PNG_1PX).decode() in report.to_html()


def test_report_notebook_renders_and_exports_html(filled, tmp_path: Path) -> None:
    from specnb.sweep.papermill_exec import run_notebook

    path, _, _ = filled
    out = tmp_path / "report_run"
    executed = run_notebook("report", out, {"STORE": str(path), "HTML": True}, timeout=120)
    assert executed.is_file()
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count("<table") == 8  # Tables 2-9
    # one training seed and no per-clip results: every verdict says what is missing
    assert "adversarial examples transfer least on MFCC" in html
    assert "needs ≥ 3 training seeds" in html or "lack per-sample results" in html
    assert "85.17" in html  # a paper number beside ours
    assert "missing: no attack in the store names a gallery image" in html


def _store_with(new_store, folder: Path, dataset: str) -> Any:
    """A store in ``folder`` holding one STFT run of ResNet-18 on ``dataset``."""
    b = new_store(folder)
    b.run(
        "resnet18",
        {"repr": "stft", "n_fft": 1024},
        dataset=dataset,
        acc_mean=0.8,
        acc_std=0.01,
        n_params=10,
    )
    return b


def test_report_tables_escape_both_axes(new_store, tmp_path) -> None:
    _store_with(new_store, tmp_path, "<img src=x onerror=alert(1)>")
    pages = [
        t.styled().to_html()
        for t in build_tables(read_results(tmp_path), load_paper_results()).values()
    ]
    assert sum("&lt;img src=x onerror=alert(1)&gt;" in page for page in pages) >= 1
    assert not any("<img" in page for page in pages)


def test_report_embeds_only_images_under_the_stores_folder(new_store, tmp_path) -> None:
    outside = tmp_path / "elsewhere" / "secret.png"
    outside.parent.mkdir()
    outside.write_bytes(b"\x89PNG not really")
    b = _store_with(new_store, tmp_path / "run", "esc10")
    key = b.store.runs_df()["run_key"].iloc[0]
    for name, path in (("fgsm", str(outside)), ("bim", "../elsewhere/secret.png")):
        b.attack(
            key,
            name,
            auc=0.5,
            budgets_json=[0.1],
            fooling_rates_json=[0.5],
            grads_per_sample_json=[1.0],
            cost_to_fr90=1.0,
            artefacts_json={"gallery": path},
        )
        gallery = build_figure(6, read_results(tmp_path / "run"))
        assert gallery.images == ()
        assert "outside" in gallery.note and "secret.png" in gallery.note
