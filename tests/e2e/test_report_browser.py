"""The HTML report opened in Chromium and read as a person reads it.

The first test builds a report from a constructed store whose truth is known
(:mod:`report_store`: the main job's three representations of the synthetic set, three seeds,
four attacks), opens ``report.html`` from a ``file://`` URL, saves a full-page screenshot and
checks the rendered page: our lines of Tables 2–4 hold the stored numbers, each verdict is one
line (its word and 95 % interval, or what is missing) with what the interval is over and the
rule behind a disclosure, the word agrees with the interval, every decided one is marked as a
synthetic-data result, and what the store cannot fill (Tables 6, 7, 9, Figures 1–6, whose
settings have a single point each) is one line each.

The second test looks at an existing report the same way: set ``SPECNB_REPORT_HTML`` to the
``report.html`` of a main job (``python3 tasks.py main`` prints its path) and it must show filled
rows for at least three representations and at least three decided verdicts with their
intervals; without the variable it is skipped. Screenshots go to ``tests/output/e2e/<test>/``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Optional

import pytest
from report_store import EXPECTED, MODEL, write_known_store

from specnb.report import CLAIMS, NOT_ENOUGH, VERDICTS, build_report
from specnb.report.figures import ONE_POINT
from specnb.report.verdicts import SYNTHETIC_NOTE

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

VIEWPORT = {"width": 1440, "height": 1000}

#: The representation tables and the setting kind each shows.
REPRESENTATION_TABLES = {2: "mfcc", 3: "stft", 4: "wavelet", 7: "mel"}
#: Our attacks, as the tables label them.
ATTACK_LABELS = ("FGSM", "BIM-a", "DeepFool", "CWA")
INTERVAL = re.compile(r"= (?P<value>[^,]+), 95 % interval \[(?P<low>[^\],]+), (?P<high>[^\]]+)\]")
OVER = re.compile(r"\d+ seeds(?: × \d+)?.* t interval over \d+ seeds of the per-seed paired values")
RULE = re.compile(r"[Ss]upported when the (?:95 % )?interval of .+? lies above (?P<at>[^\s;,]+)")

#: Reads every table and the verdicts from the rendered page (innerText: what is shown). The
#: verdicts are read closed (one line each, the body's text without what they hide), then
#: opened, as a reader opens them.
READ_PAGE = """() => {
  const text = (e) => (e ? e.innerText.trim() : '');
  const tables = {};
  for (const section of document.querySelectorAll('section[id^="table-"]')) {
    const table = section.querySelector('table');
    const labels = [...table.querySelectorAll('thead th.col_heading.level0')].map(text);
    const rows = [];
    let row = null, dataset = null;
    for (const tr of table.querySelectorAll('tbody tr')) {
      const head0 = tr.querySelector('th.row_heading.level0');
      if (head0) row = text(head0);
      const head1 = tr.querySelector('th.row_heading.level1');
      if (head1) dataset = text(head1);
      const cells = {};
      tr.querySelectorAll('td').forEach((td, i) => { cells[labels[i]] = text(td); });
      rows.push({row, dataset, source: text(tr.querySelector('th.row_heading.level2')), cells});
    }
    tables[section.id.slice('table-'.length)] = rows;
  }
  const folded = [...document.querySelectorAll('.folded')].map((e) => e.id);
  const closedText = document.body.innerText;
  const verdicts = [...document.querySelectorAll('details.verdict')].map((d) => {
    const summary = d.querySelector('summary');
    const lineHeight = parseFloat(getComputedStyle(summary).lineHeight);
    const height = summary.getBoundingClientRect().height;
    d.open = true;
    const dl = {};
    const dts = [...d.querySelectorAll('dt')];
    dts.forEach((dt) => { dl[text(dt)] = text(dt.nextElementSibling); });
    return {where: text(summary.querySelector('.where')),
            claim: text(summary.querySelector('.claim')),
            ours: text(summary.querySelector('.word')),
            numbers: text(summary.querySelector('.estimate')),
            synthetic: !!summary.querySelector('.tag'),
            lines: height / lineHeight, details: dl,
            colour: getComputedStyle(summary.querySelector('.word')).color};
  });
  const images = [...document.images].map((img) => img.complete && img.naturalWidth > 0);
  const overflow = [...document.querySelectorAll('section')].filter((section) => {
    const table = section.querySelector('table');
    const wide = table && table.getBoundingClientRect().width > section.clientWidth + 0.5;
    return wide || section.scrollWidth > section.clientWidth;
  }).map((section) => section.id);
  return {tables, verdicts, images, overflow, folded, closedText, title: document.title,
          body: document.body.innerText};
}"""


@dataclass(frozen=True)
class ShownVerdict:
    """One verdict as rendered: its line, and what its disclosure holds once opened."""

    where: str
    claim: str
    ours: str
    numbers: str
    synthetic: bool
    lines: float
    details: dict[str, str]
    colour: str

    @property
    def word(self) -> str:
        return self.ours

    @property
    def rule(self) -> str:
        return self.details.get("rule", "")

    @property
    def over(self) -> str:
        return self.details.get("our numbers", "")

    @property
    def paper(self) -> str:
        return next((v for k, v in self.details.items() if k.startswith("the paper")), "")


@dataclass(frozen=True)
class ShownReport:
    """The rendered page: per table number its lines, the verdicts, the images' state."""

    tables: dict[int, list[dict]]
    verdicts: list[ShownVerdict]
    images: list[bool]
    body: str
    closed: str
    overflow: list[str]
    folded: list[str]

    @property
    def colours(self) -> dict[str, str]:
        return {v.word: v.colour for v in self.verdicts}

    def ours(self, number: int, dataset: str, row: str) -> dict[str, str]:
        """Our cells of one row of a table, by column label."""
        for shown in self.tables[number]:
            if (shown["dataset"], shown["row"], shown["source"]) == (dataset, row, "ours"):
                return shown["cells"]
        raise AssertionError(f"Table {number} shows no line of ours for {dataset} / {row}")

    def filled_rows(self, number: int, min_attacks: int = 3) -> list[dict]:
        """Our lines of a table where the accuracy and the AUC of ``min_attacks`` attacks are
        numbers."""
        filled = []
        for shown in self.tables.get(number, []):
            if shown["source"] != "ours":
                continue
            cells = {k: _number(v) for k, v in shown["cells"].items()}
            aucs = [k for k, v in cells.items() if k.endswith("AUC") and v is not None]
            if cells.get("Acc. (%)") is not None and len(aucs) >= min_attacks:
                filled.append(shown)
        return filled


