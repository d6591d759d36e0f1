"""The notebooks' widgets in JupyterLab 4 and Chromium, used as a person uses them.

Each test opens a notebook, runs all its cells from the menu, checks that the widgets render as
widgets (DOM elements, not their text repr), changes settings and checks that the figure, the
values shown and the audio follow. Screenshots of each state go to ``tests/output/e2e/<test>``
with ``timings.json``: the browser's redraw seconds per change beside the kernel's.
"""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING

import pytest
from lab_driver import LabNotebook

from specnb.ui.eps_attacks import EPSILONS

if TYPE_CHECKING:
    from playwright.sync_api import Locator

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

#: Notebook 01 with one class and two settings in its batch part; the explorer is unchanged.
EXPLORER_PARAMETERS = {
    "MAX_CLASSES": 1,
    "SETTINGS": [
        {"repr": "mfcc", "sr": 16000, "n_mfcc": 13},
        {"repr": "wavelet", "sr": 8000, "wavelet": "haar"},
    ],
}
FIGURE = "img.widget-image"
TIMING = re.compile(r"computed in ([\d.]+) s, drawn in ([\d.]+) s")

#: Notebook 03 trained and attacked in seconds: FGSM only, two clips, two epochs.
ATTACK_PARAMETERS = {
    "ATTACKS": ["fgsm"],
    "N_SAMPLES": 2,
    "TRAIN_EPOCHS": 2,
    "LISTEN": True,
    "INTERACTIVE": True,
}
EPSILON_EXPLORER = ".specnb-epsilon-explorer"
EPSILON_FIGURE = "img.widget-image.specnb-figure"
#: The ε slider's stops as its readout shows them.
EPSILON_STOPS = [f"{eps:g}" for eps in EPSILONS]
VERDICT = re.compile(
    r"true class (.+?); clean prediction (.+?) \(([\d.]+)\); adversarial "
    r"prediction (.+?) \(([\d.]+)\): (fooled|not fooled)"
)

#: The smallest widget notebook: a debounced slider driving an HTML readout.
SLIDER_NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": (
                "import ipywidgets as W\n"
                "n = W.IntSlider(value=3, min=0, max=20, description='n',\n"
                "                continuous_update=False)\n"
                "shown = W.HTML('<b>n = 3</b>')\n"
                "n.observe(lambda change: setattr(shown, 'value',\n"
                "                                  f\"<b>n = {change['new']}</b>\"),\n"
                "          names='value')\n"
                "W.VBox([n, shown])\n"
            ),
        }
    ],
    "metadata": {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}


def _stats(explorer: Locator) -> list[str]:
    """The explorer's statistics rows, one per setting shown."""
    return explorer.locator(".widget-html table tr").all_inner_texts()[1:]


def _kernel_timing(explorer: Locator) -> dict[str, float]:
    found = TIMING.search(explorer.locator(".widget-html small").inner_text())
    assert found, "the explorer shows no computation time"
    return {"compute_s": float(found[1]), "draw_s": float(found[2])}


def _verdict(explorer: Locator) -> dict:
    """The ε explorer's verdict as the browser shows it: classes, probabilities, fooled."""
    found = VERDICT.search(explorer.locator(".specnb-verdict").inner_text())
    assert found, "the explorer's verdict does not state the predictions"
    return {
        "true": found[1],
        "clean": found[2],
        "clean_p": float(found[3]),
        "adversarial": found[4],
        "adversarial_p": float(found[5]),
        "fooled": found[6] == "fooled",
    }


def _audio(explorer: Locator, which: int = 0) -> dict:
    """The ``which``-th ``<audio>`` element's source, duration (s), ready state and error."""
    return (
        explorer.locator("audio")
        .nth(which)
        .evaluate(
            """a => new Promise(done => {
            const report = () => done({src: a.currentSrc || a.src, duration: a.duration,
                                       ready: a.readyState, error: a.error && a.error.code});
            if (a.readyState >= 1 || a.error) report();
            else { a.addEventListener("loadedmetadata", report, {once: true});
                   a.addEventListener("error", report, {once: true});
                   setTimeout(report, 5000); }
        })"""
        )
    )


