"""Training precision by measurement: float32, or bfloat16 with channels-last, whichever is faster.

On some CPUs with native bfloat16 (AVX512-BF16, AMX) bfloat16 autocast with channels-last
tensors doubles a convolutional network's training speed; on others it is slower than plain
float32. The fields ``amp`` and ``channels_last`` of :class:`~specnb.training.TrainConfig` left
at ``"auto"`` are therefore resolved per (device, model, batch size) by timing a few training
steps of the model both ways, interleaved (:func:`measure_precision`, a few seconds). The
verdict is cached per machine (its CPU model) and torch version in ``precision.json`` under
:func:`cache_dir`, so each machine measures once. Rules, in order:

1. ``SPECNB_PRECISION=fp32|bf16`` forces that precision (:func:`specnb.devices.forced_precision`);
2. fields set to ``True``/``False`` are honoured (``amp=True`` is ignored on a CPU without
   native bfloat16, where it would be emulated and slow);
3. ``"auto"``: mixed precision on CUDA; float32 on a CPU without native bfloat16 and for the
   waveform models (one-row inputs of any length, where channels-last means nothing);
   otherwise the measured (or cached) faster one.

Examples
--------
>>> from specnb.training import TrainConfig
>>> precision = resolve_precision(TrainConfig(model="sbcnn", amp=False, channels_last=False),
...                               torch.device("cpu"))
>>> precision.label, precision.source
('fp32', 'set')
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import torch
import torch.nn.functional as F

from specnb.atomic import atomic_write
from specnb.devices import PRECISION_VARIABLE, PRECISIONS, cpu_bf16_supported, forced_precision
from specnb.models import build_model
from specnb.models.registry import WAVEFORM_MODELS, input_shape
from specnb.training.config import TrainConfig

__all__ = [
    "BF16_MARGIN",
    "CACHE_FILE",
    "CACHE_VARIABLE",
    "Precision",
    "cache_dir",
    "machine_key",
    "measure_precision",
    "measured_precision",
    "precision_label",
    "resolve_precision",
]

#: Environment variable naming the folder of specnb's per-machine cache (default: the user's
#: cache folder, ``$XDG_CACHE_HOME/specnb`` or ``~/.cache/specnb``).
CACHE_VARIABLE = "SPECNB_CACHE_DIR"

#: The measured precisions, inside :func:`cache_dir`.
CACHE_FILE = "precision.json"

#: bfloat16 is chosen only when its step takes at most this share of float32's: float32 is exact
#: (a run's numbers do not depend on the CPU's bfloat16 kernels), so a near tie goes to it.
BF16_MARGIN = 0.95

_CLASSES = 10


def precision_label(amp: bool, channels_last: bool, device: str | torch.device = "cpu") -> str:
    """How a run computes, in words: ``"fp32"``, ``"bf16+channels-last"``, ``"fp16"``...

    Parameters
    ----------
    amp, channels_last : bool
        The resolved execution fields (a run result's ``config.amp``...).
    device : str or torch.device
        Where it ran (``"cpu"``, ``"cuda:0"``...): mixed precision is float16 on CUDA.

    Examples
    --------
    >>> precision_label(True, True)
    'bf16+channels-last'
    >>> precision_label(True, False, "cuda")
    'fp16'
    """
    kind = ("fp16" if torch.device(device).type == "cuda" else "bf16") if amp else "fp32"
    return kind + ("+channels-last" if channels_last else "")


@dataclass(frozen=True)
class Precision:
    """A resolved precision: autocast or not, channels-last or not, and why.

    Parameters
    ----------
    amp : bool
        Mixed precision (bfloat16 autocast on a CPU, float16 with gradient scaling on CUDA).
    channels_last : bool
        Model and batches in channels-last memory order.
    source : str
        Why: ``"set"`` (the config's fields), ``"measured"``, ``"cached"`` (measured earlier
        on this machine), ``"forced by $SPECNB_PRECISION"``, ``"CUDA"``, ``"CPU without
        native bf16"`` or ``"waveform model"``.
    device_type : str
        ``"cpu"`` or ``"cuda"``.
    """

    amp: bool
    channels_last: bool
    source: str
    device_type: str = "cpu"

    @property
    def label(self) -> str:
        """:func:`precision_label` of this precision."""
        return precision_label(self.amp, self.channels_last, self.device_type)


def cache_dir() -> Path:
    """Folder of specnb's per-machine cache: ``$SPECNB_CACHE_DIR``, else the user's cache."""
    configured = os.environ.get(CACHE_VARIABLE)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "specnb"


def machine_key() -> str:
    """The machine and software a measurement holds for: the CPU model and torch version."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu} | torch {torch.__version__}"


def measure_precision(
    model_name: str, batch_size: int, *, steps: int = 3, device: str = "cpu"
) -> dict[str, float]:
    """Seconds per training step of ``model_name`` in each precision, timed interleaved.

    Each precision gets a fresh model (seed 0), AdamW and one untimed step; then ``steps``
    rounds time one step of each in turn (random inputs of the model's shape), and the best
    step of each counts, so that a burst of load elsewhere does not decide. The global random
    state is left untouched.

    Parameters
    ----------
    model_name : str
        A registered image model.
    batch_size : int
        Images per step (at least 2, for batch normalisation).
    steps : int
        Timed rounds.
    device : str
        Where to time.

    Returns
    -------
    dict
        ``{"fp32": seconds, "bf16": seconds}``.
    """
    shape = input_shape(model_name)
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(max(batch_size, 2), *shape, generator=generator).to(device)
    y = torch.randint(0, _CLASSES, (len(x),), generator=generator).to(device)
    runners = {}
    for name in PRECISIONS:
        fast = name == "bf16"
        fmt = torch.channels_last if fast else torch.contiguous_format
        model = build_model(model_name, _CLASSES, seed=0).to(device, memory_format=fmt).train()
        optimizer = torch.optim.AdamW(model.parameters())
        batch = x.contiguous(memory_format=fmt)

        def step(model=model, optimizer=optimizer, batch=batch, fast=fast) -> None:
            with torch.autocast(torch.device(device).type, enabled=fast):
                loss = F.cross_entropy(model(batch).float(), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

        runners[name] = step
    best = {name: float("inf") for name in PRECISIONS}
    with torch.random.fork_rng(devices=[]):
        for step in runners.values():
            step()
        for _ in range(steps):
            for name, step in runners.items():
                start = time.perf_counter()
                step()
                best[name] = min(best[name], time.perf_counter() - start)
    return best


def _read_cache(path: Path) -> dict:
    try:
        cached = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return cached if isinstance(cached, dict) else {}


def measured_precision(model_name: str, batch_size: int) -> tuple[str, str]:
    """The faster precision of ``model_name`` at ``batch_size`` on this CPU, and its source.

    Read from the cache (``"cached"``) when this machine and torch version measured it at the
    current thread count, else measured now (``"measured"``) and cached. bfloat16 must be
    faster by :data:`BF16_MARGIN` (5 %); a near tie goes to float32.

    Returns
    -------
    precision : {"fp32", "bf16"}
    source : {"cached", "measured"}
    """
    path = cache_dir() / CACHE_FILE
    entry = f"cpu/{model_name}/batch {batch_size}/threads {torch.get_num_threads()}"
    machine = machine_key()
    known = _read_cache(path).get(machine, {}).get(entry)
    if isinstance(known, dict) and known.get("precision") in PRECISIONS:
        return known["precision"], "cached"
    seconds = measure_precision(model_name, batch_size)
    choice = "bf16" if seconds["bf16"] <= BF16_MARGIN * seconds["fp32"] else "fp32"
    cached = _read_cache(path)
    cached.setdefault(machine, {})[entry] = {
        "precision": choice,
        "seconds_per_step": seconds,
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    text = json.dumps(cached, indent=1, sort_keys=True).encode()
    atomic_write(path, lambda stream: stream.write(text))
    return choice, "measured"


def resolve_precision(config: TrainConfig, device: torch.device) -> Precision:
    """The precision ``config`` trains in on ``device`` (see the module's rules).

    Parameters
    ----------
    config : TrainConfig
        Its ``model``, ``batch_size``, ``amp`` and ``channels_last``.
    device : torch.device
        The device it trains on.

    Returns
    -------
    Precision

    Raises
    ------
    ParameterError
        For a bad ``$SPECNB_PRECISION``.
    """
    forced = forced_precision()
    if forced is not None:
        fast = forced == "bf16"
        return Precision(fast, fast, f"forced by ${PRECISION_VARIABLE}", device.type)
    native = device.type == "cuda" or cpu_bf16_supported()
    amp, channels_last, source = config.amp, config.channels_last, "set"
    if "auto" in (amp, channels_last):
        if device.type == "cuda":
            choice, source = "bf16", "CUDA"
        elif not native:
            choice, source = "fp32", "CPU without native bf16"
        elif config.model in WAVEFORM_MODELS:
            choice, source = "fp32", "waveform model"
        else:
            choice, source = measured_precision(config.model, config.batch_size)
        amp = choice == "bf16" if amp == "auto" else amp
        channels_last = choice == "bf16" if channels_last == "auto" else channels_last
    return Precision(bool(amp) and native, bool(channels_last), source, device.type)
