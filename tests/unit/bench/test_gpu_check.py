"""``specnb doctor --gpu`` and ``tasks.py gpu-check``: parts that fail alone, the CPU path."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch

import specnb.bench.unit_costs as unit_costs_module
from specnb.bench import gpu_check as doctor
from specnb.bench import gpu_parts as parts
from specnb.bench.unit_costs import load_unit_costs, write_unit_costs
from specnb.sweep import expand, load_sweep
from specnb.sweep.estimate import estimate

pytestmark = pytest.mark.usefixtures("notebook_costs")

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.skipif(torch.cuda.is_available(), reason="the units part fails only without CUDA")
def test_a_failing_part_reports_its_error_and_a_hanging_one_is_stopped(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    failed = doctor._run_part("units", tmp_path, 120)  # its own process finds no GPU
    assert not failed["ok"] and failed["lines"][0].startswith(("RuntimeError", "AssertionError"))
    assert (tmp_path / "units.log").read_text().count("Traceback") == 1
    stopped = doctor._run_part("tests", tmp_path, 1)
    assert not stopped["ok"] and stopped["lines"][0].startswith("timed out after 1 s")
    assert stopped["seconds"] < 30


def test_summary_keeps_every_part_when_one_fails(tmp_path, monkeypatch):
    env = {
        "cuda": True,
        "gpu": "Test GPU",
        "memory_gib": 80.0,
        "gpus": 1,
        "torch": "x",
        "cuda_version": "13.0",
    }
    monkeypatch.setattr(doctor, "_environment", lambda: env)
    outcomes = {
        "units": {"ok": True, "lines": ["ResNet-18 training 5,000 images/s"]},
        "tests": {"ok": False, "lines": ["exit -11"]},
        "slice": {"ok": True, "lines": ["train: done 40 s"]},
        "projection": {"ok": True, "lines": ["paper grid: 20.0 GPU hours"]},
    }
    ran = []

    def run_part(name, out, timeout):
        ran.append((name, timeout))
        time.sleep(0.2)
        return {**outcomes[name], "seconds": 0.2}

    monkeypatch.setattr(doctor, "_run_part", run_part)
    assert doctor.main(["--gpu", "--out", str(tmp_path)]) == 1
    assert [name for name, _ in ran] == list(doctor.PART_ORDER)
    # a part's unused seconds go to the next; the parts never exceed the 8 minutes in all
    total = sum(doctor.BUDGETS.values())
    assert total <= 8 * 60 and ran[0][1] == doctor.BUDGETS["units"]
    for (name, timeout), (_, earlier) in zip(ran[1:], ran):
        assert doctor.BUDGETS[name] < timeout <= doctor.BUDGETS[name] + earlier - 0.2
    assert ran[-1][1] <= total
    text = (tmp_path / "gpu_check_summary.txt").read_text()
    assert "Test GPU (80.0 GiB" in text and "tests: FAIL" in text and "exit -11" in text
    for name in ("units", "slice", "projection"):
        assert f"{name}: PASS" in text
    assert "20.0 GPU hours" in text and "5,000 images/s" in text
    assert json.loads((tmp_path / "gpu_check.json").read_text())["parts"]["tests"]["ok"] is False


def test_units_part_writes_the_costs_beside_the_cpus_and_into_the_output(tmp_path, monkeypatch):
    cpu = load_unit_costs()
    faster = {k: v / 4 for k, v in cpu.train.items()}
    asked = {}

    def measured(**options):  # the measurement itself needs CUDA; its options are checked
        asked.update(options)
        return replace(cpu, device="cuda", machine="Test GPU, 80 GiB", train=faster)

    monkeypatch.setattr("specnb.bench.sweep_costs.measure_unit_costs", measured)
    packaged = tmp_path / "package" / "gpu_unit_costs.json"
    monkeypatch.setattr(unit_costs_module, "GPU_UNIT_COSTS_FILE", packaged)
    result = parts.part_units(tmp_path)
    assert asked["device"] == "cuda" and asked["batch"] == 32 * 4
    assert asked["gradient_batch"] == asked["attack_samples"] == parts._paper_attack_batch()
    assert load_unit_costs(packaged) == load_unit_costs(tmp_path / "gpu_unit_costs.json")
    assert result["train_images_per_s"] == pytest.approx(4 / cpu.train["resnet18"])
    assert result["lines"][1].startswith("that is 4x and 1x the packaged CPU's")
    assert parts._gpu_costs(tmp_path).machine == "Test GPU, 80 GiB"


def test_projection_part_reads_the_gpu_unit_costs(tmp_path, monkeypatch):
    cpu = load_unit_costs()
    gpu = replace(cpu, device="cuda", machine="Test GPU, 80 GiB")
    monkeypatch.setattr(
        unit_costs_module,
        "GPU_UNIT_COSTS_FILE",
        write_unit_costs(gpu, tmp_path / "gpu_unit_costs.json"),
    )
    result = parts.part_projection(tmp_path)
    hours = estimate(expand(load_sweep(parts.PAPER)), {}, {}, costs=gpu).total_seconds / 3600
    assert result["gpu_hours"] == pytest.approx(hours)
    assert (
        f"{hours:,.1f} GPU hours on one Test GPU, 80 GiB (over the 24 h target)"
        in result["lines"][0]
    )
    assert "attack cw" in result["lines"][1]
    assert "GPU hours" in (tmp_path / "paper_projection.txt").read_text()


def test_paper_slice_keeps_the_paper_protocol_at_full_batch(tmp_path):
    points = expand(load_sweep(parts.paper_slice(tmp_path / "slice.yaml")))
    paper = expand(load_sweep(parts.PAPER))
    train, attack = points
    assert train.params["EPOCHS"] == parts.SLICE_EPOCHS and train.params["AUGMENT"] is True
    assert train.params["SETTING"] == paper[0].params["SETTING"]
    assert train.params["FOLDS"] == paper[0].params["FOLDS"]
    assert attack.params["N_SAMPLES"] == attack.params["BATCH_SIZE"] == parts._paper_attack_batch()
    assert set(attack.params["ATTACKS"]) == {"fgsm", "deepfool", "bim-a", "bim-b", "jsma", "cw"}


@pytest.mark.slow
def test_slice_part_runs_its_sweep_and_sets_measured_beside_projected(tmp_path, monkeypatch):
    cpu = load_unit_costs()
    write_unit_costs(replace(cpu, device="cuda"), tmp_path / "gpu_unit_costs.json")
    sweep = parts.paper_slice(
        tmp_path / "small.yaml",
        defaults={"DEVICE": "cpu", "MODEL": "sbcnn", "N_PER_CLASS": 6},
        train={"EPOCHS": 1, "FOLDS": 2, "AUGMENT": False, "BATCH_SIZE": 8},
        attack={"ATTACKS": ["fgsm"], "N_SAMPLES": 4, "BATCH_SIZE": 4},
    )
    result = parts.part_slice(tmp_path, sweep)
    assert result["ok"], result
    for point, line in zip(result["points"], result["lines"]):
        assert point["status"] == "done" and 0 < point["seconds"] < 600 and point["projected"] > 0
        assert line.startswith(f"{point['step']}: done ") and "projected" in line


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(), reason="the CPU path of gpu-check")
def test_gpu_check_without_cuda_says_so_and_runs_the_cpu_halves(tmp_path, monkeypatch, capfd):
    spec = importlib.util.spec_from_file_location("tasks", REPO / "tasks.py")
    tasks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tasks)
    monkeypatch.setattr(tasks, "setup", lambda: None)  # the environment is this one
    monkeypatch.setattr(tasks, "PYTHON", Path(sys.executable))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    assert tasks.cli(["gpu-check", "--out", str(tmp_path)]) == 0
    out = capfd.readouterr().out
    assert out.count("no CUDA GPU here") == 1
    summary = (tmp_path / "gpu_check_summary.txt").read_text()
    assert "tests: PASS" in summary and "6 passed, 0 failed, 7 skipped of 13" in summary
