"""The training protocol as a small frozen, validated, hashable setting.

:class:`TrainConfig` fixes everything that shapes the trained models (architecture, schedule,
augmentation, early stopping, split protocol, seed) plus three execution fields (``device``,
``amp``, ``channels_last``) that are left out of its key, so that a run started on a CPU and
resumed on a GPU keeps its results-store identity. The recipe fields (:data:`RECIPE_FIELDS`)
are left out of the key while they hold their neutral default, so the keys of runs made
before they existed do not change.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Union

from specnb.errors import TrainingError, check_positive_int
from specnb.models.registry import MODELS, WAVEFORM_MODELS
from specnb.store import stable_key
from specnb.training.schedule import SCHEDULES

__all__ = ["EXECUTION_FIELDS", "RECIPE_FIELDS", "TrainConfig", "TrainingError"]

#: Fields that choose where and how fast a run executes, not what it computes; left out of
#: :attr:`TrainConfig.key` and :meth:`TrainConfig.protocol`.
EXECUTION_FIELDS: frozenset[str] = frozenset({"device", "amp", "channels_last"})

#: The training-recipe fields and their neutral values (the plain protocol of the paper);
#: a field at its neutral value is left out of the key and of the protocol.
RECIPE_FIELDS: dict[str, Any] = {
    "schedule": "constant",
    "warmup_epochs": 0,
    "min_epochs": 0,
    "smoothing": 0.0,
    "mixup": 0.0,
    "freq_masks": 0,
    "time_masks": 0,
    "mask_width": 0,
    "time_shift": 0.0,
}

_OPTIMIZERS = ("adam", "sgd")
_MONITORS = ("dev_loss", "dev_acc")


def _finite_number(name: str, value: Any, *, low: float, low_inclusive: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TrainingError(f"TrainConfig.{name} must be a finite number, got {value!r}")
    if value < low or (value == low and not low_inclusive):
        bound = ">=" if low_inclusive else ">"
        raise TrainingError(f"TrainConfig.{name} must be {bound} {low}, got {value!r}")


@dataclass(frozen=True)
class TrainConfig:
    """How one model is trained and evaluated with cross-validation (paper §4.2).

    Parameters
    ----------
    model : str
        Architecture name for :func:`specnb.models.build_model`: an image model of
        :data:`~specnb.models.registry.MODELS` (``"resnet18"``...) or a waveform model of
        :data:`~specnb.models.registry.WAVEFORM_MODELS` (``"convnet1d"``).
    epochs : int
        Maximum number of epochs per fold.
    batch_size : int
        Mini-batch size on the CPU. On CUDA the batch is ``batch_size * cuda_batch_scale``
        and the learning rate ``lr * sqrt(cuda_batch_scale)`` (square-root scaling rule).
    lr : float
        Learning rate.
    weight_decay : float
        Decoupled weight decay (AdamW) or L2 penalty (SGD).
    optimizer : {"adam", "sgd"}
        AdamW, or SGD with Nesterov momentum 0.9.
    patience : int
        Early stopping: training of a fold stops after ``patience`` epochs without
        improvement of ``monitor`` on that fold's dev part (of its moving average when
        ``smoothing`` > 0, and never before ``min_epochs``); the best epoch's weights are kept
        (see :mod:`specnb.training.early_stopping`).
    monitor : {"dev_loss", "dev_acc"}
        Dev-set quantity early stopping watches (loss: lower is better; accuracy: higher,
        ties broken by the lower dev loss).
    n_folds : int
        Folds of the cross-validation over the train+dev part (at least 2; 1 with
        ``official_test_fold``: one model, one official fold as its dev part).
    test_size : float
        Fraction of the original clips held out as the test split, in (0, 1).
    seed : int
        Seed of the split, the initial weights, the batch order and dropout.
    official_test_fold : int or None
        When set, the dataset's official fold of this number is the test split and
        ``n_folds`` fold models are trained on the remaining official folds: the first
        ``n_folds`` of them serve once each as the dev part (``n_folds`` above the number of
        remaining folds is refused when the split is made; ``test_size`` is unused).
    pretrained : str or None
        ImageNet weights passed to ``build_model``: ``"imagenet"`` for torchvision's own
        (downloaded into torch's cache once), or a local weights file; None: random
        initialisation.
    schedule : {"constant", "cosine"}
        Learning-rate schedule (:func:`specnb.training.schedule.learning_rate`): ``lr``
        throughout, or a linear warm-up over ``warmup_epochs`` to ``lr`` followed by a
        cosine decay that ends at ``epochs``; updated every batch.
    warmup_epochs : int
        Warm-up length of the cosine schedule, in epochs (< ``epochs``).
    min_epochs : int
        Early stopping never fires before this many epochs.
    smoothing : float in [0, 1)
        Early stopping watches an exponential moving average of the monitored curve with
        this weight of the past (0: the raw curve); see :mod:`specnb.training.early_stopping`.
    mixup : float
        Mixup concentration alpha (0: off); each training batch is blended with a shuffled
        copy of itself by a Beta(alpha, alpha) weight.
    freq_masks, time_masks : int
        SpecAugment-style bands of rows (frequency) and columns (time) blanked per training
        image (0: none).
    mask_width : int
        Widest band in pixels (each band's width is uniform in ``[0, mask_width]``).
    time_shift : float in [0, 1]
        Each training image is rolled along time by up to this fraction of its width
        (:func:`~specnb.training.batch_augment.shift_time`; 0: never).
    cuda_batch_scale : int
        Batch multiplier on CUDA (see ``batch_size``).
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    amp : bool or "auto"
        Mixed precision: float16 autocast with gradient scaling on CUDA, bfloat16 autocast on
        a CPU with native bfloat16 (AVX512-BF16 or AMX; ignored on other CPUs). ``"auto"``
        (the default): on a CPU with native bfloat16, whichever of float32 and bfloat16 with
        channels-last trains this model faster on this machine, measured once and cached
        (:mod:`specnb.training.precision`); float32 on other CPUs; on CUDA, on.
        ``$SPECNB_PRECISION`` (``fp32`` or ``bf16``) overrides both fields. Dev scoring uses
        the resolved precision too; the test part is always scored in float32. The resolved
        values are what the run's result records.
    channels_last : bool or "auto"
        Keep the model and the batches in channels-last memory order (faster convolutions
        on many CPUs and recent GPUs; the same results up to rounding). ``"auto"``: as
        ``amp``'s measurement decides.

    Examples
    --------
    >>> config = TrainConfig(model="sbcnn", epochs=2)
    >>> config.replace(device="cpu").key == config.key
    True
    >>> TrainConfig(epochs=0)
    Traceback (most recent call last):
        ...
    specnb.training.config.TrainingError: TrainConfig.epochs must be a positive integer, got 0
    """

    model: str = "resnet18"
    epochs: int = 30
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    optimizer: str = "adam"
    patience: int = 5
    monitor: str = "dev_loss"
    n_folds: int = 5
    test_size: float = 0.3
    seed: int = 0
    official_test_fold: Union[int, None] = None
    pretrained: Union[str, None] = None
    schedule: str = "constant"
    warmup_epochs: int = 0
    min_epochs: int = 0
    smoothing: float = 0.0
    mixup: float = 0.0
    freq_masks: int = 0
    time_masks: int = 0
    mask_width: int = 0
    time_shift: float = 0.0
    cuda_batch_scale: int = 4
    device: str = "auto"
    amp: Union[bool, str] = "auto"
    channels_last: Union[bool, str] = "auto"

    def __post_init__(self) -> None:
        if self.model not in MODELS + WAVEFORM_MODELS:
            raise TrainingError(
                f"TrainConfig.model={self.model!r} is not a model; "
                f"choose one of {MODELS + WAVEFORM_MODELS}"
            )
        for name in ("epochs", "batch_size", "patience", "cuda_batch_scale"):
            check_positive_int(f"TrainConfig.{name}", getattr(self, name), TrainingError)
        check_positive_int("TrainConfig.n_folds", self.n_folds, TrainingError)
        if self.n_folds < 2 and self.official_test_fold is None:
            raise TrainingError(
                f"TrainConfig.n_folds must be at least 2 with a random split, got {self.n_folds} "
                "(one fold model needs official_test_fold: an official fold is its dev part)"
            )
        _finite_number("lr", self.lr, low=0.0, low_inclusive=False)
        _finite_number("weight_decay", self.weight_decay, low=0.0, low_inclusive=True)
        _finite_number("test_size", self.test_size, low=0.0, low_inclusive=False)
        if self.test_size >= 1:
            raise TrainingError(f"TrainConfig.test_size must be < 1, got {self.test_size}")
        if self.optimizer not in _OPTIMIZERS:
            raise TrainingError(
                f"TrainConfig.optimizer={self.optimizer!r}; choose one of {_OPTIMIZERS}"
            )
        if self.monitor not in _MONITORS:
            raise TrainingError(f"TrainConfig.monitor={self.monitor!r}; choose one of {_MONITORS}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise TrainingError(f"TrainConfig.seed must be an integer >= 0, got {self.seed!r}")
        if self.official_test_fold is not None:
            check_positive_int(
                "TrainConfig.official_test_fold", self.official_test_fold, TrainingError
            )
        if self.pretrained is not None and not isinstance(self.pretrained, str):
            raise TrainingError(
                f"TrainConfig.pretrained must be a path string or None, got {self.pretrained!r}"
            )
        if not isinstance(self.device, str) or not (
            self.device in ("auto", "cpu", "cuda")
            or (self.device.startswith("cuda:") and self.device[5:].isdigit())
        ):
            raise TrainingError(
                f"TrainConfig.device={self.device!r}; use 'auto', 'cpu', 'cuda' or 'cuda:N'"
            )
        for name in ("amp", "channels_last"):
            if not isinstance(getattr(self, name), bool) and getattr(self, name) != "auto":
                raise TrainingError(
                    f"TrainConfig.{name} must be True, False or 'auto', got {getattr(self, name)!r}"
                )
        self._check_recipe()
        for name in ("lr", "weight_decay", "test_size", "smoothing", "mixup", "time_shift"):
            object.__setattr__(self, name, float(getattr(self, name)))

    def _check_recipe(self) -> None:
        if self.schedule not in SCHEDULES:
            raise TrainingError(
                f"TrainConfig.schedule={self.schedule!r}; choose one of {SCHEDULES}"
            )
        for name in ("warmup_epochs", "min_epochs", "freq_masks", "time_masks", "mask_width"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise TrainingError(f"TrainConfig.{name} must be an integer >= 0, got {value!r}")
        if self.warmup_epochs >= self.epochs:
            raise TrainingError(
                f"TrainConfig.warmup_epochs={self.warmup_epochs} must be below epochs={self.epochs}"
            )
        if self.min_epochs > self.epochs:
            raise TrainingError(
                f"TrainConfig.min_epochs={self.min_epochs} exceeds epochs={self.epochs}"
            )
        _finite_number("smoothing", self.smoothing, low=0.0, low_inclusive=True)
        if self.smoothing >= 1:
            raise TrainingError(f"TrainConfig.smoothing must be < 1, got {self.smoothing}")
        _finite_number("mixup", self.mixup, low=0.0, low_inclusive=True)
        _finite_number("time_shift", self.time_shift, low=0.0, low_inclusive=True)
        if self.time_shift > 1:
            raise TrainingError(
                f"TrainConfig.time_shift must be a fraction of the width in [0, 1], "
                f"got {self.time_shift}"
            )
        if (self.freq_masks or self.time_masks) and not self.mask_width:
            raise TrainingError(
                f"TrainConfig.mask_width=0 leaves freq_masks={self.freq_masks}, "
                f"TrainConfig.time_masks={self.time_masks} without effect; set mask_width > 0 "
                "(the widest band in pixels)"
            )

    def _keyed(self) -> dict[str, Any]:
        """Fields that enter the key: all but execution fields and neutral recipe fields."""
        return {
            k: v
            for k, v in self.to_dict().items()
            if k not in EXECUTION_FIELDS and not (k in RECIPE_FIELDS and v == RECIPE_FIELDS[k])
        }

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-serialisable; inverse of :meth:`from_dict`."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, fields: dict[str, Any]) -> "TrainConfig":
        """Build a config from :meth:`to_dict` output (unknown names are an error)."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(fields) - known)
        if unknown:
            raise TrainingError(f"TrainConfig has no field {unknown[0]!r}; known: {sorted(known)}")
        return cls(**fields)

    def replace(self, **changes: Any) -> "TrainConfig":
        """A copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)

    def protocol(self) -> dict[str, Any]:
        """The fields besides ``model`` and ``seed`` that shape the results (for ``run_key``)."""
        return {k: v for k, v in self._keyed().items() if k not in ("model", "seed")}

    @property
    def key(self) -> str:
        """Stable 16-hex-digit hash of every field but :data:`EXECUTION_FIELDS` (and the
        :data:`RECIPE_FIELDS` at their neutral values)."""
        return stable_key(self._keyed())
