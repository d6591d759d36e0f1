"""Training an end-to-end waveform model with the protocol of the 2D models (paper §4.2).

:func:`specnb.training.train_cv` is built for (N, 3, 128, 128) images; waveform models take
(N, 1, 1, n_samples) inputs, so this module runs the same protocol on them with the same
pieces: :func:`specnb.data.splits.cv_split` (30 % test, cross-validation folds of the rest,
source recordings never split), :func:`specnb.training.epochs.train_epoch` and
:func:`specnb.training.epochs.score`, early stopping on each fold's dev part, the best epoch's
weights kept and scored on the test part. Fold models are saved atomically; a run whose row
is ``done`` and whose checkpoints exist is loaded instead of trained again.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from specnb.data.clips import AudioDataset, Clip
from specnb.data.splits import cv_split
from specnb.models.registry import WAVEFORM_MODELS, build_model, count_parameters
from specnb.raw_audio.waveforms import (
    WAVEFORM_REPR,
    load_waveforms,
    to_unit,
    waveform_setting,
)
from specnb.store import ResultsStore, run_key, stable_key
from specnb.training import TrainingError, resolve_device
from specnb.training.checkpoints import atomic_save, fold_model_path, load_checkpoint
from specnb.training.cross_validation import derive_seed
from specnb.training.epochs import Plan, score, train_epoch
from specnb.training.result import best_fold_index

__all__ = ["WaveformRun", "WaveformTrainConfig", "train_waveform_model"]


@dataclass(frozen=True)
class WaveformTrainConfig:
    """How a waveform model is trained: a small frozen, validated, hashable protocol.

    Parameters
    ----------
    model : str
        One of :data:`specnb.models.registry.WAVEFORM_MODELS`.
    sr : int
        Sampling rate of the waveforms in Hz.
    epochs : int
        Most epochs per fold.
    batch_size : int
        Clips per optimiser step.
    lr : float
        AdamW learning rate.
    weight_decay : float
        AdamW decoupled weight decay.
    patience : int
        Epochs without a lower dev loss before a fold stops.
    n_folds : int
        Cross-validation folds (at least 2).
    test_size : float
        Share of the clips held out for testing, in (0, 1).
    seed : int
        Seed of the split, the initial weights and the batch order.
    device : str
        ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``; not part of the protocol.

    Raises
    ------
    TrainingError
        Naming the field that is out of range.

    Examples
    --------
    >>> WaveformTrainConfig(epochs=2).protocol()["epochs"]
    2
    """

    model: str = "convnet1d"
    sr: int = 8000
    epochs: int = 10
    batch_size: int = 16
    lr: float = 3e-3
    weight_decay: float = 1e-4
    patience: int = 5
    n_folds: int = 2
    test_size: float = 0.3
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        if self.model not in WAVEFORM_MODELS:
            raise TrainingError(
                f"WaveformTrainConfig.model={self.model!r}; choose one of {WAVEFORM_MODELS}"
            )
        for name in ("sr", "epochs", "batch_size", "patience", "n_folds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise TrainingError(
                    f"WaveformTrainConfig.{name} must be a positive int, got {value!r}"
                )
        if self.n_folds < 2:
            raise TrainingError(f"WaveformTrainConfig.n_folds must be >= 2, got {self.n_folds}")
        for name, low, high in (("lr", 0.0, math.inf), ("weight_decay", -1e-300, math.inf),
                                ("test_size", 0.0, 1.0)):
            value = getattr(self, name)
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not ok or not math.isfinite(value) or not low < value < high:
                raise TrainingError(
                    f"WaveformTrainConfig.{name} must be a number in ({low:g}, {high:g}), "
                    f"got {value!r}"
                )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise TrainingError(f"WaveformTrainConfig.seed must be an int >= 0, got {self.seed!r}")

    def protocol(self) -> dict[str, Any]:
        """Every field but ``device``: what keys the run in the results store."""
        fields = dataclasses.asdict(self)
        fields.pop("device")
        return fields


@dataclass(frozen=True, eq=False)
class WaveformRun:
    """A trained (or reloaded) waveform run: fold models and the test split.

    Attributes
    ----------
    run_key : str
        Its row in the results store (``repr`` ``"waveform"``).
    config : WaveformTrainConfig
    classes : tuple of str
    models : tuple of nn.Module
        Fold models in evaluation mode, on the chosen device.
    fold_accuracies : tuple of float
        Test accuracy of each fold model.
    test_clips : tuple of Clip
    test_inputs : torch.Tensor, shape (n_test, 1, 1, n_samples), CPU
        Test waveforms in the [0, 1] model layout (:func:`~specnb.raw_audio.to_unit`).
    test_labels : torch.Tensor, shape (n_test,), int64
    trained : bool
        Whether this call trained it (False: loaded from the store).
    """

    run_key: str
    config: WaveformTrainConfig
    classes: tuple[str, ...]
    models: tuple[nn.Module, ...]
    fold_accuracies: tuple[float, ...]
    test_clips: tuple[Clip, ...]
    test_inputs: torch.Tensor
    test_labels: torch.Tensor
    trained: bool

    @property
    def acc_mean(self) -> float:
        """Mean test accuracy over the fold models."""
        return float(np.mean(self.fold_accuracies))

    @property
    def best_fold(self) -> int:
        """0-based fold whose model scores highest on the test split."""
        return best_fold_index(self.fold_accuracies)


def _train_fold(
    fold: int, inputs: torch.Tensor, labels: torch.Tensor, index: Mapping[str, torch.Tensor],
    n_classes: int, config: WaveformTrainConfig, plan: Plan, path: Path,
) -> tuple[nn.Module, float, int, int]:
    model = build_model(config.model, n_classes, seed=derive_seed(config.seed, fold))
    model = model.to(plan.device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=plan.lr, weight_decay=config.weight_decay)
    scaler = torch.amp.GradScaler("cuda", enabled=False)
    best: tuple[float, int, dict[str, torch.Tensor]] = (math.inf, 0, {})
    epoch = 0
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(config.seed, fold, 1))
        for epoch in range(1, config.epochs + 1):
            order = torch.Generator().manual_seed(derive_seed(config.seed, fold, epoch))
            loss, _ = train_epoch(model, optimizer, scaler, inputs, labels, index["train"],
                                  order, plan)
            if not math.isfinite(loss):
                raise TrainingError(f"fold {fold}, epoch {epoch}: the loss is not finite; lower lr")
            dev_loss, _, _ = score(model, inputs, labels, index["dev"],
                                   batch_size=2 * plan.batch_size)
            if dev_loss < best[0]:
                state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
                best = (dev_loss, epoch, state)
            elif epoch - best[1] >= config.patience:
                break
    model.load_state_dict(best[2])
    _, accuracy, _ = score(model, inputs, labels, index["test"], batch_size=2 * plan.batch_size)
    atomic_save({"model": best[2], "arch": config.model, "num_classes": n_classes,
                 "test_acc": accuracy, "epochs": epoch, "best_epoch": best[1]}, path)
    return model.eval(), accuracy, epoch, best[1]


def _load_folds(row: Mapping[str, Any], config: WaveformTrainConfig, n_classes: int,
                device: torch.device) -> list[nn.Module] | None:
    run_dir = Path(row["checkpoint_path"] or "")
    paths = [fold_model_path(run_dir, k) for k in range(config.n_folds)]
    if row["status"] != "done" or not all(p.is_file() for p in paths):
        return None
    models = []
    for path in paths:
        model = build_model(config.model, n_classes)
        model.load_state_dict(load_checkpoint(path)["model"])
        models.append(model.to(device).eval())
    return models


def train_waveform_model(
    dataset: AudioDataset,
    config: WaveformTrainConfig,
    out_dir: str | PathLike,
    store: ResultsStore,
    *,
    clips: Sequence[Clip] | None = None,
) -> WaveformRun:
    """Train ``config.model`` on the waveforms of ``dataset`` with cross-validation; record it.

    The run's ``runs`` row has ``repr = "waveform"``, ``setting_json = {"repr": "waveform",
    "sr": sr}``, the accuracies, epochs and parameter count, ``checkpoint_path`` the run folder
    (``out_dir / "waveform_<run key>"``, one ``foldK/model.pt`` per fold) and artefacts
    ``classes`` and ``test_clip_ids``. A ``done`` row whose checkpoints exist is reloaded.

    Parameters
    ----------
    dataset : AudioDataset
    config : WaveformTrainConfig
    out_dir : str or path-like
        Run folder of the notebook.
    store : ResultsStore
    clips : sequence of Clip, optional
        Clips to use (default all of the dataset's).

    Returns
    -------
    WaveformRun

    Raises
    ------
    TrainingError, SplitError
        A bad device, too few clips per class for the split, a diverging loss (the row, once
        written, is marked ``failed``).

    Examples
    --------
    >>> run = train_waveform_model(data, WaveformTrainConfig(epochs=2), "runs/06", store)
    ... # doctest: +SKIP
    """
    clips = tuple(dataset.clips if clips is None else clips)
    device = resolve_device(config.device)
    setting = waveform_setting(config.sr)
    key = run_key(dataset=dataset.key, setting=setting, model=config.model, seed=config.seed,
                  protocol=config.protocol())
    split = cv_split(clips, test_size=config.test_size, n_folds=config.n_folds, seed=config.seed)
    position = {clip.clip_id: i for i, clip in enumerate(clips)}
    test_index = torch.tensor([position[c.clip_id] for c in split.test], dtype=torch.int64)
    inputs = to_unit(load_waveforms(dataset, clips, config.sr))
    labels = torch.tensor([clip.label for clip in clips], dtype=torch.int64)
    n_classes = len(dataset.classes)
    row = store.get_run(key)
    loaded = _load_folds(row, config, n_classes, device) if row is not None else None
    if loaded is not None:
        return WaveformRun(key, config, dataset.classes, tuple(loaded),
                           tuple(row["fold_accs_json"]), tuple(split.test),
                           inputs[test_index], labels[test_index], trained=False)
    run_dir = Path(out_dir).resolve() / f"waveform_{key}"
    store.upsert_run(
        key, status="running", error=None, dataset=dataset.key, repr=WAVEFORM_REPR,
        setting_key=stable_key(setting), setting_json=setting, model=config.model,
        seed=config.seed, protocol_json=config.protocol(), device=str(device),
        checkpoint_path=str(run_dir),
    )
    try:
        plan = Plan(device, config.batch_size, config.lr, False)
        models, accuracies, epochs, started = [], [], [], time.perf_counter()
        for fold, part in enumerate(split.folds):
            index = {
                "train": torch.tensor([position[c.clip_id] for c in part.train]),
                "dev": torch.tensor([position[c.clip_id] for c in part.dev]),
                "test": test_index,
            }
            model, accuracy, n_epochs, _ = _train_fold(
                fold, inputs, labels, index, n_classes, config, plan,
                fold_model_path(run_dir, fold),
            )
            models.append(model)
            accuracies.append(accuracy)
            epochs.append(n_epochs)
        store.upsert_run(
            key, status="done", acc_mean=float(np.mean(accuracies)),
            acc_std=float(np.std(accuracies)), fold_accs_json=accuracies,
            n_params=count_parameters(models[0]), epochs_json=epochs,
            train_seconds=time.perf_counter() - started,
            artefacts_json={"classes": list(dataset.classes), "out_dir": str(run_dir),
                            "test_clip_ids": [c.clip_id for c in split.test],
                            "config": dataclasses.asdict(config)},
        )
    except BaseException as error:
        store.upsert_run(key, status="failed", error=f"{type(error).__name__}: {error}")
        raise
    return WaveformRun(key, config, dataset.classes, tuple(models), tuple(accuracies),
                       tuple(split.test), inputs[test_index], labels[test_index], trained=True)
