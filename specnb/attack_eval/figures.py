"""Figures of an attack suite: the adversarial gallery (paper Fig. 6) and fooling-rate curves."""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Optional, Sequence, Union

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import Tensor

from specnb.attack_eval.results import AttackEvaluation
from specnb.errors import ParameterError
from specnb.representations.figures import save_figure

__all__ = [
    "GALLERY_FILE",
    "CURVES_FILE",
    "amplified",
    "common_samples",
    "curves_frame",
    "fooling_curves_figure",
    "gallery_figure",
    "save_gallery",
]

#: File names the notebook gives the two figures in its run folder.
GALLERY_FILE = "gallery.png"
CURVES_FILE = "fooling_curves.png"

_FOOLED, _NOT_FOOLED = "#c44e52", "#555555"


def amplified(delta: Tensor) -> tuple[np.ndarray, float]:
    """A perturbation made visible: ``0.5 + A * delta`` as an (H, W, 3) image in [0, 1].

    ``A = 0.5 / max|delta|`` stretches the largest change to full contrast; grey is no change.

    Parameters
    ----------
    delta : torch.Tensor, shape (3, H, W)
        Adversarial minus clean image.

    Returns
    -------
    image : np.ndarray, shape (H, W, 3)
    factor : float
        ``A`` (0 for a zero perturbation).

    Examples
    --------
    >>> import torch
    >>> image, factor = amplified(torch.full((3, 2, 2), 0.01))
    >>> round(factor), float(image.max())
    (50, 1.0)
    """
    d = delta.detach().cpu().float()
    peak = float(d.abs().max())
    factor = 0.5 / peak if peak > 0 else 0.0
    image = (0.5 + factor * d).clamp(0, 1).permute(1, 2, 0).numpy()
    return image, factor


def common_samples(evaluations: Sequence[AttackEvaluation]) -> list[int]:
    """Positions of the test samples every evaluation attacked, in the first one's order."""
    if not evaluations:
        raise ParameterError("evaluations is empty")
    shared = set.intersection(*(set(ev.indices.tolist()) for ev in evaluations))
    return [i for i in evaluations[0].indices.tolist() if i in shared]


def _show(ax: Axes, image: np.ndarray, title: str, color: str = "black") -> None:
    ax.imshow(image, interpolation="nearest")
    ax.set_title(title, fontsize="small", color=color)
    ax.set_xticks([])
    ax.set_yticks([])


def gallery_figure(
    evaluations: Sequence[AttackEvaluation],
    images: Tensor,
    classes: Sequence[str],
    *,
    samples: Optional[Sequence[int]] = None,
    n_rows: int = 2,
    title: str = "",
) -> Figure:
    """Clean images, each attack's adversarial image and its amplified perturbation.

    Every test sample takes two rows: the original (titled with its true class) followed by
    each attack's adversarial image at the smallest budget that fools the model (the kept,
    largest, budget when none does: :meth:`AttackEvaluation.example`), titled with that
    budget and the predicted class, in red when it fools (misclassified), and for a targeted
    attack its target and whether it was hit; beneath each adversarial image its
    perturbation, amplified by :func:`amplified` (the factor and ℓ∞ in the title).

    Parameters
    ----------
    evaluations : sequence of AttackEvaluation
        The attacks, on the same model and test images.
    images : torch.Tensor, shape (n, 3, H, W)
        The test images the evaluations' ``indices`` point into.
    classes : sequence of str
        Class names.
    samples : sequence of int, optional
        Test positions to show; default the first ``n_rows`` that every attack attacked.
    n_rows : int
        Samples shown when ``samples`` is None.
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        No evaluations, no sample shared by all of them, or a requested sample that one of
        them did not attack.
    """
    shared = common_samples(evaluations)
    chosen = list(samples) if samples is not None else shared[:n_rows]
    if not chosen:
        raise ParameterError("no test sample was attacked by every attack; nothing to show")
    missing = [i for i in chosen if i not in shared]
    if missing:
        raise ParameterError(f"sample {missing[0]} was not attacked by every attack")
    columns = 1 + len(evaluations)
    fig, axes = plt.subplots(
        2 * len(chosen),
        columns,
        figsize=(1.9 * columns, 4.1 * len(chosen)),
        layout="constrained",
        squeeze=False,
    )
    for row, index in enumerate(chosen):
        top, bottom = axes[2 * row], axes[2 * row + 1]
        clean = images[index].detach().cpu().float()
        label = int(evaluations[0].labels[evaluations[0].indices.tolist().index(index)])
        _show(top[0], clean.permute(1, 2, 0).numpy(), f"original #{index}\ntrue: {classes[label]}")
        bottom[0].axis("off")
        bottom[0].text(
            0.5,
            0.5,
            "perturbation δ\n(amplified;\ngrey = unchanged)",
            ha="center",
            va="center",
            fontsize="small",
        )
        for column, ev in enumerate(evaluations, start=1):
            example = ev.example(ev.indices.tolist().index(index))
            adv = example.image
            budget = f"{ev.label} @ {example.budget:g}"
            lines = [budget if example.fools else f"{budget}: not fooled"]
            lines.append(f"→ {classes[example.pred]}")
            if example.target is not None:
                hit = "hit" if example.hits_target else "missed"
                lines.append(f"target {classes[example.target]}: {hit}")
            _show(
                top[column],
                adv.permute(1, 2, 0).numpy(),
                "\n".join(lines),
                _FOOLED if example.fools else _NOT_FOOLED,
            )
            delta = adv.detach().cpu().float() - clean
            picture, factor = amplified(delta)
            caption = f"×{factor:.3g}, ℓ∞ {float(delta.abs().max()):.3g}" if factor else "δ = 0"
            _show(bottom[column], picture, caption)
    if title:
        fig.suptitle(title)
    return fig


