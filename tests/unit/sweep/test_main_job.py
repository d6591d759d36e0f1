"""The main job end to end on a reduced chain: sweep -> store -> report, on the synthetic set."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from specnb.report import NOT_COMPARABLE, VERDICTS
from specnb.report.claims import CLAIMS
from specnb.store import ResultsStore
from specnb.sweep import expand, load_sweep, run_sweep
from specnb.sweep.main_job import (
    ESC10_SWEEP,
    QUICK_SWEEP,
    _sweep_file,
    main_sweep,
    run_main_job,
)
from specnb.sweep.validate import check_points

SWEEP = """
name: tiny-main
defaults: {DATASET: synthetic, SEED: 0, MODEL: sbcnn, DEVICE: cpu}
steps:
  - name: train
    notebook: training
    parameters: {N_PER_CLASS: 8, EPOCHS: 3, FOLDS: 2, BATCH_SIZE: 16}
    product:
      SEED: [0, 1, 2]
      SETTING: [{repr: stft, sr: 8000, n_fft: 512}, {repr: mfcc, sr: 8000, n_mfcc: 20}]
  - name: attack
    notebook: attacks
    after: train
    match: [DATASET, SETTING, MODEL, SEED]
    parameters: {ATTACKS: [fgsm, cw], GRID: quick, N_SAMPLES: 3, TRAIN_IF_MISSING: false,
                 LISTEN: false, INTERACTIVE: false}
    product:
      SEED: [0, 1, 2]
      SETTING: [{repr: stft, sr: 8000, n_fft: 512}, {repr: mfcc, sr: 8000, n_mfcc: 20}]
  - name: report
    notebook: report
    after: attack
