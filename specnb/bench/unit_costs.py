"""Unit costs of a sweep's work, measured on this machine's CPU (``specnb bench sweep``).

A dry run of a sweep (``specnb sweep FILE --dry-run``) projects the time of every grid point
from these numbers (:mod:`specnb.sweep.estimate`): seconds per clip per training epoch and per
input gradient of every architecture, seconds per clip to read, pitch-shift and represent
audio, seconds per attacked sample of every attack over its ``quick`` and ``paper`` grids, and
the fixed cost of starting one papermill notebook. They are written to
:data:`UNIT_COSTS_FILE`, shipped with the package, with a description of the machine.

Attacks run on a randomly initialised SB-CNN with every sample counted as correctly
classified; they count their input gradients per sample (:mod:`specnb.attacks.counting`), and
those counts times an architecture's seconds per gradient give its attack time. The points of
a grid beyond :data:`BUDGET_CAPS` are not run: their seconds and gradients are the largest
run point's, scaled by the ratio of the budgets. A random model is fooled later than a
trained one by the targeted attacks, so their counts lean high.

Examples
--------
>>> costs = load_unit_costs()
>>> costs.train["resnet18"] > costs.train["sbcnn"]
True
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from specnb.errors import UnitCostsError

__all__ = [
    "ATTACK_MODEL",
    "CLIP_SECONDS",
    "BUDGET_CAPS",
    "REFERENCE_SETTINGS",
    "UNIT_COSTS_FILE",
    "UnitCosts",
    "UnitCostsError",
    "load_unit_costs",
    "main",
    "measure_unit_costs",
    "write_unit_costs",
]

#: The packaged unit costs of the CPU they were measured on.
UNIT_COSTS_FILE = Path(__file__).parents[1] / "data_files" / "cpu_unit_costs.json"

#: Duration in seconds of the clips the representation costs are measured on (ESC-50's).
CLIP_SECONDS = 5.0

#: The setting each representation kind is timed with (the paper's most used ones).
REFERENCE_SETTINGS: dict[str, dict[str, Any]] = {
    "mfcc": {"repr": "mfcc", "sr": 22050, "n_mfcc": 20, "hop_length": 1024},
    "stft": {"repr": "stft", "sr": 22050, "n_fft": 1024},
    "mel": {"repr": "mel", "sr": 22050, "n_fft": 1024},
    "wavelet": {"repr": "wavelet", "sr": 8000, "wavelet": "cmor1.5-1.0", "frame_ms": 50.0},
}

#: Architecture the attacks are timed on.
ATTACK_MODEL = "sbcnn"

#: Largest scalar budget run, by grid and attack; the points above it are extrapolated
#: linearly in the budget from the largest point run (an upper bound: the attacks that stop
#: early cost less).
BUDGET_CAPS: dict[str, dict[str, float]] = {
    "quick": {"jsma": 0.001},
    "paper": {"deepfool": 200, "jsma": 0.002, "cw": 300, "lbfgs": 10},
}

_ATTACKS = ("fgsm", "deepfool", "bim-a", "bim-b", "jsma", "cw", "lbfgs")
_CLASSES = 10


@dataclass(frozen=True)
class UnitCosts:
    """Seconds of the units of work a sweep point is made of, on one machine.

    Attributes
    ----------
    machine : str
        The CPU and platform (``platform.processor()`` / ``platform.platform()``).
    cpu_count : int
        Logical CPUs of the machine.
    torch_threads : int
        ``torch.get_num_threads()`` during the measurements.
    date : str
        ISO date of the measurements.
    train : mapping of str to float
        Seconds per clip per training epoch (forward, backward and AdamW step on batches of
        32 images of 3x128x128), by architecture.
    predict : mapping of str to float
        Seconds per clip of a forward pass without gradients, by architecture.
    gradient : mapping of str to float
        Seconds per sample of one input gradient (forward and backward), by architecture.
    represent : mapping of str to float
        Seconds per :data:`CLIP_SECONDS` clip to compute the representation at the setting of
        :data:`REFERENCE_SETTINGS` and make its 128x128 image, by kind.
    load : float
        Seconds to read one clip and resample it to 22050 Hz.
    augment : float
        Seconds to make one pitch-shifted copy of a clip at 22050 Hz.
    attack : mapping of str to mapping of str to float
        Seconds per attacked sample over a whole budget grid on :data:`ATTACK_MODEL`, by
        grid (``quick``, ``paper``) and attack.
    attack_gradients : mapping of str to mapping of str to float
        Input gradients per attacked sample over a whole budget grid, counted by the attacks
        on :data:`ATTACK_MODEL` (see :mod:`specnb.attacks.counting`), by grid and attack;
        times :attr:`gradient` they give the seconds on any architecture.
    notebook_start : float
        Seconds of one papermill execution of a notebook that only imports the packages the
        notebooks use.
    notes : str
        How the numbers were taken.
    """

    machine: str
    cpu_count: int
    torch_threads: int
    date: str
    train: Mapping[str, float]
    predict: Mapping[str, float]
    gradient: Mapping[str, float]
    represent: Mapping[str, float]
    load: float
    augment: float
    attack: Mapping[str, Mapping[str, float]]
    attack_gradients: Mapping[str, Mapping[str, float]]
    notebook_start: float
    notes: str = field(default="")

    def describe(self) -> str:
        """``"<machine>, N CPUs, T torch threads, <date>"``."""
        threads = f"{self.torch_threads} torch threads"
        return f"{self.machine}, {self.cpu_count} CPUs, {threads}, {self.date}"


def load_unit_costs(path: str | Path = UNIT_COSTS_FILE) -> UnitCosts:
    """Read unit costs written by :func:`write_unit_costs`.

    Parameters
    ----------
    path : str or Path
        A JSON file; default the packaged :data:`UNIT_COSTS_FILE`.

    Returns
    -------
    UnitCosts

    Raises
    ------
    UnitCostsError
        The file is missing, is not JSON, or lacks a field; the message names the file and
        says how to make it again.
    """
    path = Path(path)
    hint = "run `specnb bench sweep` to measure them"
    try:
        data = json.loads(path.read_text())
    except OSError as error:
        raise UnitCostsError(f"{path}: cannot read the CPU unit costs ({error}); {hint}") from error
    except ValueError as error:
        raise UnitCostsError(f"{path}: the CPU unit costs are not valid JSON ({error}); {hint}") \
            from error
    try:
        return UnitCosts(**data)
    except TypeError as error:
        raise UnitCostsError(f"{path}: not a CPU unit costs file ({error}); {hint}") from error


def write_unit_costs(costs: UnitCosts, path: str | Path = UNIT_COSTS_FILE) -> Path:
    """Write ``costs`` as JSON to ``path`` atomically; return the path."""
    from specnb.atomic import atomic_write

    path = Path(path)
    text = json.dumps(asdict(costs), indent=1, sort_keys=True) + "\n"
    atomic_write(path, lambda stream: stream.write(text.encode()))
    return path


def _best(run: Callable[[], object], repeats: int) -> float:
    """Least wall time of ``repeats`` calls of ``run`` after one warm-up call."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def _model_costs(models: Sequence[str], batch: int, repeats: int) -> dict[str, dict[str, float]]:
    """Training, prediction and input-gradient seconds per clip of each architecture."""
    import torch

    from specnb.models import IMAGE_SHAPE, build_model

    out: dict[str, dict[str, float]] = {"train": {}, "predict": {}, "gradient": {}}
    images = torch.rand(batch, *IMAGE_SHAPE)
    labels = torch.arange(batch) % _CLASSES
    for name in models:
        model = build_model(name, _CLASSES, seed=0)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)

        def train_step() -> None:
            model.train()
            optimizer.zero_grad()
            output = model(images)
            logits = output[0] if isinstance(output, tuple) else output
            torch.nn.functional.cross_entropy(logits, labels).backward()
            optimizer.step()

        def predict() -> None:
            model.eval()
            with torch.no_grad():
                model(images)

        def gradient() -> None:
            model.eval()
            x = images.clone().requires_grad_(True)
            torch.autograd.grad(model(x).sum(), x)

        out["train"][name] = _best(train_step, repeats) / batch
        out["predict"][name] = _best(predict, repeats) / batch
        out["gradient"][name] = _best(gradient, repeats) / batch
    return out


