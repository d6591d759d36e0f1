"""The paper's grid of representation settings (§4.1, §5.4), as data.

Each representation has a table of axes; a grid point is one value per axis, and
:data:`_RESOLVE` turns it into setting fields (some fields are relative to others, such as
the lifter ``L = d * n_mfcc`` or the window ``scale * n_fft``). Points that resolve to the same
setting are kept once.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable

from specnb.representations.settings import SETTING_TYPES, Setting, SettingError, make_setting

__all__ = ["PAPER_AXES", "PAPER_DEFAULTS", "all_paper_settings", "default_setting", "paper_grid"]

#: Axes of the paper's grid per representation.
PAPER_AXES: dict[str, dict[str, tuple[Any, ...]]] = {
    "mfcc": {
        "sr": (8000, 16000, 22050, 24000),
        "n_mfcc": (13, 20, 40),
        "dct_norm": ("ortho", "none"),
        "lifter_scale": (0.0, 0.5, 1.0, 1.5, 2.0, 2.5),
    },
    "stft": {
        "n_fft": (512, 1024, 2048),
        "window_scale": (0.25, 0.5, 0.75, 1.0),
        "hop": ("quarter", 512),
    },
    "mel": {
        "n_fft": (512, 1024, 2048),
        "window_scale": (0.2, 0.4, 0.6, 0.8, 1.0),
    },
    "wavelet": {
        "wavelet": ("haar", "mexh", "cmor1.5-1.0"),
        "sr": (8000, 16000),
        "frame_ms": (30.0, 40.0, 50.0, 60.0, 70.0),
    },
}

#: The paper's default point of each grid (librosa's defaults; 50 ms Morlet frames at 8 kHz).
PAPER_DEFAULTS: dict[str, dict[str, Any]] = {
    "mfcc": {"sr": 22050, "n_mfcc": 20, "dct_norm": "ortho", "lifter_scale": 0.0},
    "stft": {"n_fft": 2048, "window_scale": 1.0, "hop": "quarter"},
    "mel": {"n_fft": 2048, "window_scale": 1.0},
    "wavelet": {"wavelet": "cmor1.5-1.0", "sr": 8000, "frame_ms": 50.0},
}


def _mfcc(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "sr": p["sr"],
        "n_mfcc": p["n_mfcc"],
        "dct_norm": p["dct_norm"],
        "lifter": p["lifter_scale"] * p["n_mfcc"],
        "hop_length": 1024,
    }


def _stft(p: dict[str, Any]) -> dict[str, Any]:
    hop = p["n_fft"] // 4 if p["hop"] == "quarter" else p["hop"]
    return {
        "n_fft": p["n_fft"],
        "win_length": int(round(p["window_scale"] * p["n_fft"])),
        "hop_length": hop,
    }


def _mel(p: dict[str, Any]) -> dict[str, Any]:
    # librosa's melspectrogram hop (512), which the paper keeps from §4.1.2.
    return {
        "n_fft": p["n_fft"],
        "win_length": int(round(p["window_scale"] * p["n_fft"])),
        "hop_length": 512,
    }


def _wavelet(p: dict[str, Any]) -> dict[str, Any]:
    return {**p, "overlap": 0.5}


_RESOLVE: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "mfcc": _mfcc,
    "stft": _stft,
    "mel": _mel,
    "wavelet": _wavelet,
}


def _check_repr(repr: str) -> None:
    if repr not in PAPER_AXES:
        raise SettingError(
            f"repr={repr!r} is not a representation; choose one of {sorted(SETTING_TYPES)}"
        )


def paper_grid(repr: str) -> list[Setting]:
    """Every setting of the paper's grid for one representation, without duplicates.

    Parameters
    ----------
    repr : {"mfcc", "stft", "mel", "wavelet"}

    Returns
    -------
    list of Setting
        MFCC: 144 (sr x n_mfcc x DCT norm x lifter ``d * n_mfcc``, hop 1024); STFT: 20
        (n_fft x window scale 0.25-1 x hop ``n_fft / 4`` or 512, the two hops coincide at
        n_fft 2048); Mel: 15 (n_fft x window scale 0.2-1, hop 512); wavelet: 30 (mother
        wavelet x sr x frame 30-70 ms, 50 % overlap).

    Examples
    --------
    >>> len(paper_grid("stft"))
    20
    """
    _check_repr(repr)
    names = list(PAPER_AXES[repr])
    settings: dict[Setting, None] = {}
    for values in itertools.product(*PAPER_AXES[repr].values()):
        settings[make_setting(repr, **_RESOLVE[repr](dict(zip(names, values))))] = None
    return list(settings)


def default_setting(repr: str) -> Setting:
    """The paper's default setting of ``repr`` (a member of :func:`paper_grid`).

    Examples
    --------
    >>> default_setting("mfcc").n_mfcc
    20
    """
    _check_repr(repr)
    return make_setting(repr, **_RESOLVE[repr](PAPER_DEFAULTS[repr]))


def all_paper_settings() -> list[Setting]:
    """The grids of every representation, MFCC then STFT, Mel and wavelet."""
    return [s for repr in PAPER_AXES for s in paper_grid(repr)]
