"""Findings on real data: the accuracy and verdict tables written into README.md from a store,
and README's published table checked against the committed study."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from store_builder import StoreBuilder

from specnb.cli import main
from specnb.errors import ParameterError
from specnb.report import build_report
from specnb.report.findings import (
    FINDINGS_END,
    FINDINGS_START,
    findings_markdown,
    protocol_table,
    publish_findings,
    rendering_table,
    replace_findings,
)

REPO = Path(__file__).resolve().parents[3]
SETTINGS = {"stft": {"repr": "stft", "sr": 16000}, "mfcc": {"repr": "mfcc", "sr": 16000}}


def _rotating_study(path: Path, settings: dict = SETTINGS) -> dict[tuple[str, str], list[float]]:
    """Two models × the representations × three seeds, each seed five runs that test one
    fold of 8 clips each (every clip once); returns the accuracy per seed of each pair."""
    builder = StoreBuilder(path)
    rng = np.random.default_rng(3)
    truth: dict[tuple[str, str], list[float]] = {}
    for model, base in (("resnet18", 0.8), ("sbcnn", 0.6)):
        for name, setting in settings.items():
            p = base - (0.3 if name == "mfcc" else 0.0)
            for seed in range(3):
                hits = []
                for fold in range(1, 6):
                    correct = (rng.random(8) < p).astype(int)
                    hits.append(correct)
                    builder.scored_run(
                        model,
                        setting,
                        [correct],
                        seed=seed,
                        clip_ids=[f"{fold}-{i}" for i in range(8)],
                        protocol={"official_test_fold": fold},
                        artefacts={"job": {"config": {"official_test_fold": fold}}},
                    )
                truth.setdefault((model, name), []).append(100 * float(np.mean(hits)))
    return truth


def test_findings_go_between_the_markers_and_say_what_the_store_holds(tmp_path: Path) -> None:
    truth = _rotating_study(tmp_path / "results.sqlite")
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nBefore.\n\n{FINDINGS_START}\nold\n{FINDINGS_END}\n\nAfter.\n")
    publish_findings(tmp_path / "results.sqlite", tmp_path / "published", readme)
    text = readme.read_text()
    assert text.startswith("# Title\n\nBefore.\n\n") and text.endswith("\n\nAfter.\n")
    assert "old" not in text
    block = text.split(FINDINGS_START)[1].split(FINDINGS_END)[0]
    assert block.strip() == (tmp_path / "published" / "findings.md").read_text().strip()
    assert (tmp_path / "published" / "report.html").stat().st_size > 1000
    rows = {line.split("|")[1].strip(): line for line in block.splitlines() if "ResNet" in line}
    for (model, _), per_seed in truth.items():
        if model == "resnet18":
            assert f"{np.mean(per_seed):.1f} %" in rows["ResNet-18"]
    # every clip once per seed: 40 clips, the five runs of a seed pooled
    assert "3 seeds × 40 clips" in rows["ResNet-18"]
    verdicts = [line for line in block.splitlines() if "STFT" in line and "MFCC" in line]
    assert any("supported" in line and "3 seeds × 40" in line for line in verdicts), verdicts
    # a second rendering of the same store, from the command line, changes nothing
    args = ["findings", str(tmp_path / "results.sqlite"), "--readme", str(readme)]
    assert main([*args, "--out", str(tmp_path / "published")]) == 0
    assert readme.read_text() == text
    assert main(["findings", str(tmp_path / "nowhere.sqlite")]) != 0


def test_mfcc_scaled_per_coefficient_is_reported_beside_the_papers_rendering(tmp_path):
    scaled = {"repr": "mfcc", "sr": 16000, "per_coefficient": True}
    _rotating_study(tmp_path / "results.sqlite", {**SETTINGS, "mfcc_rows": scaled})
    report = build_report(tmp_path / "results.sqlite")
    assert not report.results.runs["per_coefficient"].any()
    assert len(report.results.other_renderings) == 2 * 3 * 5
    text = findings_markdown(report)
    header = next(line for line in text.splitlines() if line.startswith("| Model"))
    assert "MFCC per coefficient (ESC-10)" in header and "| MFCC (ESC-10)" in header
    # the paper's claims see the paper's rendering only: the same verdict as without them
    alone = tmp_path / "alone"
    alone.mkdir()
    _rotating_study(alone / "results.sqlite")
    line = [v.text() for v in report.verdicts if v.key == "stft_over_mfcc"]
    assert line == [
        v.text()
        for v in build_report(alone / "results.sqlite").verdicts
        if v.key == "stft_over_mfcc"
    ]


@pytest.mark.parametrize("seeds", [1, 3])
def test_per_coefficient_images_are_compared_clip_by_clip_with_the_same_models(tmp_path, seeds):
    # per coefficient, 10 of each seed's 40 clips go from wrong to right, nothing else changes:
    # +25 points, paired clip by clip (an unpaired view would add the clips' own spread)
    builder = StoreBuilder(tmp_path / "results.sqlite")
    rng = np.random.default_rng(7)
    scaled = {**SETTINGS["mfcc"], "per_coefficient": True}
    for seed in range(seeds):
        correct = np.r_[np.zeros(20), np.ones(20)].astype(int)[rng.permutation(40)]
        better = correct.copy()
        better[np.flatnonzero(correct == 0)[rng.permutation(20)[:10]]] = 1
        for fold in range(1, 6):
            part = slice(8 * (fold - 1), 8 * fold)
            ids = [f"{fold}-{i}" for i in range(8)]
            for setting, hits in ((SETTINGS["mfcc"], correct), (scaled, better)):
                builder.scored_run(
                    "resnet18",
                    setting,
                    [hits[part]],
                    seed=seed,
                    clip_ids=ids,
                    protocol={"official_test_fold": fold},
                    artefacts={"job": {"config": {"official_test_fold": fold}}},
                )
        # the standard model of another test fold set is not paired with anything
        builder.scored_run("resnet18", SETTINGS["stft"], [correct[:8]], seed=seed)
    report = build_report(tmp_path / "results.sqlite")
    table = rendering_table(report.results).splitlines()
    assert len(table) == 3, table
    accuracy = findings_markdown(report).split("**Verdicts**")[0]
    assert accuracy.count(f"({seeds} seed{'s' if seeds > 1 else ''} × 40 clips)") == 2, accuracy
    cells = [c.strip() for c in table[2].split("|")[1:-1]]
    assert cells[:4] == ["ResNet-18", "ESC-10", "50.0 %", "75.0 %"]
    value, low, high = (
        float(x) for x in cells[4].replace("[", "").replace(",", "").replace("]", "").split()
    )
    assert value == 25.0
    if seeds == 1:
        assert 0 < low < value < high
        assert cells[5] == "1 seed (over its test clips: training noise not included) × 40 clips"
        assert high - low == pytest.approx(2 * 2.0227 * 43.85 / np.sqrt(40), abs=0.2)
    else:  # every seed gives +25: no spread over seeds
        assert cells[5] == "3 seeds × 40 clips" and low == high == 25.0


def test_the_two_protocols_are_set_side_by_side_with_their_interval_widths(tmp_path):
    _rotating_study(tmp_path / "results.sqlite")
    builder = StoreBuilder(tmp_path / "results.sqlite")
    rng = np.random.default_rng(5)
    for name, setting in SETTINGS.items():  # the paper's protocol: 5 fold models, 12 clips
        for seed in range(3):
            correct = (rng.random((5, 12)) < (0.3 if name == "mfcc" else 0.6)).astype(int)
            ids = [f"s{seed}-{i}" for i in range(12)]
            builder.scored_run("sbcnn", setting, correct, seed=seed, clip_ids=ids)
    results = build_report(tmp_path / "results.sqlite").results
    table = protocol_table(results, "sbcnn").splitlines()
    assert len(table) == 4 and "STFT − MFCC" in table[0]
    rotating, paper = table[2], table[3]
    assert rotating.startswith("| every clip once") and "3 seeds × 40 clips" in rotating
    assert paper.startswith("| 30 % test split") and "3 seeds × 12 clips" in paper
    assert protocol_table(results, "resnet18") == ""  # one protocol only
    assert "The two protocols" in findings_markdown(build_report(tmp_path / "results.sqlite"))


def test_a_readme_without_its_markers_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="findings:start"):
        replace_findings("# no markers\n", "table")
    with pytest.raises(ParameterError, match="comes before"):
        replace_findings(f"{FINDINGS_END}\n{FINDINGS_START}\n", "table")
    _rotating_study(tmp_path / "results.sqlite")
    readme = tmp_path / "README.md"
    readme.write_text("# no markers\n")
    with pytest.raises(ParameterError):
        publish_findings(tmp_path / "results.sqlite", tmp_path / "out", readme)
    assert readme.read_text() == "# no markers\n"


STUDY = REPO / "results" / "esc10" / "results.sqlite"


@pytest.mark.skipif(not STUDY.exists(), reason="the ESC-10 study is not published yet")
def test_readme_findings_are_the_committed_studys() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split(FINDINGS_START)[1].split(FINDINGS_END)[0]
    assert block.strip() == findings_markdown(build_report(STUDY)).strip()


@pytest.mark.skipif(not STUDY.exists(), reason="the ESC-10 study is not published yet")
def test_notebook_08_opens_the_published_study(tmp_path, execute_notebook):
    import nbformat

    params = {"STORE": str(STUDY), "MODEL": "resnet18"}
    executed = execute_notebook("report", tmp_path / "report", params, timeout=600)
    cells = nbformat.read(executed, as_version=4).cells
    printed = "\n".join(
        str(output.get("text", "")) + str(output.get("data", {}).get("text/markdown", ""))
        for cell in cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    report = build_report(STUDY, victim="resnet18")
    assert f"{len(report.results.runs)} finished runs" in printed
    assert report.verdicts and all(v.text() in printed for v in report.verdicts)
    # one setting per representation: Figures 1-5 say which settings a curve needs
    assert "not drawn, one point only" in printed and "a curve needs" in printed
    assert (tmp_path / "report" / "report.html").is_file()
