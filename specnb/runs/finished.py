"""A finished training run brought back for attacking: fold models, test images, audio.

:func:`load_trained_run` reads a ``done`` row of the results store written by
:func:`~specnb.runs.train.run_training_job` and rebuilds what the attack notebooks need: the
fold models, the test split (clips, images in [0, 1], labels), the class names, the
representation setting and the dataset, to play the test clips.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any, Sequence, Union

import numpy as np
import torch
from torch import nn

from specnb.data import AudioDataset, Clip
from specnb.representations import Setting
from specnb.representations.cache import FeatureCache
from specnb.representations.features import dataset_images
from specnb.runs.job import TrainingJob
from specnb.store import ResultsStore
from specnb.training import (
    TrainingError,
    TrainResult,
    evaluate,
    load_fold_models,
    load_result,
    resolve_device,
)

__all__ = ["TrainedRun", "load_trained_run"]


@dataclass(frozen=True, eq=False)
class TrainedRun:
    """The trained fold models of one run and the test split they were scored on.

    Attributes
    ----------
    run_key : str
        The run's key in the results store.
    job : TrainingJob
        What was trained (dataset, setting, augmentation, protocol).
    result : TrainResult
        Accuracies, curves, confusion matrix, checkpoint files.
    dataset : AudioDataset
        The dataset, to read (and play) the test clips' audio.
    models : tuple of nn.Module
        The requested fold models, in evaluation mode, on the chosen device.
    folds : tuple of int
        0-based fold of each model.
    test_clips : tuple of Clip
        The test split (original clips only), in the order of ``test_images`` and of the
        columns of ``result.test_predictions``.
    test_images : torch.Tensor, shape (n_test, 3, 128, 128), float32, CPU
        Model images in [0, 1].
    test_labels : torch.Tensor, shape (n_test,), int64, CPU
        True classes.
    """

    run_key: str
    job: TrainingJob
    result: TrainResult
    dataset: AudioDataset
    models: tuple[nn.Module, ...]
    folds: tuple[int, ...]
    test_clips: tuple[Clip, ...]
    test_images: torch.Tensor
    test_labels: torch.Tensor

    @property
    def classes(self) -> tuple[str, ...]:
        """Class names; ``test_labels`` index them."""
        return self.dataset.classes

    @property
    def setting(self) -> Setting:
        """The representation setting the models were trained on."""
        return self.job.setting

    def audio(self, index: int) -> np.ndarray:
        """Waveform of test clip ``index`` at ``setting.sr`` Hz, shape (n_samples,), float32."""
        return self.dataset.load(self.test_clips[index], self.setting.sr)

    def accuracies(self, batch_size: int = 64) -> list[float]:
        """Test accuracy of each loaded fold model on ``test_images``, in [0, 1].

        Equal to ``result.fold_accuracies`` (for the loaded folds) when the images are
        reproduced exactly; a check that the test split was rebuilt faithfully.
        """
        return [
            evaluate(model, self.test_images, self.test_labels, batch_size)[0]
            for model in self.models
        ]


def done_run(store: ResultsStore, run_key: str, *, name: str = "run ") -> dict[str, Any]:
    """The stored row of a finished run.

    Raises
    ------
    TrainingError
        ``run_key`` is not in ``store`` (the message names it ``name`` + key), or its run is not
        ``done`` (the stored error is quoted).
    """
    row = store.get_run(run_key)
    if row is None:
        raise TrainingError(f"{name}{run_key!r} is not in the results store {store.path}")
    if row["status"] != "done":
        reason = f": {row['error']}" if row.get("error") else ""
        raise TrainingError(f"run {run_key!r} is {row['status']}, not done{reason}")
    return row


def load_trained_run(
    store: Union[ResultsStore, str, PathLike],
    run_key: str,
    *,
    device: Union[str, torch.device] = "auto",
    folds: Union[Sequence[int], None] = None,
    data_path: Union[str, PathLike, None] = None,
    cache_dir: Union[str, PathLike, None] = None,
    progress: bool = False,
) -> TrainedRun:
    """Bring back a finished run: its fold models and its test split.

    Parameters
    ----------
    store : ResultsStore, str or path-like
        The results store (or its file) holding the run.
    run_key : str
        The run's key (returned by :func:`~specnb.runs.run_training_job`).
    device : str or torch.device
        Where the models go (``"auto"``: CUDA when available); images stay on the CPU.
    folds : sequence of int, optional
        0-based fold models to load; default all.
    data_path : str or path-like, optional
        Where the dataset is now, when it moved since training (a real dataset only).
    cache_dir : str or path-like, optional
        Feature cache to use; default the one the run was trained with.
    progress : bool
        Show a progress bar while test images are computed (cache misses only).

    Returns
    -------
    TrainedRun

    Raises
    ------
    TrainingError
        The run is not in the store, is not ``done`` (the stored error is quoted), its run
        folder is gone, or a test clip is missing from the dataset (names the clip).

    Examples
    --------
    >>> run = load_trained_run("runs/02_training/results.sqlite", key)  # doctest: +SKIP
    >>> run.test_images.shape, run.classes[:2]  # doctest: +SKIP
    (torch.Size([120, 3, 128, 128]), ('dog', 'rooster'))
    """
    results = store if isinstance(store, ResultsStore) else ResultsStore(Path(store))
    row = done_run(results, run_key)
    artefacts = row["artefacts_json"] or {}
    if "job" not in artefacts or "test_clip_ids" not in artefacts:
        raise TrainingError(
            f"run {run_key!r} was not recorded by run_training_job (no job or test clips)"
        )
    job = TrainingJob.from_dict(artefacts["job"])
    if data_path is not None:
        job = job.replace(data_path=str(data_path))
    run_dir = Path(row["checkpoint_path"])
    result = load_result(run_dir)
    dataset = job.load_dataset()
    by_id = {clip.clip_id: clip for clip in dataset.clips}
    missing = [cid for cid in artefacts["test_clip_ids"] if cid not in by_id]
    if missing:
        raise TrainingError(
            f"test clip {missing[0]!r} of run {run_key!r} is not in {job.dataset} "
            f"({dataset.root}); {len(missing)} missing"
        )
    test_clips = tuple(by_id[cid] for cid in artefacts["test_clip_ids"])
    target = resolve_device(device) if isinstance(device, str) else device
    cache = FeatureCache(cache_dir if cache_dir is not None else artefacts["cache_dir"])
    images = dataset_images(
        dataset,
        test_clips,
        job.setting,
        cache=cache,
        device=target,
        progress=progress,
        dtype=job.image_dtype,
    )
    if images.dtype == torch.uint8:
        images = images.float().div_(255.0)
    chosen = tuple(range(len(result.fold_accuracies))) if folds is None else tuple(folds)
    models = load_fold_models(run_dir, device=target, folds=chosen)
    return TrainedRun(
        run_key=run_key,
        job=job,
        result=result,
        dataset=dataset,
        models=tuple(models),
        folds=chosen,
        test_clips=test_clips,
        test_images=images,
        test_labels=torch.tensor([clip.label for clip in test_clips], dtype=torch.int64),
    )
