"""The unit costs of a sweep's work on one device, and where they are kept.

:class:`UnitCosts` holds the seconds of the units of work a sweep point is made of (training
and predicting a clip, one input gradient, representing a clip, an attacked sample, a
notebook start) on one machine's CPU or on one CUDA GPU. They are measured by
``specnb bench sweep`` (CPU, :mod:`specnb.bench.sweep_costs`) and ``specnb doctor --gpu``
(GPU, :mod:`specnb.bench.gpu_check`) and read by the dry run's projections
(:mod:`specnb.sweep.estimate`), which :func:`projection_costs` chooses for a device.
The packaged CPU's are :data:`UNIT_COSTS_FILE`, a GPU's :data:`GPU_UNIT_COSTS_FILE`, beside it;
``specnb bench sweep`` writes this machine's own into specnb's per-machine cache folder
(:func:`machine_unit_costs_file`), and a CPU projection prefers them to the packaged ones
where they were measured on this CPU model with this torch version.

Examples
--------
>>> costs = load_unit_costs()
>>> costs.train["resnet18"] > costs.train["sbcnn"], costs.hours_label
(True, 'CPU hours')
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

from specnb.errors import UnitCostsError

__all__ = [
    "ATTACK_MODEL",
    "BUDGET_CAPS",
    "CLIP_SECONDS",
    "GPU_UNIT_COSTS_FILE",
    "REFERENCE_SETTINGS",
    "UNIT_COSTS_FILE",
    "UnitCosts",
    "UnitCostsError",
    "load_unit_costs",
    "machine_unit_costs_file",
    "projection_costs",
    "unit_costs_file",
    "write_unit_costs",
]

UNIT_COSTS_FILE = Path(__file__).parents[1] / "data_files" / "cpu_unit_costs.json"

#: The unit costs of a CUDA GPU, written beside the CPU's by ``specnb doctor --gpu``.
GPU_UNIT_COSTS_FILE = UNIT_COSTS_FILE.with_name("gpu_unit_costs.json")

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
#: early cost less). DeepFool runs its whole paper grid: one run serves it, and it stops
#: each sample at its first success.
BUDGET_CAPS: dict[str, dict[str, float]] = {
    "quick": {"jsma": 0.001},
    "paper": {"jsma": 0.002, "cw": 300, "lbfgs": 10},
}


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
        Seconds per clip per training epoch, by architecture: on a CPU through specnb's loop
        under the strong recipe (its shifts, masks, mixup and per-step schedule, on batches of
        32 uint8 images of 3x128x128; the paper recipe's epochs cost a little less), on CUDA
        the bare forward, backward and AdamW step. Tables measured before 2026-12-08 time the
        bare step on the CPU too.
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
        on :data:`ATTACK_MODEL` (see :mod:`specnb.attacks.counting`), by grid and attack. A
        projection replaces them with the counts on trained victims where it has those
        (:func:`specnb.bench.victim_gradients.with_victim_gradients`).
    notebook_start : float
        Seconds of one papermill execution of a notebook that only imports the packages the
        notebooks use.
    notes : str
        How the numbers were taken.
    device : str
        ``"cpu"``, or ``"cuda"`` for a GPU's costs (then :attr:`machine` names the GPU).
    attack_overhead : mapping of str to mapping of str to float
        What an attack costs per counted input gradient, in bare gradients (:attr:`gradient`)
        of :data:`ATTACK_MODEL`, by grid and attack: its seconds in :attr:`attack` over its
        counts times the bare gradient. It holds what the bare gradient leaves out: the
        attack's own arithmetic, its candidate copies, a prediction and the perturbation sizes
        at every grid point. Counts times it times an architecture's :attr:`gradient` give
        that architecture's seconds. Derived from the other fields when left out.
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
    device: str = field(default="cpu")
    attack_overhead: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.attack_overhead or ATTACK_MODEL not in self.gradient:
            return
        bare = self.gradient[ATTACK_MODEL]
        overhead = {
            grid: {
                attack: seconds / (self.attack_gradients[grid][attack] * bare)
                if bare > 0 and self.attack_gradients.get(grid, {}).get(attack, 0) > 0
                else 1.0
                for attack, seconds in by_attack.items()
            }
            for grid, by_attack in self.attack.items()
        }
        object.__setattr__(self, "attack_overhead", overhead)

    @property
    def on_gpu(self) -> bool:
        """Whether these are the costs of a CUDA GPU."""
        return self.device.startswith("cuda")

    @property
    def hours_label(self) -> str:
        """``"GPU hours"`` or ``"CPU hours"``: what a projection from these costs counts."""
        return "GPU hours" if self.on_gpu else "CPU hours"

    def describe(self) -> str:
        """``"<machine>, N CPUs, T torch threads, <date>"``, or on a GPU
        ``"GPU <name and memory> (host: N CPUs), <date>"``."""
        if self.on_gpu:
            return f"GPU {self.machine} (host: {self.cpu_count} CPUs), {self.date}"
        threads = f"{self.torch_threads} torch threads"
        return f"{self.machine}, {self.cpu_count} CPUs, {threads}, {self.date}"


def unit_costs_file(device: str) -> Path:
    """The packaged unit costs file of a device: :data:`GPU_UNIT_COSTS_FILE` for ``"cuda"``
    (or ``"cuda:N"``), :data:`UNIT_COSTS_FILE` otherwise.

    Examples
    --------
    >>> unit_costs_file("cuda:0").name
    'gpu_unit_costs.json'
    """
    return GPU_UNIT_COSTS_FILE if str(device).startswith("cuda") else UNIT_COSTS_FILE


def machine_unit_costs_file() -> Path:
    """This machine's own CPU unit costs: ``cpu_unit_costs.json`` in specnb's per-machine
    cache folder (:func:`specnb.training.precision.cache_dir`, beside the measured training
    precisions), where ``specnb bench sweep`` writes them."""
    from specnb.training.precision import cache_dir

    return cache_dir() / UNIT_COSTS_FILE.name


def _this_machines(why: str) -> tuple[UnitCosts | None, str]:
    """This machine's own unit costs and the projection's line, or None and the line saying
    why the packaged ones are used (none measured here, another machine's, unreadable)."""
    from specnb.training.precision import machine_key

    path = machine_unit_costs_file()
    packaged = f"projected for the CPU from the packaged unit costs ({why})"
    if not path.is_file():
        return None, f"{packaged}; `specnb bench sweep` measures this machine's"
    try:
        costs = load_unit_costs(path)
    except UnitCostsError as error:
        return None, f"{packaged}: this machine's are unreadable ({error})"
    if costs.machine != machine_key() or costs.on_gpu:
        return None, f"{packaged}: {path} was measured on {costs.machine}, not here"
    return costs, f"projected from this machine's unit costs ({path}, {costs.date}; {why})"


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
    hint = "run `specnb bench sweep` (CPU) or `specnb doctor --gpu` (GPU) to measure them"
    try:
        data = json.loads(path.read_text())
    except OSError as error:
        raise UnitCostsError(f"{path}: cannot read the unit costs ({error}); {hint}") from error
    except ValueError as error:
        raise UnitCostsError(
            f"{path}: the unit costs are not valid JSON ({error}); {hint}"
        ) from error
    try:
        return UnitCosts(**data)
    except TypeError as error:
        raise UnitCostsError(f"{path}: not a unit costs file ({error}); {hint}") from error


def write_unit_costs(costs: UnitCosts, path: str | Path = UNIT_COSTS_FILE) -> Path:
    """Write ``costs`` as JSON to ``path`` atomically; return the path."""
    from specnb.atomic import atomic_write

    path = Path(path)
    text = json.dumps(asdict(costs), indent=1, sort_keys=True) + "\n"
    atomic_write(path, lambda stream: stream.write(text.encode()))
    return path


def projection_costs(
    device: str | None, defaults: Mapping[str, Any], unit_costs: str | Path | None = None
) -> tuple[UnitCosts, str]:
    """The unit costs a dry run projects from, and a line saying why.

    The device is ``device`` when given, else the sweep's ``DEVICE`` default; ``"auto"`` (or
    neither) means CUDA when this machine has a GPU (:func:`specnb.devices.resolve_device`).
    On CUDA the GPU's costs (:data:`GPU_UNIT_COSTS_FILE`) are used, or the CPU's when no GPU
    has been measured yet (the line says so). On the CPU this machine's own
    (:func:`machine_unit_costs_file`) when ``specnb bench sweep`` measured them on this CPU
    model and torch version, else the packaged ones (the line says which, and why).
    ``unit_costs`` overrides all. A dry run then takes the attacks' gradient counts on trained
    victims (:func:`specnb.bench.victim_gradients.victims_projection_costs`).

    Parameters
    ----------
    device : {"auto", "cpu", "cuda"} or None
        Where the sweep would run.
    defaults : mapping
        The sweep file's defaults.
    unit_costs : str or Path, optional
        A unit costs file to use whatever the device.

    Returns
    -------
    costs : UnitCosts
    note : str

    Raises
    ------
    UnitCostsError
        An unreadable unit costs file, or a device other than auto, cpu or cuda[:N].

    Examples
    --------
    >>> costs, note = projection_costs("cpu", {}, UNIT_COSTS_FILE)
    >>> costs.device, note.endswith("cpu_unit_costs.json (device cpu)")
    ('cpu', True)
    """
    from specnb.devices import resolve_device

    chosen = str(device if device is not None else defaults.get("DEVICE") or "auto")
    if chosen != "auto" and chosen != "cpu" and not chosen.startswith("cuda"):
        raise UnitCostsError(f"device={chosen!r}: use 'auto', 'cpu' or 'cuda'")
    why = f"device {chosen}" if device is not None else f"sweep DEVICE {chosen}"
    if chosen == "auto":
        chosen = resolve_device("auto").type
        why += f", {'a' if chosen == 'cuda' else 'no'} CUDA GPU here"
    if unit_costs is not None:
        costs = load_unit_costs(unit_costs)
        return costs, f"projected from {unit_costs} ({why})"
    path = unit_costs_file(chosen)
    if chosen.startswith("cuda") and not path.is_file():
        return load_unit_costs(), (
            f"no GPU unit costs yet ({path}; `specnb doctor --gpu` measures them): projected "
            f"from the CPU's ({why})"
        )
    if chosen.startswith("cuda"):
        return load_unit_costs(path), f"projected for the GPU ({why})"
    mine, note = _this_machines(why)
    return (mine if mine is not None else load_unit_costs(path)), note
