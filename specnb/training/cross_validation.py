"""The fold loop: one model per fold, early stopping, a checkpoint after every epoch.

Augmented copies follow their original; the test part holds original clips only.

Seeding makes a run reproducible: on the CPU two runs with the same seed give identical
curves and accuracies (deterministic algorithms are requested; batch orders, shifts, masks, mixup
weights come from per-epoch generators, and the learning rate is a function of the epoch, so
a resumed run draws what an uninterrupted one does). On CUDA, runs are faster but not
bit-identical: mixed precision and cuDNN autotuning are used.
"""

from __future__ import annotations

import math
import random
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from specnb.data.clips import Clip
from specnb.models import build_model, count_parameters
from specnb.training import early_stopping
from specnb.training.batches import place_images
from specnb.training.checkpoints import (
    atomic_save,
    atomic_write_json,
    epoch_checkpoint_path,
    fold_model_path,
    get_rng_state,
    load_checkpoint,
    remove_stale_temporaries,
    set_rng_state,
)
from specnb.training.config import TrainConfig, TrainingError
from specnb.training.epochs import Plan, batch_augment, make_optimizer, score, train_epoch
from specnb.training.result import RESULT_FILE, TrainResult
from specnb.training.run_folder import check_inputs, fingerprint, open_run_dir
from specnb.training.schedule import learning_rate

__all__ = ["derive_seed", "train_cv"]

_CURVE_KEYS = ("train_loss", "train_acc", "dev_loss", "dev_acc")


@dataclass(frozen=True)
class _Fold:
    accuracy: float
    predictions: np.ndarray
    curves: dict[str, list[float]]
    epochs: int
    best_epoch: int
    resumed_from: int
    seconds: float
    n_params: int
    checkpoint: Path


def derive_seed(*parts: int) -> int:
    """A 32-bit seed derived from integers (run seed, fold, epoch): one stream per part."""
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


@contextmanager
def _execution_mode(device: torch.device) -> Iterator[None]:
    """Deterministic kernels on CPU, cuDNN autotuning on CUDA; caller's RNG left untouched."""
    rng = get_rng_state()
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    benchmark = torch.backends.cudnn.benchmark
    if device.type == "cpu":
        torch.use_deterministic_algorithms(True, warn_only=True)
    else:
        torch.backends.cudnn.benchmark = True
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
        torch.backends.cudnn.benchmark = benchmark
        set_rng_state(rng)


def _finished_fold(path: Path, resumed_from: int | None = None) -> _Fold:
    saved = load_checkpoint(path)
    return _Fold(
        accuracy=float(saved["test_acc"]),
        predictions=saved["test_predictions"].numpy().astype(np.int64),
        curves={k: list(v) for k, v in saved["curves"].items()},
        epochs=int(saved["epochs"]),
        best_epoch=int(saved["best_epoch"]),
        resumed_from=int(saved["epochs"]) if resumed_from is None else resumed_from,
        seconds=float(saved["seconds"]),
        n_params=int(saved["n_params"]),
        checkpoint=path,
    )


def _start_fold(
    fold_seed: int, checkpoint_path: Path, num_classes: int, config: TrainConfig, plan: Plan
) -> tuple[nn.Module, torch.optim.Optimizer, torch.amp.GradScaler, dict[str, Any]]:
    """A fresh model, optimiser and early-stopping state, or those of the last checkpoint."""
    model = build_model(config.model, num_classes, pretrained=config.pretrained, seed=fold_seed).to(
        plan.device, memory_format=plan.memory_format
    )
    optimizer = make_optimizer(model, config, plan)
    scaler = torch.amp.GradScaler("cuda", enabled=plan.grad_scaling)
    state: dict[str, Any] = {
        "epoch": 0,
        "curves": {k: [] for k in _CURVE_KEYS},
        "best_state": None,
        "best_epoch": 0,
        "seconds": 0.0,
        **early_stopping.initial_state(),
    }
    if not checkpoint_path.is_file():
        torch.manual_seed(fold_seed)
        np.random.seed(fold_seed)
        random.seed(fold_seed)
        return model, optimizer, scaler, state
    saved = load_checkpoint(checkpoint_path)  # on the CPU; loading copies to the model's device
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    if plan.grad_scaling and saved["scaler"]:
        scaler.load_state_dict(saved["scaler"])
    set_rng_state(saved["rng"])
    state = {k: saved.get(k, v) for k, v in state.items()}
    state["curves"] = {k: list(v) for k, v in state["curves"].items()}
    return model, optimizer, scaler, state


