"""One report table, ours beside the paper's: its two sides, and how it is shown (display
names of datasets, models and attacks, number formats, column labels)."""

from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd
from pandas.io.formats.style import Styler

from specnb.errors import ParameterError

__all__ = [
    "AUC_DIGITS",
    "DATASET_LABELS",
    "MODEL_LABELS",
    "REPR_LABELS",
    "SOURCES",
    "ReportTable",
    "row_number",
]

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

#: Display names of the representations.
REPR_LABELS = {"mfcc": "MFCC", "stft": "STFT", "wavelet": "DWT", "mel": "Mel"}

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

    @property
    def has_ours(self) -> bool:
        """True when our side has at least one number."""
        return bool(self.side("ours").notna().to_numpy().any())

    def shown(self) -> pd.DataFrame:
        """The table as read: one line per row key, dataset and side that has a number.

        Our line of a row key stands right below the paper's lines of the same row key (a
        dataset the paper does not have, such as the synthetic set, comes last among them),
        so that each of our numbers is read beside the paper's. Index ``(row_name, "dataset",
        "source")``; columns the quantities (store keys); NaN where a line lacks a number.
        """
        datasets = list(dict.fromkeys(str(d) for d, _ in self.frame.index))
        rows = list(dict.fromkeys(str(r) for _, r in self.frame.index))
        if rows and all(row_number(r) is not None for r in rows):
            rows.sort(key=float)
        lines, index = [], []
        for row in rows:
            for dataset in datasets:
                if (dataset, row) not in self.frame.index:
                    continue
                for source in ("paper", "ours"):
                    values = self.frame.loc[(dataset, row)].xs(source, level=1)
                    if values.notna().any():
                        lines.append(values.to_numpy(dtype="float64"))
                        index.append((row, dataset, source))
        quantities = list(dict.fromkeys(q for q, _ in self.frame.columns))
        names = [self.row_name, "dataset", "source"]
        if not index:
            empty = pd.MultiIndex.from_arrays([[], [], []], names=names)
            return pd.DataFrame(columns=quantities, index=empty, dtype="float64")
        return pd.DataFrame(
            lines, index=pd.MultiIndex.from_tuples(index, names=names), columns=quantities
        )

    def styled(self) -> Styler:
        """The table for display (:meth:`shown`): our lines shaded, "—" for a missing cell.

        Datasets, models and attacks by their display names; every label of both axes is
        HTML-escaped (dataset names come from the store).
        """
        frame = self.shown()
        quantities = list(frame.columns)
        if len(frame.index):
            frame.index = frame.index.set_levels(
                [DATASET_LABELS.get(d, d) for d in frame.index.levels[1]], level=1
            )
        frame.columns = [_column_label(self.number, q) for q in quantities]
        formats = {label: _format(self.number, q) for label, q in zip(frame.columns, quantities)}

        def shade(line: pd.Series) -> list[str]:
            ours = line.name[2] == "ours"
            return [_OURS_STYLE if ours else ""] * len(line)

        return (
            frame.style.format(formats, na_rep="—", escape="html")
            .format_index(escape="html", axis=0)
            .format_index(escape="html", axis=1)
            .set_caption(html.escape(f"Table {self.number}: {self.title}"))
            .apply(shade, axis=1)
        )


#: How our lines are shaded.
_OURS_STYLE = "background-color: #eef4fb; font-weight: bold"
#: Decimals of an AUC fraction (a few dozen clips per run: a fourth would be noise).
AUC_DIGITS = 3


def _format(number: int, quantity: str) -> str:
    if number == 9:
        return "{:.3f}"
    if quantity.endswith("_grads"):
        return "{:.0f}"
    if (quantity == "auc" or quantity.endswith("_auc")) and number != 5:
        return f"{{:.{AUC_DIGITS}f}}"
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


def row_number(text: str) -> float | None:
    """A row key as a number (``"8000"`` -> 8000.0), None for a named row (``"haar"``)."""
    try:
        return float(text)
    except ValueError:
        return None
