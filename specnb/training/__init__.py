"""Cross-validated training of the victim models, resumable from atomic checkpoints.

The protocol of the paper (§4.2): the original clips are split into a test part (30 %) and a
train+dev part on which ``n_folds``-fold cross-validation runs; one model is trained per fold
with early stopping on that fold's dev part, every fold model is scored on the test part, and
the recognition accuracy is the mean (± std) over the fold models.

Modules
-------
- ``checkpoints`` -- Checkpoint files of a training run: atomic writes, RNG states, the run-folder
  layout.
- ``config`` -- The training protocol as a small frozen, validated, hashable setting.
- ``cross_validation`` -- The fold loop: one model per fold, early stopping, a checkpoint after
  every epoch.
- ``epochs`` -- Device choice, batches, one training epoch, scoring and the optimiser.
- ``figures`` -- Seaborn figures of a training run: learning curves per fold and the test confusion
  matrix.
- ``result`` -- What a cross-validated training run produces, and how it is read back from its
  folder.
- ``run_folder`` -- The run folder's description: input checks, the split as indices, the data
  fingerprint.
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