"""


@pytest.mark.slow
def test_main_job_renders_the_report_from_the_sweep_store(
    tmp_path, cells_missing_figures, monkeypatch
):
    monkeypatch.setenv("MPLBACKEND", "Agg")  # as tasks.py runs the main job
    sweep = tmp_path / "tiny.yaml"
    sweep.write_text(SWEEP)
    out = tmp_path / "main"
    report = run_main_job(out=out, sweep=sweep, workers=2)
    assert report.is_file() and report.parent.parent == out / "report"

    store = ResultsStore(out / "results.sqlite")
    runs = store.runs_df(status="done")
    attacks = store.attacks_df(status="done")
    assert len(runs) == 6 and set(attacks["attack"]) == {"fgsm", "cw"}
    html = report.read_text()
    assert "Verdicts" in html and "Table 3" in html
    stft = runs[[s["repr"] == "stft" for s in runs["setting_json"]]]
    assert f"{100 * stft['acc_mean'].mean():.2f}" in html  # our accuracy fills Table 3's row
    # three seeds of two representations and two attacks reach a decision on claims: decided
    # (marked synthetic), or "not comparable" with its reason where these tiny models (three
    # epochs on 3 clips per class) sit at chance; never "not enough results" for those claims
    words = re.findall(
        r'<details class="verdict [^"]+"[^>]*><summary>.*?class="word">([^<]+)<', html
    )
    assert len(words) == len(CLAIMS), words
    reached = [w for w in words if w in (*VERDICTS, NOT_COMPARABLE)]
    assert len(reached) >= 2, words
    assert "proves the pipeline, not the paper" in html or NOT_COMPARABLE in reached
    # every executed notebook of the chain keeps the figures it drew (MPLBACKEND=Agg too)
    executed = sorted(out.glob("*/*/*.ipynb"))
    assert {path.parent.parent.name for path in executed} >= {"train", "attack", "report"}
    missing = {str(path.relative_to(out)): cells_missing_figures(path) for path in executed}
    assert missing == {name: [] for name in missing}
    # a second call finds everything done: nothing reruns, the same report comes back
    written = report.stat().st_mtime_ns
    assert run_main_job(out=out, sweep=sweep, workers=2) == report
    assert report.stat().st_mtime_ns == written


def test_kernels_run_without_the_tcp_warning_and_keep_their_stderr_in_the_run_folder(
    tmp_path, capfd
):
    import nbformat

    from specnb.sweep.papermill_exec import KERNEL_LOG, run_notebook

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("X = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("import os\nos.write(2, b'kernel says hello\\n')"),
        nbformat.v4.new_code_cell("print(X + 1)"),
    ]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    source = tmp_path / "tiny.ipynb"
    nbformat.write(notebook, source)
    executed = run_notebook(source, tmp_path / "run", {"X": 41})
    assert nbformat.read(executed, as_version=4).cells[-1].outputs[0]["text"] == "42\n"
    captured = capfd.readouterr()
    assert "without encryption" not in captured.err + captured.out
    assert "kernel says hello" not in captured.err + captured.out
    assert "kernel says hello" in (tmp_path / "run" / KERNEL_LOG).read_text()


def test_esc10_study_tests_every_clip_once_per_seed_and_projects_its_cost(tmp_path):
    spec = load_sweep(ESC10_SWEEP)
    points = expand(spec)
    check_points(spec, points)
    train = [p for p in points if p.step == "train"]
    assert all(p.params["DATASET"] == "esc10" and p.params["AUGMENT"] for p in train)
    assert all(p.params["RECIPE"] == "strong" for p in train)
    paper = [p for p in train if p.params.get("OFFICIAL_TEST_FOLD") is None]
    rotating = [p for p in train if p not in paper]
    assert all(p.params["FOLDS"] == 1 for p in rotating)
    scaled = [p for p in train if p.params["SETTING"].get("per_coefficient")]
    assert {(p.params["SEED"], p.params["OFFICIAL_TEST_FOLD"]) for p in scaled} == {
        (0, fold) for fold in range(1, 6)
    }

    def folds(model: str, chosen: list) -> dict[tuple, set]:
        cells: dict[tuple, set] = {}
        for p in chosen:
            if p.params["MODEL"] == model and p not in scaled:
                cell = (p.params["SEED"], p.params["SETTING"]["repr"])
                cells.setdefault(cell, set()).add(p.params["OFFICIAL_TEST_FOLD"])
        return cells

    # the victim: three seeds x three representations, each tested on all five official folds
    victim = folds("resnet18", rotating)
    assert len(victim) == 9 and all(f == {1, 2, 3, 4, 5} for f in victim.values())
    # SB-CNN: the transfer partner on fold 1 (DWT), every fold on STFT and MFCC; and the
    # paper's protocol (one run of five fold models) on STFT and MFCC, at the same budget
    partner = folds("sbcnn", rotating)
    assert {k: v for k, v in partner.items() if k[1] == "wavelet"} == {
        (s, "wavelet"): {1} for s in range(3)
    }
    assert all(v == {1, 2, 3, 4, 5} for k, v in partner.items() if k[1] != "wavelet")
    assert {(p.params["SEED"], p.params["SETTING"]["repr"]) for p in paper} == {
        (s, r) for s in range(3) for r in ("stft", "mfcc")
    }
    assert all(p.params["FOLDS"] == 5 and p.params["MODEL"] == "sbcnn" for p in paper)
    attacks = [p for p in points if p.step == "attack"]
    assert len(attacks) == 9 and all("cw" in p.params["ATTACKS"] for p in attacks)
    assert {p.params["OFFICIAL_TEST_FOLD"] for p in attacks} == {1}
    transfers = [p for p in points if p.step == "transfer"]
    assert {tuple(p.params["MODELS"]) for p in transfers} == {("sbcnn", "resnet18")}
    assert {p.params["SEED"] for p in transfers} == {0, 1, 2}
    # the transfer step names the training parameters of the runs it reuses
    shared = ("EPOCHS", "FOLDS", "PATIENCE", "BATCH_SIZE", "LR", "RECIPE", "AUGMENT")
    assert all(t.params[k] == train[0].params[k] for t in transfers for k in shared)
    # two workers: the local cluster's default on a 2-core CPU (one per core)
    summary = run_sweep(ESC10_SWEEP, out=tmp_path / "dry", dry_run=True, workers=2)
    assert all(step.seconds is not None for step in summary.estimate.steps)
    assert summary.estimate.wall_seconds > 0


def test_esc50_fold_sweep_trains_one_resnet_on_the_official_folds():
    from specnb.runs import job_from_parameters
    from specnb.sweep.point_projection import notebook_defaults

    spec = load_sweep(ESC10_SWEEP.with_name("esc50_fold.yaml"))
    (point,) = expand(spec)
    check_points(spec, [point])
    job = job_from_parameters({**notebook_defaults(point.notebook), **point.params})
    config = job.config
    assert (job.dataset, job.setting.kind, job.setting.sr, job.setting.n_fft) == (
        "esc50",
        "mel",
        44100,
        2048,
    )
    assert (config.model, config.official_test_fold, config.n_folds) == ("resnet18", 1, 1)
    assert (config.epochs, config.batch_size, config.lr, config.schedule) == (
        80,
        32,
        0.002,
        "cosine",
    )
    assert job.pitch_scales == () and config.patience >= config.epochs  # no early stop


def test_run_with_data_points_at_the_esc10_study(tmp_path):
    assert main_sweep(None) == (QUICK_SWEEP, Path("runs") / "main")
    sweep, out = main_sweep(tmp_path / "esc50")
    assert sweep == ESC10_SWEEP and out == Path("runs") / "esc10_cpu"
    derived = load_sweep(_sweep_file(sweep, tmp_path, tmp_path / "esc50"))
    assert derived.name == "esc10_cpu"
    assert derived.defaults["DATA_PATH"] == str((tmp_path / "esc50").resolve())


def test_points_run_right_after_their_dependencies_in_the_declared_order():
    from specnb.sweep.grid import point_priorities

    spec = load_sweep(ESC10_SWEEP)
    points = expand(spec)
    priorities = point_priorities(spec, points)
    by_priority = sorted(points, key=lambda p: -priorities[p.key])
    position = {p.key: n for n, p in enumerate(by_priority)}
    for point in points:
        assert all(position[k] < position[point.key] for k in point.after)
    trainings = [p for p in by_priority if p.step == "train"]
    assert trainings == [p for p in points if p.step == "train"]  # as declared
    # each attack right after the model it attacks; the first seed trained and attacked first
    for attack in (p for p in points if p.step == "attack"):
        (model,) = attack.after
        assert position[attack.key] == position[model] + 1
    first = [(p.step, p.params["MODEL"], p.params["SEED"]) for p in by_priority[:18]]
    assert {seed for _, _, seed in first} == {0}
    assert [step for step, _, _ in first].count("attack") == 3
    assert len(set(priorities.values())) == len(points)
