"""Figures of the studies: transfer heat maps, one clip under every colour map, and the
architectures against ResNet-18."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from specnb.studies.colormaps import colormap_family

__all__ = [
    "architecture_figure",
    "colormap_figure",
    "colormap_gallery",
    "transfer_heatmaps",
    "transfer_matrix",
]


def transfer_matrix(frame: pd.DataFrame, order: Sequence[str] | None = None) -> pd.DataFrame:
    """Source × target matrix of transfer ratios, averaged over attacks.

    Parameters
    ----------
    frame : pd.DataFrame
        Columns ``source``, ``target``, ``attack``, ``ratio`` (e.g. from
        :func:`~specnb.studies.transfer.transfer_frame`).
    order : sequence of str, optional
        Row and column order (default: first appearance as a source).

    Returns
    -------
    pd.DataFrame
        Rows the source model, columns the target; NaN where no attack fooled the source.
    """
    per_attack = frame.groupby(["source", "target", "attack"], sort=False)["ratio"].mean()
    matrix = per_attack.groupby(level=["source", "target"], sort=False).mean().unstack("target")
    names = list(order) if order is not None else list(dict.fromkeys(frame["source"]))
    return matrix.reindex(index=names, columns=names)


def transfer_heatmaps(matrices: Mapping[str, pd.DataFrame], title: str = "") -> Figure:
    """One annotated heat map per representation (the paper's Table 9 as a figure).

    Parameters
    ----------
    matrices : mapping of str to pd.DataFrame
        Representation label → source × target matrix (:func:`transfer_matrix`).
    title : str
    """
    n = len(matrices)
    fig, axes = plt.subplots(
        1, n, figsize=(3.6 * n + 0.6, 3.4), squeeze=False, constrained_layout=True
    )
    for ax, (label, matrix) in zip(axes[0], matrices.items()):
        sns.heatmap(
            matrix.astype(float),
            ax=ax,
            vmin=0.0,
            vmax=1.0,
            cmap="rocket_r",
            annot=True,
            fmt=".2f",
            cbar=ax is axes[0][-1],
            square=True,
            linewidths=0.5,
            annot_kws={"fontsize": 9},
        )
        ax.set_title(label)
        ax.set_xlabel("target model")
        ax.set_ylabel("source model" if ax is axes[0][0] else "")
    if title:
        fig.suptitle(title)
    return fig


def colormap_gallery(images: Mapping[str, ArrayLike], title: str = "") -> Figure:
    """Model images of one clip, one per colour map, with the colour map's family.

    Parameters
    ----------
    images : mapping of str to array, shape (3, H, W) in [0, 1]
        Colour map name → image (from :func:`~specnb.studies.colormaps.render_colormaps`).
    title : str
    """
    n = len(images)
    cols = min(n, 7)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(
        rows, cols, figsize=(1.9 * cols, 2.2 * rows), squeeze=False, constrained_layout=True
    )
    for ax in axes.flat:
        ax.axis("off")
    for ax, (name, image) in zip(axes.flat, images.items()):
        ax.imshow(np.transpose(np.asarray(image), (1, 2, 0)), interpolation="nearest")
        ax.set_title(f"{name}\n({colormap_family(name)})", fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def colormap_figure(summary: pd.DataFrame, title: str = "") -> Figure:
    """Accuracy and mean AUC score of each colour map's run, side by side.

    Parameters
    ----------
    summary : pd.DataFrame
        Indexed by colour map, columns ``accuracy_pct``, ``auc_mean`` and ``family`` (from
        :func:`~specnb.studies.robustness.robustness_summary` with a family column).
    title : str
    """
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), constrained_layout=True)
    families = list(dict.fromkeys(summary["family"]))
    palette = dict(zip(families, sns.color_palette("colorblind", len(families))))
    colours = [palette[f] for f in summary["family"]]
    x = np.arange(len(summary))
    for ax, column, label in (
        (axes[0], "accuracy_pct", "test accuracy (%)"),
        (axes[1], "auc_mean", "mean AUC score of the fooling rate"),
    ):
        ax.bar(x, summary[column], color=colours)
        ax.set_xticks(x, list(summary.index), rotation=30, ha="right")
        ax.set_ylabel(label)
    axes[1].set_ylim(0.0, 1.0)
    handles = [plt.Rectangle((0, 0), 1, 1, color=palette[f]) for f in families]
    axes[0].legend(handles, families, fontsize=8, title="family", title_fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def architecture_figure(
    table: pd.DataFrame, paper: pd.DataFrame | None = None, title: str = ""
) -> Figure:
    """The four Table 6 comparisons as bar charts, ours beside the paper's.

    Parameters
    ----------
    table : pd.DataFrame
        Rows the models, columns ``accuracy_diff``, ``auc_diff``, ``params_ratio``,
        ``grads_ratio`` (percent or percentage points relative to the victim).
    paper : pd.DataFrame, optional
        The same shape, the paper's numbers.
    title : str
    """
    labels = {
        "accuracy_diff": "accuracy difference (points)",
        "auc_diff": "AUC difference (×100)",
        "params_ratio": "parameters (% vs victim)",
        "grads_ratio": "gradient computations (% vs victim)",
    }
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.4), constrained_layout=True)
    models = list(table.index)
    x = np.arange(len(models))
    width = 0.4 if paper is not None else 0.7
    for ax, (column, label) in zip(axes, labels.items()):
        ax.bar(
            x - (width / 2 if paper is not None else 0),
            table[column],
            width,
            label="ours",
            color="#1f77b4",
        )
        if paper is not None:
            ax.bar(
                x + width / 2, paper.reindex(models)[column], width, label="paper", color="#bbbbbb"
            )
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.set_xticks(x, models, rotation=45, ha="right")
        ax.set_title(label, fontsize=10)
    axes[0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return fig
