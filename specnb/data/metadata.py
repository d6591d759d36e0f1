"""Reading and checking the metadata tables of on-disk datasets (ESC-50, UrbanSound8K).

Every problem found here is reported against the CSV file, the column and the line it comes
from, so that a damaged or foreign copy of a dataset is easy to repair.
"""

from __future__ import annotations

import csv
import hashlib
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence, TypeVar

from specnb.errors import DatasetError, ParameterError

__all__ = [
    "AUDIO_SUFFIXES",
    "DatasetError",
    "DatasetWarning",
    "MetadataTable",
    "check_audio_files",
    "check_unique",
    "class_names",
    "clip_ids",
    "content_key",
    "listed_paths",
    "non_empty",
    "parse_bool",
    "parse_int",
]

T = TypeVar("T")

#: File endings counted as audio when looking for files that the metadata does not list.
AUDIO_SUFFIXES = frozenset({".wav", ".ogg", ".flac", ".mp3", ".aif", ".aiff", ".aifc", ".au"})

_MISSING_POLICIES = ("error", "skip")


class DatasetWarning(UserWarning):
    """Something in a dataset copy was left out (unlisted audio files, skipped rows)."""


def parse_int(text: str) -> int:
    """An integer written in decimal digits (an optional sign; no fraction, no blanks)."""
    return int(text.strip())


def parse_bool(text: str) -> bool:
    """``True``/``False`` as written by pandas (also ``true``/``false``/``1``/``0``)."""
    value = text.strip().lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise ParameterError(text)


@dataclass(frozen=True)
class MetadataTable:
    """The rows of a dataset's metadata CSV, as strings keyed by column name.

    Parameters
    ----------
    csv_path : Path
        The file the rows come from (named in every error).
    rows : tuple of dict
        One ``{column: text}`` mapping per data line, in file order.
    """

    csv_path: Path
    rows: tuple[dict[str, str], ...]

    @classmethod
    def read(cls, csv_path: Path, columns: Sequence[str]) -> "MetadataTable":
        """Read ``csv_path`` and check that it has every column in ``columns``.

        Raises
        ------
        DatasetError
            The file is missing or unreadable, has no header, lacks a column (all missing
            columns are named), or has no data rows.
        """
        try:
            with open(csv_path, newline="", encoding="utf-8") as handle:
                reader = csv.DictReader(handle)
                header = reader.fieldnames or []
                rows = tuple(dict(row) for row in reader)
        except FileNotFoundError:
            raise DatasetError(f"metadata file not found: {csv_path}") from None
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise DatasetError(f"{csv_path}: cannot read the metadata table ({exc})") from exc
        absent = [name for name in columns if name not in header]
        if absent:
            raise DatasetError(
                f"{csv_path}: missing column(s) {', '.join(absent)} "
                f"(found: {', '.join(header) or 'no header'})"
            )
        if not rows:
            raise DatasetError(f"{csv_path}: the metadata table has no rows")
        return cls(Path(csv_path), rows)

    def __len__(self) -> int:
        return len(self.rows)

    def column(
        self,
        name: str,
        parse: Callable[[str], T],
        expected: str,
        check: Callable[[T], bool] | None = None,
    ) -> list[T]:
        """Parse every value of column ``name``.

        Parameters
        ----------
        name : str
            Column to read.
        parse : callable
            Turns the text of one cell into a value; raises ``ValueError`` on bad text.
        expected : str
            What a valid value looks like, for the error message (``"an integer >= 1"``).
        check : callable, optional
            Extra test on the parsed value; ``False`` is reported like a parse failure.

        Raises
        ------
        DatasetError
            Naming the CSV, the column, the line (1 = header) and the bad text.
        """
        values = []
        for line, row in enumerate(self.rows, start=2):
            text = row.get(name)
            text = "" if text is None else text
            try:
                value = parse(text)
                if check is not None and not check(value):
                    raise ParameterError(text)
            except ValueError:
                raise DatasetError(
                    f"{self.csv_path}: column {name!r}, line {line}: {text!r} is not {expected}"
                ) from None
            values.append(value)
        return values


def non_empty(text: str) -> str:
    """The stripped text, refusing an empty cell."""
    text = text.strip()
    if not text:
        raise ParameterError(text)
    return text


def class_names(
    table: MetadataTable, ids: Sequence[int], names: Sequence[str], id_column: str, name_column: str
) -> tuple[str, ...]:
    """The class names indexed by class id, checking ids run 0..K-1 with one name each.

    Raises
    ------
    DatasetError
        An id has two names, or the ids skip a value.
    """
    by_id: dict[int, str] = {}
    for class_id, name in zip(ids, names):
        if by_id.setdefault(class_id, name) != name:
            raise DatasetError(
                f"{table.csv_path}: column {id_column!r} value {class_id} is named both "
                f"{by_id[class_id]!r} and {name!r} in column {name_column!r}"
            )
    if sorted(by_id) != list(range(len(by_id))):
        raise DatasetError(
            f"{table.csv_path}: column {id_column!r} must number the classes 0..K-1 without gaps, "
            f"found {sorted(by_id)}"
        )
    return tuple(by_id[i] for i in range(len(by_id)))


def _listing(folder: Path) -> set[str]:
    try:
        return {entry.name for entry in os.scandir(folder) if entry.is_file()}
    except (FileNotFoundError, NotADirectoryError):
        return set()


