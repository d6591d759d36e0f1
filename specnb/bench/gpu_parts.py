"""The GPU check's four parts: the GPU's unit costs, the ``cuda`` tests, a slice of the paper
grid run as a sweep, and the paper grid's GPU hours projected from the unit costs.

:mod:`specnb.bench.gpu_check` runs each in a process of its own with a time limit; each part
returns ``{"ok": bool, "lines": [...], ...}`` for the summary.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any, Callable

__all__ = [
    "PAPER",
    "PARTS",
    "REPO",
    "SLICE_EPOCHS",
    "TARGET_HOURS",
    "paper_slice",
    "part_projection",
    "part_slice",
    "part_tests",
    "part_units",
]

REPO = Path(__file__).resolve().parents[2]
PAPER = REPO / "sweeps" / "paper.yaml"
TESTS = REPO / "tests" / "unit" / "test_cuda.py"

#: Training epochs of the slice's training point.
SLICE_EPOCHS = 3

#: The paper grid's target on one H100-class GPU, in hours.
TARGET_HOURS = 24.0


def _paper_attack_batch() -> int:
    """The attack step's full batch in ``sweeps/paper.yaml`` (its ``BATCH_SIZE``)."""
    from specnb.sweep import load_sweep

    step = next(s for s in load_sweep(PAPER).steps if s.name == "attack")
    return int(step.parameters.get("BATCH_SIZE") or step.parameters["N_SAMPLES"])


def part_units(out: Path) -> dict[str, Any]:
    """Measure the GPU's unit costs; write them beside the CPU's and into ``out``."""
    from specnb.bench.sweep_costs import measure_unit_costs
    from specnb.bench.unit_costs import GPU_UNIT_COSTS_FILE, load_unit_costs, write_unit_costs
    from specnb.training import TrainConfig

    batch = TrainConfig().batch_size * TrainConfig().cuda_batch_scale
    gradient_batch = _paper_attack_batch()
    costs = measure_unit_costs(
        device="cuda",
        batch=batch,
        gradient_batch=gradient_batch,
        repeats=3,
        clips=16,
        attack_samples=gradient_batch,
        report=lambda line: print(line, flush=True),
    )
    written = [write_unit_costs(costs, out / GPU_UNIT_COSTS_FILE.name)]
    try:  # beside the CPU's, for later dry runs; an installed package may be read-only
        written.append(write_unit_costs(costs, GPU_UNIT_COSTS_FILE))
    except OSError as error:
        print(f"not written beside the CPU's: {error}", flush=True)
    train, grads = 1 / costs.train["resnet18"], 1 / costs.gradient["resnet18"]
    cpu = load_unit_costs()
    return {
        "ok": True,
        "train_images_per_s": train,
        "gradients_per_s": grads,
        "lines": [
            f"ResNet-18 training {train:,.0f} images/s (batch {batch}, autocast), input gradients "
            f"{grads:,.0f}/s (batch {gradient_batch})",
            f"that is {cpu.train['resnet18'] / costs.train['resnet18']:,.0f}x and "
            f"{cpu.gradient['resnet18'] / costs.gradient['resnet18']:,.0f}x the packaged CPU's "
            f"({cpu.describe()})",
            "written to " + " and ".join(map(str, written)),
        ],
    }


def _gpu_costs(out: Path) -> Any:
    """The GPU unit costs this check measured (``out``'s copy), else the packaged ones."""
    from specnb.bench.unit_costs import GPU_UNIT_COSTS_FILE, load_unit_costs

    fresh = out / GPU_UNIT_COSTS_FILE.name
    return load_unit_costs(fresh if fresh.is_file() else GPU_UNIT_COSTS_FILE)


def _junit_counts(path: Path) -> dict[str, Any]:
    """Tests, failures, errors and skips of a JUnit XML report, and the failed tests."""
    root = ElementTree.parse(path).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    counts = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    failed = [
        f"{case.get('name')}: {(bad.get('message') or '').splitlines()[0][:160]}"
        for case in suite.iter("testcase")
        for bad in list(case.findall("failure")) + list(case.findall("error"))
    ]
    return {**counts, "failed": failed}


def part_tests(out: Path) -> dict[str, Any]:
    """Run ``tests/unit/test_cuda.py`` (the ``cuda`` tests and their CPU halves) with pytest."""
    report = out / "cuda_tests.xml"
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(TESTS),
        "-q",
        "-p",
        "no:cacheprovider",
        "-o",
        "addopts=",
        f"--junitxml={report}",
        "-rs",
    ]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    (out / "cuda_tests.log").write_text(done.stdout + done.stderr)
    counts = _junit_counts(report)
    passed = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    line = (
        f"{passed} passed, {counts['failures'] + counts['errors']} failed, "
        f"{counts['skipped']} skipped of {counts['tests']}"
    )
    return {"ok": done.returncode == 0, **counts, "lines": [line, *counts["failed"]]}


