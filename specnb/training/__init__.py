"""Cross-validated training of the victim models, resumable from atomic checkpoints.

The protocol of the paper (§4.2): the original clips are split into a test part (30 %) and a
train+dev part on which ``n_folds``-fold cross-validation runs; one model is trained per fold
with early stopping on that fold's dev part, every fold model is scored on the test part, and
the recognition accuracy is the mean (± std) over the fold models.

Modules
-------
- ``batch_augment`` -- Time shifts, SpecAugment-style masks and mixup of training batches.
- ``batches`` -- Batches of the image cache on the compute device: where the cache lives, how
  a batch moves (pinned, asynchronous, uint8 until the device).
- ``checkpoints`` -- Checkpoint files of a training run: atomic writes, RNG states, the run-folder
  layout.
- ``config`` -- The training protocol as a small frozen, validated, hashable setting.
- ``cross_validation`` -- The fold loop: one model per fold, early stopping, a checkpoint after
  every epoch.
- ``early_stopping`` -- Which epoch is best, and when a fold stops (smoothed, after
  ``min_epochs``).
- ``epochs`` -- Device choice, precision, one training epoch, scoring and the
  optimiser.
- ``figures`` -- Seaborn figures of a training run: learning curves per fold and the test confusion
  matrix.
- ``precision`` -- Training precision by measurement: float32, or bfloat16 with channels-last,
  whichever is faster on this machine (cached per CPU model and torch version).
- ``recipe`` -- The named training recipes: ``"strong"`` (the default) and ``"paper"``.
- ``result`` -- What a cross-validated training run produces, and how it is read back from its
  folder.
- ``run_folder`` -- The run folder's description: input checks, the split as indices, the data
  fingerprint.
- ``schedule`` -- The learning rate as a function of the training progress.
"""

from specnb.training.config import EXECUTION_FIELDS, TrainConfig, TrainingError
from specnb.training.cross_validation import train_cv
from specnb.training.epochs import evaluate, resolve_device
from specnb.training.recipe import DEFAULT_RECIPE, RECIPES, recipe_config
from specnb.training.result import TrainResult, best_fold_index, load_result
from specnb.training.run_folder import load_fold_models, load_split

__all__ = [
    "DEFAULT_RECIPE",
    "EXECUTION_FIELDS",
    "RECIPES",
    "TrainConfig",
    "TrainResult",
    "TrainingError",
    "evaluate",
    "load_fold_models",
    "load_result",
    "load_split",
    "recipe_config",
    "resolve_device",
    "best_fold_index",
    "train_cv",
]
