"""The paper's Tables 2–9 rebuilt from our results, with the paper's numbers beside ours.

Every table is a :class:`~specnb.report.report_table.ReportTable` whose frame has one row per
(dataset, row key) and two columns per quantity, ``(quantity, "ours")`` and
``(quantity, "paper")``. A cell neither side has a number for is NaN (shown as "—"). Units
follow the paper: accuracy in percent, AUC as a fraction (Table 5: percent), gradient
computations as counts.

How each table aggregates our runs (see :mod:`specnb.report.results` for the per-run means):

* Tables 2, 3, 4, 7: the victim model's runs with a standard colour map, of MFCC (row: sampling
  rate), STFT (row: ``n_fft``), the complex-Morlet scalogram (row: sampling rate) and Mel
  (row: ``n_fft``); each cell is the mean over the runs with that row value, whatever their
  other settings ("averaged over experiments and budgets").
* Table 5: the victim's standard scalogram runs by mother-wavelet family; mean accuracy and
  mean AUC over the six attacks, both in percent.
* Table 6: each other model against the victim, paired on (dataset, representation setting):
  accuracy and AUC differences in percentage points, parameter and gradient-count ratios as
  ``100 * (other / victim - 1)`` (gradients per attack, then averaged over attacks); each the
  mean over the pairs, over every dataset (row ``all``).
* Table 8: the victim's runs rendered with uniform HSV, by representation; mean accuracy and
  mean AUC. ``accuracy_standard`` is the mean accuracy of that dataset's rows of Tables 2, 3,
  4 and 7 (for the paper, from its own Tables 2, 3, 4 and 7).
* Table 9: the transfer ratio from a source to a target model of one dataset and
  representation, averaged over run pairs and then over attacks; row ``repr:source``,
  column the target.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from specnb.errors import ParameterError
from specnb.report.attack_rows import ATTACKS
from specnb.report.report_table import ReportTable, row_number
from specnb.report.results import StoreResults

__all__ = [
    "TABLE_NEEDS",
    "TABLE_TITLES",
    "build_table",
    "build_tables",
    "row_key",
]

#: Title of each table.
TABLE_TITLES = {
    2: "MFCC: sampling rate vs accuracy and attacks (AUC, gradients)",
    3: "STFT: n_fft vs accuracy and attacks (AUC, gradients)",
    4: "Wavelet scalogram (complex Morlet): sampling rate vs accuracy and attacks",
    5: "Mother wavelet vs accuracy and mean AUC (percent)",
    6: "Architectures relative to the victim model (percent)",
    7: "Mel spectrogram: n_fft vs accuracy and attacks (AUC, gradients)",
    8: "Uniform HSV rendering: accuracy and mean AUC",
    9: "Transferability ratio, source model (row) to target model (column)",
}

#: What our side of each table needs from the store (``{victim}``: the victim's label).
TABLE_NEEDS = {
    2: "finished MFCC runs of {victim} with a standard colour map",
    3: "finished STFT runs of {victim} with a standard colour map",
    4: "finished complex-Morlet scalogram runs of {victim} with a standard colour map",
    5: "finished scalogram runs of {victim} with a standard colour map",
    6: "runs of another model on a dataset and setting that {victim} has run too",
    7: "finished Mel runs of {victim} with a standard colour map",
    8: "runs of {victim} rendered with uniform HSV",
    9: "transfer results between two models of one dataset and representation (notebook 04)",
}

_ROW_NAMES = {
    2: "sr (Hz)",
    3: "n_fft",
    4: "sr (Hz)",
    5: "wavelet",
    6: "model",
    7: "n_fft",
    8: "representation",
    9: "repr:source",
}
_ATTACK_COLUMNS = ("accuracy", *[f"{a}_{m}" for a in ATTACKS for m in ("auc", "grads")])
_COLUMNS: dict[int, tuple[str, ...]] = {
    2: _ATTACK_COLUMNS,
    3: _ATTACK_COLUMNS,
    4: _ATTACK_COLUMNS,
    7: _ATTACK_COLUMNS,
    5: ("accuracy", "auc"),
    6: ("accuracy_diff", "auc_diff", "params_ratio", "grads_ratio"),
    8: ("accuracy", "auc", "accuracy_standard"),
    9: ("resnet18", "googlenet", "alexnet"),
}
_DATASET_ORDER = ("esc10", "esc50", "urbansound8k", "all")
# Representation and row field of the attack tables, with an optional run filter.
_SETTINGS_TABLES: dict[int, tuple[str, str, Callable[[pd.DataFrame], pd.Series] | None]] = {
    2: ("mfcc", "sr", None),
    3: ("stft", "n_fft", None),
    4: ("wavelet", "sr", lambda runs: runs["wavelet_family"] == "cmor"),
    7: ("mel", "n_fft", None),
}
_STANDARD_TABLES = {"mfcc": 2, "stft": 3, "wavelet": 4, "mel": 7}


def row_key(value: Any) -> str:
    """Row key of a setting value: integral numbers without decimals.

    Examples
    --------
    >>> row_key(8000.0), row_key(0.5), row_key("haar")
    ('8000', '0.5', 'haar')
    """
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() else f"{float(value):g}"
    return str(value)


def build_tables(
    results: StoreResults, paper: pd.DataFrame, victim: str = "resnet18"
) -> dict[int, ReportTable]:
    """Every table, 2 to 9, keyed by number.

    Parameters
    ----------
    results : StoreResults
        From :func:`~specnb.report.results.read_results`.
    paper : pd.DataFrame
        From :func:`~specnb.report.paper.load_paper_results`.
    victim : str
        The model the per-setting tables are about (the paper's ResNet-18).
    """
    tables: dict[int, ReportTable] = {}
    for number in (2, 3, 4, 5, 6, 7, 9):
        tables[number] = build_table(number, results, paper, victim)
    tables[8] = _table8(results, paper, victim, tables)
    return dict(sorted(tables.items()))


def build_table(
    number: int, results: StoreResults, paper: pd.DataFrame, victim: str = "resnet18"
) -> ReportTable:
    """One table by number (Table 8 also reads Tables 2, 3, 4 and 7, built here for it).

    Raises
    ------
    ValueError
        ``number`` is not one of the paper's Tables 2 to 9.
    """
    if number not in TABLE_TITLES:
        raise ParameterError(f"table number must be one of {sorted(TABLE_TITLES)}, got {number!r}")
    if number == 8:
        others = {n: build_table(n, results, paper, victim) for n in _STANDARD_TABLES.values()}
        return _table8(results, paper, victim, others)
    runs = results.runs
    if number in _SETTINGS_TABLES:
        ours = _settings_table(runs, victim, *_SETTINGS_TABLES[number])
    elif number == 5:
        ours = _table5(runs, victim)
    elif number == 6:
        ours = _table6(runs, victim)
    else:
        ours = _table9(results.transfers)
    return _assemble(number, ours, _paper_side(paper, number))


def _victim_runs(runs: pd.DataFrame, victim: str, representation: str) -> pd.DataFrame:
    chosen = (runs["model"] == victim) & (runs["repr"] == representation) & runs["standard"]
    return runs[chosen]


def _settings_table(
    runs: pd.DataFrame,
    victim: str,
    representation: str,
    field: str,
    keep: Callable[[pd.DataFrame], pd.Series] | None,
) -> pd.DataFrame:
    chosen = _victim_runs(runs, victim, representation)
    if keep is not None and not chosen.empty:
        chosen = chosen[keep(chosen)]
    chosen = chosen[chosen[field].notna()]
    columns = [c for c in _ATTACK_COLUMNS if c in chosen.columns]
    return _cell_means(chosen, [row_key(v) for v in chosen[field]], columns)


def _cell_means(runs: pd.DataFrame, rows: list[str], columns: list[str]) -> pd.DataFrame:
    frame = runs[columns].copy()
    frame.index = pd.MultiIndex.from_arrays(
        [runs["dataset"].astype(str).to_numpy(), rows], names=["dataset", "row"]
    )
    return frame.groupby(level=["dataset", "row"]).mean()


def _table5(runs: pd.DataFrame, victim: str) -> pd.DataFrame:
    chosen = _victim_runs(runs, victim, "wavelet")
    chosen = chosen[chosen["wavelet_family"].notna()]
    frame = pd.DataFrame({"accuracy": chosen["accuracy"], "auc": 100.0 * chosen["auc"]})
    frame["dataset"] = chosen["dataset"]
    return _cell_means(frame, [str(w) for w in chosen["wavelet_family"]], ["accuracy", "auc"])


def _table6(runs: pd.DataFrame, victim: str) -> pd.DataFrame:
    keys = ["dataset", "setting_key"]
    reference = runs[runs["model"] == victim].groupby(keys).mean(numeric_only=True)
    rows = []
    for model, group in runs[runs["model"] != victim].groupby("model"):
        mine = group.groupby(keys).mean(numeric_only=True)
        pairs = mine.join(reference, how="inner", suffixes=("", "_ref"))
        if pairs.empty:
            continue
        grads = [pairs[f"{a}_grads"] / pairs[f"{a}_grads_ref"] - 1.0 for a in ATTACKS]
        grads_ratio = pd.concat(grads, axis=1).mean(axis=1, skipna=True)
        rows.append(
            {
                "dataset": "all",
                "row": str(model),
                "accuracy_diff": (pairs["accuracy"] - pairs["accuracy_ref"]).mean(),
                "auc_diff": 100.0 * (pairs["auc"] - pairs["auc_ref"]).mean(),
                "params_ratio": 100.0 * (pairs["n_params"] / pairs["n_params_ref"] - 1.0).mean(),
                "grads_ratio": 100.0 * grads_ratio.mean(),
            }
        )
    columns = ["dataset", "row", *_COLUMNS[6]]
    return pd.DataFrame(rows, columns=columns).set_index(["dataset", "row"]).astype("float64")


def _table9(transfers: pd.DataFrame) -> pd.DataFrame:
    keys = ["dataset", "repr", "source", "target"]
    if transfers.empty:
        return _empty_side()
    per_attack = transfers.groupby([*keys, "attack"])["ratio"].mean()
    ratios = per_attack.groupby(level=keys).mean().reset_index()
    ratios["row"] = ratios["repr"].astype(str) + ":" + ratios["source"].astype(str)
    wide = ratios.pivot_table(index=["dataset", "row"], columns="target", values="ratio")
    wide.columns = [str(c) for c in wide.columns]
    return wide


def _empty_side() -> pd.DataFrame:
    return pd.DataFrame(index=pd.MultiIndex.from_arrays([[], []], names=["dataset", "row"]))


def _table8(
    results: StoreResults, paper: pd.DataFrame, victim: str, tables: Mapping[int, ReportTable]
) -> ReportTable:
    runs = results.runs
    hsv = runs[(runs["model"] == victim) & ~runs["standard"]]
    frame = pd.DataFrame(
        {"accuracy": hsv["accuracy"], "auc": hsv["auc"], "dataset": hsv["dataset"]}
    )
    ours = _cell_means(frame, [str(r) for r in hsv["repr"]], ["accuracy", "auc"])
    paper_side = _paper_side(paper, 8)
    sides = {"ours": ours, "paper": paper_side}
    for source, side in sides.items():
        standard = _standard_accuracy(tables, source)
        if not standard.empty:
            order = side.index.append(standard.index).drop_duplicates()
            sides[source] = side.join(standard, how="outer").reindex(order)
    return _assemble(8, sides["ours"], sides["paper"])


def _standard_accuracy(tables: Mapping[int, ReportTable], source: str) -> pd.DataFrame:
    """Mean accuracy of each dataset's rows of Tables 2, 3, 4, 7, by representation."""
    rows = []
    for representation, number in _STANDARD_TABLES.items():
        accuracy = tables[number].side(source)["accuracy"].dropna()
        for dataset, values in accuracy.groupby(level="dataset"):
            rows.append(
                {
                    "dataset": dataset,
                    "row": representation,
                    "accuracy_standard": float(values.mean()),
                }
            )
    frame = pd.DataFrame(rows, columns=["dataset", "row", "accuracy_standard"])
    return frame.set_index(["dataset", "row"])


def _paper_side(paper: pd.DataFrame, number: int) -> pd.DataFrame:
    rows = paper[paper["table"] == number]
    wide = rows.pivot_table(index=["dataset", "row"], columns="column", values="value", sort=False)
    wide.columns = [str(c) for c in wide.columns]
    return wide


def _assemble(number: int, ours: pd.DataFrame, paper: pd.DataFrame) -> ReportTable:
    columns = list(_COLUMNS[number])
    if number == 9:
        columns += sorted(set(ours.columns) - set(columns))
    index = _ordered_index(paper.index.append(ours.index))
    parts = {}
    for quantity in columns:
        for source, side in (("ours", ours), ("paper", paper)):
            values = side[quantity] if quantity in side.columns else pd.Series(dtype="float64")
            parts[(quantity, source)] = values.reindex(index).astype("float64")
    frame = pd.DataFrame(parts, index=index)
    frame.columns = pd.MultiIndex.from_tuples(frame.columns, names=["quantity", "source"])
    return ReportTable(number, TABLE_TITLES[number], _ROW_NAMES[number], frame)


def _ordered_index(index: pd.Index) -> pd.MultiIndex:
    """Datasets in the paper's order, then numeric rows by value, named rows as found (the
    paper's rows come first in ``index``, so they keep the paper's order)."""
    pairs = list(dict.fromkeys((str(d), str(r)) for d, r in index))
    position = {pair: i for i, pair in enumerate(pairs)}

    def order(pair: tuple[str, str]) -> tuple[Any, ...]:
        dataset, row = pair
        rank = _DATASET_ORDER.index(dataset) if dataset in _DATASET_ORDER else len(_DATASET_ORDER)
        number = row_number(row)
        return (
            rank,
            dataset,
            number is None,
            number if number is not None else 0.0,
            position[pair],
        )

    pairs.sort(key=order)
    if not pairs:
        return pd.MultiIndex.from_arrays([[], []], names=["dataset", "row"])
    return pd.MultiIndex.from_tuples(pairs, names=["dataset", "row"])
