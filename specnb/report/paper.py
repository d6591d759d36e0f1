"""The paper's published numbers (Tables 2–9), read from the package's data file.

``specnb/data_files/paper_results.csv`` holds every number of the paper's Tables 2 to 9 in
long format, one number per line, exactly as printed:

``table``
    Table number, 2 to 9.
``dataset``
    ``esc10``, ``esc50`` or ``urbansound8k`` (the dataset keys of the results store);
    ``all`` for Table 6, which the paper gives over every dataset.
``row``
    The table's row key, in the units of the representation settings:
    sampling rate in Hz (Tables 2 and 4: ``8000``, ``16000``, ``22050``, ``24000``);
    ``n_fft`` (Tables 3 and 7: ``512``, ``1024``, ``2048``);
    mother-wavelet family (Table 5: ``haar``, ``mexh``, ``cmor``);
    model compared with ResNet-18 (Table 6: ``resnet34``, ``resnet56``, ``alexnet``,
    ``googlenet``, ``sbcnn``, ``lstm``);
    representation (Table 8: ``mfcc``, ``stft``, ``wavelet``, ``mel``);
    ``representation:source model`` (Table 9, e.g. ``mfcc:resnet18``).
``column``
    ``accuracy``; ``<attack>_auc`` and ``<attack>_grads`` for the six attacks ``fgsm``,
    ``deepfool``, ``bim_a``, ``bim_b``, ``jsma``, ``cw`` (Tables 2, 3, 4, 7); ``auc``
    (Tables 5 and 8); ``accuracy_diff``, ``auc_diff``, ``params_ratio``, ``grads_ratio``
    (Table 6); the target model (Table 9).
``value``
    The number as printed (Table 2's leading zeros such as ``074`` read as 74).
``unit``
    ``percent``, ``fraction`` or ``count``.

Transcription notes: the paper's text extraction labels a Table 2 row "ESC-30" (ESC-50), a
Table 4 row "TICOL" (UrbanSound8k) and writes ``1 024`` for 1024. Table 9's rows are read as
the model the examples were crafted on (source) and its columns as the model they are tried
on (target).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Union

import pandas as pd

from specnb.errors import ParameterError

__all__ = ["PAPER_COLUMNS", "PAPER_TABLES", "UNITS", "load_paper_results", "paper_csv_path"]

#: Columns of the data file.
PAPER_COLUMNS = ("table", "dataset", "row", "column", "value", "unit")

#: Tables the data file covers.
PAPER_TABLES = (2, 3, 4, 5, 6, 7, 8, 9)

#: Units a number may have.
UNITS = ("percent", "fraction", "count")


def paper_csv_path() -> Path:
    """Path of the packaged data file with the paper's numbers."""
    return Path(str(resources.files("specnb") / "data_files" / "paper_results.csv"))


def load_paper_results(path: Union[str, Path, None] = None) -> pd.DataFrame:
    """The paper's published numbers, one row per number.

    Parameters
    ----------
    path : str, Path or None
        A data file in the format above; None: the packaged one.

    Returns
    -------
    pd.DataFrame
        Columns ``table`` (int), ``dataset``, ``row``, ``column``, ``unit`` (str) and
        ``value`` (float), in the file's order.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        A column is missing, a value is not a number, a unit or table is unknown, or a
        (table, dataset, row, column) appears twice; the message names the file and line.

    Examples
    --------
    >>> paper = load_paper_results()
    >>> row = paper.query("table == 3 and dataset == 'esc10' and row == '1024'")
    >>> float(row.loc[row["column"] == "accuracy", "value"].iloc[0])
    85.17
    """
    file = paper_csv_path() if path is None else Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"no paper results file at {file}")
    frame = pd.read_csv(file, comment="#", dtype=str, keep_default_na=False)
    missing = [c for c in PAPER_COLUMNS if c not in frame.columns]
    if missing:
        raise ParameterError(f"{file}: missing column {missing[0]!r}; expected {PAPER_COLUMNS}")
    frame = frame[list(PAPER_COLUMNS)].copy()
    header_line = _header_line(file)
    values = pd.to_numeric(frame["value"], errors="coerce")
    tables = pd.to_numeric(frame["table"], errors="coerce")
    for i in range(len(frame)):
        line = header_line + 1 + i
        if pd.isna(values.iloc[i]):
            raise ParameterError(
                f"{file}, line {line}: value {frame['value'].iloc[i]!r} is not a number"
            )
        if tables.iloc[i] not in PAPER_TABLES:
            raise ParameterError(
                f"{file}, line {line}: table {frame['table'].iloc[i]!r} is not one of "
                f"{PAPER_TABLES}"
            )
        if frame["unit"].iloc[i] not in UNITS:
            raise ParameterError(
                f"{file}, line {line}: unit {frame['unit'].iloc[i]!r} is not one of {UNITS}"
            )
    frame["value"] = values.astype("float64")
    frame["table"] = tables.astype("int64")
    for name in ("dataset", "row", "column", "unit"):
        frame[name] = frame[name].astype(str).str.strip()
    keys = ["table", "dataset", "row", "column"]
    duplicated = frame.duplicated(keys)
    if duplicated.any():
        first = frame[duplicated].iloc[0]
        raise ParameterError(
            f"{file}, line {header_line + 1 + int(duplicated.to_numpy().argmax())}: "
            f"table {first['table']} {first['dataset']} {first['row']} {first['column']} "
            "is given twice"
        )
    return frame.reset_index(drop=True)


def _header_line(file: Path) -> int:
    """1-based line number of the header (comment lines come first)."""
    with file.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.startswith("#"):
                return number
    return 1
