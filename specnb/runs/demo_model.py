"""The demo model shipped with the package: a confident SB-CNN for notebook 03's ε explorer.

The model notebook 03 trains on the spot in seconds is too unsure of itself to teach with: its
best test clip is recognised with a probability near 0.6, and there is little to flip. The
demo model is the same job — the synthetic set,
:data:`~specnb.runs.attack_target.STANDALONE_SETTING`, SB-CNN, seed 0, the same test split —
trained for :data:`DEMO_EPOCHS` epochs instead of 10;
its best fold model recognises most test clips with a probability above 0.8, and FGSM flips
some of them inside the explorer's ε range.

It is rebuilt, from nothing but the package, by one command::

    specnb demo-model --out PATH

which calls :func:`train_demo_model`. The file holds the weights in float16 (about 490 kB),
the job, the fold and the test clip ids, and loads with ``torch.load(weights_only=True)``.
Training is seeded: a rebuilt file gives the same predictions on the test clips as the shipped
one (tested), though on other hardware or library versions its weights may differ in the
last bits.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Optional, Union

import torch
from torch import nn

from specnb.atomic import atomic_write
from specnb.models.registry import build_model
from specnb.runs.attack_target import standalone_job
from specnb.runs.finished import TrainedRun, load_trained_run
from specnb.runs.job import TrainingJob
from specnb.runs.train import run_training_job
from specnb.runs.variants import best_fold
from specnb.store import ResultsStore
from specnb.training import TrainingError

__all__ = [
    "DEMO_EPOCHS",
    "DEMO_MODEL_FILE",
    "DemoModel",
    "demo_model_for",
    "load_demo_model",
    "train_demo_model",
]

#: The demo checkpoint shipped with the package.
DEMO_MODEL_FILE = Path(__file__).resolve().parents[1] / "data_files" / "demo_sbcnn.pt"

#: Most epochs per fold of the demo job (early stopping may end a fold sooner).
DEMO_EPOCHS = 30


@dataclass(frozen=True, eq=False)
class DemoModel:
    """The demo model and what it was trained on.

    Attributes
    ----------
    model : nn.Module
        The classifier, in evaluation mode, float32.
    job : TrainingJob
        Its training job (the fold model of :attr:`fold` of that job).
    fold : int
        The fold model kept: the most accurate on the test split.
    test_clip_ids : tuple of str
        The clips held out of its training, in the order of the run's test split.
    """

    model: nn.Module
    job: TrainingJob
    fold: int
    test_clip_ids: tuple[str, ...]


def demo_job() -> TrainingJob:
    """The demo model's training job: notebook 03's standalone job, :data:`DEMO_EPOCHS` epochs."""
    return standalone_job(epochs=DEMO_EPOCHS, device="cpu")


def train_demo_model(out: Union[str, PathLike]) -> Path:
    """Train the demo model and write its checkpoint to ``out`` (about 15 s on one CPU core).

    Parameters
    ----------
    out : str or path-like
        The checkpoint file to write (atomically; its folder is created).

    Returns
    -------
    Path
        ``out``.

    Examples
    --------
    >>> train_demo_model("demo_sbcnn.pt")  # doctest: +SKIP
    PosixPath('demo_sbcnn.pt')
    """
    job = demo_job()
    with (
        tempfile.TemporaryDirectory(prefix="specnb-demo-") as work,
        ResultsStore(Path(work) / "results.sqlite") as store,
    ):
        key, _ = run_training_job(job, Path(work) / "run", store=store, progress=False)
        fold = best_fold(store, key)
        run = load_trained_run(store, key, device="cpu", folds=[fold])
        model = run.models[0]
        saved = {
            "arch": job.config.model,
            "num_classes": len(run.classes),
            "model": {
                name: value.half() if value.is_floating_point() else value
                for name, value in model.state_dict().items()
            },
            "job": job.to_dict(),
            "fold": fold,
            "test_clip_ids": [clip.clip_id for clip in run.test_clips],
        }
    path = Path(out)
    atomic_write(path, lambda stream: torch.save(saved, stream))
    return path


def load_demo_model(
    path: Union[str, PathLike] = DEMO_MODEL_FILE,
    device: Union[str, torch.device] = "cpu",
) -> DemoModel:
    """Load a demo checkpoint written by :func:`train_demo_model` (``weights_only=True``).

    Raises
    ------
    TrainingError
        The file is missing or is no demo checkpoint (names the file).
    """
    path = Path(path)
    if not path.is_file():
        raise TrainingError(
            f"no demo model at {path}; write one with `specnb demo-model --out PATH`"
        )
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
        model = build_model(saved["arch"], int(saved["num_classes"]))
        model.load_state_dict(
            {k: v.float() if v.is_floating_point() else v for k, v in saved["model"].items()}
        )
        job = TrainingJob.from_dict(saved["job"])
    except (KeyError, TypeError, RuntimeError, AttributeError) as exc:
        raise TrainingError(f"{path} is not a demo model checkpoint: {exc}") from exc
    return DemoModel(
        model=model.to(device).eval(),
        job=job,
        fold=int(saved["fold"]),
        test_clip_ids=tuple(saved["test_clip_ids"]),
    )


def demo_model_for(
    run: TrainedRun,
    path: Union[str, PathLike] = DEMO_MODEL_FILE,
) -> Optional[nn.Module]:
    """The demo model, on ``run``'s model device, if it fits ``run``; else None.

    It fits when ``run`` has the same dataset (and loader options), representation setting
    and number of classes, and the same test split: the demo model never saw those clips.
    """
    demo = load_demo_model(path)
    ours, theirs = demo.job, run.job
    fits = (
        ours.dataset == theirs.dataset
        and ours.dataset_kwargs == theirs.dataset_kwargs
        and ours.setting.key == theirs.setting.key
        and demo.test_clip_ids == tuple(clip.clip_id for clip in run.test_clips)
    )
    if not fits:
        return None
    device = next(run.models[0].parameters()).device
    return demo.model.to(device)
