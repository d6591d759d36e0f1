"""Notebook 06 under papermill with tiny parameters, and the values it stores."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from specnb.raw_audio import IMAGE_TOLERANCE, RESTORATION_FILE, WAVEFORM_FILE
from specnb.store import ResultsStore

RANGES = [0.05, 0.5]
PARAMETERS = {
    "N_PER_CLASS": 6,
    "EPOCHS": 2,
    "ATTACKS": ["fgsm", "bim-a"],
    "N_SAMPLES": 3,
    "SCALAR_RANGES": RANGES,
    "N_DRAWS": 2,
    "DEVICE": "cpu",
}


@pytest.fixture(scope="module")
def executed(tmp_path_factory, execute_notebook):
    out = tmp_path_factory.mktemp("nb06")
    execute_notebook("raw_audio", out, PARAMETERS, timeout=300)
    summary = json.loads((out / "summary.json").read_text())
    return out, ResultsStore(out / "results.sqlite"), summary


def test_waveform_run_and_its_attack_rows(executed):
    _, store, summary = executed
    runs = store.runs_df()
    wave = runs[runs["repr"] == "waveform"]
    assert len(wave) == 1 and wave.iloc[0]["status"] == "done"
    row = wave.iloc[0]
    assert row["model"] == "convnet1d" and row["setting_json"] == {"repr": "waveform", "sr": 8000}
    assert row["acc_mean"] == pytest.approx(summary["accuracy_1d"])
    attacks = store.attacks_df(run_key=row["run_key"])
    assert sorted(attacks["attack"]) == ["bim-a", "fgsm"] and set(attacks["status"]) == {"done"}
    for rec in attacks.to_dict("records"):
        assert rec["params_json"]["input"] == "waveform"
        snrs = rec["artefacts_json"]["snr_db"]
        assert len(rec["fooling_rates_json"]) == 5
        if snrs:
            assert math.isfinite(rec["snr_db_mean"]) and rec["snr_db_mean"] == pytest.approx(
                sum(snrs) / len(snrs)
            )
        assert Path(rec["artefacts_json"]["summary"]).is_file()


def test_restoration_curves_are_recorded(executed):
    out, _, summary = executed
    kinds = [c["kind"] for c in summary["restoration"]]
    assert kinds[:2] == ["1D, FGSM", "1D, BIM-a"] and "1D, clean" in kinds
    assert any(k.startswith("2D images") for k in kinds)
    assert any(k.startswith("2D via waveform") for k in kinds)
    for curve in summary["restoration"]:
        assert curve["ranges"] == RANGES and curve["n_draws"] == 2
        if curve["n_examples"]:
            assert all(0 <= v <= 1 for v in curve["restored"] + curve["still_fooling"])
            if not curve["kind"].endswith("clean"):
                for restored, fooling in zip(curve["restored"], curve["still_fooling"]):
                    assert restored + fooling <= 1 + 1e-9
    clean = next(c for c in summary["restoration"] if c["kind"] == "1D, clean")
    assert clean["n_examples"] > 0 and clean["still_fooling"] == [0.0, 0.0]
    assert (out / RESTORATION_FILE).read_bytes()[:4] == b"\x89PNG"
    assert (out / WAVEFORM_FILE).is_file()


def test_front_end_matches_and_passes_gradients(executed):
    _, store, summary = executed
    front = summary["front_end"]
    assert front["max_diff_same_waveform"] <= IMAGE_TOLERANCE == front["tolerance"]
    assert front["max_diff_stored_images"] < 0.02
    assert front["grad_finite"] and front["grad_abs_sum"] > 0
    rows = store.attacks_df(run_key=summary["run_2d"])
    through = [r for r in rows.to_dict("records") if r["params_json"].get("input") == "waveform"]
    assert len(through) == 1 and through[0]["fooling_rates_json"] == front["fooling_rates"]


def test_cross_path_fraction_is_stored(executed):
    _, _, summary = executed
    cross = summary["cross"]
    assert cross["attack"] == "bim-a" and cross["n_fooling"] >= 0
    if cross["n_fooling"]:
        assert 0 <= cross["still_fooling"] <= 1 and math.isfinite(cross["snr_db_mean"])
        assert 0 <= cross["fools_waveform_model"] <= 1
