"""Run a training job: images through the feature cache, cross-validation, store row, figures.

Run folder written by :func:`run_training_job`::

    out_dir/
        results.sqlite          the results store (unless another one is passed)
        cache/                  raw representations (unless another cache folder is passed)
        train/                  train_cv's run folder: train.json, result.json, foldK/model.pt
        learning_curves.png
        confusion.png
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any, Union

import torch

from specnb.metrics import test_correct
from specnb.representations.cache import FeatureCache
from specnb.representations.features import dataset_images
from specnb.runs.job import TrainingJob
from specnb.store import ResultsStore
from specnb.training import TrainResult, load_result, resolve_device, train_cv
from specnb.training.figures import save_training_figures
from specnb.training.result import RESULT_FILE

__all__ = ["TRAIN_FOLDER", "StoreLike", "open_store", "run_training_job"]

#: Sub-folder of ``out_dir`` that holds the checkpoints of :func:`run_training_job`.
TRAIN_FOLDER = "train"

#: A results store, the path of its file, or None for the run folder's own.
StoreLike = Union[ResultsStore, str, PathLike, None]


def open_store(store: StoreLike, out_dir: Union[str, PathLike]) -> ResultsStore:
    """``store`` itself, the store at that path, or ``out_dir / "results.sqlite"`` for None."""
    if isinstance(store, ResultsStore):
        return store
    return ResultsStore(Path(out_dir) / "results.sqlite" if store is None else Path(store))


def _finished(row: Union[dict[str, Any], None]) -> Union[TrainResult, None]:
    if row is None or row["status"] != "done" or not row["checkpoint_path"]:
        return None
    folder = Path(row["checkpoint_path"])
    return load_result(folder) if (folder / RESULT_FILE).is_file() else None


def run_training_job(
    job: TrainingJob,
    out_dir: Union[str, PathLike],
    *,
    store: StoreLike = None,
    cache_dir: Union[str, PathLike, None] = None,
    progress: bool = True,
) -> tuple[str, TrainResult]:
    """Train ``job`` with cross-validation, record it in the store, save its figures.

    The dataset is loaded (metadata only) and the run key computed first; a run whose row
    is ``done`` and whose ``result.json`` exists is returned as it is, without training.
    Otherwise the row is marked ``running``, the images of the clips and their augmented copies are
    computed through the feature cache, :func:`~specnb.training.train_cv` trains in
    ``out_dir / "train"`` (resuming an interrupted run there), and the row is updated to
    ``done`` with the accuracies, epochs, checkpoint folder and artefacts (figures, job, class
    names, test clip ids, cache folder). An exception after the row exists marks it
    ``failed`` with the error message and is raised again; an error while loading the dataset
    (a wrong ``data_path``) or choosing the device (CUDA asked for, none present) is raised
    before any row is written.

    Parameters
    ----------
    job : TrainingJob
        What to train.
    out_dir : str or path-like
        Run folder (created when missing).
    store : ResultsStore, str, path-like or None
        The results store, or its file; None: ``out_dir / "results.sqlite"``.
    cache_dir : str, path-like or None
        Feature cache folder; None: ``out_dir / "cache"``.
    progress : bool
        Show progress bars (feature computation, one per fold).

    Returns
    -------
    run_key : str
        The run's key in the store.
    result : TrainResult
        Accuracies, curves, confusion matrix and checkpoint files.

    Raises
    ------
    DatasetError, TrainingError, SplitError
        Bad data path, bad inputs, impossible split (the row, when written, is ``failed``).

    Examples
    --------
    >>> from specnb.training import TrainConfig
    >>> job = TrainingJob("synthetic", dataset_options={"n_per_class": 6},
    ...                   setting={"repr": "stft", "sr": 8000, "n_fft": 256},
    ...                   config=TrainConfig(model="sbcnn", epochs=2, n_folds=2))
    >>> key, result = run_training_job(job, "runs/02_training")  # doctest: +SKIP
    >>> print(f"{result.acc_mean:.2f} ± {result.acc_std:.2f}")  # doctest: +SKIP
    """
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    results = open_store(store, out_dir)
    dataset = job.load_dataset()
    key = job.run_key(dataset)
    finished = _finished(results.get_run(key))
    if finished is not None:
        return key, finished
    cache = Path(cache_dir).resolve() if cache_dir is not None else out_dir / "cache"
    device = resolve_device(job.config.device)
    artefacts: dict[str, Any] = {
        "job": job.to_dict(),
        "classes": list(dataset.classes),
        "out_dir": str(out_dir),
        "cache_dir": str(cache),
    }
    results.upsert_run(
        key,
        status="running",
        error=None,
        dataset=dataset.key,
        repr=job.setting.kind,
        setting_key=job.setting.key,
        setting_json=job.setting.to_dict(),
        model=job.config.model,
        seed=job.config.seed,
        protocol_json=job.protocol(),
        device=str(device),
        artefacts_json=artefacts,
    )
    try:
        clips = job.training_clips(dataset)
        images = dataset_images(
            dataset,
            clips,
            job.setting,
            cache=FeatureCache(cache),
            device=device,
            progress=progress,
            dtype=job.image_dtype,
        )
        labels = torch.tensor([clip.label for clip in clips], dtype=torch.int64)
        result = train_cv(
            images,
            labels,
            clips,
            job.config,
            out_dir / TRAIN_FOLDER,
            num_classes=len(dataset.classes),
            progress=progress,
        )
        figures = save_training_figures(result, dataset.classes, out_dir)
        fields = result.run_fields()
        fields["protocol_json"] = job.protocol()
        fields["artefacts_json"] = {
            **fields["artefacts_json"],
            **artefacts,
            "figures": figures,
            "test_clip_ids": [clips[i].clip_id for i in result.test_indices],
            "test_correct": test_correct(
                result.test_predictions, labels.numpy()[result.test_indices]
            ),
        }
        results.upsert_run(key, **fields)
    except BaseException as error:
        results.upsert_run(key, status="failed", error=f"{type(error).__name__}: {error}")
        raise
    return key, result
