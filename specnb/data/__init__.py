"""Datasets: loaders for ESC-50, ESC-10, UrbanSound8K and the embedded synthetic set.

Also the audio reader, waveform augmentation, train/dev/test splits and the downloader.

Modules
-------
- ``archives`` -- Unpacking a downloaded archive safely and putting its files in place of the
  old ones.
- ``audio`` -- Reading audio files into mono float32 waveforms at a chosen sampling rate.
- ``augment`` -- Waveform augmentation (paper §4): pitch shifting and time stretching of clips.
- ``clips`` -- The clip and dataset model shared by every loader, the splitter and the feature
  cache: a clip, its augmented copies, a dataset and the reader of clips stored as files.
- ``download`` -- Downloading the real datasets from their official sources: resume, checksums,
  installing.
- ``esc`` -- ESC-50 and its ESC-10 subset, read from the official layout.
- ``metadata`` -- Reading and checking the metadata tables of on-disk datasets (ESC-50,
  UrbanSound8K).
- ``splits`` -- Train/dev/test splits (paper §4.2) that respect source recordings and augmentation.
- ``synthetic`` -- An embedded, procedurally synthesised 10-class environmental-sound set.
- ``urbansound`` -- UrbanSound8K, read from the official layout.
"""

from __future__ import annotations

import os
from os import PathLike
from pathlib import Path
from typing import Any

from specnb.errors import ParameterError

from .audio import AudioError, SilentClipWarning, fix_length, load_audio
from .augment import PITCH_SCALES, apply_augmentation, pitch_shift, time_stretch
from .clips import AudioDataset, Clip, augment_clips
from .download import ChecksumError, DownloadError, download, fetch_dataset
from .esc import load_esc10, load_esc50
from .metadata import DatasetError, DatasetWarning
from .splits import Fold, Split, SplitError, SplitWarning, cv_split, official_split
from .synthetic import SYNTHETIC_CLASSES, load_synthetic
from .urbansound import load_urbansound8k

__all__ = [
    "AudioDataset",
    "AudioError",
    "ChecksumError",
    "DATASETS",
    "DatasetError",
    "DatasetWarning",
    "DownloadError",
    "Fold",
    "PITCH_SCALES",
    "SYNTHETIC_CLASSES",
    "SilentClipWarning",
    "Split",
    "SplitError",
    "SplitWarning",
    "Clip",
    "apply_augmentation",
    "augment_clips",
    "cv_split",
    "data_dir",
    "default_path",
    "download",
    "fetch_dataset",
    "fix_length",
    "load_audio",
    "load_dataset",
    "load_esc10",
    "load_esc50",
    "load_synthetic",
    "load_urbansound8k",
    "official_split",
    "pitch_shift",
    "time_stretch",
]

#: Names accepted by :func:`load_dataset`.
DATASETS = ("esc50", "esc10", "urbansound8k", "synthetic")

_FOLDERS = {"esc50": "esc50", "esc10": "esc50", "urbansound8k": "urbansound8k"}
_LOADERS = {"esc50": load_esc50, "esc10": load_esc10, "urbansound8k": load_urbansound8k}
_MARKERS = {
    "esc50": "meta/esc50.csv",
    "esc10": "meta/esc50.csv",
    "urbansound8k": "metadata/UrbanSound8K.csv",
}


def data_dir() -> Path:
    """Where datasets land by default: ``$SPECNB_DATA`` if set, else ``<repo>/data``."""
    configured = os.environ.get("SPECNB_DATA")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "data"


def default_path(name: str) -> Path:
    """The default folder of a real dataset (ESC-10 lives in the ESC-50 folder)."""
    if name not in _FOLDERS:
        raise ParameterError(f"{name!r} has no folder; real datasets are {sorted(_FOLDERS)}")
    return data_dir() / _FOLDERS[name]


def load_dataset(name: str, path: str | PathLike[str] | None = None, **kwargs: Any) -> AudioDataset:
    """Load a dataset by name.

    Parameters
    ----------
    name : {"esc50", "esc10", "urbansound8k", "synthetic"}
        Which dataset.
    path : str or path-like, optional
        Folder of a real dataset's official layout. Default: :func:`default_path` (for
        example ``<repo>/data/esc50``, which also serves ``"esc10"``). The synthetic set takes
        no path.
    **kwargs
        Passed to the loader: ``missing=`` for real sets; ``seed=``, ``n_per_class=``,
        ``sr_native=`` for ``"synthetic"``.

    Returns
    -------
    dataset : AudioDataset

    Raises
    ------
    ValueError
        Unknown ``name``, or a ``path`` for the synthetic set.
    DatasetError
        The dataset is not at the default folder (the message says to run
        ``specnb download NAME`` or pass a path), or the loader finds it damaged.

    Examples
    --------
    >>> load_dataset("synthetic", n_per_class=2).key
    'synthetic-s0-n2'
    >>> load_dataset("esc10", "/data/ESC-50-master")  # doctest: +SKIP
    """
    if name not in DATASETS:
        raise ParameterError(f"unknown dataset {name!r}; choose one of {DATASETS}")
    if name == "synthetic":
        if path is not None:
            raise ParameterError("the synthetic dataset is generated, it takes no path")
        return load_synthetic(**kwargs)
    if path is None:
        root = default_path(name)
        if not (root / _MARKERS[name]).is_file():
            raise DatasetError(
                f"{name} is not at its default folder {root} (no {_MARKERS[name]}); run "
                f"`specnb download {name}` to fetch it, or pass path= (--path) to a copy on disk"
            )
        path = root
    return _LOADERS[name](path, **kwargs)