def _number(text: str) -> Optional[float]:
    """A number as the page writes it ("+778 %", "-10.00", "0.3450"); None for "—"."""
    try:
        return float(text.replace("%", "").replace("+", "").strip())
    except ValueError:
        return None


def open_report(page: "Page", path: Path, shot: Path) -> ShownReport:
    """Open ``path`` in the page, save a full-page screenshot to ``shot``, read it back."""
    page.goto(path.resolve().as_uri(), wait_until="load")
    page.screenshot(path=str(shot), full_page=True)
    raw = page.evaluate(READ_PAGE)
    assert raw["title"] == "specnb report", f"{path} is not a specnb report page"
    return ShownReport(
        {int(n): rows for n, rows in raw["tables"].items()},
        [ShownVerdict(**v) for v in raw["verdicts"]],
        raw["images"],
        raw["body"],
        raw["closedText"],
        raw["overflow"],
        raw["folded"],
    )


def check_decided(verdict: ShownVerdict, synthetic: bool) -> None:
    """A decided verdict shows its word and interval in its line, what the interval is over
    and the rule behind its disclosure, consistently."""
    label = f"{verdict.where} ({verdict.claim})"
    assert verdict.word in VERDICTS, f"{label}: verdict {verdict.word!r}"
    interval = INTERVAL.search(verdict.numbers)
    assert interval, f"{label}: no 95 % interval in {verdict.numbers!r}"
    low, high = _number(interval["low"]), _number(interval["high"])
    assert low is not None and high is not None and low <= high, f"{label}: {interval[0]!r}"
    assert OVER.search(verdict.over), f"{label}: not said what over: {verdict.details!r}"
    rule = RULE.search(verdict.rule)
    assert rule, f"{label}: no rule in {verdict.details!r}"
    at = float(rule["at"])
    agrees = {
        "supported": low >= at,
        "contradicted": high <= at,
        "inconclusive": low <= at <= high,
    }[verdict.word]
    assert agrees, f"{label}: {verdict.word} but the interval is [{low}, {high}] against {at}"
    assert verdict.paper, f"{label}: the paper's side is empty"
    if synthetic:
        assert verdict.synthetic, f"{label}: not marked as synthetic data"