def _train_fold(
    fold: int,
    split: dict[str, Any],
    images: torch.Tensor,
    labels: torch.Tensor,
    num_classes: int,
    config: TrainConfig,
    plan: Plan,
    run_dir: Path,
    progress: bool,
) -> _Fold:
    """Train (or finish, or just read) fold ``fold`` and score its best weights on the test."""
    final_path = fold_model_path(run_dir, fold)
    if final_path.is_file():
        return _finished_fold(final_path)
    remove_stale_temporaries(final_path.parent)
    checkpoint_path = epoch_checkpoint_path(run_dir, fold)
    model, optimizer, scaler, state = _start_fold(
        derive_seed(config.seed, fold), checkpoint_path, num_classes, config, plan
    )
    resumed_from = state["epoch"]
    train_index = torch.as_tensor(split["folds"][fold]["train"], dtype=torch.int64)
    dev_index = torch.as_tensor(split["folds"][fold]["dev"], dtype=torch.int64)
    bar = tqdm(
        total=config.epochs,
        initial=resumed_from,
        unit="epoch",
        disable=not progress,
        desc=f"fold {fold + 1}/{len(split['folds'])}",
    )
    augment = (
        batch_augment(config, num_classes)
        if config.mixup or config.freq_masks or config.time_masks or config.time_shift
        else None
    )
    while not state["stopped"] and state["epoch"] < config.epochs:
        started = time.perf_counter()
        epoch = state["epoch"]
        order = torch.Generator().manual_seed(derive_seed(config.seed, fold, epoch))

        def lr_at(fraction: float, epoch: int = epoch) -> float:
            return learning_rate(
                epoch + fraction,
                peak=plan.lr,
                epochs=config.epochs,
                warmup_epochs=config.warmup_epochs,
                schedule=config.schedule,
            )

        train_loss, train_acc = train_epoch(
            model,
            optimizer,
            scaler,
            images,
            labels,
            train_index,
            order,
            plan,
            augment=augment,
            lr_at=lr_at if config.schedule != "constant" else None,
        )
        if not math.isfinite(train_loss):
            raise TrainingError(
                f"fold {fold}, epoch {state['epoch'] + 1}: the training loss is not finite; "
                "lower TrainConfig.lr"
            )
        dev_loss, dev_acc, _ = score(
            model, images, labels, dev_index, batch_size=2 * plan.batch_size, amp=plan.amp
        )
        state["epoch"] += 1
        for name, value in zip(_CURVE_KEYS, (train_loss, train_acc, dev_loss, dev_acc)):
            state["curves"][name].append(value)
        improved = early_stopping.update(
            state,
            early_stopping.monitored(config.monitor, dev_loss, dev_acc),
            epoch=state["epoch"],
            patience=config.patience,
            min_epochs=config.min_epochs,
            smoothing=config.smoothing,
        )
        if improved or state["best_state"] is None:
            state["best_state"] = {
                k: v.detach().to("cpu", copy=True).contiguous()
                for k, v in model.state_dict().items()
            }
            state["best_epoch"] = state["epoch"]
        state["seconds"] += time.perf_counter() - started
        atomic_save(
            {
                **state,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scaler": scaler.state_dict(),
                "rng": get_rng_state(),
                "fold": fold,
                "config_key": config.key,
            },
            checkpoint_path,
        )
        bar.update(1)
        bar.set_postfix(loss=f"{train_loss:.3f}", dev_acc=f"{dev_acc:.3f}")
    if bar.n < bar.total:
        # stopped early: the bar ends complete at the epochs run (a notebook draws a bar
        # closed short of its total as a failure, in red)
        bar.total = bar.n
        bar.refresh()
    bar.close()

    started = time.perf_counter()
    model.load_state_dict(state["best_state"])
    test_index = torch.as_tensor(split["test"], dtype=torch.int64)
    _, test_acc, test_predictions = score(
        model, images, labels, test_index, batch_size=2 * plan.batch_size
    )
    atomic_save(
        {
            "model": state["best_state"],
            "fold": fold,
            "config_key": config.key,
            "arch": config.model,
            "num_classes": num_classes,
            "test_acc": test_acc,
            "test_predictions": test_predictions,
            "curves": state["curves"],
            "epochs": state["epoch"],
            "best_epoch": state["best_epoch"],
            "n_params": count_parameters(model),
            "seconds": state["seconds"] + time.perf_counter() - started,
        },
        final_path,
    )
    checkpoint_path.unlink(missing_ok=True)
    return _finished_fold(final_path, resumed_from)