def _audio_costs(clips: int, data: Path | None) -> tuple[dict[str, float], float, float, str]:
    """Representation seconds per clip by kind, reading and pitch-shifting seconds per clip."""
    import soundfile as sf

    from specnb.data.audio import load_audio
    from specnb.data.augment import pitch_shift
    from specnb.representations import setting_from_dict
    from specnb.representations.compute import represent
    from specnb.representations.images import to_image

    rng = np.random.default_rng(0)
    represent_seconds = {}
    for kind, fields in REFERENCE_SETTINGS.items():
        setting = setting_from_dict(fields)
        waves = rng.standard_normal((clips, int(CLIP_SECONDS * setting.sr))).astype(np.float32)

        def run() -> None:
            for raw in represent(waves, setting, device="cpu"):
                to_image(raw, setting.colormap)

        represent_seconds[kind] = _best(run, 1) / clips
    files = sorted((data / "audio").glob("*.ogg"))[:clips] if data is not None else []
    with tempfile.TemporaryDirectory() as tmp:
        source = f"{len(files)} clips of {data}"
        if not files:
            source = "synthetic 44.1 kHz stereo WAV files"
            for i in range(clips):
                files.append(Path(tmp) / f"clip{i}.wav")
                wave = rng.standard_normal((int(CLIP_SECONDS * 44100), 2)) * 0.1
                sf.write(files[-1], wave, 44100)
        load = _best(lambda: [load_audio(f, 22050) for f in files], 1) / len(files)
    y = rng.standard_normal(int(CLIP_SECONDS * 22050)).astype(np.float32)
    augment = _best(lambda: pitch_shift(y, 22050, 0.75), 1)
    return represent_seconds, load, augment, source


