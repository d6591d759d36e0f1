"""Dry runs that project for the device the sweep would run on, and split where time goes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

import specnb.bench.unit_costs as unit_costs_module
from specnb.bench.unit_costs import UnitCosts, load_unit_costs, projection_costs, write_unit_costs
from specnb.errors import UnitCostsError
from specnb.sweep import Point, expand, load_sweep, main
from specnb.sweep.estimate import estimate
from specnb.sweep.papermill_exec import notebook_path
from specnb.sweep.point_projection import point_parts, point_seconds

REPO = Path(__file__).resolve().parents[3]
PAPER = REPO / "sweeps" / "paper.yaml"
SPEED_UP = 100.0


def scaled(costs: UnitCosts, factor: float) -> dict:
    """Every unit cost of ``costs`` divided by ``factor`` (gradient counts unchanged)."""

    def div(value):
        if isinstance(value, dict):
            return {k: div(v) for k, v in value.items()}
        return value / factor

    return {
        name: div(
            dict(getattr(costs, name))
            if name in ("train", "predict", "gradient", "represent")
            else getattr(costs, name)
        )
        for name in (
            "train",
            "predict",
            "gradient",
            "represent",
            "load",
            "augment",
            "notebook_start",
        )
    }


@pytest.fixture
def gpu_costs(tmp_path) -> tuple[UnitCosts, Path]:
    """The packaged CPU costs made 100 times faster, as a GPU's, written to a file."""
    cpu = load_unit_costs()
    gpu = replace(
        cpu,
        **scaled(cpu, SPEED_UP),
        device="cuda",
        machine="Test GPU, 80 GiB",
        date="2026-12-01T10:00+00:00",
    )
    return gpu, write_unit_costs(gpu, tmp_path / "gpu_unit_costs.json")


def test_parts_sum_to_the_point_and_split_the_attacks():
    costs = load_unit_costs()
    points = expand(load_sweep(PAPER))
    for point in (points[0], next(p for p in points if p.step == "attack"), points[-1]):
        parts = point_parts(point, costs)
        assert sum(parts.values()) == pytest.approx(point_seconds(point, costs))
        assert all(v >= -1e-6 for v in parts.values())
    attack = point_parts(next(p for p in points if p.step == "attack"), costs)
    grid, cost = costs.attack_gradients["paper"], costs.attack_overhead["paper"]
    # the attack parts stand in the ratio of the attacks' gradients, each at its attack's cost
    assert attack["attack cw"] / attack["attack fgsm"] == pytest.approx(
        grid["cw"] * cost["cw"] / (grid["fgsm"] * cost["fgsm"])
    )
    assert point_parts(Point("s", "k", Path("x.ipynb"), {}), costs) is None


def test_dry_run_projects_gpu_hours_from_a_gpu_unit_costs_file(gpu_costs, tmp_path, capsys):
    gpu, path = gpu_costs
    assert (
        main([str(PAPER), "--dry-run", "--out", str(tmp_path / "o"), "--unit-costs", str(path)])
        == 0
    )
    text = capsys.readouterr().out
    assert "GPU hours" in text and "CPU hours" not in text
    assert "unit costs measured on GPU Test GPU, 80 GiB (host: 2 CPUs), 2026-12-01T10:00" in text
    assert f"projected from {path}" in text
    points = expand(load_sweep(PAPER))
    on_gpu = estimate(points, {}, {}, costs=gpu).parts()
    on_cpu = estimate(points, {}, {}, costs=load_unit_costs()).parts()
    for part in ("training", "features", "attack cw"):
        assert on_gpu[part] == pytest.approx(on_cpu[part] / SPEED_UP)
    assert f"training {on_gpu['training'] / 3600:,.1f}" in text


def test_projection_follows_the_device(gpu_costs, monkeypatch):
    gpu, path = gpu_costs
    missing = path.with_name("absent.json")
    monkeypatch.setattr(unit_costs_module, "GPU_UNIT_COSTS_FILE", missing)
    costs, note = projection_costs("cuda", {})
    assert costs.device == "cpu" and "no GPU unit costs yet" in note and str(missing) in note
    monkeypatch.setattr(unit_costs_module, "GPU_UNIT_COSTS_FILE", path)
    costs, note = projection_costs(None, {"DEVICE": "cuda"})
    assert costs == gpu and note == "projected for the GPU (sweep DEVICE cuda)"
    costs, _ = projection_costs("cpu", {"DEVICE": "cuda"})  # the flag wins over the file
    assert costs.device == "cpu"
    monkeypatch.setattr("torch.cuda.is_available", lambda: True)
    costs, note = projection_costs(None, {"DEVICE": "auto"})
    assert costs == gpu and "a CUDA GPU here" in note
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    assert projection_costs(None, {})[0].device == "cpu"
    with pytest.raises(UnitCostsError, match="device='tpu'"):
        projection_costs("tpu", {})


def test_report_notebook_has_no_training_part():
    parts = point_parts(Point("report", "r", notebook_path("report"), {}), load_unit_costs())
    assert parts["training"] == 0 and parts["start and figures"] > 0


def test_a_cpu_projection_prefers_this_machines_own_unit_costs(tmp_path, monkeypatch, capsys):
    from specnb.bench import sweep_costs
    from specnb.training.precision import machine_key

    monkeypatch.setenv("SPECNB_CACHE_DIR", str(tmp_path / "cache"))
    packaged = load_unit_costs()
    costs, note = projection_costs("cpu", {})
    assert costs == packaged and "packaged" in note and "`specnb bench sweep` measures" in note
    # `specnb bench sweep` (measurement replaced by twice-as-fast costs) writes this machine's
    mine = replace(packaged, **scaled(packaged, 2.0), machine=machine_key(), date="2026-12-07")
    monkeypatch.setattr(sweep_costs, "measure_unit_costs", lambda **kw: mine)
    assert sweep_costs.main([]) == 0
    path = tmp_path / "cache" / "cpu_unit_costs.json"
    assert str(path) in capsys.readouterr().out
    costs, note = projection_costs("cpu", {})
    assert costs == mine
    assert note.startswith(f"projected from this machine's unit costs ({path}")
    points = expand(load_sweep(PAPER))[:3]
    # halved but for the few seconds of figures a notebook draws, which are no unit cost
    assert estimate(points, {}, {}, costs=costs).total_seconds == pytest.approx(
        estimate(points, {}, {}, costs=packaged).total_seconds / 2.0, rel=1e-3
    )
    # another CPU's, or an unreadable file: the packaged ones, with the reason
    write_unit_costs(replace(mine, machine="Another CPU | torch 0.0"), path)
    costs, note = projection_costs("cpu", {})
    assert costs == packaged and "was measured on Another CPU | torch 0.0, not here" in note
    path.write_text("{not json")
    costs, note = projection_costs("cpu", {})
    assert costs == packaged and "unreadable" in note