def test_representation_explorer_in_jupyterlab(lab: LabNotebook) -> None:
    explorer, run_all_s = lab.open_and_run(
        "01_representations.ipynb", EXPLORER_PARAMETERS, ".widget-toggle-buttons", timeout_s=120
    )
    timings: dict[str, object] = {"run_all_s": run_all_s}
    assert explorer.locator(".widget-toggle-buttons:visible button").count() == 4
    assert explorer.locator(".widget-dropdown:visible select").count() == 3 + 5  # clip + stft
    assert lab.dropdown(explorer, "hop_length").input_value() == "default"
    explorer.locator(FIGURE).wait_for()
    lab.image_digest(explorer, FIGURE)
    stats = _stats(explorer)
    assert len(stats) == 1 and stats[0].startswith("stft(sr=22050, n_fft=2048")
    audio = _audio(explorer)
    assert audio["src"].startswith(("blob:", "data:")) and audio["error"] is None
    assert audio["duration"] == pytest.approx(5.0, abs=0.01)
    assert lab.clipped(explorer) == []
    lab.screenshot(explorer, "explorer_loaded_stft")

    steps = [
        ("mel", lambda: lab.toggle(explorer, "mel"), "mel(sr=22050, n_fft=2048"),
        ("mel_n_fft_512", lambda: lab.choose(explorer, "n_fft", "512"), "mel(sr=22050, n_fft=512"),
        ("mel_sr_8000", lambda: lab.choose(explorer, "sr", "8000"), "mel(sr=8000, n_fft=512"),
    ]
    for shot, action, label in steps:
        seconds, _ = lab.redraw(explorer, FIGURE, action, f"explorer_{shot}")
        now = _stats(explorer)
        assert now != stats and now[0].startswith(label), (shot, now)
        stats = now
        timings[shot] = {"browser_s": seconds, **_kernel_timing(explorer)}
    audio_8k = _audio(explorer)
    assert audio_8k["src"] != audio["src"] and audio_8k["error"] is None
    assert audio_8k["duration"] == pytest.approx(5.0, abs=0.01)

    compare = explorer.locator(".widget-checkbox input[type=checkbox]")
    seconds, _ = lab.redraw(explorer, FIGURE, compare.check, "explorer_compare_mel_mfcc")
    timings["compare"] = {"browser_s": seconds, **_kernel_timing(explorer)}
    rows = _stats(explorer)
    assert len(rows) == 2 and rows[0] == stats[0] and rows[1].startswith("mfcc(sr=22050")
    assert explorer.locator(".widget-toggle-buttons:visible").count() == 2
    assert lab.clipped(explorer) == []

    assert lab.text_reprs() == [] and lab.page_errors == []
    (lab.shots / "timings.json").write_text(json.dumps(timings, indent=1))


def test_a_debounced_slider_renders_and_drives_its_output(lab: LabNotebook) -> None:
    (lab.root / "slider.ipynb").write_text(json.dumps(SLIDER_NOTEBOOK))
    lab.open("slider.ipynb")
    lab.run_all(timeout_s=60)
    output = lab.widget_output(".widget-slider")
    assert lab.text_reprs() == []
    assert output.locator(".noUi-handle").count() == 1
    shown = output.locator(".widget-html-content")
    lab.screenshot(output, "slider_loaded")

    lab.set_slider(output, "n", "12")
    assert lab.slider(output, "n").locator(".widget-readout").inner_text() == "12"
    shown.filter(has_text="n = 12").wait_for()
    lab.nudge_slider(output, "n", -2)
    shown.filter(has_text="n = 10").wait_for()
    lab.screenshot(output, "slider_moved_to_10")
    assert lab.page_errors == []


def _settled(lab: LabNotebook, name: str, timeout_s: float = 30.0) -> None:
    """Wait until the kernel of notebook ``name`` has been idle for half a second."""
    deadline, idle_since = time.monotonic() + timeout_s, None
    while time.monotonic() < deadline:
        if lab.kernel_state(name) == "idle":
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since >= 0.5:
                return
        else:
            idle_since = None
        lab.page.wait_for_timeout(100)
    raise AssertionError(f"the kernel of {name} stayed busy for {timeout_s:.0f} s")


