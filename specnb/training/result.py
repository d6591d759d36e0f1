"""What a cross-validated training run produces, and how it is read back from its folder."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from specnb.training.config import TrainConfig, TrainingError

__all__ = ["RESULT_FILE", "TrainResult", "best_fold_index", "load_result"]


def best_fold_index(fold_accuracies: Sequence[float]) -> int:
    """The fold model to use: the 0-based fold most accurate on the test split.

    The one rule for "which fold model is best"; ties go to the first fold.

    Parameters
    ----------
    fold_accuracies : sequence of float, length n_folds
        Test accuracy of each fold model, in fold order.

    Returns
    -------
    int

    Raises
    ------
    TrainingError
        When there are no accuracies.

    Examples
    --------
    >>> best_fold_index([0.5, 0.75, 0.75])
    1
    """
    if len(fold_accuracies) == 0:
        raise TrainingError("fold_accuracies is empty; a trained run has at least one fold")
    return int(np.argmax(fold_accuracies))


#: Summary file of a finished run inside its run folder.
RESULT_FILE = "result.json"


@dataclass(frozen=True)
class TrainResult:
    """Accuracy, curves and files of one cross-validated training run.

    Parameters
    ----------
    config : TrainConfig
        The protocol that was run, ``amp`` and ``channels_last`` as resolved.
    num_classes : int
        Number of classes C.
    fold_accuracies : tuple of float
        Test accuracy (fraction in [0, 1]) of each fold model, in fold order.
    acc_mean, acc_std : float
        Mean and population standard deviation (``ddof=0``) of ``fold_accuracies``.
    confusion : np.ndarray, shape (C, C), int64
        Confusion matrix on the test split summed over the fold models: entry ``[i, j]``
        counts (fold model, test clip) pairs of true class ``i`` predicted as ``j``; each
        row sums to ``n_folds`` times the class's test count.
    curves : tuple of dict
        Per fold, ``{"train_loss", "train_acc", "dev_loss", "dev_acc"}`` lists with one value
        per epoch run. Train values are averaged over the epoch's batches in training mode.
    epochs : tuple of int
        Epochs run per fold (fewer than ``config.epochs`` when early stopping fired).
    best_epochs : tuple of int
        1-based epoch whose weights each fold model keeps.
    resumed_from : tuple of int
        Epochs of each fold already in the run folder when this call started (0: trained
        from scratch; equal to ``epochs``: taken as finished).
    train_seconds : float
        Wall time of training and evaluation summed over folds and over resumed calls.
    n_params : int
        Trainable parameters of one fold model.
    checkpoints : tuple of Path
        The finished model file of each fold.
    test_indices : np.ndarray, shape (n_test,), int64
        Positions of the test clips in the ``images`` / ``clips`` given to ``train_cv``.
    test_predictions : np.ndarray, shape (n_folds, n_test), int64
        Predicted class of each test clip by each fold model.
    device : str
        Device the last call trained on (``"cpu"``, ``"cuda:0"``...).
    run_dir : Path
        The run folder.
    """

    config: TrainConfig
    num_classes: int
    fold_accuracies: tuple[float, ...]
    acc_mean: float
    acc_std: float
    confusion: np.ndarray
    curves: tuple[dict[str, list[float]], ...]
    epochs: tuple[int, ...]
    best_epochs: tuple[int, ...]
    resumed_from: tuple[int, ...]
    train_seconds: float
    n_params: int
    checkpoints: tuple[Path, ...]
    test_indices: np.ndarray
    test_predictions: np.ndarray
    device: str
    run_dir: Path

    def curves_frame(self) -> pd.DataFrame:
        """Learning curves in long form: one row per (fold, epoch), epochs 1-based."""
        rows = [
            {"fold": fold, "epoch": epoch + 1, **{k: v[epoch] for k, v in curve.items()}}
            for fold, curve in enumerate(self.curves)
            for epoch in range(len(curve["train_loss"]))
        ]
        return pd.DataFrame(rows)

    def run_fields(self) -> dict[str, Any]:
        """Columns of the ``runs`` table this result fills (for ``ResultsStore.upsert_run``).

        Examples
        --------
        >>> store.upsert_run(key, **result.run_fields())  # doctest: +SKIP
        """
        return {
            "status": "done",
            "model": self.config.model,
            "seed": self.config.seed,
            "protocol_json": self.config.protocol(),
            "device": self.device,
            "acc_mean": self.acc_mean,
            "acc_std": self.acc_std,
            "fold_accs_json": list(self.fold_accuracies),
            "n_params": self.n_params,
            "epochs_json": list(self.epochs),
            "train_seconds": self.train_seconds,
            "checkpoint_path": str(self.run_dir.resolve()),
            "artefacts_json": {
                "best_epochs": list(self.best_epochs),
                "confusion": self.confusion,
                "curves": list(self.curves),
                "checkpoints": [str(p) for p in self.checkpoints],
                "precision": {"amp": self.config.amp, "channels_last": self.config.channels_last},
            },
            "error": None,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (inverse of :meth:`from_dict`)."""
        return {
            "config": self.config.to_dict(),
            "num_classes": self.num_classes,
            "fold_accuracies": list(self.fold_accuracies),
            "acc_mean": self.acc_mean,
            "acc_std": self.acc_std,
            "confusion": self.confusion.tolist(),
            "curves": list(self.curves),
            "epochs": list(self.epochs),
            "best_epochs": list(self.best_epochs),
            "resumed_from": list(self.resumed_from),
            "train_seconds": self.train_seconds,
            "n_params": self.n_params,
            "checkpoints": [str(p) for p in self.checkpoints],
            "test_indices": self.test_indices.tolist(),
            "test_predictions": self.test_predictions.tolist(),
            "device": self.device,
            "run_dir": str(self.run_dir),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainResult":
        """Rebuild a result from :meth:`to_dict` output."""
        return cls(
            config=TrainConfig.from_dict(d["config"]),
            num_classes=int(d["num_classes"]),
            fold_accuracies=tuple(float(a) for a in d["fold_accuracies"]),
            acc_mean=float(d["acc_mean"]),
            acc_std=float(d["acc_std"]),
            confusion=np.asarray(d["confusion"], dtype=np.int64),
            curves=tuple(d["curves"]),
            epochs=tuple(int(e) for e in d["epochs"]),
            best_epochs=tuple(int(e) for e in d["best_epochs"]),
            resumed_from=tuple(int(e) for e in d["resumed_from"]),
            train_seconds=float(d["train_seconds"]),
            n_params=int(d["n_params"]),
            checkpoints=tuple(Path(p) for p in d["checkpoints"]),
            test_indices=np.asarray(d["test_indices"], dtype=np.int64),
            test_predictions=np.asarray(d["test_predictions"], dtype=np.int64),
            device=str(d["device"]),
            run_dir=Path(d["run_dir"]),
        )


def load_result(run_dir: str | Path) -> TrainResult:
    """The result of a finished run, read from ``run_dir / "result.json"``.

    Raises
    ------
    TrainingError
        When the run folder holds no finished run (the message names the file).
    """
    path = Path(run_dir) / RESULT_FILE
    if not path.is_file():
        raise TrainingError(f"{path} does not exist: the run in {run_dir} has not finished")
    return TrainResult.from_dict(json.loads(path.read_text()))