def _attack_costs(
    samples: int, attacks: Sequence[str]
) -> dict[str, dict[str, dict[str, float]]]:
    """Seconds and input gradients per attacked sample over each grid (a random
    :data:`ATTACK_MODEL`), by ``"seconds"`` / ``"gradients"``, grid and attack."""
    import torch

    from specnb.attack_eval import evaluate_attack
    from specnb.attack_eval.budgets import BudgetGrid
    from specnb.attack_eval.evaluate import predict
    from specnb.attack_eval.grids import budget_grid
    from specnb.models import IMAGE_SHAPE, build_model

    model = build_model(ATTACK_MODEL, _CLASSES, seed=0).eval()
    images = torch.rand(samples, *IMAGE_SHAPE)
    labels = predict(model, images)
    out: dict[str, dict[str, dict[str, float]]] = {
        part: {grid: {} for grid in BUDGET_CAPS} for part in ("seconds", "gradients")
    }
    for grid_name in BUDGET_CAPS:
        for attack in attacks:
            grid = budget_grid(attack, grid_name)
            cap = BUDGET_CAPS[grid_name].get(grid.attack, math.inf)
            keep = [i for i, b in enumerate(grid.budgets) if b <= cap] or [0]
            run = BudgetGrid(
                grid.attack, grid.param_names, [grid.values[i] for i in keep],
                [grid.budgets[i] for i in keep], grid.budget_name, grid.fixed, grid.name,
            )
            ev = evaluate_attack(model, run, images, labels, batch_size=samples)
            seconds = [r.seconds / samples for r in ev.results]
            grads = [r.grads_per_sample for r in ev.results]
            beyond = sum(b / run.budgets[-1] for i, b in enumerate(grid.budgets) if i not in keep)
            out["seconds"][grid_name][grid.attack] = sum(seconds) + seconds[-1] * beyond
            out["gradients"][grid_name][grid.attack] = sum(grads) + grads[-1] * beyond
    return out


def _notebook_start() -> float:
    """Seconds of a papermill execution of a notebook whose one cell imports what the
    notebooks import (specnb's training and attack packages, matplotlib, pandas)."""
    import nbformat
    import papermill as pm

    from specnb.sweep.papermill_exec import quiet_papermill

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells.append(nbformat.v4.new_code_cell(
        "import matplotlib.pyplot, pandas, torch, specnb.training, specnb.attack_eval"
    ))
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "start.ipynb", Path(tmp) / "out.ipynb"
        nbformat.write(nb, source)
        with quiet_papermill():
            return _best(lambda: pm.execute_notebook(str(source), str(target), progress_bar=False),
                         1)


