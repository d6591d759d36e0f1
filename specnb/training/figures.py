"""Seaborn figures of a training run: learning curves per fold and the test confusion matrix."""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Sequence, Union

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from specnb.errors import ParameterError
from specnb.representations.figures import save_figure
from specnb.training import TrainResult

__all__ = [
    "FIGURE_FILES",
    "confusion_figure",
    "curves_long",
    "learning_curves_figure",
    "save_training_figures",
]

#: File names of the figures :func:`save_training_figures` writes, by figure name.
FIGURE_FILES = {"learning_curves": "learning_curves.png", "confusion": "confusion.png"}

#: Classes up to which the confusion matrix is annotated with its values.
_ANNOTATE_UP_TO = 15


def curves_long(result: TrainResult) -> pd.DataFrame:
    """Learning curves in the long form seaborn plots.

    Returns
    -------
    pd.DataFrame
        Columns ``fold`` (1-based), ``epoch`` (1-based), ``part`` (``"train"`` or
        ``"dev"``), ``metric`` (``"loss"`` or ``"accuracy"``) and ``value``.

    Examples
    --------
    >>> curves_long(result).query("part == 'dev' and metric == 'accuracy'")  # doctest: +SKIP
    """
    frame = result.curves_frame()
    long = frame.melt(id_vars=["fold", "epoch"], var_name="curve", value_name="value")
    long[["part", "metric"]] = long["curve"].str.split("_", expand=True)
    long["metric"] = long["metric"].map({"loss": "loss", "acc": "accuracy"})
    long["fold"] = long["fold"] + 1
    return long.drop(columns="curve")[["fold", "epoch", "part", "metric", "value"]]


def learning_curves_figure(result: TrainResult, title: str = "") -> Figure:
    """Train and dev loss and accuracy against epoch, one line per fold.

    The dev curve is the one early stopping watches; a star marks the epoch whose weights
    each fold model keeps, and a dotted line the accuracy of guessing (1 / classes).

    Parameters
    ----------
    result : TrainResult
        A finished cross-validated run.
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels: cross-entropy loss (left) and accuracy in [0, 1] (right).
    """
    long = curves_long(result)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
    palette = {"train": "#4c72b0", "dev": "#dd8452"}
    for ax, metric in zip(axes, ("loss", "accuracy")):
        data = long[long["metric"] == metric]
        sns.lineplot(
            data=data,
            x="epoch",
            y="value",
            hue="part",
            hue_order=["train", "dev"],
            palette=palette,
            style="fold",
            units="fold",
            estimator=None,
            marker="o",
            ax=ax,
            legend=metric == "accuracy",
        )
        best = [
            (fold + 1, epoch, curve["dev_loss" if metric == "loss" else "dev_acc"][epoch - 1])
            for fold, (epoch, curve) in enumerate(zip(result.best_epochs, result.curves))
        ]
        ax.scatter(
            [b[1] for b in best],
            [b[2] for b in best],
            marker="*",
            s=140,
            color=palette["dev"],
            edgecolor="black",
            zorder=3,
            label="kept epoch",
        )
        ax.set(xlabel="epoch", ylabel=metric, title=f"{metric} per fold")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        if metric == "accuracy":
            ax.axhline(1 / result.num_classes, color="grey", linestyle=":", label="chance")
            ax.set_ylim(-0.02, 1.02)
    axes[1].legend(loc="best", fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


def confusion_figure(confusion: np.ndarray, classes: Sequence[str], title: str = "") -> Figure:
    """Row-normalised confusion matrix of the test split, summed over the fold models.

    Parameters
    ----------
    confusion : np.ndarray, shape (C, C), int
        Counts: ``[i, j]`` test predictions of true class ``i`` as class ``j``.
    classes : sequence of str, length C
        Class names.
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        A heat map of the fraction of each true class (row) predicted as each class; the
        cells are annotated with the fractions when there are at most 15 classes.

    Raises
    ------
    ValueError
        When ``confusion`` is not square or does not match ``classes``.
    """
    counts = np.asarray(confusion, dtype=np.float64)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or len(counts) != len(classes):
        raise ParameterError(
            f"confusion of shape {counts.shape} does not match {len(classes)} classes"
        )
    totals = counts.sum(axis=1, keepdims=True)
    fractions = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    frame = pd.DataFrame(fractions, index=list(classes), columns=list(classes))
    side = 2.5 + 0.45 * len(classes)
    fig, ax = plt.subplots(figsize=(side + 1.5, side), layout="constrained")
    sns.heatmap(
        frame,
        vmin=0,
        vmax=1,
        cmap="Blues",
        square=True,
        ax=ax,
        annot=len(classes) <= _ANNOTATE_UP_TO,
        fmt=".2f",
        annot_kws={"fontsize": "small"},
        cbar_kws={"label": "fraction of the true class"},
    )
    ax.set(xlabel="predicted class", ylabel="true class", title=title or "test confusion matrix")
    return fig


def save_training_figures(
    result: TrainResult, classes: Sequence[str], out_dir: Union[str, PathLike]
) -> dict[str, str]:
    """Write the learning curves and the confusion matrix as PNG files into ``out_dir``.

    Returns
    -------
    dict of str to str
        Figure name (``"learning_curves"``, ``"confusion"``) to the file written.
    """
    out_dir = Path(out_dir)
    figures = {
        "learning_curves": learning_curves_figure(result),
        "confusion": confusion_figure(result.confusion, classes),
    }
    return {
        name: str(save_figure(fig, out_dir / FIGURE_FILES[name])) for name, fig in figures.items()
    }
