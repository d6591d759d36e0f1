"""Tables a training notebook shows: the split of a job and the fold models of a result."""

from __future__ import annotations

from typing import Union

import numpy as np
import pandas as pd

from specnb.data import AudioDataset
from specnb.runs.job import TrainingJob
from specnb.training import TrainResult
from specnb.training.run_folder import make_split

__all__ = ["fold_summary", "split_summary"]


def fold_summary(result: TrainResult) -> pd.DataFrame:
    """One row per fold model: epochs run, best epoch kept, test accuracy.

    Returns
    -------
    pd.DataFrame
        Columns ``fold`` (1-based), ``epochs``, ``best_epoch``, ``test_acc`` (in [0, 1]).
    """
    return pd.DataFrame(
        {
            "fold": np.arange(1, len(result.fold_accuracies) + 1),
            "epochs": list(result.epochs),
            "best_epoch": list(result.best_epochs),
            "test_acc": list(result.fold_accuracies),
        }
    )


def split_summary(job: TrainingJob, dataset: Union[AudioDataset, None] = None) -> pd.DataFrame:
    """How the job's protocol splits the clips: the same split ``train_cv`` makes.

    Parameters
    ----------
    job : TrainingJob
        Its ``config`` fixes the split (``test_size``, ``n_folds``, ``seed`` or
        ``official_test_fold``); its augmentation adds copies.
    dataset : AudioDataset, optional
        The loaded dataset (loaded here when omitted).

    Returns
    -------
    pd.DataFrame
        One row per part (``test``, then ``fold k train`` and ``fold k dev``), with the
        counts of ``originals``, augmented ``copies``, ``sources`` and ``classes`` present.

    Examples
    --------
    >>> from specnb.training import TrainConfig
    >>> job = TrainingJob("synthetic", dataset_options={"n_per_class": 6},
    ...                   config=TrainConfig(n_folds=2))
    >>> split_summary(job)["part"].tolist()
    ['test', 'fold 1 train', 'fold 1 dev', 'fold 2 train', 'fold 2 dev']
    """
    dataset = job.load_dataset() if dataset is None else dataset
    clips = job.training_clips(dataset)
    split = make_split(clips, job.config)
    parts = [("test", split.test)]
    for k, fold in enumerate(split.folds, start=1):
        parts += [(f"fold {k} train", fold.train), (f"fold {k} dev", fold.dev)]
    return pd.DataFrame(
        [
            {
                "part": name,
                "originals": sum(c.is_original for c in part),
                "copies": sum(not c.is_original for c in part),
                "sources": len({c.source_id for c in part}),
                "classes": len({c.label for c in part}),
            }
            for name, part in parts
        ]
    )
