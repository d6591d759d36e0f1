"""The paper's Figures 1–6 drawn from our results.

Figures 1–5 each plot, against one setting, the victim model's mean accuracy (left) and the
mean attack cost (right): gradient computations per sample at which the fooling rate first
reaches 0.9, averaged over the six attacks that reach it (the paper's "attack cost for
reaching AUC > 0.9"), one line per dataset, each point the mean over the runs with that
setting value (standard colour maps only). When no attack reaches 0.9 the cost panel is left
out and the figure's note says so. A figure is drawn only when one dataset has two or more
setting values: a single point is no curve, and the note then says what the store has and which
runs a curve needs (:data:`FIGURE_NEEDS`). The drawings carry no title: the page's heading
names them.

1. MFCC ``n_mfcc``.
2. MFCC sampling rate, orthonormal DCT only (the paper's "normalised spectrograms").
3. MFCC cepstral lifter ``d = lifter / n_mfcc``.
4. STFT window length as a fraction of ``n_fft`` (no ``win_length``: 1).
5. Scalogram frame length in ms.

Figure 6 is the adversarial gallery: the image each attack notebook writes into its run folder
and names in ``attacks.artefacts_json["gallery"]``; the newest per representation is shown.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable, Union

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from specnb.errors import ParameterError
from specnb.report.report_table import DATASET_LABELS, MODEL_LABELS
from specnb.report.results import StoreResults

__all__ = [
    "FIGURE_NEEDS",
    "FIGURE_TITLES",
    "NO_COST",
    "ONE_POINT",
    "VICTIM_FIGURES",
    "ReportFigure",
    "build_figure",
    "build_figures",
    "figure_data",
]

#: Title of each figure.
FIGURE_TITLES = {
    1: "MFCC n_mfcc vs accuracy and attack cost",
    2: "MFCC sampling rate vs accuracy and attack cost (orthonormal DCT)",
    3: "MFCC cepstral lifter d vs accuracy and attack cost",
    4: "STFT window length (fraction of n_fft) vs accuracy and attack cost",
    5: "Scalogram frame length vs accuracy and attack cost",
    6: "Adversarial examples for each representation (gallery)",
}

_Select = Callable[[pd.DataFrame], pd.Series]
_SPECS: dict[int, tuple[str, str, _Select, Union[_Select, None]]] = {
    1: ("mfcc", "n_mfcc", lambda r: r["n_mfcc"], None),
    2: (
        "mfcc",
        "sampling rate (kHz)",
        lambda r: r["sr"] / 1000.0,
        lambda r: r["dct_norm"] == "ortho",
    ),
    3: ("mfcc", "lifter d (L = d · n_mfcc)", lambda r: r["lifter"] / r["n_mfcc"], None),
    4: (
        "stft",
        "window length / n_fft",
        lambda r: r["win_length"].fillna(r["n_fft"]) / r["n_fft"],
        None,
    ),
    5: ("wavelet", "frame length (ms)", lambda r: r["frame_ms"], None),
}
#: Which runs of the victim (``{victim}``) each of Figures 1-5 needs to draw a curve.
FIGURE_NEEDS = {
    1: "MFCC runs of {victim} at two or more n_mfcc on one dataset",
    2: "MFCC runs of {victim} with the orthonormal DCT at two or more sampling rates on one "
    "dataset",
    3: "MFCC runs of {victim} at two or more lifters (lifter / n_mfcc) on one dataset",
    4: "STFT runs of {victim} at two or more window lengths (win_length / n_fft) on one dataset",
    5: "scalogram runs of {victim} at two or more frame lengths on one dataset",
}
#: The figures that plot the victim model's runs (the others show the gallery).
VICTIM_FIGURES = tuple(_SPECS)
#: How the note of a figure with a single point per dataset begins.
ONE_POINT = "not drawn, one point only"
#: The note of a figure whose attack-cost panel is left out.
NO_COST = "no attack reached FR 0.9: no attack-cost panel (gradients to FR 0.9) to draw"


@dataclass(frozen=True, eq=False)
class ReportFigure:
    """One of the paper's figures from our results.

    Attributes
    ----------
    number : int
        The paper's figure number.
    title : str
        What it shows.
    data : pd.DataFrame
        Figures 1–5: ``dataset``, ``x``, ``accuracy`` (percent), ``cost`` (gradients per
        sample), ``runs``. Figure 6: the gallery rows (``repr``, ``dataset``, ``model``,
        ``attack``, ``path``).
    figure : matplotlib.figure.Figure or None
        The drawing (Figures 1–5), None when missing or for Figure 6.
    images : tuple of Path
        Figure 6's gallery images.
    note : str
        ``"missing: ..."`` when there is nothing to show, :data:`ONE_POINT` and the points
        when no dataset has two setting values (the points are in ``data``, nothing is drawn;
        it says which runs a curve needs), :data:`NO_COST` when the attack-cost panel is left
        out (no attack reached FR 0.9), else empty.
    """

    number: int
    title: str
    data: pd.DataFrame
    figure: Union[Figure, None]
    images: tuple[Path, ...]
    note: str

    @property
    def missing(self) -> bool:
        """True when nothing is drawn or shown (no points, a single point, no gallery)."""
        return self.figure is None and not self.images

    def png(self) -> Union[bytes, None]:
        """The drawing as PNG bytes (None for Figure 6 or when missing)."""
        return self._png

    @cached_property
    def _png(self) -> Union[bytes, None]:
        if self.figure is None:
            return None
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()


def figure_data(number: int, results: StoreResults, victim: str = "resnet18") -> pd.DataFrame:
    """The points of Figure 1–5: mean accuracy and cost per dataset and setting value.

    Parameters
    ----------
    number : int
        1 to 5.
    results : StoreResults
        From :func:`~specnb.report.results.read_results`.
    victim : str
        The model whose runs are plotted.

    Returns
    -------
    pd.DataFrame
        Columns ``dataset``, ``x``, ``accuracy``, ``cost``, ``runs``, sorted by dataset and x.
    """
    if number not in _SPECS:
        raise ParameterError(f"figure_data draws Figures 1-5, got {number!r}")
    representation, _, x_of, keep = _SPECS[number]
    runs = results.runs
    chosen = runs[(runs["model"] == victim) & (runs["repr"] == representation) & runs["standard"]]
    if keep is not None and not chosen.empty:
        chosen = chosen[keep(chosen)]
    columns = ["dataset", "x", "accuracy", "cost", "runs"]
    if chosen.empty:
        return pd.DataFrame(columns=columns)
    points = pd.DataFrame(
        {
            "dataset": chosen["dataset"].astype(str),
            "x": pd.to_numeric(x_of(chosen), errors="coerce").astype("float64"),
            "accuracy": chosen["accuracy"],
            "cost": chosen["cost"],
        }
    ).dropna(subset=["x"])
    grouped = points.groupby(["dataset", "x"])
    out = grouped[["accuracy", "cost"]].mean()
    out["runs"] = grouped.size()
    return out.reset_index()[columns]


def build_figure(number: int, results: StoreResults, victim: str = "resnet18") -> ReportFigure:
    """One figure by number (1 to 6)."""
    if number == 6:
        return _gallery(results)
    if number not in _SPECS:
        raise ParameterError(f"figure number must be 1 to 6, got {number!r}")
    data = figure_data(number, results, victim)
    title = FIGURE_TITLES[number]
    needs = FIGURE_NEEDS[number].format(victim=MODEL_LABELS.get(victim, victim))
    if data.empty:
        reason = f"no finished {_SPECS[number][0]} runs of {victim} with this setting"
        return ReportFigure(
            number, title, data, None, (), f"missing: {reason}; a curve needs {needs}"
        )
    if data.groupby("dataset")["x"].nunique().max() < 2:
        return ReportFigure(number, title, data, None, (), _one_point(number, data, needs))
    reached = np.isfinite(data["cost"].to_numpy(dtype=float)).any()
    figure = _draw(number, data, with_cost=bool(reached))
    return ReportFigure(number, title, data, figure, (), "" if reached else NO_COST)


def build_figures(results: StoreResults, victim: str = "resnet18") -> list[ReportFigure]:
    """Figures 1 to 6."""
    return [build_figure(number, results, victim) for number in range(1, 7)]


def _one_point(number: int, data: pd.DataFrame, needs: str) -> str:
    """The note of a figure whose every dataset has one setting value."""
    xlabel = _SPECS[number][1]
    points = "; ".join(
        f"{xlabel} = {row.x:g} on {DATASET_LABELS.get(row.dataset, row.dataset)} from "
        f"{row.runs} run{'s' if row.runs != 1 else ''}"
        for row in data.itertuples()
    )
    return f"{ONE_POINT}: {points}; a curve needs {needs}"


def _draw(number: int, data: pd.DataFrame, with_cost: bool) -> Figure:
    """Accuracy (left) and, ``with_cost``, gradients to FR 0.9 (right); untitled: the
    report's heading names the figure."""
    figure = Figure(figsize=(9, 3.2) if with_cost else (4.5, 3.2))
    axes = figure.subplots(1, 2 if with_cost else 1, squeeze=False)[0]
    xlabel = _SPECS[number][1]
    for dataset, points in data.groupby("dataset"):
        label = DATASET_LABELS.get(str(dataset), str(dataset))
        axes[0].plot(points["x"], points["accuracy"], marker="o", label=label)
        if with_cost:
            axes[1].plot(points["x"], points["cost"], marker="s", label=label)
    axes[0].set(xlabel=xlabel, ylabel="accuracy (%)")
    if with_cost:
        axes[1].set(xlabel=xlabel, ylabel="gradients to FR 0.9")
    axes[0].legend(fontsize="small")
    figure.tight_layout()
    return figure


def _gallery(results: StoreResults) -> ReportFigure:
    rows = results.galleries
    found = rows[rows["exists"]] if not rows.empty else rows
    title = FIGURE_TITLES[6]
    if found.empty:
        if rows.empty:
            note = "missing: no attack in the store names a gallery image"
        elif not rows["inside"].iloc[-1]:
            note = (
                f"missing: gallery image {rows['path'].iloc[-1]} lies outside the store's "
                f"folder {results.store_path.parent}; only images under it are embedded"
            )
        else:
            note = f"missing: gallery image {rows['path'].iloc[-1]} not found"
        return ReportFigure(6, title, rows, None, (), note)
    newest = found.groupby("repr", sort=True).tail(1)
    return ReportFigure(
        6, title, newest.reset_index(drop=True), None, tuple(Path(p) for p in newest["path"]), ""
    )
