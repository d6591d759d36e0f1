"""``specnb sweep --dry-run``: the command line wires the notebooks' cost models into the sweep
engine, which knows none of them, and projects exactly as with them registered by hand."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from specnb.cli import main as specnb_main
from specnb.sweep import main as sweep_main
from specnb.sweep.cost_registry import clear_costs, cost_model

REPO = Path(__file__).resolve().parents[3]


def _dry_run(run, sweep: str, out: Path, capsys) -> str:
    args = [str(REPO / "sweeps" / sweep), "--dry-run", "--out", str(out), "--device", "cpu"]
    assert run(args) == 0
    return capsys.readouterr().out


def test_specnb_sweep_projects_as_with_the_cost_models_registered_by_hand(tmp_path, capsys):
    # The fixture of tests/unit/sweep/conftest.py registered the notebooks' cost models.
    registered = _dry_run(sweep_main, "paper.yaml", tmp_path / "a", capsys)
    clear_costs()
    assert cost_model("02_training.ipynb") is None
    via_cli = _dry_run(
        lambda args: specnb_main(["sweep", *args]), "paper.yaml", tmp_path / "a", capsys
    )
    assert via_cli == registered
    assert "projected from unit costs" in via_cli and "attack cw" in via_cli
    clear_costs()
    unregistered = _dry_run(sweep_main, "paper.yaml", tmp_path / "a", capsys)
    assert "projected from unit costs" not in unregistered


def test_python_m_specnb_sweep_prints_the_registered_projection(tmp_path, capsys):
    registered = _dry_run(sweep_main, "quick.yaml", tmp_path / "q", capsys)
    command = [sys.executable, "-m", "specnb", "sweep", str(REPO / "sweeps" / "quick.yaml")]
    command += ["--dry-run", "--out", str(tmp_path / "q"), "--device", "cpu"]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=tmp_path)
    assert done.stdout == registered