def train_cv(
    images: torch.Tensor,
    labels: torch.Tensor,
    clips: Sequence[Clip],
    config: TrainConfig,
    run_dir: str | Path,
    *,
    num_classes: int | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train one model per cross-validation fold and score every one on the test split.

    On CUDA the batch is ``config.batch_size * config.cuda_batch_scale``, the learning rate
    is scaled by ``sqrt(cuda_batch_scale)`` and float16 mixed precision is used when
    ``config.amp``; on the CPU the run is deterministic for a given seed and resolved
    precision. ``amp`` and ``channels_last`` left at ``"auto"`` are resolved first (measured
    once per machine, :mod:`specnb.training.precision`); the result's config records the
    values used.

    Resumable: every epoch of every fold ends with an atomic checkpoint in ``run_dir``.
    Calling ``train_cv`` again with the same ``run_dir`` (after a crash or a kill) skips the
    finished folds and continues an interrupted fold from its last finished epoch; the
    result equals that of an uninterrupted run on the CPU.

    Parameters
    ----------
    images : torch.Tensor, shape (N, 3, 128, 128) or (N, 1, 1, n_samples)
        The model's inputs, float in [0, 1] (or uint8 in [0, 255]): images for an image
        model, waveforms in the layout of :func:`specnb.raw_audio.to_unit` for a waveform
        model (``config.model`` in ``WAVEFORM_MODELS``); ``images[i]`` belongs to ``clips[i]``.
        On CUDA the whole tensor is moved to the GPU when it takes less than half the free
        GPU memory, otherwise each batch is gathered into pinned memory and copied
        asynchronously (see :mod:`specnb.training.batches`).
    labels : torch.Tensor, shape (N,), int
        ``labels[i] == clips[i].label``.
    clips : sequence of Clip
        Originals and augmented copies; the split (``cv_split``, or ``official_split`` when
        ``config.official_test_fold`` is set) is made from them.
    config : TrainConfig
        The protocol.
    run_dir : str or Path
        Folder for the run description, checkpoints and result (created when missing).
        It belongs to one (data, config) pair: reusing it with others is an error.
    num_classes : int, optional
        Number of classes; default ``labels.max() + 1``.
    progress : bool
        Show a progress bar per fold (one step per epoch).

    Returns
    -------
    TrainResult
        Also written to ``run_dir / "result.json"``.

    Raises
    ------
    TrainingError
        For inconsistent inputs, a run folder holding another run, or a diverging loss.

    Examples
    --------
    >>> config = TrainConfig(model="resnet18", epochs=30, patience=5)
    >>> result = train_cv(images, labels, clips, config, "runs/esc10-stft")  # doctest: +SKIP
    >>> print(f"{result.acc_mean:.3f} ± {result.acc_std:.3f}")  # doctest: +SKIP
    """
    if not isinstance(config, TrainConfig):
        raise TrainingError(f"config must be a TrainConfig, got {type(config).__name__}")
    clips = list(clips)
    n_classes = check_inputs(images, labels, clips, num_classes, config.model)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    split = open_run_dir(run_dir, config, fingerprint(images, labels, clips), clips, n_classes)
    plan = Plan.for_config(config)
    labels = labels.to(torch.int64)
    images, labels = place_images(images, labels, plan.device)
    with _execution_mode(plan.device):
        folds = [
            _train_fold(k, split, images, labels, n_classes, config, plan, run_dir, progress)
            for k in range(len(split["folds"]))
        ]
    test_index = np.asarray(split["test"], dtype=np.int64)
    truth = labels.cpu().numpy()[test_index]
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    for fold in folds:
        np.add.at(confusion, (truth, fold.predictions), 1)
    accuracies = np.array([fold.accuracy for fold in folds])
    result = TrainResult(
        config=config.replace(amp=plan.amp, channels_last=plan.channels_last),  # as resolved
        num_classes=n_classes,
        fold_accuracies=tuple(float(a) for a in accuracies),
        acc_mean=float(accuracies.mean()),
        acc_std=float(accuracies.std()),
        confusion=confusion,
        curves=tuple(fold.curves for fold in folds),
        epochs=tuple(fold.epochs for fold in folds),
        best_epochs=tuple(fold.best_epoch for fold in folds),
        resumed_from=tuple(fold.resumed_from for fold in folds),
        train_seconds=float(sum(fold.seconds for fold in folds)),
        n_params=folds[0].n_params,
        checkpoints=tuple(fold.checkpoint for fold in folds),
        test_indices=test_index,
        test_predictions=np.stack([fold.predictions for fold in folds]),
        device=str(plan.device),
        run_dir=run_dir,
    )
    atomic_write_json(result.to_dict(), run_dir / RESULT_FILE)
    return result
