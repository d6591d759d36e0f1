"""One report table, ours beside the paper's: its two sides, and how it is shown (display
names of datasets, models and attacks, number formats, column labels)."""

from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd
from pandas.io.formats.style import Styler

from specnb.errors import ParameterError

__all__ = ["DATASET_LABELS", "MODEL_LABELS", "SOURCES", "ReportTable"]

#: The two sides of every table.
SOURCES = ("ours", "paper")

#: Display names of the paper's datasets (store keys otherwise shown as they are).
DATASET_LABELS = {
    "esc10": "ESC-10",
    "esc50": "ESC-50",
    "urbansound8k": "UrbanSound8K",
    "all": "all datasets",
}

#: Display names of the models.
MODEL_LABELS = {
    "resnet18": "ResNet-18",
    "resnet34": "ResNet-34",
    "resnet56": "ResNet-56",
    "alexnet": "AlexNet",
    "googlenet": "GoogLeNet",
    "sbcnn": "SB-CNN",
    "lstm": "LSTM",
}

_ATTACK_LABELS = {
    "fgsm": "FGSM",
    "deepfool": "DeepFool",
    "bim_a": "BIM-a",
    "bim_b": "BIM-b",
    "jsma": "JSMA",
    "cw": "CWA",
}


@dataclass(frozen=True)
class ReportTable:
    """One of the paper's tables, ours beside the paper's.

    Attributes
    ----------
    number : int
        The paper's table number.
    title : str
        What it shows.
    row_name : str
        What the row key is (``"sr (Hz)"``, ``"n_fft"``...).
    frame : pd.DataFrame
        Index ``(dataset, row)`` (strings); columns a MultiIndex ``(quantity, source)`` with
        source ``"ours"`` or ``"paper"``; NaN where a side has no number.
    """

    number: int
    title: str
    row_name: str
    frame: pd.DataFrame

    def side(self, source: str) -> pd.DataFrame:
        """The numbers of one side (``"ours"`` or ``"paper"``), one column per quantity."""
        if source not in SOURCES:
            raise ParameterError(f"source must be one of {SOURCES}, got {source!r}")
        return self.frame.xs(source, axis=1, level=1)

    def styled(self) -> Styler:
        """The table for display: ours beside the paper's, "—" for a missing cell.

        Every label of both axes is HTML-escaped (dataset names come from the store).
        """
        frame = self.frame.copy()
        frame.index = frame.index.set_levels(
            [[DATASET_LABELS.get(d, d) for d in frame.index.levels[0]], frame.index.levels[1]],
        )
        frame.index.names = ["dataset", self.row_name]
        formats = {col: _format(self.number, col[0]) for col in frame.columns}
        frame.columns = pd.MultiIndex.from_tuples(
            [(_column_label(self.number, q), s) for q, s in frame.columns]
        )
        formatter = dict(zip(frame.columns, formats.values()))
        ours = [c for c in frame.columns if c[1] == "ours"]
        return (
            frame.style.format(formatter, na_rep="—", escape="html")
            .format_index(escape="html", axis=0)
            .format_index(escape="html", axis=1)
            .set_caption(html.escape(f"Table {self.number}: {self.title}"))
            .set_properties(subset=ours, **{"background-color": "#eef4fb", "font-weight": "bold"})
        )


def _format(number: int, quantity: str) -> str:
    if number == 9:
        return "{:.3f}"
    if quantity.endswith("_grads"):
        return "{:.0f}"
    if (quantity == "auc" or quantity.endswith("_auc")) and number != 5:
        return "{:.4f}"
    if number == 6:
        return "{:+.2f}"
    return "{:.2f}"


def _column_label(number: int, quantity: str) -> str:
    labels = {
        "accuracy": "Acc. (%)",
        "auc": "AUC (%)" if number == 5 else "AUC",
        "accuracy_standard": "Acc., standard maps (%)",
        "accuracy_diff": "Δ accuracy",
        "auc_diff": "Δ AUC",
        "params_ratio": "parameters ratio",
        "grads_ratio": "gradients ratio",
    }
    if quantity in labels:
        return labels[quantity]
    if number == 9:
        return MODEL_LABELS.get(quantity, quantity)
    attack, _, metric = quantity.rpartition("_")
    return f"{_ATTACK_LABELS.get(attack, attack)} {'AUC' if metric == 'auc' else 'grads'}"