def measure_unit_costs(
    *,
    models: Sequence[str] | None = None,
    attacks: Sequence[str] = _ATTACKS,
    batch: int = 32,
    repeats: int = 2,
    clips: int = 8,
    attack_samples: int = 2,
    data: str | Path | None = None,
    notebook: bool = True,
    report: Callable[[str], None] = print,
) -> UnitCosts:
    """Measure the unit costs of a sweep on this machine.

    Parameters
    ----------
    models : sequence of str, optional
        Architectures to time (default every one of :data:`specnb.models.MODELS`).
    attacks : sequence of str
        Attacks to time on both grids.
    batch : int
        Images per training, prediction and gradient batch (3x128x128).
    repeats : int
        Timed repetitions after a warm-up; the least time counts.
    clips : int
        Clips represented and read.
    attack_samples : int
        Samples attacked (one batch).
    data : str or Path, optional
        An ESC-50 folder (``audio/*.ogg``) whose clips are read; default synthetic WAV files.
    notebook : bool
        Time a papermill notebook start (otherwise 0).
    report : callable
        Receives one line per finished part.

    Returns
    -------
    UnitCosts

    Examples
    --------
    >>> costs = measure_unit_costs(models=["sbcnn"], attacks=["fgsm"], batch=2, repeats=1,
    ...                            clips=1, attack_samples=2, notebook=False, report=len)
    >>> costs.train["sbcnn"] > 0
    True
    """
    import torch

    from specnb.models import MODELS

    started = time.perf_counter()
    model_costs = _model_costs(list(models or MODELS), batch, repeats)
    report(f"models: {time.perf_counter() - started:.0f} s")
    represent_seconds, load, augment, source = _audio_costs(
        clips, Path(data) if data is not None else None
    )
    report(f"audio: {time.perf_counter() - started:.0f} s")
    attack = _attack_costs(attack_samples, attacks)
    report(f"attacks: {time.perf_counter() - started:.0f} s")
    start = _notebook_start() if notebook else 0.0
    return UnitCosts(
        machine=f"{platform.processor() or platform.machine()} ({platform.platform()})",
        cpu_count=os.cpu_count() or 1, torch_threads=torch.get_num_threads(),
        date=dt.date.today().isoformat(), **model_costs, represent=represent_seconds,
        load=load, augment=augment, attack=attack["seconds"],
        attack_gradients=attack["gradients"], notebook_start=start,
        notes=(
            f"torch {torch.__version__}; batch {batch}; audio read from {source}; attacks on "
            f"{attack_samples} samples of a random {ATTACK_MODEL} with {_CLASSES} classes; "
            f"grid points beyond {BUDGET_CAPS} extrapolated by budget"
        ),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``specnb bench sweep [--out FILE] [--data DIR] [--models ...]``: measure and write."""
    parser = argparse.ArgumentParser(
        prog="specnb bench sweep", description="Measure the CPU unit costs of sweep points."
    )
    parser.add_argument("--out", type=Path, default=UNIT_COSTS_FILE, help="JSON file written")
    parser.add_argument("--data", type=Path, default=None, help="ESC-50 folder to read clips of")
    parser.add_argument("--models", nargs="+", default=None, help="architectures (default all)")
    args = parser.parse_args(argv)
    costs = measure_unit_costs(models=args.models, data=args.data)
    path = write_unit_costs(costs, args.out)
    print(f"{path}: {costs.describe()}")
    for part in ("train", "predict", "gradient", "represent"):
        values = ", ".join(f"{k} {v * 1e3:.1f}" for k, v in getattr(costs, part).items())
        print(f"  {part} (ms per clip): {values}")
    print(f"  load {costs.load * 1e3:.1f} ms, pitch shift {costs.augment * 1e3:.1f} ms per clip")
    for grid, seconds in costs.attack.items():
        print(f"  attacks, {grid} grid (s per sample on {ATTACK_MODEL}): "
              + ", ".join(f"{k} {v:.2f}" for k, v in seconds.items()))
        print(f"  attacks, {grid} grid (gradients per sample): "
              + ", ".join(f"{k} {v:.0f}" for k, v in costs.attack_gradients[grid].items()))
    print(f"  notebook start {costs.notebook_start:.1f} s")
    return 0
