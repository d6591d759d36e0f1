"""UrbanSound8K, read from the official layout.

The layout is ``<root>/metadata/UrbanSound8K.csv`` (columns slice_file_name, fsID, start, end,
salience, fold, classID, class) and ``<root>/audio/fold<N>/<slice_file_name>``. Slices are at
most 4 s long and come at their original rates and channel counts; every clip is mixed to mono,
resampled and padded (or cut) to 4 s when it is read.
"""

from __future__ import annotations

import math
from os import PathLike
from pathlib import Path

from .clips import AudioDataset, Clip, FixedLengthReader
from .metadata import (
    DatasetError,
    MetadataTable,
    check_audio_files,
    check_unique,
    class_names,
    clip_ids,
    content_key,
    listed_paths,
    non_empty,
    parse_int,
)

__all__ = ["URBANSOUND_COLUMNS", "URBANSOUND_DURATION", "load_urbansound8k"]

#: Columns of ``metadata/UrbanSound8K.csv``.
URBANSOUND_COLUMNS = (
    "slice_file_name",
    "fsID",
    "start",
    "end",
    "salience",
    "fold",
    "classID",
    "class",
)

#: Clip length of UrbanSound8K in seconds (the longest slice).
URBANSOUND_DURATION = 4.0


def load_urbansound8k(root: str | PathLike[str], *, missing: str = "error") -> AudioDataset:
    """UrbanSound8K: 8732 slices, 10 classes, official folds 1-10.

    Parameters
    ----------
    root : str or path-like
        Folder holding ``metadata/UrbanSound8K.csv`` and ``audio/fold1`` ... ``audio/fold10``.
    missing : {"error", "skip"}
        Rows whose audio file is absent raise :class:`DatasetError` naming how many and the
        first few (``"error"``), or are left out with a :class:`DatasetWarning` (``"skip"``).

    Returns
    -------
    dataset : AudioDataset
        ``name`` and ``key`` ``"urbansound8k"``; ``cache_key`` ``"urbansound8k-<hash>"`` of
        the CSV's bytes and the folder; ``classes`` indexed by ``classID``;
        ``clip_id`` the file stem; ``source_id`` the ``fsID`` (slices of one Freesound
        recording share it); ``duration`` 4.0; the reader decodes with
        :func:`~specnb.data.audio.load_audio` and fixes the length to 4 s.

    Raises
    ------
    DatasetError
        ``root`` lacks the CSV; a column is missing; a value cannot be parsed or is out of
        range (the CSV, the column and the line are named; ``end`` must exceed ``start``);
        a file name repeats; ``classID`` does not number the classes 0..K-1 with one name
        each; a file name points outside ``audio/``; two files share a stem (the clip id);
        listed audio files are missing.

    Warns
    -----
    DatasetWarning
        Audio files in the fold folders that no row lists are ignored and named.

    Examples
    --------
    >>> us8k = load_urbansound8k("data/urbansound8k")  # doctest: +SKIP
    >>> us8k.classes[:2]  # doctest: +SKIP
    ('air_conditioner', 'car_horn')
    """
    root = Path(root)
    csv_path = root / "metadata" / "UrbanSound8K.csv"
    if not csv_path.is_file():
        raise DatasetError(
            f"{csv_path} not found: {root} does not hold an UrbanSound8K copy "
            "(metadata/UrbanSound8K.csv and audio/foldN/); run `specnb download urbansound8k` "
            "or pass the folder that holds them"
        )
    table = MetadataTable.read(csv_path, URBANSOUND_COLUMNS)
    filenames = table.column("slice_file_name", non_empty, "a file name")
    check_unique(table, "slice_file_name", filenames)
    sources = table.column("fsID", parse_int, "an integer Freesound id")
    starts = table.column("start", float, "a time >= 0 in seconds", lambda v: v >= 0)
    ends = table.column("end", float, "a finite time in seconds", math.isfinite)
    table.column("salience", parse_int, "1 (foreground) or 2 (background)", lambda v: v in (1, 2))
    folds = table.column("fold", parse_int, "an integer >= 1", lambda v: v >= 1)
    ids = table.column("classID", parse_int, "an integer >= 0", lambda v: v >= 0)
    names = table.column("class", non_empty, "a class name")
    for line, (start, end) in enumerate(zip(starts, ends), start=2):
        if not end > start:
            raise DatasetError(
                f"{csv_path}: column 'end', line {line}: {end} does not exceed start {start}"
            )
    classes = class_names(table, ids, names, "classID", "class")

    audio = root / "audio"
    relative = [f"fold{fold}/{name}" for fold, name in zip(folds, filenames)]
    listed = listed_paths(table, "slice_file_name", audio, relative)
    stems = clip_ids(table, audio, listed)
    present = check_audio_files(csv_path, listed, listed, missing)
    clips = tuple(
        Clip(
            clip_id=clip_id,
            label=label,
            fold=fold,
            source_id=str(source),
            path=path,
        )
        for clip_id, path, label, fold, source, ok in zip(
            stems, listed, ids, folds, sources, present
        )
        if ok
    )
    return AudioDataset(
        name="urbansound8k",
        key="urbansound8k",
        classes=classes,
        clips=clips,
        duration=URBANSOUND_DURATION,
        reader=FixedLengthReader(URBANSOUND_DURATION),
        root=root,
        cache_key=content_key("urbansound8k", table, root),
        skipped=present.count(False),
    )
