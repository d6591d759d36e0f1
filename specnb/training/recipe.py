"""Named training recipes: the paper's literal protocol, and the stronger default.

A recipe is a set of :class:`~specnb.training.TrainConfig` fields; :func:`recipe_config`
builds a config from a recipe name plus the fields a notebook sets itself (model, epochs,
folds...), which win over the recipe's.

``"strong"`` (the default of notebook 02, the studies and ``sweeps/paper.yaml``) trains from
scratch to the literature's accuracies within a CPU budget:

- AdamW with decoupled weight decay 0.01, a 10 % linear warm-up and a cosine decay of the
  learning rate over ``epochs`` (:mod:`specnb.training.schedule`);
- on every training batch (:mod:`specnb.training.batch_augment`): a circular time shift of
  each image by up to half its width, SpecAugment-style masks (two frequency and two time
  bands of up to 12 of the 128 pixels) and mixup (alpha 0.2);
- early stopping on the dev accuracy, smoothed (weight 0.6 of the past), never before half
  of ``epochs`` (:mod:`specnb.training.early_stopping`);
- bfloat16 autocast and channels-last batches where the CPU supports them (execution
  fields, the same on every recipe).

``"paper"`` keeps the paper's protocol as specnb ran it before: a constant learning rate,
no batch augmentation, early stopping on the raw dev loss.
"""

from __future__ import annotations

from typing import Any

from specnb.training.config import TrainConfig, TrainingError

__all__ = ["DEFAULT_RECIPE", "RECIPES", "recipe_config"]

#: The recipe notebooks and sweeps use unless told otherwise.
DEFAULT_RECIPE = "strong"

#: Each recipe's fixed fields; ``"strong"`` also derives two from ``epochs`` (see below).
RECIPES: dict[str, dict[str, Any]] = {
    "paper": {},
    "strong": {
        "schedule": "cosine",
        "weight_decay": 0.01,
        "monitor": "dev_acc",
        "smoothing": 0.6,
        "mixup": 0.2,
        "freq_masks": 2,
        "time_masks": 2,
        "mask_width": 12,
        "time_shift": 0.5,
    },
}


def recipe_config(recipe: str = DEFAULT_RECIPE, **fields: Any) -> TrainConfig:
    """A :class:`TrainConfig` from a recipe and the fields given here (which win).

    Parameters
    ----------
    recipe : {"strong", "paper"}
        ``"strong"`` adds ``warmup_epochs = epochs // 10`` and ``min_epochs = epochs // 2``
        unless given.
    **fields
        Any :class:`TrainConfig` field.

    Returns
    -------
    TrainConfig

    Raises
    ------
    TrainingError
        Unknown recipe (the message lists the known ones) or an invalid field.

    Examples
    --------
    >>> config = recipe_config("strong", model="sbcnn", epochs=40)
    >>> config.schedule, config.warmup_epochs, config.min_epochs
    ('cosine', 4, 20)
    >>> recipe_config("paper", epochs=40).schedule
    'constant'
    """
    if recipe not in RECIPES:
        raise TrainingError(f"recipe={recipe!r} is not a recipe; choose one of {sorted(RECIPES)}")
    merged = {**RECIPES[recipe], **fields}
    if recipe == "strong":
        epochs = merged.get("epochs", TrainConfig.epochs)
        if isinstance(epochs, int) and not isinstance(epochs, bool) and epochs > 0:
            merged.setdefault("warmup_epochs", epochs // 10)
            merged.setdefault("min_epochs", epochs // 2)
    return TrainConfig(**merged)
