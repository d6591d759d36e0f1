"""Figures of the raw-audio study: the restoration curves and an adversarial waveform."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from specnb.metrics import snr_db
from specnb.raw_audio.restoration import RestorationCurve

__all__ = ["RESTORATION_FILE", "WAVEFORM_FILE", "restoration_figure", "waveform_figure"]

#: File names of the figures in the run folder.
RESTORATION_FILE = "restoration_curve.png"
WAVEFORM_FILE = "adversarial_waveform.png"


def restoration_figure(curves: Sequence[RestorationCurve], title: str = "") -> Figure:
    """Share restored (kept, for clean inputs) against the scalar's range ``r``, one line each.

    Error bars are the standard deviation over draws; the x axis is logarithmic.
    """
    fig, ax = plt.subplots(figsize=(7, 4), constrained_layout=True)
    for curve in curves:
        if curve.n_examples == 0:
            continue
        ax.errorbar(
            curve.ranges,
            curve.restored,
            yerr=curve.restored_std,
            marker="o",
            capsize=3,
            label=f"{curve.kind} (n={curve.n_examples})",
        )
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("r: scalar drawn from U(1 - r, 1 + r)")
    ax.set_ylabel("share with the true label")
    ax.set_title(title or "Random-scalar restoration")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def waveform_figure(clean: np.ndarray, adversarial: np.ndarray, sr: int, title: str = "") -> Figure:
    """Clean and adversarial waveform overlaid, and their difference (the perturbation)."""
    clean, adversarial = np.asarray(clean, np.float64), np.asarray(adversarial, np.float64)
    t = np.arange(clean.shape[-1]) / sr
    fig, axes = plt.subplots(2, 1, figsize=(8, 4.5), sharex=True, constrained_layout=True)
    axes[0].plot(t, clean, lw=0.5, label="clean")
    axes[0].plot(t, adversarial, lw=0.5, alpha=0.7, label="adversarial")
    axes[0].legend(fontsize=8, loc="upper right")
    axes[0].set_ylabel("amplitude")
    axes[1].plot(t, adversarial - clean, lw=0.5, color="tab:red")
    axes[1].set_ylabel("perturbation")
    axes[1].set_xlabel("time (s)")
    axes[0].set_title(f"{title}  SNR {snr_db(clean, adversarial):.1f} dB".strip())
    return fig
