"""The trained runs a study compares: one base job and its variants, trained or found.

A study (transferability, colour maps, architectures) trains several runs that differ in one
thing — the model, or the colour map — and share everything else: dataset, setting, seed,
protocol, and therefore the test split. :func:`study_job` builds the base
:class:`~specnb.runs.TrainingJob` from a notebook's parameters, :func:`variants` derives
the others, and :func:`train_runs` trains each one (or finds it finished in the results store,
by its run key) in its own folder, all sharing one feature cache.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

from specnb.data import PITCH_SCALES
from specnb.runs.finished import TrainedRun, load_trained_run
from specnb.runs.job import TrainingJob
from specnb.runs.train import run_training_job
from specnb.store import ResultsStore
from specnb.training import TrainingError, best_fold_index
from specnb.training.recipe import DEFAULT_RECIPE, recipe_config

__all__ = [
    "JOB_PARAMETERS",
    "best_fold",
    "job_from_parameters",
    "load_best_models",
    "study_job",
    "train_runs",
    "variants",
]


def study_job(
    *,
    dataset: str = "synthetic",
    data_path: str | PathLike | None = None,
    n_per_class: int = 8,
    data_seed: int = 0,
    setting: Mapping[str, Any],
    model: str = "sbcnn",
    seed: int = 0,
    epochs: int = 8,
    folds: int = 2,
    test_size: float = 0.3,
    patience: int = 5,
    batch_size: int = 16,
    lr: float = 1e-3,
    augment: bool = False,
    recipe: str = DEFAULT_RECIPE,
    device: str = "auto",
    official_test_fold: int | None = None,
    dataset_options: Mapping[str, Any] | None = None,
    pretrained: str | None = None,
    missing: str = "error",
) -> TrainingJob:
    """A training job from a notebook's flat parameters of those names (notebooks 02 to 07).

    Parameters
    ----------
    dataset : str
        ``"synthetic"``, ``"esc10"``, ``"esc50"`` or ``"urbansound8k"``.
    data_path : str, path-like or None
        Folder of a real dataset (made absolute); None: the default folder.
    n_per_class, data_seed : int
        Size and seed of the synthetic set (ignored for a real dataset).
    setting : mapping
        Representation setting, e.g. ``{"repr": "stft", "sr": 16000, "n_fft": 512}``.
    model, seed, epochs, folds, test_size, patience, batch_size, lr, device
        The :class:`~specnb.training.TrainConfig` fields of those names (``folds`` is
        ``n_folds``).
    augment : bool
        Add the paper's pitch-shifted copies of every clip
        (:data:`specnb.data.PITCH_SCALES`), as notebook 02's ``AUGMENT`` does.
    official_test_fold : int, optional
        The :class:`~specnb.training.TrainConfig` field of that name.
    dataset_options : mapping, optional
        The synthetic set's options in full (e.g. with ``sr_native``), instead of
        ``n_per_class`` and ``data_seed``; ignored for a real dataset.
    recipe : {"strong", "paper"}
        The training recipe (:func:`specnb.training.recipe.recipe_config`), notebook 02's
        ``RECIPE``. The images are uint8 (``TrainingJob.uint8_images``).
    pretrained : str, optional
        ``"imagenet"`` or a local weights file (``TrainConfig.pretrained``).
    missing : {"error", "skip"}
        A real dataset's listed clips whose audio file is absent: an error, or skipped (a
        partial copy; notebook 02's ``MISSING``).

    Returns
    -------
    TrainingJob

    Raises
    ------
    TrainingError
        Any invalid field (the message names it).

    Examples
    --------
    >>> job = study_job(setting={"repr": "stft", "sr": 8000, "n_fft": 256}, epochs=2)
    >>> job.config.model, job.config.n_folds, job.dataset_kwargs
    ('sbcnn', 2, {'n_per_class': 8, 'seed': 0})
    """
    if not isinstance(setting, Mapping):
        raise TrainingError(
            f"SETTING must be a mapping of the representation's fields, such as "
            f'{{"repr": "stft", "sr": 16000}}, got {type(setting).__name__} {setting!r} '
            "(papermill: pass it with -y or a parameters file, not -p)"
        )
    synthetic = dataset == "synthetic"
    config = recipe_config(
        recipe,
        model=model,
        epochs=epochs,
        n_folds=folds,
        test_size=test_size,
        patience=patience,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        device=device,
        official_test_fold=official_test_fold,
        pretrained=pretrained,
    )
    options = {"seed": data_seed, "n_per_class": n_per_class}
    if dataset_options is not None:
        options = dict(dataset_options)
    return TrainingJob(
        dataset=dataset,
        data_path=None if data_path is None or synthetic else str(Path(data_path).resolve()),
        dataset_options=options if synthetic else {"missing": missing},
        setting=dict(setting),
        pitch_scales=PITCH_SCALES if augment else (),
        config=config,
        uint8_images=True,
    )


#: The notebook parameters a training job is built from, each a :func:`study_job` argument
#: of the same name in lower case.
JOB_PARAMETERS = (
    "DATASET",
    "DATA_PATH",
    "N_PER_CLASS",
    "DATA_SEED",
    "SETTING",
    "MODEL",
    "SEED",
    "EPOCHS",
    "FOLDS",
    "TEST_SIZE",
    "PATIENCE",
    "BATCH_SIZE",
    "LR",
    "AUGMENT",
    "RECIPE",
    "DEVICE",
    "OFFICIAL_TEST_FOLD",
    "PRETRAINED",
    "MISSING",
)


def job_from_parameters(parameters: Mapping[str, Any], **overrides: Any) -> TrainingJob:
    """The training job a notebook's parameters describe (notebooks 02, 04, 05 and 07).

    Parameters
    ----------
    parameters : mapping
        The notebook's names, typically ``globals()``: those of :data:`JOB_PARAMETERS` that
        it has are used (the others keep :func:`study_job`'s defaults); every other name is
        ignored.
    **overrides
        :func:`study_job` arguments that win over ``parameters``, for what a notebook varies
        itself (``setting=`` per entry of notebook 04's ``SETTINGS``, ``model=VICTIM``).

    Returns
    -------
    TrainingJob

    Raises
    ------
    TrainingError
        Any invalid field (the message names it), or an override that is no
        :func:`study_job` argument.

    Examples
    --------
    >>> params = {"SETTING": {"repr": "stft", "sr": 8000, "n_fft": 256}, "EPOCHS": 3, "X": 1}
    >>> job = job_from_parameters(params, model="lstm")
    >>> job.config.epochs, job.config.model, job.setting.n_fft
    (3, 'lstm', 256)
    """
    known = {name.lower() for name in JOB_PARAMETERS}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise TrainingError(
            f"job_from_parameters: no parameter {unknown[0]!r}; known: {sorted(known)}"
        )
    fields = {name.lower(): parameters[name] for name in JOB_PARAMETERS if name in parameters}
    return study_job(**{**fields, **overrides})


def variants(
    base: TrainingJob,
    *,
    models: Sequence[str] | None = None,
    settings: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, TrainingJob]:
    """Jobs that differ from ``base`` in the model, or in setting fields, and nothing else.

    Parameters
    ----------
    base : TrainingJob
    models : sequence of str, optional
        One job per architecture, named by it.
    settings : mapping of str to mapping, optional
        One job per entry: the name, and the setting fields it changes (e.g.
        ``{"coolwarm": {"colormap": "coolwarm"}}``).

    Returns
    -------
    dict of str to TrainingJob
        In the order given; both kinds of variants when both are given.

    Raises
    ------
    TrainingError
        No variant asked for, a name given twice, or an invalid model or setting field.

    Examples
    --------
    >>> base = study_job(setting={"repr": "mfcc", "sr": 8000})
    >>> sorted(variants(base, models=["sbcnn", "alexnet"]))
    ['alexnet', 'sbcnn']
    >>> variants(base, settings={"hsv": {"colormap": "hsv-uniform"}})["hsv"].setting.colormap
    'hsv-uniform'
    """
    jobs: dict[str, TrainingJob] = {}

    def add(name: str, job: TrainingJob) -> None:
        if name in jobs:
            raise TrainingError(f"study variant {name!r} is given twice")
        jobs[name] = job

    for model in models or ():
        add(str(model), base.replace(config=base.config.replace(model=str(model))))
    for name, fields in (settings or {}).items():
        try:
            setting = base.setting.replace(**dict(fields))
        except (TypeError, ValueError) as error:
            raise TrainingError(f"study variant {name!r}: {error}") from None
        add(str(name), base.replace(setting=setting))
    if not jobs:
        raise TrainingError("a study needs at least one variant (models or settings)")
    return jobs


def train_runs(
    jobs: Mapping[str, TrainingJob],
    out_dir: str | PathLike,
    store: ResultsStore,
    *,
    cache_dir: str | PathLike | None = None,
    progress: bool = False,
) -> dict[str, str]:
    """Train every job (or find it finished in ``store``) and return the run keys.

    Each job trains in ``out_dir / "runs" / name``; all share the feature cache
    ``cache_dir`` (default ``out_dir / "cache"``), so a representation is computed once for
    the whole study. A job whose run is already ``done`` in the store — trained by an earlier
    execution, by notebook 02 or by a sweep — is not trained again.

    Parameters
    ----------
    jobs : mapping of str to TrainingJob
        From :func:`variants`.
    out_dir : str or path-like
        The study's run folder.
    store : ResultsStore
    cache_dir : str, path-like or None
    progress : bool
        Progress bars while training.

    Returns
    -------
    dict of str to str
        Run key of each job, by name.
    """
    root = Path(out_dir).resolve()
    cache = Path(cache_dir).resolve() if cache_dir is not None else root / "cache"
    keys = {}
    for name, job in jobs.items():
        keys[name], _ = run_training_job(
            job, root / "runs" / name, store=store, cache_dir=cache, progress=progress
        )
    return keys


def best_fold(store: ResultsStore, run_key: str) -> int:
    """0-based fold whose model is the most accurate on the test split."""
    row = store.get_run(run_key)
    if row is None or not row.get("fold_accs_json"):
        raise TrainingError(f"run {run_key!r} has no fold accuracies in {store.path}")
    return best_fold_index(row["fold_accs_json"])


def load_best_models(
    store: ResultsStore,
    run_keys: Mapping[str, str],
    *,
    device: str = "auto",
    data_path: str | PathLike | None = None,
) -> dict[str, TrainedRun]:
    """The most accurate fold model of every run, with its test split.

    Returns
    -------
    dict of str to TrainedRun
        By name; each holds one model (``run.models[0]``, fold ``run.folds[0]``).
    """
    return {
        name: load_trained_run(
            store, key, device=device, folds=[best_fold(store, key)], data_path=data_path
        )
        for name, key in run_keys.items()
    }
