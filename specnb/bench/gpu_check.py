"""``specnb doctor --gpu``: prove the CUDA paths and price the paper grid, in minutes.

Four parts (:mod:`specnb.bench.gpu_parts`), each in a process of its own with a time limit,
so that a crash, a hang or an out-of-memory error in one leaves the others' results standing:

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
    set of ESC-10's size for :data:`~specnb.bench.gpu_parts.SLICE_EPOCHS` epochs, and that
    model attacked with the six attacks on their quick grids at the full batch size; each
    point's measured seconds beside the seconds projected from the GPU's unit costs.
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
from pathlib import Path
from typing import Any, Sequence

from specnb.bench.gpu_parts import PARTS, REPO

__all__ = ["BUDGETS", "PART_ORDER", "main"]

#: Seconds each part may run on a GPU (8 minutes in all; what a part leaves goes to the next).
BUDGETS: dict[str, int] = {"units": 120, "tests": 150, "slice": 180, "projection": 30}

#: The parts in the order they run (the projection reads the units' file).
PART_ORDER = ("units", "tests", "slice", "projection")


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
