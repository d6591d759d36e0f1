"""Which trained run the attack notebook attacks: a stored one, or a tiny one trained on the spot.

In a sweep the attack step shares the training step's results store and names the run by the
same parameters (dataset, setting, model, seed); alone, the notebook can train a small model
on the synthetic set first, so that it runs on a fresh machine.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any, Mapping, Optional, Union

from specnb.representations import setting_from_dict
from specnb.runs import TrainingJob, run_training_job
from specnb.runs.finished import done_run
from specnb.runs.variants import study_job
from specnb.store import ResultsStore
from specnb.training import TrainingError

__all__ = ["STANDALONE_SETTING", "find_run", "resolve_run", "standalone_job"]

#: Representation of the run trained when none is found: a small STFT of 8 kHz audio.
STANDALONE_SETTING = {"repr": "stft", "sr": 8000, "n_fft": 256}

#: Synthetic clips per class of the standalone run, and their native sampling rate.
_STANDALONE_DATA = {"n_per_class": 10, "sr_native": 16000}


def find_run(
    store: ResultsStore,
    *,
    run_key: Optional[str] = None,
    dataset: Optional[str] = None,
    setting: Optional[Mapping[str, Any]] = None,
    model: Optional[str] = None,
    seed: Optional[int] = None,
    official_test_fold: Optional[int] = None,
) -> Optional[str]:
    """The key of a finished run in ``store``: ``run_key`` itself, or the newest match.

    Parameters
    ----------
    store : ResultsStore
    run_key : str, optional
        A run to use as it is; it must be in the store and ``done``.
    dataset : str, optional
        Dataset name (``"synthetic"``, ``"esc10"``...) the run was trained on.
    setting : mapping, optional
        Representation setting (fields left out take their defaults, as in training).
    model : str, optional
        Architecture name.
    seed : int, optional
        Training seed.
    official_test_fold : int, optional
        The official fold the run tested on (``TrainConfig.official_test_fold``): one run
        of a study that rotates the test fold.

    Returns
    -------
    str or None
        The run key; None when no ``done`` run matches the filters given.

    Raises
    ------
    TrainingError
        ``run_key`` is not in the store or not ``done`` (the stored error is quoted).
    """
    if run_key is not None:
        done_run(store, run_key, name="RUN_KEY=")
        return run_key
    runs = store.runs_df(status="done")
    if setting is not None:
        runs = runs[runs["setting_key"] == setting_from_dict(dict(setting)).key]
    if model is not None:
        runs = runs[runs["model"] == model]
    if seed is not None:
        runs = runs[runs["seed"] == int(seed)]
    jobs = [(a.get("job") if isinstance(a, dict) else None) or {} for a in runs["artefacts_json"]]
    if dataset is not None:
        runs = runs[[job.get("dataset") == dataset for job in jobs]]
        jobs = [job for job in jobs if job.get("dataset") == dataset]
    if official_test_fold is not None:
        folds = [(job.get("config") or {}).get("official_test_fold") for job in jobs]
        runs = runs[[fold == int(official_test_fold) for fold in folds]]
    return str(runs["run_key"].iloc[-1]) if len(runs) else None


def standalone_job(
    *,
    dataset: Optional[str] = None,
    setting: Optional[Mapping[str, Any]] = None,
    model: Optional[str] = None,
    seed: Optional[int] = None,
    data_path: Union[str, PathLike, None] = None,
    epochs: int = 10,
    device: str = "auto",
) -> TrainingJob:
    """A small training job for the attack notebook to run when no trained run is at hand.

    Unset fields take small defaults: the synthetic set (10 clips per class),
    :data:`STANDALONE_SETTING`, SB-CNN, seed 0, 2 folds of at most ``epochs`` epochs with a
    learning rate of 0.003 (on one CPU core: about 22 s for 10 epochs, and fold models that
    recognise 60 to 65 % of the test clips).

    Examples
    --------
    >>> standalone_job(epochs=1).config.model
    'sbcnn'
    """
    return study_job(
        dataset=dataset or "synthetic",
        data_path=data_path,
        dataset_options=_STANDALONE_DATA,
        setting=setting if setting is not None else STANDALONE_SETTING,
        model=model or "sbcnn",
        seed=0 if seed is None else int(seed),
        epochs=epochs,
        folds=2,
        batch_size=16,
        lr=0.003,
        device=device,
    )


def resolve_run(
    store: ResultsStore,
    out_dir: Union[str, PathLike],
    *,
    run_key: Optional[str] = None,
    dataset: Optional[str] = None,
    setting: Optional[Mapping[str, Any]] = None,
    model: Optional[str] = None,
    seed: Optional[int] = None,
    official_test_fold: Optional[int] = None,
    train_if_missing: bool = True,
    data_path: Union[str, PathLike, None] = None,
    cache_dir: Union[str, PathLike, None] = None,
    epochs: int = 10,
    device: str = "auto",
) -> tuple[str, bool]:
    """The run to attack: :func:`find_run`, else a :func:`standalone_job` trained now.

    Returns
    -------
    run_key : str
    trained : bool
        Whether the run was trained by this call (in ``out_dir / "standalone"``).

    Raises
    ------
    TrainingError
        A bad ``run_key``, or no matching run while ``train_if_missing`` is False (the
        message names the filters and the store).
    """
    found = find_run(
        store,
        run_key=run_key,
        dataset=dataset,
        setting=setting,
        model=model,
        seed=seed,
        official_test_fold=official_test_fold,
    )
    if found is not None:
        return found, False
    if not train_if_missing:
        filters = {
            "DATASET": dataset,
            "SETTING": setting,
            "MODEL": model,
            "SEED": seed,
            "OFFICIAL_TEST_FOLD": official_test_fold,
        }
        given = {k: v for k, v in filters.items() if v is not None} or "none"
        raise TrainingError(
            f"no done run in the results store {store.path} matches the filters {given}; "
            "train one with notebook 02 or set TRAIN_IF_MISSING"
        )
    job = standalone_job(
        dataset=dataset,
        setting=setting,
        model=model,
        seed=seed,
        data_path=data_path,
        epochs=epochs,
        device=device,
    )
    key, _ = run_training_job(
        job, Path(out_dir) / "standalone", store=store, cache_dir=cache_dir, progress=False
    )
    return key, True
