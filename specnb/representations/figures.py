"""Matplotlib figures shared by the notebooks: waveforms, representations, model images."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from specnb.representations import Setting
from specnb.representations.compute import axes as representation_axes
from specnb.representations.images import scales_per_row

__all__ = [
    "plot_waveform",
    "plot_representation",
    "plot_image",
    "explorer_figure",
    "save_figure",
]

_UNITS = {"mfcc": "coefficient", "stft": "dB", "mel": "dB", "wavelet": "dB"}


def plot_waveform(
    ax: Axes, y: np.ndarray, sr: int, title: str = "waveform", max_columns: int = 2000
) -> None:
    """Draw a waveform ``y`` (shape (n,)) sampled at ``sr`` Hz against time in seconds.

    A waveform longer than ``2 * max_columns`` samples is drawn as its envelope: the minimum
    and maximum of each of ``max_columns`` equal spans, which is what a line through every
    sample looks like at screen resolution, drawn many times faster.
    """
    y = np.asarray(y)
    duration = len(y) / float(sr)
    if len(y) > 2 * max_columns:
        edges = np.linspace(0, len(y), max_columns + 1).astype(int)
        low = np.minimum.reduceat(y, edges[:-1])
        high = np.maximum.reduceat(y, edges[:-1])
        ax.fill_between(
            edges / float(sr),
            np.append(low, low[-1]),
            np.append(high, high[-1]),
            step="post",
            linewidth=0,
            color="#1f77b4",
        )
    else:
        ax.plot(np.arange(len(y)) / float(sr), y, linewidth=0.5, color="#1f77b4")
    ax.set(xlabel="time (s)", ylabel="amplitude", title=title, xlim=(0, duration or 1))


def plot_representation(ax: Axes, raw: np.ndarray, setting: Setting, title: str = "") -> None:
    """Draw a raw representation (shape (n_rows, n_frames)) with axes in Hz and seconds.

    MFCC rows are coefficient numbers; STFT, Mel and scalogram rows are centre frequencies in
    Hz. Each row is drawn with the same height, as the model sees it, so the Mel and scalogram
    frequency axes (rows log-spaced in Hz) are labelled at the rows' own frequencies. The array
    is drawn as one image, which keeps redraws in the explorer fast.
    """
    freqs, times = representation_axes(setting, raw.shape[1])
    n_rows = raw.shape[0]
    step = times[1] - times[0] if len(times) > 1 else 1.0
    extent = (times[0] - step / 2, times[-1] + step / 2, -0.5, n_rows - 0.5)
    image = ax.imshow(
        raw,
        origin="lower",
        aspect="auto",
        interpolation="nearest",
        extent=extent,
        cmap=_display_cmap(setting),
    )
    if setting.kind == "mfcc":
        ax.set_ylabel("MFCC coefficient")
    else:
        rows = np.unique(np.linspace(0, n_rows - 1, 6).round().astype(int))
        ax.set_yticks(rows, [f"{freqs[r]:.0f}" for r in rows])
        ax.set_ylabel("frequency (Hz)")
    ax.set(xlabel="time (s)", title=title or setting.label())
    ax.figure.colorbar(image, ax=ax, label=_UNITS[setting.kind], pad=0.01)


def _display_cmap(setting: Setting) -> str:
    return "viridis" if setting.colormap == "hsv-uniform" else setting.colormap


def plot_image(ax: Axes, image: np.ndarray, title: str = "model input (3x128x128)") -> None:
    """Draw a model image (shape (3, H, W), values in [0, 1]; row 0 is the highest frequency)."""
    ax.imshow(np.transpose(np.asarray(image), (1, 2, 0)), interpolation="nearest")
    ax.set(title=title, xticks=[], yticks=[])


def explorer_figure(
    y: np.ndarray,
    panels: Sequence[tuple[Setting, np.ndarray, np.ndarray]],
    *,
    title: str = "",
) -> Figure:
    """Waveform plus, per setting, its representation and its model image.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        The clip at ``panels[0][0].sr`` Hz.
    panels : sequence of (setting, raw, image)
        ``raw`` of shape (n_rows, n_frames); ``image`` of shape (3, 128, 128).
    title : str
        Figure title (e.g. dataset, class and clip).

    Returns
    -------
    matplotlib.figure.Figure
    """
    n = len(panels)
    height = 2.2 + 3.0 * n
    # fixed margins in inches instead of a constrained layout: the explorer redraws twice as fast
    fig = plt.figure(figsize=(11, height))
    grid = fig.add_gridspec(
        1 + n,
        3,
        height_ratios=[0.7] + [1.0] * n,
        left=0.07,
        right=0.98,
        bottom=0.55 / height,
        top=1 - 0.75 / height,
        hspace=0.6,
        wspace=0.3,
    )
    plot_waveform(fig.add_subplot(grid[0, :]), y, panels[0][0].sr)
    for row, (setting, raw, image) in enumerate(panels, start=1):
        plot_representation(fig.add_subplot(grid[row, :2]), raw, setting)
        scaling = ", per coefficient" if scales_per_row(setting) else ""
        plot_image(
            fig.add_subplot(grid[row, 2]), image, title=f"model image ({setting.colormap}{scaling})"
        )
    if title:
        fig.suptitle(title, y=1 - 0.12 / height)
    return fig


def save_figure(fig: Figure, path: Path) -> Path:
    """Save ``fig`` to ``path`` (folders created), close it and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
