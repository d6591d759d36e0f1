"""A waveform run: an end-to-end waveform model trained with the protocol of the 2D models.

The training itself is :func:`specnb.training.train_cv` with a
:class:`~specnb.training.TrainConfig` whose ``model`` is a waveform model (paper §4.2: 30 %
test, cross-validation folds of the rest, early stopping on each fold's dev part, the best
epoch's weights scored on the test part). This module loads the waveforms, keys the run in the
results store (``repr = "waveform"``) and reloads a finished run instead of training it again.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np
import torch
from torch import nn

from specnb.data.clips import AudioDataset, Clip
from specnb.models.registry import WAVEFORM_MODELS, count_parameters
from specnb.raw_audio.waveforms import (
    WAVEFORM_REPR,
    load_waveforms,
    to_unit,
    waveform_setting,
)
from specnb.store import ResultsStore, run_key, stable_key
from specnb.training import (
    TrainConfig,
    TrainingError,
    load_fold_models,
    load_split,
    resolve_device,
    train_cv,
)
from specnb.training.checkpoints import fold_model_path
from specnb.training.result import best_fold_index

__all__ = ["WAVEFORM_TRAINING", "WaveformRun", "train_waveform_model"]

#: The waveform study's protocol: AdamW at 3e-3, batches of 16, two folds, the same batch,
#: learning rate and float32 on CUDA as on the CPU. Notebooks ``replace`` epochs, folds, seed.
WAVEFORM_TRAINING = TrainConfig(
    model="convnet1d",
    epochs=10,
    batch_size=16,
    lr=3e-3,
    n_folds=2,
    cuda_batch_scale=1,
    amp=False,
)


@dataclass(frozen=True, eq=False)
class WaveformRun:
    """A trained (or reloaded) waveform run: fold models and the test split.

    Attributes
    ----------
    run_key : str
        Its row in the results store (``repr`` ``"waveform"``).
    config : TrainConfig
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
    config: TrainConfig
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


def train_waveform_model(
    dataset: AudioDataset,
    config: TrainConfig,
    out_dir: str | PathLike,
    store: ResultsStore,
    *,
    sr: int = 8000,
    clips: Sequence[Clip] | None = None,
) -> WaveformRun:
    """Train ``config.model`` on the waveforms of ``dataset`` with cross-validation; record it.

    The run's ``runs`` row has ``repr = "waveform"``, ``setting_json = {"repr": "waveform",
    "sr": sr}``, the accuracies, epochs and parameter count, ``checkpoint_path`` the run folder
    of :func:`~specnb.training.train_cv` (``out_dir / "waveform_<run key>"``) and artefacts
    ``classes`` and ``test_clip_ids``. A ``done`` row whose fold models exist is reloaded; an
    interrupted run resumes from its last checkpoint.

    Parameters
    ----------
    dataset : AudioDataset
    config : TrainConfig
        The protocol; ``config.model`` is one of
        :data:`~specnb.models.registry.WAVEFORM_MODELS` (start from :data:`WAVEFORM_TRAINING`).
    out_dir : str or path-like
        Run folder of the notebook.
    store : ResultsStore
    sr : int
        Sampling rate of the waveforms in Hz.
    clips : sequence of Clip, optional
        Clips to use (default all of the dataset's).

    Returns
    -------
    WaveformRun

    Raises
    ------
    TrainingError, SplitError
        A model that is not a waveform model, a bad device, too few clips per class for the
        split, a diverging loss (the row, once written, is marked ``failed``).

    Examples
    --------
    >>> config = WAVEFORM_TRAINING.replace(epochs=2)
    >>> run = train_waveform_model(data, config, "runs/06", store)  # doctest: +SKIP
    """
    if not isinstance(config, TrainConfig) or config.model not in WAVEFORM_MODELS:
        model = getattr(config, "model", config)
        raise TrainingError(
            f"config.model={model!r} is not a waveform model; choose one of {WAVEFORM_MODELS}"
        )
    clips = tuple(dataset.clips if clips is None else clips)
    device = resolve_device(config.device)
    setting = waveform_setting(sr)
    key = run_key(
        dataset=dataset.key,
        setting=setting,
        model=config.model,
        seed=config.seed,
        protocol=config.protocol(),
    )
    inputs = to_unit(load_waveforms(dataset, clips, sr))
    labels = torch.tensor([clip.label for clip in clips], dtype=torch.int64)
    n_classes = len(dataset.classes)
    row = store.get_run(key)
    if row is not None and row["status"] == "done":
        run_dir = Path(row["checkpoint_path"] or "")
        if all(fold_model_path(run_dir, k).is_file() for k in range(len(row["fold_accs_json"]))):
            test_index = torch.as_tensor(load_split(run_dir)["test"])
            return WaveformRun(
                key,
                config,
                dataset.classes,
                tuple(load_fold_models(run_dir, device=device)),
                tuple(row["fold_accs_json"]),
                tuple(clips[i] for i in test_index.tolist()),
                inputs[test_index],
                labels[test_index],
                trained=False,
            )
    run_dir = Path(out_dir).resolve() / f"waveform_{key}"
    store.upsert_run(
        key,
        status="running",
        error=None,
        dataset=dataset.key,
        repr=WAVEFORM_REPR,
        setting_key=stable_key(setting),
        setting_json=setting,
        model=config.model,
        seed=config.seed,
        protocol_json=config.protocol(),
        device=str(device),
        checkpoint_path=str(run_dir),
    )
    try:
        started = time.perf_counter()
        result = train_cv(
            inputs, labels, clips, config, run_dir, num_classes=n_classes, progress=False
        )
        models = load_fold_models(run_dir, device=device)
        test_clips = tuple(clips[i] for i in result.test_indices.tolist())
        store.upsert_run(
            key,
            status="done",
            acc_mean=result.acc_mean,
            acc_std=result.acc_std,
            fold_accs_json=list(result.fold_accuracies),
            n_params=count_parameters(models[0]),
            epochs_json=list(result.epochs),
            train_seconds=time.perf_counter() - started,
            artefacts_json={
                "classes": list(dataset.classes),
                "out_dir": str(run_dir),
                "test_clip_ids": [c.clip_id for c in test_clips],
                "config": config.to_dict(),
            },
        )
    except BaseException as error:
        store.upsert_run(key, status="failed", error=f"{type(error).__name__}: {error}")
        raise
    test_index = torch.as_tensor(result.test_indices)
    return WaveformRun(
        key,
        config,
        dataset.classes,
        tuple(models),
        result.fold_accuracies,
        test_clips,
        inputs[test_index],
        labels[test_index],
        trained=True,
    )