def test_epsilon_explorer_in_jupyterlab(lab: LabNotebook) -> None:
    notebook = "03_attacks.ipynb"
    explorer, run_all_s = lab.open_and_run(
        notebook, ATTACK_PARAMETERS, EPSILON_EXPLORER, timeout_s=150
    )
    timings: dict[str, object] = {"run_all_s": run_all_s}
    epsilon = explorer.locator(".specnb-epsilon.widget-slider.widget-hslider")
    assert epsilon.locator(".noUi-handle").count() == 1
    assert epsilon.locator(".widget-readout").inner_text() == "0.01"
    attack = explorer.locator(".specnb-attack select")
    assert attack.input_value() == "FGSM"
    assert attack.locator("option").all_inner_texts() == ["FGSM", "BIM-a", "BIM-b"]
    assert explorer.locator(".specnb-target select").input_value() == "none (untargeted)"
    verdict = explorer.locator(".specnb-verdict")
    assert TIMING.search(verdict.inner_text()) and "true class" in verdict.inner_text()
    figure = lab.image_digest(explorer, EPSILON_FIGURE)
    assert explorer.locator(".specnb-audio audio").count() == 2
    clean, adversarial = _audio(explorer, 0), _audio(explorer, 1)
    for audio in (clean, adversarial):
        assert audio["src"].startswith(("blob:", "data:")) and audio["error"] is None
        assert audio["duration"] > 0.5
    assert clean["src"] != adversarial["src"]
    assert lab.clipped(explorer) == []
    lab.screenshot(explorer, "epsilon_0.01_fgsm")

    # ε = 0: the clean clip, recognised confidently (the demo model, not a chance model).
    lab.nudge_slider(explorer, "ε", -EPSILON_STOPS.index("0.01"))
    epsilon.locator(".widget-readout", has_text=re.compile(r"^0$")).wait_for()
    _settled(lab, notebook)
    start = _verdict(explorer)
    assert start["true"] == start["clean"] == start["adversarial"] and not start["fooled"]
    assert start["clean_p"] >= 0.8 and start["adversarial_p"] == start["clean_p"]
    lab.screenshot(explorer, "epsilon_0_fgsm")

    # One stop right at a time with the arrow key: somewhere FGSM flips the prediction.
    audio_src, flipped = _audio(explorer, 1)["src"], []
    for eps in EPSILON_STOPS[1:]:
        before = verdict.inner_html()
        seconds, moved = lab.redraw(
            explorer,
            EPSILON_FIGURE,
            lambda: lab.nudge_slider(explorer, "ε", 1),
            f"epsilon_{eps}_fgsm",
        )
        lab.wait_for_change(explorer, ".specnb-verdict", before)
        _settled(lab, notebook)
        assert epsilon.locator(".widget-readout").inner_text() == eps
        figure = moved
        timings[f"epsilon_{eps}"] = {"browser_s": seconds, **_kernel_timing(explorer)}
        shown = _verdict(explorer)
        assert shown["clean"] == start["clean"] and shown["clean_p"] == start["clean_p"]
        if shown["fooled"]:
            assert shown["adversarial"] != shown["true"]
            flipped.append(eps)
        now = _audio(explorer, 1)
        assert now["src"] != audio_src and now["error"] is None
        audio_src = now["src"]
    assert flipped, "FGSM flips the explorer's clip at no ε of the slider"
    timings["fgsm_flips_at"] = flipped[0]
    assert _audio(explorer, 0)["src"] == clean["src"]

    before = verdict.inner_html()
    seconds, bim = lab.redraw(
        explorer,
        EPSILON_FIGURE,
        lambda: lab.choose(explorer, "attack", "BIM-b"),
        f"epsilon_{EPSILON_STOPS[-1]}_bimb",
    )
    lab.wait_for_change(explorer, ".specnb-verdict", before)
    _settled(lab, notebook)
    assert attack.input_value() == "BIM-b" and bim != figure
    timings["bim-b"] = {"browser_s": seconds, **_kernel_timing(explorer)}
    adversarial_bim = _audio(explorer, 1)
    assert adversarial_bim["src"] not in ("", audio_src)
    assert adversarial_bim["error"] is None and _audio(explorer, 0)["src"] == clean["src"]
    assert lab.clipped(explorer) == []

    assert lab.text_reprs() == [] and lab.page_errors == []
    (lab.shots / "timings.json").write_text(json.dumps(timings, indent=1))
