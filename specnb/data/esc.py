"""ESC-50 and its ESC-10 subset, read from the official layout.

The layout is ``<root>/meta/esc50.csv`` (columns filename, fold, target, category, esc10,
src_file, take) and ``<root>/audio/<filename>``. Because the CSV names each file, the same
loader serves the WAV release (5 s, 44.1 kHz, mono) and the original OGG release (mixed rates
and channel counts, 3.6-7.2 s): every clip is mixed to mono, resampled and cut or padded to 5 s
when it is read.
"""

from __future__ import annotations

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
    parse_bool,
    parse_int,
)

__all__ = ["ESC50_COLUMNS", "ESC_DURATION", "load_esc10", "load_esc50"]

#: Columns of ``meta/esc50.csv``.
ESC50_COLUMNS = ("filename", "fold", "target", "category", "esc10", "src_file", "take")

#: Clip length of ESC-50 in seconds.
ESC_DURATION = 5.0


def load_esc50(root: str | PathLike[str], *, missing: str = "error") -> AudioDataset:
    """ESC-50: 2000 clips, 50 classes, official folds 1-5.

    Parameters
    ----------
    root : str or path-like
        Folder holding ``meta/esc50.csv`` and ``audio/``.
    missing : {"error", "skip"}
        Rows whose audio file is absent raise :class:`DatasetError` naming how many and the
        first few (``"error"``), or are left out with a :class:`DatasetWarning` (``"skip"``).

    Returns
    -------
    dataset : AudioDataset
        ``name`` and ``key`` ``"esc50"``; ``cache_key`` ``"esc50-<hash>"`` of the CSV's
        bytes and the folder; ``classes`` indexed by the CSV's ``target``;
        ``clip_id`` the file stem; ``source_id`` the ``src_file`` (fragments of one Freesound
        recording share it); ``duration`` 5.0; the reader decodes with
        :func:`~specnb.data.audio.load_audio` and fixes the length to 5 s.

    Raises
    ------
    DatasetError
        ``root`` lacks the CSV; a column is missing; a value cannot be parsed (the CSV, the
        column and the line are named); a file name repeats; targets do not number the
        classes 0..K-1 with one category each; a file name points outside ``audio/``; two
        files share a stem (the clip id); listed audio files are missing.

    Warns
    -----
    DatasetWarning
        Audio files under ``audio/`` that no row lists are ignored and named.

    Examples
    --------
    >>> esc50 = load_esc50("data/esc50")  # doctest: +SKIP
    >>> len(esc50), len(esc50.classes)  # doctest: +SKIP
    (2000, 50)
    """
    return _load(Path(root), esc10_only=False, missing=missing)


def load_esc10(root: str | PathLike[str], *, missing: str = "error") -> AudioDataset:
    """ESC-10: the 400 ``esc10 == True`` clips of ESC-50, relabelled 0..9.

    The labels follow the order of the original ESC-50 targets (dog, rooster, rain, sea_waves,
    crackling_fire, crying_baby, sneezing, clock_tick, helicopter, chainsaw). Everything else
    is as in :func:`load_esc50` (same ``root``, ``missing``, errors and warnings); the key is
    ``"esc10"``.

    Examples
    --------
    >>> esc10 = load_esc10("data/esc50")  # doctest: +SKIP
    >>> esc10.classes[:3]  # doctest: +SKIP
    ('dog', 'rooster', 'rain')
    """
    return _load(Path(root), esc10_only=True, missing=missing)


def _load(root: Path, *, esc10_only: bool, missing: str) -> AudioDataset:
    name = "esc10" if esc10_only else "esc50"
    csv_path = root / "meta" / "esc50.csv"
    if not csv_path.is_file():
        raise DatasetError(
            f"{csv_path} not found: {root} does not hold an ESC-50 copy (meta/esc50.csv and "
            f"audio/); run `specnb download {name}` or pass the folder that holds them"
        )
    table = MetadataTable.read(csv_path, ESC50_COLUMNS)
    filenames = table.column("filename", non_empty, "a file name")
    check_unique(table, "filename", filenames)
    folds = table.column("fold", parse_int, "an integer >= 1", lambda v: v >= 1)
    targets = table.column("target", parse_int, "an integer >= 0", lambda v: v >= 0)
    categories = table.column("category", non_empty, "a class name")
    esc10 = table.column("esc10", parse_bool, "True or False")
    sources = table.column("src_file", non_empty, "a source recording id")
    classes = class_names(table, targets, categories, "target", "category")

    rows = [i for i in range(len(table)) if esc10[i] or not esc10_only]
    if not rows:
        raise DatasetError(f"{csv_path}: column 'esc10' marks no row True; ESC-10 is empty")
    label_of = {target: target for target in range(len(classes))}
    if esc10_only:
        kept = sorted({targets[i] for i in rows})
        label_of = {target: label for label, target in enumerate(kept)}
        classes = tuple(classes[target] for target in kept)

    audio = root / "audio"
    listed = listed_paths(table, "filename", audio, filenames)
    ids = clip_ids(table, audio, listed)
    present = check_audio_files(csv_path, listed, [listed[i] for i in rows], missing)
    clips = tuple(
        Clip(
            clip_id=ids[i],
            label=label_of[targets[i]],
            fold=folds[i],
            source_id=sources[i],
            path=listed[i],
        )
        for i, ok in zip(rows, present)
        if ok
    )
    return AudioDataset(
        name=name,
        key=name,
        classes=classes,
        clips=clips,
        duration=ESC_DURATION,
        reader=FixedLengthReader(ESC_DURATION),
        root=root,
        cache_key=content_key(name, table, root),
        skipped=present.count(False),
    )