def _examples(names: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(str(name) for name in names[:limit])
    return shown + (f", ... ({len(names) - limit} more)" if len(names) > limit else "")


def check_audio_files(
    csv_path: Path,
    listed: Sequence[Path],
    wanted: Sequence[Path],
    missing: str,
) -> list[bool]:
    """Check which of the ``wanted`` audio files exist.

    Parameters
    ----------
    csv_path : Path
        The metadata file, named in messages.
    listed : sequence of Path
        Every file the metadata lists (to find audio files that it does not list).
    wanted : sequence of Path
        The files of the rows being loaded (a subset of ``listed``).
    missing : {"error", "skip"}
        What to do with rows whose file is absent.

    Returns
    -------
    present : list of bool
        One flag per ``wanted`` file.

    Raises
    ------
    DatasetError
        ``missing="error"`` and some files are absent (how many, and the first few, are
        named), or no wanted file exists at all.

    Warns
    -----
    DatasetWarning
        Rows skipped under ``missing="skip"``; audio files in the dataset's folders that no row
        lists (they are ignored).
    """
    if missing not in _MISSING_POLICIES:
        raise ParameterError(f"missing must be one of {_MISSING_POLICIES}, got {missing!r}")
    folders = {path.parent for path in listed}
    on_disk = {folder: _listing(folder) for folder in folders}
    present = [path.name in on_disk[path.parent] for path in wanted]
    absent = [str(path) for path, ok in zip(wanted, present) if not ok]
    if absent and (missing == "error" or len(absent) == len(wanted)):
        hint = "; pass missing='skip' to load the others" if len(absent) < len(wanted) else ""
        raise DatasetError(
            f"{csv_path}: {len(absent)} of {len(wanted)} audio files listed are missing: "
            f"{_examples(absent)}{hint}"
        )
    if absent:
        warnings.warn(
            f"{csv_path}: skipping {len(absent)} rows whose audio file is missing: "
            f"{_examples(absent)}",
            DatasetWarning,
            stacklevel=3,
        )
    listed_names = {(path.parent, path.name) for path in listed}
    extra = sorted(
        str(folder / name)
        for folder, names in on_disk.items()
        for name in names
        if (folder, name) not in listed_names
        and Path(name).suffix.lower() in AUDIO_SUFFIXES
        and not name.startswith(".")
    )
    if extra:
        warnings.warn(
            f"{len(extra)} audio files have no row in {csv_path} and are ignored: "
            f"{_examples(extra)}",
            DatasetWarning,
            stacklevel=3,
        )
    return present


def check_unique(table: MetadataTable, column: str, values: Sequence[str]) -> None:
    """Refuse a column whose values repeat (file names must identify rows)."""
    seen: set[str] = set()
    for line, value in enumerate(values, start=2):
        if value in seen:
            raise DatasetError(
                f"{table.csv_path}: column {column!r}, line {line}: {value!r} appears twice"
            )
        seen.add(value)


def listed_paths(
    table: MetadataTable, column: str, audio: Path, names: Sequence[str]
) -> list[Path]:
    """The audio file of every row, refusing names that lead outside the audio folder.

    Parameters
    ----------
    table : MetadataTable
        The metadata the names come from (named in errors).
    column : str
        The column holding the file names.
    audio : Path
        The dataset's audio folder (``<root>/audio``).
    names : sequence of str
        One path per row, relative to ``audio`` (``"1-100032-A-0.wav"``, ``"fold1/x.wav"``).

    Returns
    -------
    paths : list of Path
        ``audio / name`` for every row.

    Raises
    ------
    DatasetError
        A name is absolute, or the file it names (symbolic links followed) lies outside
        ``audio``; the CSV, the column, the line and the name are given.
    """
    inside = os.path.realpath(audio) + os.sep
    real_parents: dict[str, str] = {}
    paths = []
    for line, name in enumerate(names, start=2):
        text = os.path.join(audio, name)
        parent, leaf = os.path.split(text)
        if parent not in real_parents:
            real_parents[parent] = os.path.realpath(parent)
        real = (
            os.path.realpath(text)
            if os.path.islink(text)
            else os.path.join(real_parents[parent], leaf)
        )
        if os.path.isabs(name) or leaf in ("", ".", "..") or not real.startswith(inside):
            raise DatasetError(
                f"{table.csv_path}: column {column!r}, line {line}: {name!r} points outside the "
                f"audio folder {audio}; file names must stay inside it"
            )
        path = audio / name
        paths.append(path)
    return paths


def clip_ids(table: MetadataTable, audio: Path, paths: Sequence[Path]) -> list[str]:
    """The clip id (file stem) of every file, refusing two files with one id.

    Raises
    ------
    DatasetError
        Two listed files share a stem (``a.wav`` and ``sub/a.wav``, or ``x.wav`` and
        ``x.flac``): they would share cached features. Both files are named.
    """
    owner: dict[str, Path] = {}
    for path in paths:
        first = owner.setdefault(path.stem, path)
        if first != path:
            raise DatasetError(
                f"{table.csv_path}: clip id {path.stem!r} would name both "
                f"{first.relative_to(audio)} and {path.relative_to(audio)}; clip ids are file "
                "stems and must be unique, rename one of the files"
            )
    return [path.stem for path in paths]


def content_key(name: str, table: MetadataTable, root: Path) -> str:
    """A cache key for one on-disk copy: the dataset name, then a hash of what was read.

    The hash covers the metadata file's bytes and the copy's absolute folder, so a different
    copy, or an edited metadata table, never reads another's cached features.

    Examples
    --------
    >>> content_key("esc50", table, Path("data/esc50"))  # doctest: +SKIP
    'esc50-3f1c9a0e5b7d2c41'
    """
    digest = hashlib.sha256()
    try:
        digest.update(table.csv_path.read_bytes())
    except OSError as exc:
        raise DatasetError(f"{table.csv_path}: cannot read the metadata table ({exc})") from exc
    digest.update(b"\0" + os.fsencode(root.resolve()))
    return f"{name}-{digest.hexdigest()[:16]}"
