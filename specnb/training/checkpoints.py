"""Checkpoint files of a training run: atomic writes, RNG states, the run-folder layout.

A run folder written by :func:`specnb.training.train_cv` holds::

    run_dir/
        train.json            the TrainConfig, the data fingerprint and the split (indices)
        result.json           summary of the finished run (written last)
        fold0/last.pt         end-of-epoch checkpoint of a fold still training
        fold0/model.pt        the finished fold: best weights, curves, test predictions
        fold1/...

Every file is written to a temporary name in the same folder, flushed to disk and renamed
over the target with :func:`os.replace`, so a reader (or a resumed run after a crash) sees
either the previous complete file or the new complete file, never a partial one.
Checkpoints hold only tensors and plain Python values, so they load with
``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from specnb.atomic import atomic_write

__all__ = [
    "atomic_save",
    "atomic_write_json",
    "epoch_checkpoint_path",
    "fold_model_path",
    "get_rng_state",
    "load_checkpoint",
    "remove_stale_temporaries",
    "set_rng_state",
]

_TMP_SUFFIX = ".tmp"


def epoch_checkpoint_path(run_dir: Path, fold: int) -> Path:
    """The end-of-epoch checkpoint of fold ``fold`` (0-based) in ``run_dir``."""
    return Path(run_dir) / f"fold{fold}" / "last.pt"


def fold_model_path(run_dir: Path, fold: int) -> Path:
    """The finished model of fold ``fold`` (0-based) in ``run_dir``."""
    return Path(run_dir) / f"fold{fold}" / "model.pt"


def atomic_save(obj: Any, path: str | Path) -> None:
    """Write ``obj`` with :func:`torch.save` so that ``path`` is never seen half-written.

    Parameters
    ----------
    obj : object
        Tensors, state dicts and plain Python values.
    path : str or Path
        Target file; its folder is created when missing.
    """
    atomic_write(Path(path), lambda stream: torch.save(obj, stream), suffix=_TMP_SUFFIX)


def atomic_write_json(obj: Any, path: str | Path) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically (see :func:`atomic_save`)."""
    blob = json.dumps(obj, indent=2, sort_keys=True).encode()
    atomic_write(Path(path), lambda stream: stream.write(blob), suffix=_TMP_SUFFIX)


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`atomic_save` (tensors mapped to ``map_location``).

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    RuntimeError
        When the file is not a readable checkpoint; the message names it.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:
        raise RuntimeError(f"checkpoint {path} cannot be read: {error}") from error


def remove_stale_temporaries(folder: str | Path) -> None:
    """Delete temporary files an interrupted :func:`atomic_save` left in ``folder``."""
    folder = Path(folder)
    if folder.is_dir():
        for leftover in folder.glob(f".*{_TMP_SUFFIX}"):
            leftover.unlink(missing_ok=True)


def get_rng_state() -> dict[str, Any]:
    """The Python, NumPy, torch CPU and CUDA random states, as checkpoint-safe values."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached": float(cached),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore states saved by :func:`get_rng_state` (CUDA ones when CUDA is present)."""
    random.setstate(_as_tuple(state["python"]))
    np_state = state["numpy"]
    np.random.set_state(
        (
            np_state["kind"],
            np_state["keys"].cpu().numpy().astype(np.uint32),
            np_state["pos"],
            np_state["has_gauss"],
            np_state["cached"],
        )
    )
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        cuda_states = [s.cpu() for s in state["cuda"]][: torch.cuda.device_count()]
        torch.cuda.set_rng_state_all(cuda_states)


def _as_tuple(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_as_tuple(v) for v in value)
    return value
