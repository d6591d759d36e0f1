"""Stable keys: the hashes that identify runs, attacks and transfers in the store."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Mapping

import numpy as np

__all__ = ["attack_key", "dumps", "json_default", "run_key", "stable_key", "transfer_key"]


def stable_key(mapping: Mapping[str, Any]) -> str:
    """Stable 16-hex-digit hash of a JSON-serialisable mapping (key order does not matter).

    Examples
    --------
    >>> stable_key({"a": 1, "b": [1, 2]}) == stable_key({"b": [1, 2], "a": 1})
    True
    """
    blob = json.dumps(mapping, sort_keys=True, separators=(",", ":"), default=json_default)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def run_key(
    *,
    dataset: str,
    setting: Mapping[str, Any],
    model: str,
    seed: int,
    protocol: Mapping[str, Any],
) -> str:
    """Key of one training run: a stable hash of everything that determines its models.

    Parameters
    ----------
    dataset : str
        ``AudioDataset.key`` (identifies the exact clips, augmentation included).
    setting : mapping
        ``Setting.to_dict()`` of the representation (colour map included).
    model : str
        Architecture name given to ``build_model``.
    seed : int
        Training seed.
    protocol : mapping
        The remaining training fields, e.g. ``TrainConfig.protocol()``.

    Examples
    --------
    >>> k = run_key(dataset="esc10", setting={"repr": "stft", "n_fft": 1024}, model="resnet18",
    ...             seed=0, protocol={"epochs": 30})
    >>> len(k)
    16
    """
    return stable_key(
        {
            "dataset": dataset,
            "setting": dict(setting),
            "model": model,
            "seed": int(seed),
            "protocol": dict(protocol),
        }
    )


def attack_key(
    *,
    run_key: str,
    attack: str,
    params: Mapping[str, Any],
    fold: int | None = None,
) -> str:
    """Key of one attack experiment on the fold model ``fold`` (None: every fold) of a run.

    Parameters
    ----------
    run_key : str
        The attacked run.
    attack : str
        Attack name (``"fgsm"``, ``"cw"``...).
    params : mapping
        Everything else that shapes the result: norm, targeting, budget grid, seed, samples.
    fold : int or None
        Index of the attacked fold model.
    """
    return stable_key({"run_key": run_key, "attack": attack, "params": dict(params), "fold": fold})


def transfer_key(
    *,
    source_run_key: str,
    target_run_key: str,
    attack: str,
    params: Mapping[str, Any],
) -> str:
    """Key of one transferability measurement (examples crafted on source, tried on target)."""
    return stable_key(
        {
            "source": source_run_key,
            "target": target_run_key,
            "attack": attack,
            "params": dict(params),
        }
    )


def json_default(value: Any) -> Any:
    """``json.dumps`` fallback for numpy scalars and arrays, tensors and paths."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def dumps(value: Any) -> str:
    """Canonical JSON text of ``value`` (sorted keys; numpy, tensors and paths allowed)."""
    return json.dumps(value, sort_keys=True, default=json_default)
