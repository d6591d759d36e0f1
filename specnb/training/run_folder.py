"""The run folder's description: input checks, the split as indices, the data fingerprint."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from specnb.data.clips import Clip
from specnb.data.splits import Split, cv_split, official_split
from specnb.models.registry import build_model, input_shape
from specnb.store import stable_key
from specnb.training.checkpoints import atomic_write_json, fold_model_path, load_checkpoint
from specnb.training.config import EXECUTION_FIELDS, TrainConfig, TrainingError
from specnb.training.epochs import resolve_device

__all__ = [
    "RUN_FILE",
    "check_inputs",
    "fingerprint",
    "load_fold_models",
    "load_split",
    "make_split",
    "open_run_dir",
]

#: Run description (config, data fingerprint, split as indices) inside a run folder.
RUN_FILE = "train.json"


def check_inputs(
    images: torch.Tensor,
    labels: torch.Tensor,
    clips: Sequence[Clip],
    num_classes: int | None,
    model: str,
) -> int:
    """Check the training inputs agree with each other and ``model``; return the class count.

    ``images`` are the model's inputs: (N, 3, 128, 128) images for an image model,
    (N, 1, 1, n_samples) waveforms in the [0, 1] layout for a waveform model.

    Raises
    ------
    TrainingError
        Naming the offending input: wrong shape or dtype, NaN, values outside [0, 1],
        lengths that differ, labels that disagree with ``clips``, classes out of range.
    """
    expected = input_shape(model)
    if (
        not isinstance(images, torch.Tensor)
        or images.ndim != 4
        or any(want not in (-1, got) for want, got in zip(expected, images.shape[1:]))
    ):
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images)
        raise TrainingError(
            f"images must be a tensor of shape (N, *{expected}) for {model!r} "
            f"(-1: any size), got {shape}"
        )
    if not len(images):
        raise TrainingError("images is empty")
    if images.dtype != torch.uint8 and not images.is_floating_point():
        raise TrainingError(f"images must be float in [0, 1] or uint8, got {images.dtype}")
    if images.is_floating_point():
        low, high = float(images.min()), float(images.max())
        if not (math.isfinite(low) and math.isfinite(high)):
            raise TrainingError("images hold NaN or infinite values")
        if low < 0 or high > 1:
            raise TrainingError(f"images must lie in [0, 1]; found values in [{low}, {high}]")
    if not isinstance(labels, torch.Tensor) or labels.ndim != 1 or labels.is_floating_point():
        raise TrainingError("labels must be a 1-D integer tensor")
    if not len(images) == len(labels) == len(clips):
        raise TrainingError(
            f"images ({len(images)}), labels ({len(labels)}) and clips ({len(clips)}) "
            "must have the same length"
        )
    if any(int(label) != clip.label for label, clip in zip(labels.tolist(), clips)):
        raise TrainingError("labels disagree with the clips' labels (labels[i] != clips[i].label)")
    n_classes = int(labels.max()) + 1 if num_classes is None else num_classes
    if n_classes < 2 or int(labels.min()) < 0 or int(labels.max()) >= n_classes:
        raise TrainingError(f"labels must lie in [0, num_classes={n_classes}) with >= 2 classes")
    return n_classes


def make_split(clips: Sequence[Clip], config: TrainConfig) -> Split:
    """The split ``config`` asks for: ``cv_split``, or ``official_split`` with its folds.

    With ``config.official_test_fold`` set, ``config.n_folds`` fold models are trained on the
    remaining official folds (an impossible number is refused; see ``official_split``), and
    ``config.test_size`` is unused.
    """
    if config.official_test_fold is None:
        return cv_split(clips, test_size=config.test_size, n_folds=config.n_folds, seed=config.seed)
    return official_split(clips, test_fold=config.official_test_fold, n_folds=config.n_folds)


def _split_indices(clips: Sequence[Clip], config: TrainConfig) -> dict[str, Any]:
    split = make_split(clips, config)
    position = {clip.clip_id: i for i, clip in enumerate(clips)}
    if len(position) != len(clips):
        raise TrainingError("clips must have unique clip_id values")

    def indices(part: Sequence[Clip]) -> list[int]:
        return [position[clip.clip_id] for clip in part]

    folds = [{"train": indices(f.train), "dev": indices(f.dev)} for f in split.folds]
    for k, fold in enumerate(folds):
        if not fold["train"] or not fold["dev"]:
            raise TrainingError(f"fold {k} of the split has an empty train or dev part")
    if not split.test:
        raise TrainingError("the split has an empty test part")
    return {"test": indices(split.test), "folds": folds}


def fingerprint(images: torch.Tensor, labels: torch.Tensor, clips: Sequence[Clip]) -> dict:
    """Cheap identity of the training data: size, clip ids and labels, a pixel checksum."""
    sample = images[:, :, ::16, ::16].to(torch.float64)
    if images.dtype == torch.uint8:
        sample = sample / 255.0
    return {
        "n_images": len(images),
        "clips": stable_key({"ids": [c.clip_id for c in clips], "labels": labels.tolist()}),
        "checksum": round(float(sample.sum()), 6),
    }


def open_run_dir(
    run_dir: Path, config: TrainConfig, data: dict, clips: Sequence[Clip], num_classes: int
) -> dict[str, Any]:
    """Write the run description, or check an existing one matches; return the split."""
    path = run_dir / RUN_FILE
    if path.is_file():
        stored = _read_run(run_dir)
        if stored["key"] != config.key:
            old = TrainConfig.from_dict(stored["config"]).to_dict()
            changed = sorted(
                k for k, v in config.to_dict().items() if old[k] != v and k not in EXECUTION_FIELDS
            )
            raise TrainingError(
                f"{run_dir} holds a run with another TrainConfig (differs in {changed}); "
                "use a new run folder"
            )
        stored_data = {**stored["data"], "num_classes": stored["num_classes"]}
        changed = sorted(
            k for k, v in {**data, "num_classes": num_classes}.items() if stored_data.get(k) != v
        )
        if changed:
            raise TrainingError(
                f"{run_dir} was trained on other data (differs in {changed}); use a new run folder"
            )
        return stored["split"]
    split = _split_indices(clips, config)
    run = {
        "config": config.to_dict(),
        "key": config.key,
        "data": data,
        "num_classes": num_classes,
        "split": split,
    }
    atomic_write_json(run, path)
    return split


def _read_run(run_dir: Path) -> dict[str, Any]:
    description = Path(run_dir) / RUN_FILE
    if not description.is_file():
        raise TrainingError(f"{description} does not exist: {run_dir} holds no training run")
    return json.loads(description.read_text())


def load_split(run_dir: str | Path) -> dict[str, Any]:
    """The split a run trained on, as positions in the ``images`` / ``clips`` it was given.

    Parameters
    ----------
    run_dir : str or Path
        A run folder written by :func:`~specnb.training.train_cv`.

    Returns
    -------
    dict
        ``"test"``: np.ndarray (n_test,) int64; ``"folds"``: list of ``(train, dev)`` pairs
        of np.ndarray int64, one per fold.
    """
    split = _read_run(Path(run_dir))["split"]
    return {
        "test": np.asarray(split["test"], dtype=np.int64),
        "folds": [
            (np.asarray(f["train"], dtype=np.int64), np.asarray(f["dev"], dtype=np.int64))
            for f in split["folds"]
        ],
    }


def load_fold_models(
    run_dir: str | Path,
    *,
    device: str | torch.device = "cpu",
    folds: Sequence[int] | None = None,
) -> list[nn.Module]:
    """Rebuild the trained fold models of a run (best weights, evaluation mode).

    Parameters
    ----------
    run_dir : str or Path
        A run folder written by :func:`train_cv`.
    device : str or torch.device
        Where to put the models (``"auto"`` allowed).
    folds : sequence of int, optional
        0-based folds to load; default all.

    Returns
    -------
    list of nn.Module
        One model per requested fold, in that order.

    Raises
    ------
    TrainingError
        When ``run_dir`` holds no run or a requested fold has not finished (names the file).
    """
    run_dir = Path(run_dir)
    n_folds = len(_read_run(run_dir)["split"]["folds"])
    target = resolve_device(device) if isinstance(device, str) else device
    models = []
    for fold in range(n_folds) if folds is None else folds:
        if not 0 <= fold < n_folds:
            raise TrainingError(f"fold {fold} does not exist; the run has folds 0..{n_folds - 1}")
        path = fold_model_path(run_dir, fold)
        if not path.is_file():
            raise TrainingError(f"{path} does not exist: fold {fold} has not finished training")
        saved = load_checkpoint(path)
        model = build_model(saved["arch"], int(saved["num_classes"]))
        model.load_state_dict(saved["model"])
        models.append(model.to(target).eval())
    return models
