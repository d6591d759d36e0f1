"""On-disk cache of raw representations, one ``.npy`` file per (dataset, clip, setting).

Layout::

    root/<dataset key>/<repr>-<feature key>/setting.json
    root/<dataset key>/<repr>-<feature key>/<clip id>.npy
    root/<dataset key>/images-<setting key>-<size>/<clip id>.npy

The feature key leaves out image-only fields (the colour map), so one cached array serves every
rendering. Model images are kept compactly beside them, as uint8 (3, size, size) arrays keyed
by the full setting (colour map included): a 128×128 image takes 48 KiB, a quarter of its
float32 form. Every write is atomic: the array goes to a hidden temporary file in the same
folder, is flushed and fsynced, and only then renamed over its final name, so a process killed
mid-write never leaves a partial file under a readable name. A damaged file met on reading
(truncated, wrong header) counts as a miss and is removed; an error of the operating system
(too many open files, say) is raised and leaves the file alone. Keys too long for a file name
are shortened and hashed.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable, Union
from urllib.parse import quote

import numpy as np

from specnb.atomic import atomic_write
from specnb.errors import ParameterError
from specnb.representations.settings import Setting

__all__ = ["FeatureCache", "save_npy_atomic"]

CacheKey = tuple[str, str, Setting]


def save_npy_atomic(path: Union[str, Path], array: np.ndarray) -> None:
    """Write ``array`` to ``path`` (``.npy`` format) so that the file appears only when complete.

    Parameters
    ----------
    path : str or Path
        Destination; its folder is created if needed.
    array : np.ndarray
        Array to save (saved without pickling).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "x.npy"
    >>> save_npy_atomic(target, np.arange(3, dtype=np.float32))
    >>> np.load(target).tolist()
    [0.0, 1.0, 2.0]
    """
    atomic_write(Path(path), lambda fh: np.save(fh, np.asarray(array), allow_pickle=False))


#: Longest encoded key kept as it is: with ``.npy`` or ``.json`` it stays under the 255 bytes
#: most file systems allow in a name.
_MAX_NAME = 200


def _safe_name(text: str, what: str) -> str:
    """A file-name-safe, injective encoding of ``text`` (percent-encoding, like a URL).

    An encoding longer than :data:`_MAX_NAME` is cut and followed by ``!`` and the SHA-256 of
    ``text``; ``!`` never occurs in a percent-encoding, so a hashed name never equals a plain
    one.
    """
    if not isinstance(text, str) or not text:
        raise ParameterError(f"{what} must be a non-empty string, got {text!r}")
    name = quote(text, safe="-_@+=,")
    name = "%2E" + name[1:] if name.startswith(".") else name
    if len(name) > _MAX_NAME:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        name = f"{name[: _MAX_NAME - 65]}!{digest}"
    return name


def _intact(path: Path) -> bool:
    """Whether ``path`` holds a complete ``.npy`` file (header readable, size as declared).

    Raises
    ------
    OSError
        The file cannot be opened or read (it may be missing, or the system is short of file
        handles); the caller decides, as this says nothing about the file's format.
    """
    with open(path, "rb") as fh:
        fmt = np.lib.format
        try:
            version = fmt.read_magic(fh)
            if version == (1, 0):
                shape, _, dtype = fmt.read_array_header_1_0(fh)
            else:
                shape, _, dtype = fmt.read_array_header_2_0(fh)
        except (ValueError, EOFError):
            return False
        expected = fh.tell() + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    return not dtype.hasobject and os.path.getsize(path) == expected


def _read_npy(path: Path) -> Union[np.ndarray, None]:
    """The array in ``path``; None when it is missing or damaged (a damaged file is removed).

    Raises
    ------
    OSError
        The file exists but cannot be read (too many open files, an I/O error); it is kept,
        as only a file in the wrong format is removed.
    """
    try:
        if _intact(path):
            return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        return None
    except (ValueError, EOFError):
        pass
    path.unlink(missing_ok=True)
    return None


class FeatureCache:
    """Raw float32 representations on disk, keyed by (dataset key, clip id, setting).

    Parameters
    ----------
    root : str or Path
        Folder of the cache (created on the first write).

    Examples
    --------
    >>> import tempfile
    >>> from specnb.representations import make_setting
    >>> cache = FeatureCache(tempfile.mkdtemp())
    >>> setting = make_setting("stft", n_fft=512)
    >>> ("esc10", "1-100032-A-0", setting) in cache
    False
    >>> cache.put("esc10", "1-100032-A-0", setting, np.zeros((257, 431)))
    >>> cache.get("esc10", "1-100032-A-0", setting.replace(colormap="gray")).shape
    (257, 431)
    """

    def __init__(self, root: Union[str, Path]) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"FeatureCache({str(self.root)!r})"

    def folder(self, dataset_key: str, setting: Setting) -> Path:
        """Folder holding every clip of ``dataset_key`` under ``setting``."""
        leaf = f"{setting.kind}-{setting.feature_key}"
        return self.root / _safe_name(dataset_key, "dataset_key") / leaf

    def path(self, dataset_key: str, clip_id: str, setting: Setting) -> Path:
        """File of one cached representation (whether or not it exists)."""
        name = _safe_name(clip_id, "clip_id") + ".npy"
        return self.folder(dataset_key, setting) / name

    def image_path(self, dataset_key: str, clip_id: str, setting: Setting, size: int) -> Path:
        """File of one cached uint8 model image (whether or not it exists)."""
        folder = f"images-{setting.key}-{int(size)}"
        name = _safe_name(clip_id, "clip_id") + ".npy"
        return self.root / _safe_name(dataset_key, "dataset_key") / folder / name

    def get_image(
        self, dataset_key: str, clip_id: str, setting: Setting, size: int
    ) -> Union[np.ndarray, None]:
        """The cached uint8 image (3, size, size), or None on a miss.

        A damaged file, or one of another dtype or shape, counts as a miss and is removed; an
        error of the operating system is raised and leaves the file alone (as for :meth:`get`).
        """
        path = self.image_path(dataset_key, clip_id, setting, size)
        image = _read_npy(path)
        if image is None or (image.dtype == np.uint8 and image.shape == (3, size, size)):
            return image
        path.unlink(missing_ok=True)
        return None

    def put_image(
        self, dataset_key: str, clip_id: str, setting: Setting, image: np.ndarray
    ) -> None:
        """Store a uint8 image of shape (3, size, size) atomically.

        Raises
        ------
        ParameterError
            If ``image`` is not uint8 or not of shape (3, size, size).
        """
        image = np.asarray(image)
        if (
            image.dtype != np.uint8
            or image.ndim != 3
            or image.shape[0] != 3
            or (image.shape[1] != image.shape[2])
        ):
            raise ParameterError(
                f"image of clip {clip_id!r} must be uint8 of shape (3, size, size), got "
                f"{image.dtype} {image.shape}"
            )
        path = self.image_path(dataset_key, clip_id, setting, image.shape[1])
        save_npy_atomic(path, image)

    def __contains__(self, key: CacheKey) -> bool:
        dataset_key, clip_id, setting = key
        try:
            return _intact(self.path(dataset_key, clip_id, setting))
        except OSError:
            return False

    def get(self, dataset_key: str, clip_id: str, setting: Setting) -> Union[np.ndarray, None]:
        """The cached array, or None on a miss (a damaged file is removed and counts as one).

        Returns
        -------
        np.ndarray (float32) or None

        Raises
        ------
        OSError
            The file exists but cannot be read (too many open files, an I/O error); it is
            kept, as only a file in the wrong format is removed.
        """
        array = _read_npy(self.path(dataset_key, clip_id, setting))
        return None if array is None else array.astype(np.float32, copy=False)

    def put(self, dataset_key: str, clip_id: str, setting: Setting, array: np.ndarray) -> None:
        """Store ``array`` (as float32) atomically, with the setting's JSON beside it.

        Raises
        ------
        ValueError
            If ``array`` holds NaN or infinite values (they would poison every later use).
        """
        data = np.asarray(array, dtype=np.float32)
        if not np.isfinite(data).all():
            raise ParameterError(
                f"refusing to cache non-finite values for clip {clip_id!r} of {dataset_key!r}"
            )
        folder = self.folder(dataset_key, setting)
        info = folder / "setting.json"
        if not info.exists():
            blob = json.dumps(setting.feature_dict(), indent=1, sort_keys=True).encode()
            atomic_write(info, lambda fh: fh.write(blob))
        save_npy_atomic(self.path(dataset_key, clip_id, setting), data)

    def get_or_compute(
        self,
        dataset_key: str,
        clip_id: str,
        setting: Setting,
        compute_fn: Callable[[], np.ndarray],
    ) -> np.ndarray:
        """The cached array, or ``compute_fn()`` stored first when it is missing or damaged.

        Returns
        -------
        np.ndarray (float32)
        """
        cached = self.get(dataset_key, clip_id, setting)
        if cached is not None:
            return cached
        data = np.asarray(compute_fn(), dtype=np.float32)
        self.put(dataset_key, clip_id, setting, data)
        return data
