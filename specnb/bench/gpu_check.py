"""``specnb doctor --gpu``: prove the CUDA paths and price the paper grid, in minutes.

Four parts, each in a process of its own with a time limit, so that a crash, a hang or an
out-of-memory error in one leaves the others' results standing:

``units``
    The unit costs of the GPU (:func:`specnb.bench.sweep_costs.measure_unit_costs` on CUDA, training
    batches of ``32 * cuda_batch_scale`` under autocast, input gradients on the full attack
    batch of ``sweeps/paper.yaml``), written to :data:`~specnb.bench.unit_costs.GPU_UNIT_COSTS_FILE`
    and to the output folder.
``tests``
    ``tests/unit/test_cuda.py``: the tests marked ``cuda`` (CPU and CUDA results side by side)
    and their CPU halves.
``slice``
    A slice of ``sweeps/paper.yaml`` run as a sweep: its first training point on a synthetic
    set of ESC-10's size for :data:`SLICE_EPOCHS` epochs, and that model attacked with the
    six attacks on their quick grids at the full batch size; each point's measured seconds
    beside the seconds projected from the GPU's unit costs.
``projection``
    The paper grid's GPU hours projected from the GPU's unit costs, by step and part.

Without CUDA it says so in one line and runs the CPU halves of the tests only. The summary is
printed and written to ``OUT/gpu_check_summary.txt`` (and ``OUT/gpu_check.json``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import traceback
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any, Callable, Sequence

__all__ = ["BUDGETS", "PART_ORDER", "SLICE_EPOCHS", "TARGET_HOURS", "main", "paper_slice"]

REPO = Path(__file__).resolve().parents[2]
PAPER = REPO / "sweeps" / "paper.yaml"
TESTS = REPO / "tests" / "unit" / "test_cuda.py"

#: Seconds each part may run on a GPU (8 minutes in all; what a part leaves goes to the next).
BUDGETS: dict[str, int] = {"units": 120, "tests": 150, "slice": 180, "projection": 30}

#: The parts in the order they run (the projection reads the units' file).
PART_ORDER = ("units", "tests", "slice", "projection")

#: Training epochs of the slice's training point.
SLICE_EPOCHS = 3

#: The paper grid's target on one H100-class GPU, in hours.
TARGET_HOURS = 24.0


def _environment() -> dict[str, Any]:
    """torch and CUDA versions, and the GPU's name and memory when there is one."""
    import torch

    env: dict[str, Any] = {"torch": torch.__version__, "cuda": torch.cuda.is_available()}
    if env["cuda"]:
        props = torch.cuda.get_device_properties(0)
        env.update(
            gpu=props.name,
            memory_gib=round(props.total_memory / 2**30, 1),
            cuda_version=torch.version.cuda,
            gpus=torch.cuda.device_count(),
        )
    return env


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
    from specnb.sweep.estimate import point_seconds

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


def _run_part(name: str, out: Path, timeout: float) -> dict[str, Any]:
    """Run one part in a child process (its own session) limited to ``timeout`` seconds."""
    result_file, log = out / f"{name}.json", out / f"{name}.log"
    result_file.unlink(missing_ok=True)
    start = time.perf_counter()
    with log.open("w") as stream:
        child = subprocess.Popen(
            [sys.executable, "-m", "specnb.bench.gpu_check", "--part", name, "--out", str(out)],
            stdout=stream,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join(
                    filter(None, [str(REPO), os.environ.get("PYTHONPATH")])
                ),
            },
        )
        try:
            child.wait(timeout=max(timeout, 1))
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    seconds = time.perf_counter() - start
    if result_file.is_file():
        return {**json.loads(result_file.read_text()), "seconds": seconds}
    tail = log.read_text(errors="replace").strip().splitlines()[-3:]
    why = (
        f"timed out after {timeout:.0f} s"
        if child.returncode == -signal.SIGKILL
        else f"exit {child.returncode}"
    )
    return {"ok": False, "seconds": seconds, "lines": [f"{why}; see {log}", *tail]}


def _child(name: str, out: Path) -> int:
    """Body of a part's process: write its result, or its error, to ``out/<name>.json``."""
    try:
        result = PARTS[name](out)
    except BaseException as error:  # every failure becomes a result the summary shows
        traceback.print_exc()
        result = {"ok": False, "lines": [f"{type(error).__name__}: {error}"]}
    (out / f"{name}.json").write_text(json.dumps(result, indent=1, default=str))
    return 0 if result["ok"] else 1


def summarise(env: dict[str, Any], results: dict[str, dict[str, Any]]) -> str:
    """The summary: the GPU, then each part's verdict, time and lines."""
    when = dt.datetime.now(dt.timezone.utc).isoformat(timespec="minutes")
    if env.get("cuda"):
        head = (
            f"specnb GPU check, {when}: {env['gpu']} ({env['memory_gib']} GiB, "
            f"{env['gpus']} GPU(s)), torch {env['torch']}, CUDA {env['cuda_version']}"
        )
    else:
        head = f"specnb GPU check, {when}: no CUDA GPU (torch {env.get('torch')}); CPU halves only"
    lines = [head]
    for name, result in results.items():
        verdict = "PASS" if result.get("ok") else "FAIL"
        lines.append(f"  {name}: {verdict} ({result.get('seconds', 0):.0f} s)")
        lines += [f"    {line}" for line in result.get("lines", [])]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``specnb doctor --gpu [--out DIR]``: run the parts, print and write the summary.

    Returns 0 when every part run passed (without CUDA: the CPU halves of the tests).
    """
    parser = argparse.ArgumentParser(prog="specnb doctor", description=__doc__.splitlines()[0])
    parser.add_argument("--gpu", action="store_true", help="check the CUDA paths (required)")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("runs") / "gpu-check",
        help="folder of the summary, the logs and the GPU unit costs",
    )
    parser.add_argument("--part", choices=list(PARTS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    if args.part:
        return _child(args.part, out)
    if not args.gpu:
        parser.error("only the GPU check exists so far: pass --gpu")
    try:
        env = _environment()
    except Exception as error:  # a broken driver still gets a summary
        env = {"cuda": False, "error": f"{type(error).__name__}: {error}"}
    parts = PART_ORDER if env.get("cuda") else ("tests",)
    if not env.get("cuda"):
        print(
            "specnb doctor: no CUDA GPU here; running the CPU halves of the cuda tests only",
            flush=True,
        )
    results: dict[str, dict[str, Any]] = {}
    saved = 0.0  # seconds earlier parts left of their budgets, passed on to the next
    for name in parts:
        limit = BUDGETS[name] + saved if env.get("cuda") else 900
        started = time.perf_counter()
        results[name] = _run_part(name, out, limit)
        saved = max(0.0, limit - (time.perf_counter() - started))
        print(f"{name}: {'PASS' if results[name]['ok'] else 'FAIL'}", flush=True)
    text = summarise(env, results)
    (out / "gpu_check_summary.txt").write_text(text + "\n")
    (out / "gpu_check.json").write_text(
        json.dumps({"environment": env, "parts": results}, indent=1, default=str)
    )
    print(text)
    print(f"summary: {out / 'gpu_check_summary.txt'}")
    return 0 if all(r.get("ok") for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