def check_report(shown: ShownReport, min_representations: int = 3, min_decided: int = 3) -> None:
    """What must hold for the main job's report: filled rows, decided verdicts with intervals,
    one line per verdict with the rule behind it."""
    filled = {n: shown.filled_rows(n) for n in REPRESENTATION_TABLES}
    tables = [n for n, rows in filled.items() if rows]
    assert len(tables) >= min_representations, (
        f"our accuracy and three attacks' AUC are filled in Tables {tables} only; need "
        f"{min_representations} representations"
    )
    datasets = {row["dataset"] for rows in filled.values() for row in rows}
    synthetic = all(d.startswith("synthetic") for d in datasets)
    decided = [v for v in shown.verdicts if v.word != NOT_ENOUGH]
    assert len(decided) >= min_decided, (
        f"{len(decided)} decided verdicts, need {min_decided}: "
        + "; ".join(f"{v.where}: {v.word}" for v in shown.verdicts)
    )
    for verdict in decided:
        check_decided(verdict, synthetic)
    for verdict in shown.verdicts:
        assert verdict.lines <= 3.5, f"{verdict.where}: its line takes {verdict.lines:.1f} lines"
        assert verdict.rule and verdict.rule not in shown.closed, f"{verdict.where}: rule shown"
        if verdict.word == NOT_ENOUGH:
            assert verdict.numbers, f"{verdict.where}: says not what is missing"
    assert all(shown.images), f"{shown.images.count(False)} images do not load"
    assert not shown.overflow, f"wider than the page at {VIEWPORT['width']} px: {shown.overflow}"
    words = [w for w in (*VERDICTS, NOT_ENOUGH) if w in shown.colours]
    colours = [shown.colours[w] for w in words]
    assert len(set(colours)) == len(colours), f"verdict words share a colour: {shown.colours}"


@pytest.fixture
def page(browser: "Browser") -> Iterator["Page"]:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_report_of_a_known_store_shows_rows_and_verdicts(
    page: "Page", shots_dir: Path, tmp_path: Path
) -> None:
    accuracy = write_known_store(tmp_path / "results.sqlite")
    report = build_report(tmp_path / "results.sqlite", victim=MODEL)
    path = report.write_html(tmp_path / "report.html")

    shown = open_report(page, path, shots_dir / "report.png")

    check_report(shown)
    assert "Victim model: SB-CNN" in shown.body
    for number, row in ((2, "16000"), (3, "512"), (4, "8000")):
        ours = shown.ours(number, "synthetic-s0-n8", row)
        kind = REPRESENTATION_TABLES[number]
        assert ours["Acc. (%)"] == f"{accuracy[kind]:.2f}", f"Table {number}: {ours}"
        for attack in ATTACK_LABELS:
            auc, grads = _number(ours[f"{attack} AUC"]), _number(ours[f"{attack} grads"])
            assert auc is not None and 0.0 <= auc <= 1.0, f"Table {number} {attack}: {ours}"
            assert grads is not None and 20 <= grads <= 40, f"Table {number} {attack}: {ours}"
        assert ours["BIM-b AUC"] == "—" and ours["JSMA AUC"] == "—", "attacks never run"
    by_claim = {v.claim: v for v in shown.verdicts}
    for key, expected in EXPECTED.items():
        verdict = by_claim[CLAIMS[key].text]
        assert verdict.word == expected, f"{key}: shown {verdict.word!r}, truth {expected!r}"
        assert verdict.synthetic
    assert SYNTHETIC_NOTE.removeprefix("synthetic data: ") in shown.body
    assert by_claim[CLAIMS["table6_accuracy"].text].word == NOT_ENOUGH
    assert set(shown.colours) == {*VERDICTS, NOT_ENOUGH}, shown.colours
    pooled = by_claim[CLAIMS["pooled_inverse"].text]
    shown_pooled = " ".join(pooled.details.values())
    assert pooled.word == NOT_ENOUGH and "≥ 8 settings rows, have 3" in shown_pooled, pooled
    assert "@" not in shown_pooled and ":acc" not in shown_pooled, shown_pooled
    assert "sbcnn" not in shown.body
    # what the store cannot fill: one line each; no figure of a single point
    assert {"table-6", "table-7", "table-9", "target-hits"} <= set(shown.folded), shown.folded
    assert {f"figure-{n}" for n in range(1, 7)} <= set(shown.folded), shown.folded
    assert "Table 6: Architectures relative to the victim model (percent) — no number of " \
        "ours: it needs runs of another model" in shown.body  # fmt: skip
    assert shown.body.count(ONE_POINT) == 5 and not shown.images
    assert shown.body.count("Figure 1: MFCC n_mfcc") == 1, "a figure's title is shown twice"


def test_existing_report_shows_rows_and_verdicts(page: "Page", shots_dir: Path) -> None:
    variable = os.environ.get("SPECNB_REPORT_HTML")
    if not variable:
        pytest.skip("SPECNB_REPORT_HTML is not set (point it at a main job's report.html)")
    path = Path(variable)
    assert path.is_file(), f"SPECNB_REPORT_HTML={variable}: no such file"

    shown = open_report(page, path, shots_dir / "report.png")

    check_report(shown)
