"""One training experiment from dataset to results store, and back: the jobs of notebook 02.

A :class:`TrainingJob` names everything that shapes a trained run: the dataset (and where it
lives), the representation setting, the augmentation and the :class:`~specnb.training.TrainConfig`.
:func:`run_training_job` turns it into images through the feature cache, trains with
:func:`~specnb.training.train_cv`, records the run in the :class:`~specnb.store.ResultsStore`
and saves the figures; :func:`load_trained_run` gives the attack notebooks the trained fold
models and the test split back.

Modules
-------
job
    :class:`TrainingJob`, the frozen, validated, hashable description of a run.
train
    :func:`run_training_job` and :func:`open_store`: train a job, record it in the store.
summaries
    :func:`split_summary` and :func:`fold_summary`, the training notebook's tables.
finished
    :class:`TrainedRun` and :func:`load_trained_run`: a finished run brought back.
variants
    A study's base job and its variants, trained or found; :func:`best_fold` of a stored run.
attack_target
    Which run the attack notebook attacks: a stored one, or a tiny one trained on the spot.
demo_model
    The demo model shipped for notebook 03's ε explorer: train it, load it, does it fit a run.
"""

from specnb.runs.finished import TrainedRun, load_trained_run
from specnb.runs.job import TrainingJob
from specnb.runs.summaries import fold_summary, split_summary
from specnb.runs.train import TRAIN_FOLDER, open_store, run_training_job
from specnb.runs.variants import JOB_PARAMETERS, best_fold, job_from_parameters, study_job

__all__ = [
    "JOB_PARAMETERS",
    "TRAIN_FOLDER",
    "TrainedRun",
    "TrainingJob",
    "best_fold",
    "fold_summary",
    "job_from_parameters",
    "load_trained_run",
    "open_store",
    "run_training_job",
    "split_summary",
    "study_job",
]
