"""Cross-validated training of the victim models, resumable from atomic checkpoints.

The protocol of the paper (§4.2): the original clips are split into a test part (30 %) and a
train+dev part on which ``n_folds``-fold cross-validation runs; one model is trained per fold
with early stopping on that fold's dev part, every fold model is scored on the test part, and
the recognition accuracy is the mean (± std) over the fold models.

Modules
-------
config
    :class:`TrainConfig`, the validated, hashable protocol.
cross_validation
    :func:`train_cv`, the fold loop with early stopping and resumption.
steps
    One epoch, scoring (:func:`evaluate`), device and batch-size rules.
checkpoints
    Atomic checkpoint files and RNG states.
run_folder
    The run description (config, data fingerprint, split), :func:`load_split` and
    :func:`load_fold_models`.
result
    :class:`TrainResult` and :func:`load_result`.
"""

from specnb.training.config import EXECUTION_FIELDS, TrainConfig, TrainingError
from specnb.training.cross_validation import train_cv
from specnb.training.epochs import evaluate, resolve_device
from specnb.training.result import TrainResult, best_fold_index, load_result
from specnb.training.run_folder import load_fold_models, load_split

__all__ = [
    "EXECUTION_FIELDS",
    "TrainConfig",
    "TrainResult",
    "TrainingError",
    "evaluate",
    "load_fold_models",
    "load_result",
    "load_split",
    "resolve_device",
    "best_fold_index",
    "train_cv",
]
