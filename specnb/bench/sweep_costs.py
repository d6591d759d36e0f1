"""Unit costs of a sweep's work, measured on this machine's CPU (``specnb bench sweep``) or
on its CUDA GPU (``specnb doctor --gpu``, which writes
:data:`~specnb.bench.unit_costs.GPU_UNIT_COSTS_FILE`).

A dry run of a sweep (``specnb sweep FILE --dry-run``) projects the time of every grid point
from these numbers (:mod:`specnb.sweep.estimate`): seconds per clip per training epoch and per
input gradient of every architecture, seconds per clip to read, pitch-shift and represent
audio, seconds per attacked sample of every attack over its ``quick`` and ``paper`` grids, and
the fixed cost of starting one papermill notebook. A CPU's are written to this machine's own
file (:func:`~specnb.bench.unit_costs.machine_unit_costs_file`), which dry runs on this machine
then prefer, or with ``--out`` to :data:`~specnb.bench.unit_costs.UNIT_COSTS_FILE` to replace the
packaged ones; a GPU's to :data:`~specnb.bench.unit_costs.GPU_UNIT_COSTS_FILE`; each with a
description of the machine (a CPU's: its model and the torch version) and the device.

On CUDA, training steps run under float16 autocast on batches of ``32 * cuda_batch_scale``
images as :func:`specnb.training.train_cv` runs them there, input gradients in float32 on
batches of the paper's attack batch, and representations with the torch backend on the GPU;
reading and pitch-shifting audio and the notebook start stay on the host's CPU.

Attacks run on a randomly initialised SB-CNN with every sample counted as correctly
classified; they count their input gradients per sample (:mod:`specnb.attacks.counting`), and
their seconds over those counts give each attack's cost per gradient, which times an
architecture's seconds per gradient give its attack time (the counts of trained victims,
:mod:`specnb.bench.victim_gradients`, replace the random model's in a projection). The points of
a grid beyond :data:`BUDGET_CAPS` are not run: their seconds and gradients are the largest
run point's, scaled by the ratio of the budgets. A grid costs what its attack
runs cost: where one run at the largest budget serves the smaller ones
(:func:`specnb.attack_eval.curve_runs`), only that run's gradients count
(:mod:`specnb.bench.attack_grid_costs`).

The unit costs themselves, their files and their loading live in :mod:`specnb.bench.unit_costs`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from specnb.bench.attack_grid_costs import attack_grid_costs
from specnb.bench.unit_costs import (
    ATTACK_MODEL,
    BUDGET_CAPS,
    CLIP_SECONDS,
    REFERENCE_SETTINGS,
    UNIT_COSTS_FILE,
    UnitCosts,
    machine_unit_costs_file,
    write_unit_costs,
)

__all__ = ["main", "measure_unit_costs"]

_ATTACKS = ("fgsm", "deepfool", "bim-a", "bim-b", "jsma", "cw", "lbfgs")
_CLASSES = 10


def _best(run: Callable[[], object], repeats: int, device: str = "cpu") -> float:
    """Least wall time of ``repeats`` calls of ``run`` after one warm-up call (on CUDA,
    each timed call ends when the GPU has finished its work)."""
    import torch

    def sync() -> None:
        if device.startswith("cuda"):
            torch.cuda.synchronize(device)

    run()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        sync()
        times.append(time.perf_counter() - start)
    return min(times)


def _model_costs(
    models: Sequence[str],
    batch: int,
    repeats: int,
    device: str = "cpu",
    gradient_batch: int | None = None,
) -> dict[str, dict[str, float]]:
    """Training, prediction and input-gradient seconds per clip of each architecture
    (training in the precision :func:`specnb.training.train_cv` resolves for it: float16
    autocast on CUDA, on a CPU the faster of float32 and bfloat16 with channels-last, there
    through the strong recipe's epoch, :func:`specnb.bench.training.epoch_runner`, whose
    shifts, masks and mixup cost SB-CNN about a quarter more than its bare steps; input
    gradients in float32 on the contiguous layout, as the attacks run a loaded victim)."""
    import torch

    from specnb.bench.training import epoch_runner
    from specnb.models import IMAGE_SHAPE, build_model
    from specnb.training import TrainConfig
    from specnb.training.precision import resolve_precision

    out: dict[str, dict[str, float]] = {"train": {}, "predict": {}, "gradient": {}}
    labels = torch.arange(batch, device=device) % _CLASSES
    cached = torch.randint(0, 256, (batch, *IMAGE_SHAPE), dtype=torch.uint8)
    probes = torch.rand(gradient_batch or batch, *IMAGE_SHAPE, device=device)
    for name in models:
        config = TrainConfig(model=name, batch_size=batch, device=device)
        precision = resolve_precision(config, torch.device(device))
        amp = precision.amp
        layout = torch.channels_last if precision.channels_last else torch.contiguous_format
        images = torch.rand(batch, *IMAGE_SHAPE, device=device).contiguous(memory_format=layout)
        model = build_model(name, _CLASSES, seed=0).to(device, memory_format=layout)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
        scaler = torch.amp.GradScaler("cuda", enabled=amp)

        def train_step() -> None:
            model.train()
            optimizer.zero_grad()
            with torch.autocast(torch.device(device).type, enabled=amp):
                output = model(images)
                logits = output[0] if isinstance(output, tuple) else output
                loss = torch.nn.functional.cross_entropy(logits.float(), labels)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()

        def predict() -> None:
            model.eval()
            with torch.no_grad(), torch.autocast(torch.device(device).type, enabled=amp):
                model(images)

        def gradient() -> None:
            model.eval()
            x = probes.clone().requires_grad_(True)
            torch.autograd.grad(model(x).sum(), x)

        if device.startswith("cuda"):
            out["train"][name] = _best(train_step, repeats, device) / batch
        else:  # the loop a strong-recipe run trains with: shifts, masks, mixup, schedule
            epoch = epoch_runner("ours recipe", name, cached, labels.cpu(), batch)
            out["train"][name] = _best(lambda: epoch(1), repeats, device) / batch
        out["predict"][name] = _best(predict, repeats, device) / batch
        # as an attack runs its victim: float32, in the layout a checkpoint loads in
        model = model.to(memory_format=torch.contiguous_format)
        out["gradient"][name] = _best(gradient, repeats, device) / len(probes)
    return out


def _audio_costs(
    clips: int, data: Path | None, device: str = "cpu"
) -> tuple[dict[str, float], float, float, str]:
    """Representation seconds per clip by kind, reading and pitch-shifting seconds per clip."""
    import soundfile as sf

    from specnb.data.audio import load_audio
    from specnb.data.augment import pitch_shift
    from specnb.representations import setting_from_dict
    from specnb.representations.compute import represent
    from specnb.representations.images import setting_image

    rng = np.random.default_rng(0)
    represent_seconds = {}
    for kind, fields in REFERENCE_SETTINGS.items():
        setting = setting_from_dict(fields)
        waves = rng.standard_normal((clips, int(CLIP_SECONDS * setting.sr))).astype(np.float32)

        def run() -> None:
            for raw in represent(waves, setting, device=device):
                setting_image(raw, setting)

        represent_seconds[kind] = _best(run, 1, device) / clips
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


def _notebook_start() -> float:
    """Seconds of a papermill execution of a notebook whose one cell imports what the
    notebooks import (specnb's training and attack packages, matplotlib, pandas)."""
    import nbformat
    import papermill as pm

    from specnb.sweep.papermill_exec import quiet_papermill

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "import matplotlib.pyplot, pandas, torch, specnb.training, specnb.attack_eval"
        )
    )
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "start.ipynb", Path(tmp) / "out.ipynb"
        nbformat.write(nb, source)
        with quiet_papermill():
            return _best(
                lambda: pm.execute_notebook(str(source), str(target), progress_bar=False), 1
            )


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
    device: str = "cpu",
    gradient_batch: int | None = None,
) -> UnitCosts:
    """Measure the unit costs of a sweep on this machine's CPU or on one of its GPUs.

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
    device : str
        ``"cpu"``, or ``"cuda"`` / ``"cuda:N"``: models, attacks and representations run
        there (training steps under float16 autocast).
    gradient_batch : int, optional
        Images per input-gradient batch (default ``batch``): an attack's batch.

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
    from specnb.training.precision import machine_key

    started = time.perf_counter()
    model_costs = _model_costs(list(models or MODELS), batch, repeats, device, gradient_batch)
    report(f"models: {time.perf_counter() - started:.0f} s")
    represent_seconds, load, augment, source = _audio_costs(
        clips, Path(data) if data is not None else None, device
    )
    report(f"audio: {time.perf_counter() - started:.0f} s")
    attack = attack_grid_costs(attack_samples, attacks, _CLASSES, device)
    report(f"attacks: {time.perf_counter() - started:.0f} s")
    start = _notebook_start() if notebook else 0.0
    machine = machine_key()
    if device.startswith("cuda"):
        props = torch.cuda.get_device_properties(device)
        machine = f"{props.name}, {props.total_memory / 2**30:.0f} GiB, CUDA {torch.version.cuda}"
    return UnitCosts(
        machine=machine,
        cpu_count=os.cpu_count() or 1,
        torch_threads=torch.get_num_threads(),
        date=dt.datetime.now(dt.timezone.utc).isoformat(timespec="minutes"),
        **model_costs,
        represent=represent_seconds,
        load=load,
        augment=augment,
        attack=attack["seconds"],
        attack_gradients=attack["gradients"],
        notebook_start=start,
        device=device,
        notes=(
            f"torch {torch.__version__}; batch {batch}, gradient batch {gradient_batch or batch}; "
            f"audio read from {source}; attacks on {attack_samples} samples of a random "
            f"{ATTACK_MODEL} with {_CLASSES} classes; grid points beyond {BUDGET_CAPS} "
            "extrapolated by budget"
        ),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``specnb bench sweep [--out FILE] [--data DIR] [--models ...]``: measure and write."""
    parser = argparse.ArgumentParser(
        prog="specnb bench sweep", description="Measure the CPU unit costs of sweep points."
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="JSON file written (default: this machine's, which dry runs here then use; "
        f"{UNIT_COSTS_FILE.name} in the package to replace the packaged ones)",
    )
    parser.add_argument("--data", type=Path, default=None, help="ESC-50 folder to read clips of")
    parser.add_argument("--models", nargs="+", default=None, help="architectures (default all)")
    args = parser.parse_args(argv)
    costs = measure_unit_costs(models=args.models, data=args.data)
    path = write_unit_costs(costs, args.out or machine_unit_costs_file())
    print(f"{path}: {costs.describe()}")
    for part in ("train", "predict", "gradient", "represent"):
        values = ", ".join(f"{k} {v * 1e3:.1f}" for k, v in getattr(costs, part).items())
        print(f"  {part} (ms per clip): {values}")
    print(f"  load {costs.load * 1e3:.1f} ms, pitch shift {costs.augment * 1e3:.1f} ms per clip")
    for grid, seconds in costs.attack.items():
        print(
            f"  attacks, {grid} grid (s per sample on {ATTACK_MODEL}): "
            + ", ".join(f"{k} {v:.2f}" for k, v in seconds.items())
        )
        print(
            f"  attacks, {grid} grid (gradients per sample, curves from one run): "
            + ", ".join(f"{k} {v:.0f}" for k, v in costs.attack_gradients[grid].items())
        )
        print(
            f"  attacks, {grid} grid (cost per gradient, in bare {ATTACK_MODEL} gradients): "
            + ", ".join(f"{k} {v:.1f}" for k, v in costs.attack_overhead[grid].items())
        )
    print(f"  notebook start {costs.notebook_start:.1f} s")
    return 0