def paper_slice(path: Path, **changes: dict[str, Any]) -> Path:
    """Write a sweep file of a slice of ``sweeps/paper.yaml`` to ``path``: the first training
    point (ESC-10 MFCC 8 kHz, ResNet-18, augmented) on a synthetic set of ESC-10's size for
    :data:`SLICE_EPOCHS` epochs, and its attack point on the quick grids at full batch size.
    ``changes`` (``defaults``, ``train``, ``attack``: dicts) update those parts (a test's small
    slice on a CPU).

    Examples
    --------
    >>> import tempfile
    >>> from specnb.sweep import expand, load_sweep
    >>> points = expand(load_sweep(paper_slice(Path(tempfile.mkdtemp()) / "slice.yaml")))
    >>> [p.step for p in points]
    ['train', 'attack']
    """
    import yaml

    from specnb.sweep import expand, load_sweep

    paper = load_sweep(PAPER)
    first = next(p for p in expand(paper) if p.step == "train")
    attack = next(s for s in paper.steps if s.name == "attack")
    batch = _paper_attack_batch()
    fixed = {
        "DATASET": "synthetic",
        "N_PER_CLASS": 40,
        "SETTING": first.params["SETTING"],
        "MODEL": first.params["MODEL"],
        "SEED": 0,
        "DEVICE": "cuda",
    }
    train = {k: v for k, v in first.params.items() if k not in fixed}
    attack_params = {k: v for k, v in attack.parameters.items() if k not in fixed}
    spec = {
        "name": "paper-slice",
        "defaults": {**fixed, **changes.get("defaults", {})},
        "steps": [
            {
                "name": "train",
                "notebook": "training",
                "parameters": {**train, "EPOCHS": SLICE_EPOCHS, **changes.get("train", {})},
            },
            {
                "name": "attack",
                "notebook": "attacks",
                "after": "train",
                "match": ["DATASET", "SETTING", "MODEL", "SEED"],
                "parameters": {
                    **attack_params,
                    "GRID": "quick",
                    "N_SAMPLES": batch,
                    "BATCH_SIZE": batch,
                    "LISTEN": False,
                    **changes.get("attack", {}),
                },
            },
        ],
    }
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def part_slice(out: Path, sweep: Path | None = None) -> dict[str, Any]:
    """Run a sweep (default :func:`paper_slice`) in ``out/slice``; give each point's measured
    seconds beside those projected from the GPU's unit costs (when measured)."""
    from specnb.bench.notebook_costs import register_notebook_costs
    from specnb.bench.unit_costs import UnitCostsError
    from specnb.store import ResultsStore
    from specnb.sweep import expand, load_sweep, run_sweep
    from specnb.sweep.point_projection import point_seconds

    register_notebook_costs()
    sweep = sweep if sweep is not None else paper_slice(out / "slice.yaml")
    summary = run_sweep(sweep, out=out / "slice", workers=1, progress=False)
    try:
        costs = _gpu_costs(out)
    except UnitCostsError:
        costs = None
    store = ResultsStore(out / "slice" / "results.sqlite")
    lines, points = [], []
    for point in expand(load_sweep(sweep)):
        row = dict(store.get_point(point.key) or {})
        seconds = None
        if row.get("status") == "done":
            seconds = (
                dt.datetime.fromisoformat(row["finished_at"])
                - dt.datetime.fromisoformat(row["started_at"])
            ).total_seconds()
        projected = point_seconds(point, costs) if costs is not None else None
        points.append(
            {
                "step": point.step,
                "status": row.get("status"),
                "seconds": seconds,
                "projected": projected,
                "error": row.get("error"),
            }
        )
        shown = f"{seconds:.0f} s" if seconds is not None else row.get("error") or "not run"
        ratio = f", projected {projected:.0f} s" if projected else ""
        lines.append(f"{point.step}: {row.get('status', 'pending')} {shown}{ratio}")
    return {"ok": summary.ok, "points": points, "lines": lines}


def part_projection(out: Path) -> dict[str, Any]:
    """The paper grid's hours on one GPU from its unit costs, by step and part."""
    from specnb.bench.notebook_costs import register_notebook_costs
    from specnb.sweep import expand, load_sweep
    from specnb.sweep.estimate import estimate

    register_notebook_costs()
    costs = _gpu_costs(out)
    projection = estimate(expand(load_sweep(PAPER)), {}, {}, workers=1, costs=costs)
    (out / "paper_projection.txt").write_text(str(projection) + "\n")
    hours = projection.total_seconds / 3600
    parts = sorted(projection.parts().items(), key=lambda item: -item[1])
    verdict = "within" if hours <= TARGET_HOURS else "over"
    return {
        "ok": True,
        "gpu_hours": hours,
        "parts": dict(parts),
        "lines": [
            f"paper grid: {hours:,.1f} {costs.hours_label} on one {costs.machine} ({verdict} the "
            f"{TARGET_HOURS:.0f} h target)",
            "largest parts: " + ", ".join(f"{n} {s / 3600:,.1f} h" for n, s in parts[:6]),
        ],
    }


PARTS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "units": part_units,
    "tests": part_tests,
    "slice": part_slice,
    "projection": part_projection,
}
