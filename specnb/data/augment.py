"""Waveform augmentation (paper §4): pitch shifting and time stretching of clips.

An augmented copy is described by a tag, ``"pitch<scale>"`` or ``"stretch<rate>"`` (for example
``"pitch0.75"``, ``"stretch1.2"``), stored in :attr:`Clip.augmentation`; the waveform is made
on demand from the original's by :func:`apply_augmentation`.
"""

from __future__ import annotations

import math
import re

import librosa
import numpy as np

from specnb.errors import ParameterError

from .audio import check_rate, fix_length

__all__ = [
    "PITCH_SCALES",
    "apply_augmentation",
    "augmentation_tag",
    "parse_augmentation",
    "pitch_shift",
    "time_stretch",
]

#: Pitch-shift scales of the paper (frequency ratios): four extra copies per clip.
PITCH_SCALES = (0.75, 0.9, 1.15, 1.5)

_KINDS = ("pitch", "stretch")
_TAG = re.compile(r"^(pitch|stretch)(\d+(?:\.\d+)?)$")


def _check_factor(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ParameterError(f"{name} must be a positive number, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ParameterError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def pitch_shift(y: np.ndarray, sr: int, scale: float) -> np.ndarray:
    """Shift the pitch of ``y`` by the frequency ratio ``scale``, keeping its duration.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono waveform.
    sr : int > 0
        Sampling rate in Hz.
    scale : float > 0
        Frequency ratio: 1.5 moves a 440 Hz tone to 660 Hz. The shift is
        ``12 * log2(scale)`` semitones, done by ``librosa.effects.pitch_shift``.

    Returns
    -------
    y_shifted : np.ndarray, shape (n,), dtype float32

    Examples
    --------
    >>> sr = 8000
    >>> tone = np.sin(2 * np.pi * 440 * np.arange(sr) / sr).astype(np.float32)
    >>> pitch_shift(tone, sr, 1.5).shape
    (8000,)
    """
    scale = _check_factor("scale", scale)
    rate = check_rate(sr)
    n_steps = 12.0 * math.log2(scale)
    shifted = librosa.effects.pitch_shift(np.asarray(y, dtype=np.float32), sr=rate, n_steps=n_steps)
    return fix_length(shifted.astype(np.float32, copy=False), len(y))


def time_stretch(y: np.ndarray, rate: float) -> np.ndarray:
    """Play ``y`` ``rate`` times faster (pitch unchanged), then cut or zero-pad to its length.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono waveform.
    rate : float > 0
        Speed factor of ``librosa.effects.time_stretch``: above 1 the content is shorter and the
        end is padded with zeros; below 1 it is longer and the end is cut.

    Returns
    -------
    y_stretched : np.ndarray, shape (n,), dtype float32

    Examples
    --------
    >>> time_stretch(np.zeros(4096, dtype=np.float32), 1.2).shape
    (4096,)
    """
    rate = _check_factor("rate", rate)
    stretched = librosa.effects.time_stretch(np.asarray(y, dtype=np.float32), rate=rate)
    return fix_length(stretched.astype(np.float32, copy=False), len(y))


def augmentation_tag(kind: str, factor: float) -> str:
    """The tag of an augmentation: ``augmentation_tag("pitch", 0.75) == "pitch0.75"``."""
    if kind not in _KINDS:
        raise ParameterError(f"augmentation kind must be one of {_KINDS}, got {kind!r}")
    factor = _check_factor("scale" if kind == "pitch" else "rate", factor)
    tag = f"{kind}{factor:g}"
    if _TAG.match(tag) is None:
        raise ParameterError(f"{kind} factor {factor!r} has no plain decimal tag; round it")
    return tag


def parse_augmentation(augmentation: str) -> tuple[str, float]:
    """Split a tag into its kind and factor: ``"pitch1.15" -> ("pitch", 1.15)``.

    Raises
    ------
    ValueError
        The tag is not ``pitch<number>`` or ``stretch<number>`` with a positive number.
    """
    match = _TAG.match(augmentation)
    if match is None or float(match.group(2)) <= 0:
        raise ParameterError(
            f"augmentation {augmentation!r} is not 'pitch<scale>' or 'stretch<rate>' "
            "with a positive number"
        )
    return match.group(1), float(match.group(2))


def apply_augmentation(y: np.ndarray, sr: int, augmentation: str) -> np.ndarray:
    """Apply the augmentation named by a tag to an original waveform.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        The original clip.
    sr : int > 0
        Sampling rate in Hz.
    augmentation : str
        ``""`` (no change), ``"pitch<scale>"`` or ``"stretch<rate>"``.

    Returns
    -------
    y_aug : np.ndarray, shape (n,), dtype float32

    Examples
    --------
    >>> y = np.random.default_rng(0).standard_normal(8000).astype(np.float32)
    >>> apply_augmentation(y, 8000, "pitch0.9").shape
    (8000,)
    """
    if not augmentation:
        return np.asarray(y, dtype=np.float32)
    kind, factor = parse_augmentation(augmentation)
    if kind == "pitch":
        return pitch_shift(y, sr, factor)
    return time_stretch(y, factor)