def save_gallery(
    evaluations: Sequence[AttackEvaluation],
    images: Tensor,
    classes: Sequence[str],
    path: Union[str, PathLike],
    **options: object,
) -> Path:
    """Draw :func:`gallery_figure` and write it as a PNG; return the absolute path."""
    fig = gallery_figure(evaluations, images, classes, **options)  # type: ignore[arg-type]
    return save_figure(fig, Path(path)).resolve()


def curves_frame(evaluations: Sequence[AttackEvaluation]) -> pd.DataFrame:
    """Fooling-rate curves in long form.

    Returns
    -------
    pd.DataFrame
        One row per attack and grid point: ``attack`` (paper spelling), ``budget``,
        ``budget_normalised`` (mapped onto [0, 1] as the AUC score does), ``fooling_rate``
        (misclassification), ``target_rate`` (targeted attacks' target hits, else NaN),
        ``grads_per_sample``.
    """
    frames = []
    for ev in evaluations:
        budgets = np.asarray(ev.budgets, dtype=np.float64)
        span = budgets[-1] - budgets[0]
        normalised = (budgets - budgets[0]) / span if span > 0 else np.zeros_like(budgets)
        frames.append(
            pd.DataFrame(
                {
                    "attack": ev.label,
                    "budget": budgets,
                    "budget_normalised": normalised,
                    "fooling_rate": ev.fooling_rates,
                    "target_rate": ev.target_rates or [np.nan] * len(budgets),
                    "grads_per_sample": ev.grads_per_sample,
                }
            )
        )
    columns = [
        "attack",
        "budget",
        "budget_normalised",
        "fooling_rate",
        "target_rate",
        "grads_per_sample",
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def fooling_curves_figure(evaluations: Sequence[AttackEvaluation], title: str = "") -> Figure:
    """Fooling rate against the normalised budget (left) and against the cost (right).

    The fooling rate is misclassification for every attack; the area under each left curve
    is the attack's AUC score (in the legend). A targeted attack's target-hit rate is drawn
    beside it in the left panel, dashed in the same colour. The right panel puts the gradient
    computations per sample on a log axis, and the dotted line at 0.9 marks where
    ``cost_to_fr90`` is read. Points are joined in grid order, unaveraged (FGSM, whose cost
    is one gradient at every budget, draws a vertical line).

    Parameters
    ----------
    evaluations : sequence of AttackEvaluation
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    frame = curves_frame(evaluations)
    names = {ev.label: f"{ev.label} (AUC {ev.auc:.3f})" for ev in evaluations}
    frame["attack"] = frame["attack"].map(names)
    order = list(dict.fromkeys(frame["attack"]))
    palette = dict(zip(order, sns.color_palette(n_colors=len(order))))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    for ax, x, label in (
        (axes[0], "budget_normalised", "budget, normalised to [0, 1]"),
        (axes[1], "grads_per_sample", "gradient computations per sample"),
    ):
        sns.lineplot(
            data=frame,
            x=x,
            y="fooling_rate",
            hue="attack",
            style="attack",
            hue_order=order,
            palette=palette,
            markers=True,
            dashes=False,
            estimator=None,
            sort=False,
            ax=ax,
            legend=ax is axes[0],
        )
        ax.axhline(0.9, color="grey", linestyle=":", linewidth=1)
        ax.set(xlabel=label, ylabel="fooling rate", ylim=(-0.02, 1.02))
    for name, curve in frame[frame["target_rate"].notna()].groupby("attack", sort=False):
        axes[0].plot(
            curve["budget_normalised"],
            curve["target_rate"],
            linestyle="--",
            linewidth=1,
            color=palette[name],
            label="_target hits",
        )
    axes[1].set_xscale("symlog", linthresh=1)
    axes[1].set_xlim(left=0)
    axes[0].set_title("fooling rate vs budget (dashed: target hits)")
    axes[1].set_title("fooling rate vs cost (dotted: FR 0.9)")
    if axes[0].get_legend() is not None:
        sns.move_legend(axes[0], "best", fontsize="small", title=None)
    if title:
        fig.suptitle(title)
    return fig
