"""Every error specnb raises, under one root: ``except specnb.SpecnbError`` catches them all.

:class:`ParameterError` is also a :class:`ValueError` (like librosa's), so code that catches
``ValueError`` keeps working. Each module's error re-parents under the root and keeps its old
built-in base, and is still importable from the module that raises it.

Examples
--------
>>> from specnb.errors import ParameterError, SpecnbError, check_positive_int
>>> try:
...     check_positive_int("TrainConfig.epochs", 0)
... except SpecnbError as error:
...     print(error)
TrainConfig.epochs must be a positive integer, got 0
>>> issubclass(ParameterError, ValueError)
True
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AudioError",
    "ChecksumError",
    "DatasetError",
    "DownloadError",
    "ModelError",
    "ParameterError",
    "SettingError",
    "SpecnbError",
    "SplitError",
    "StoreError",
    "SweepError",
    "TrainingError",
    "UnitCostsError",
    "check_positive_int",
]


class SpecnbError(Exception):
    """The root of every error specnb raises."""


class ParameterError(SpecnbError, ValueError):
    """A parameter with an impossible value; the message names it, its value and what is
    accepted."""


class SettingError(ParameterError):
    """An impossible or unsupported representation setting; the message names the field."""


class ModelError(ParameterError):
    """An unknown architecture, an impossible setting, or weights that do not fit a model."""


class SplitError(ParameterError):
    """Impossible split settings or clips that cannot be split; the message names the cause."""


class TrainingError(ParameterError):
    """A bad training setting or input; the message names the field, tensor or file."""


class SweepError(SpecnbError, ValueError):
    """An invalid sweep file or grid; the message names the file and the key."""


class AudioError(SpecnbError, ValueError):
    """An audio file that cannot serve as a clip; the message names the file."""


class DatasetError(SpecnbError, ValueError):
    """A dataset copy that cannot be loaded: missing folder, bad metadata or missing files."""


class UnitCostsError(SpecnbError, ValueError):
    """A unit costs file that is missing or unreadable; the message names the file."""


class DownloadError(SpecnbError, RuntimeError):
    """A download or unpacking failed; the message says how to get the data by hand."""


class ChecksumError(DownloadError):
    """A downloaded file does not match its published checksum (the file was removed)."""


class StoreError(SpecnbError, RuntimeError):
    """A bad write or an unusable database; the message names the table, column or file."""


def check_positive_int(name: str, value: Any, error: type[ParameterError] = ParameterError) -> None:
    """Check that ``value`` is a positive ``int`` (``bool`` is refused).

    Parameters
    ----------
    name : str
        The parameter as the message names it, e.g. ``"TrainConfig.epochs"``.
    value : Any
        The value to check.
    error : type of ParameterError
        The error class to raise (a subclass of :class:`ParameterError`).

    Raises
    ------
    ParameterError
        (or ``error``) When ``value`` is not an ``int`` greater than zero; the message names
        the parameter, its value and what would be accepted.

    Examples
    --------
    >>> check_positive_int("n_fft", 512)
    >>> check_positive_int("n_fft", True)
    Traceback (most recent call last):
    ...
    specnb.errors.ParameterError: n_fft must be a positive integer, got True
    """
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise error(f"{name} must be a positive integer, got {value!r}")
