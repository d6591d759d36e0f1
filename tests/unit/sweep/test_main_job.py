"""The main job end to end on a reduced chain: sweep -> store -> report, on the synthetic set."""

from __future__ import annotations

import pytest

from specnb.store import ResultsStore
from specnb.sweep.main_job import run_main_job

SWEEP = """
name: tiny-main
defaults: {DATASET: synthetic, SEED: 0, MODEL: sbcnn, DEVICE: cpu}
steps:
  - name: train
    notebook: training
    parameters: {N_PER_CLASS: 8, EPOCHS: 3, FOLDS: 2, BATCH_SIZE: 16}
    product:
      SETTING: [{repr: stft, sr: 8000, n_fft: 512}]
  - name: attack
    notebook: attacks
    after: train
    match: [DATASET, SETTING, MODEL, SEED]
    parameters: {ATTACKS: [fgsm, bim-a], GRID: quick, N_SAMPLES: 3, TRAIN_IF_MISSING: false,
                 LISTEN: false, INTERACTIVE: false}
    product:
      SETTING: [{repr: stft, sr: 8000, n_fft: 512}]
  - name: report
    notebook: report
    after: attack
"""


@pytest.mark.slow
def test_main_job_renders_the_report_from_the_sweep_store(tmp_path):
    sweep = tmp_path / "tiny.yaml"
    sweep.write_text(SWEEP)
    out = tmp_path / "main"
    report = run_main_job(out=out, sweep=sweep, workers=2)
    assert report.is_file() and report.parent.parent == out / "report"

    store = ResultsStore(out / "results.sqlite")
    runs = store.runs_df(status="done")
    attacks = store.attacks_df(status="done")
    assert len(runs) == 1 and set(attacks["attack"]) == {"fgsm", "bim-a"}
    html = report.read_text()
    assert "Verdicts" in html and "Table 3" in html
    assert f"{100 * runs['acc_mean'].iloc[0]:.2f}" in html  # our accuracy sits in Table 3
    # a second call finds everything done: nothing reruns, the same report comes back
    written = report.stat().st_mtime_ns
    assert run_main_job(out=out, sweep=sweep, workers=2) == report
    assert report.stat().st_mtime_ns == written
