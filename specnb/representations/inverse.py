"""The way back: from a model image or a raw representation to an STFT magnitude, and from a
magnitude to audio.

Each step undoes one step of the forward path with the forward path's own pieces: the dB scale
of :func:`specnb.representations.reference.reference` (amplitude for STFT and scalogram, power
for Mel and MFCC, 0 dB at ``ref``), the Mel filters and the liftered DCT of
:mod:`specnb.representations.torch_backend` (:func:`mel_filters`, :func:`mfcc_matrix`) and the
STFT framing of the setting. The image's own inverse (colour map, flip, resize, range) is
:func:`specnb.representations.images.image_to_raw`, beside :func:`to_image`.

- model image -> raw representation: :func:`from_image` (the image's inverse, with the
  setting's colour map, shape and dB range);
- dB -> level: :func:`undo_db` (exact above the 80 dB floor, given the clip's ``ref``);
- Mel power -> STFT magnitude: :func:`mel_to_stft` (non-negative least squares: the Mel
  power of its result matches, the STFT bins inside a band are not recoverable);
- MFCC -> Mel dB: :func:`mfcc_to_mel_db` (the liftered DCT's pseudo-inverse: exact when
  ``n_mfcc == n_mels``, otherwise the smoothest Mel dB with those coefficients);
- a raw representation -> STFT magnitude: :func:`raw_to_magnitude`, the three above chained;
- a change of a raw representation -> dB change of each STFT bin: :func:`db_change_per_bin`;
- STFT magnitude -> waveform: :func:`magnitude_to_audio` (a known phase, Griffin-Lim from it,
  or Griffin-Lim from a seeded random phase).

The wavelet scalogram comes back as far as its frame means of ``|W|`` (:func:`undo_db`): the
framing averages the transform's phase and its detail within a frame away, so it has no
waveform inverse.
"""

from __future__ import annotations

from typing import Optional, Union

import librosa
import numpy as np
import torch

from specnb.errors import ParameterError
from specnb.representations.images import image_to_raw, scales_per_row
from specnb.representations.reference import TOP_DB, check_setting
from specnb.representations.settings import (
    MelSetting,
    MFCCSetting,
    Setting,
    STFTSetting,
    WaveletSetting,
)
from specnb.representations.torch_backend import mel_filters, mfcc_matrix

__all__ = [
    "GRIFFINLIM_SEED",
    "MEL_DB_CEILING",
    "SpectralSetting",
    "check_spectral",
    "db_change_per_bin",
    "framing",
    "from_image",
    "magnitude_to_audio",
    "mel_to_stft",
    "mfcc_to_mel_db",
    "raw_shape",
    "raw_to_magnitude",
    "spectrum",
    "undo_db",
]

#: The settings whose representation comes from an STFT, and so back to one.
SpectralSetting = Union[STFTSetting, MelSetting, MFCCSetting]

#: Seed of Griffin-Lim's random initial phase, so that reconstructions are repeatable.
GRIFFINLIM_SEED = 0

#: Highest Mel power, in dB re 1, read from MFCCs: a full-scale square wave reaches about
#: 50 dB with a 4096-point FFT. Keeps the inverse of absurd coefficients finite.
MEL_DB_CEILING = 100.0


def check_spectral(setting: object) -> SpectralSetting:
    """Return ``setting`` if its representation comes from an STFT (STFT, Mel, MFCC).

    Raises
    ------
    TypeError
        If ``setting`` is not a representation setting.
    ValueError
        For a wavelet setting (the message names ``setting``).
    """
    setting = check_setting(setting)
    if not isinstance(setting, (STFTSetting, MelSetting, MFCCSetting)):
        raise ParameterError(
            f"setting: {setting.kind} representations have no STFT to return to (the framed "
            f"scalogram keeps only frame means of |W|); use an STFT, Mel or MFCC setting"
        )
    return setting


def framing(setting: SpectralSetting) -> tuple[int, int, int]:
    """``(n_fft, win_length, hop_length)`` of the STFT behind an STFT, Mel or MFCC setting.

    Examples
    --------
    >>> from specnb.representations import make_setting
    >>> framing(make_setting("mfcc", sr=8000, n_fft=512, hop_length=256))
    (512, 512, 256)
    """
    setting = check_spectral(setting)
    if isinstance(setting, MFCCSetting):
        return setting.n_fft, setting.n_fft, setting.hop_length
    return setting.n_fft, setting.win, setting.hop


def raw_shape(setting: SpectralSetting, n_samples: int) -> tuple[int, int]:
    """``(n_rows, n_frames)`` of the representation of a clip of ``n_samples`` samples.

    Examples
    --------
    >>> from specnb.representations import make_setting
    >>> raw_shape(make_setting("stft", sr=8000, n_fft=512), 8000)
    (257, 63)
    """
    n_fft, _, hop = framing(setting)
    n_frames = 1 + (n_samples + 2 * (n_fft // 2) - n_fft) // hop
    if isinstance(setting, STFTSetting):
        return n_fft // 2 + 1, n_frames
    if isinstance(setting, MelSetting):
        return setting.n_mels, n_frames
    return setting.n_mfcc, n_frames


def spectrum(y: np.ndarray, setting: SpectralSetting) -> np.ndarray:
    """The complex STFT of a clip with the setting's framing (librosa's, as the forward path).

    Returns
    -------
    np.ndarray, complex64, shape (n_fft // 2 + 1, n_frames)
    """
    n_fft, win, hop = framing(setting)
    return librosa.stft(
        np.asarray(y, dtype=np.float32), n_fft=n_fft, hop_length=hop, win_length=win
    )


def from_image(
    image: Union[np.ndarray, torch.Tensor],
    setting: SpectralSetting,
    n_samples: int,
    value_range: Union[np.ndarray, torch.Tensor, tuple[float, float], None] = None,
) -> np.ndarray:
    """The raw representation behind a model image of a clip of ``n_samples`` samples.

    :func:`specnb.representations.images.image_to_raw` with the setting's colour map and row
    scaling and the representation's shape (:func:`raw_shape`).

    Parameters
    ----------
    image : np.ndarray or torch.Tensor, shape (3, S, S)
        RGB model image in [0, 1].
    setting : STFTSetting, MelSetting or MFCCSetting
    n_samples : int
        Length of the clip the image stands for.
    value_range : array-like, shape (2,), or (n_mfcc, 2) for ``per_coefficient``, optional
        ``(min, max)`` of the raw representation, of each coefficient for an MFCC setting with
        ``per_coefficient=True`` (:func:`~specnb.representations.images.normalise`). Default
        for STFT and Mel ``(-80, 0)``: their dB are relative to the clip's maximum with an
        80 dB floor. MFCC coefficients have no fixed range: they need it.

    Returns
    -------
    np.ndarray, float32, shape (n_rows, n_frames)

    Raises
    ------
    ValueError
        A ``value_range`` of the wrong shape or not finite ``(min, max)`` pairs, or none for
        MFCC.
    """
    setting = check_spectral(setting)
    if value_range is None:
        if isinstance(setting, MFCCSetting):
            raise ParameterError(
                "value_range (or reference_audio) is needed for MFCC images: their coefficient "
                "range is not fixed"
            )
        value_range = (-TOP_DB, 0.0)
    shape = raw_shape(setting, n_samples)
    per_row = scales_per_row(setting)
    return image_to_raw(image, setting.colormap, value_range, shape, per_row=per_row)


def undo_db(db: np.ndarray, setting: Setting, ref: float = 1.0) -> np.ndarray:
    """Undo the dB scale of a representation: amplitude for STFT and scalogram, power for Mel
    and for the Mel dB behind MFCCs.

    Parameters
    ----------
    db : np.ndarray, shape (n_rows, n_frames)
        dB values; for STFT, Mel and scalogram relative to the clip's maximum (the forward
        path's ``ref=np.max``), for the Mel dB of MFCCs relative to power 1.
    setting : Setting
        The representation's setting; it chooses the scale (20 or 10 dB per decade).
    ref : float > 0
        The level of 0 dB: the clip's largest STFT magnitude, Mel power or scalogram frame
        mean, when known; 1 otherwise.

    Returns
    -------
    np.ndarray, float64, same shape
        ``ref * 10 ** (db / 20)`` (amplitude) or ``ref * 10 ** (db / 10)`` (power); exact
        above the 80 dB floor and above librosa's ``amin`` (amplitude 1e-5, power 1e-10),
        where the forward path raised every lower cell to the floor.

    Examples
    --------
    >>> from specnb.representations import make_setting
    >>> undo_db(np.array([[0.0, -20.0]]), make_setting("stft"), ref=2.0).tolist()
    [[2.0, 0.2]]
    >>> undo_db(np.array([[0.0, -20.0]]), make_setting("mel"), ref=2.0).tolist()
    [[2.0, 0.02]]
    """
    setting = check_setting(setting)
    if not ref > 0:
        raise ParameterError(f"ref must be a positive level, got {ref!r}")
    values = np.asarray(db, dtype=np.float64)
    if isinstance(setting, (STFTSetting, WaveletSetting)):
        return librosa.db_to_amplitude(values, ref=ref)
    return librosa.db_to_power(values, ref=ref)


def mel_to_stft(power: np.ndarray, setting: Union[MelSetting, MFCCSetting]) -> np.ndarray:
    """STFT magnitude whose Mel power is ``power``, by non-negative least squares.

    Solved with :func:`librosa.util.nnls` on the forward path's filters
    (:func:`~specnb.representations.torch_backend.mel_filters`) for powers scaled to a peak of
    1, which converge fast whatever the clip's level.

    Parameters
    ----------
    power : np.ndarray, shape (n_mels, n_frames)
        Mel power, non-negative.
    setting : MelSetting or MFCCSetting

    Returns
    -------
    np.ndarray, float32, shape (n_fft // 2 + 1, n_frames)
        A magnitude ``S >= 0`` with ``mel_filters(setting) @ S ** 2`` close to ``power``.
    """
    setting = check_spectral(setting)
    if isinstance(setting, STFTSetting):
        raise ParameterError("setting: mel_to_stft needs a Mel or MFCC setting, got STFT")
    scale = max(float(np.max(power)), 1e-30)
    unit = (np.asarray(power, dtype=np.float64) / scale).astype(np.float32)
    solution = librosa.util.nnls(mel_filters(setting), unit)
    return np.sqrt(solution, out=solution) * np.float32(np.sqrt(scale))


def mfcc_to_mel_db(coefficients: np.ndarray, setting: MFCCSetting) -> np.ndarray:
    """Mel dB (re power 1) with the given MFCCs: the pseudo-inverse of the liftered DCT
    (:func:`~specnb.representations.torch_backend.mfcc_matrix`).

    Returns
    -------
    np.ndarray, float64, shape (n_mels, n_frames)
        Exactly the Mel dB the coefficients came from when ``n_mfcc == n_mels``; otherwise the
        Mel dB of least norm among those with these coefficients.
    """
    if not isinstance(check_setting(setting), MFCCSetting):
        raise ParameterError(f"setting: mfcc_to_mel_db needs an MFCC setting, got {setting.kind}")
    forward = mfcc_matrix(setting).double().numpy()
    return np.linalg.pinv(forward) @ np.asarray(coefficients, dtype=np.float64)


def _mel_db(raw: np.ndarray, setting: Union[MelSetting, MFCCSetting]) -> np.ndarray:
    return mfcc_to_mel_db(raw, setting) if isinstance(setting, MFCCSetting) else raw


def raw_to_magnitude(
    raw: np.ndarray, setting: SpectralSetting, reference: Optional[np.ndarray] = None
) -> np.ndarray:
    """The STFT magnitude behind a raw STFT, Mel or MFCC representation.

    Parameters
    ----------
    raw : np.ndarray, shape (n_rows, n_frames)
        dB (STFT, Mel) or coefficients (MFCC), as the forward path makes them.
    setting : STFTSetting, MelSetting or MFCCSetting
    reference : np.ndarray, complex, shape (n_fft // 2 + 1, n_frames), optional
        The STFT (:func:`spectrum`) of the clip the representation was made from: it gives
        the level of 0 dB that STFT and Mel representations leave out. Without it 0 dB is
        level 1. MFCCs keep their absolute level and do not need it; their Mel dB are clipped
        to the 80 dB below their top (at most :data:`MEL_DB_CEILING`).

    Returns
    -------
    np.ndarray, float32 or float64, shape (n_fft // 2 + 1, n_frames)
        STFT: exact above the 80 dB floor given ``reference``; Mel, MFCC: the least-squares
        magnitude of :func:`mel_to_stft`.
    """
    setting = check_spectral(setting)
    level = None if reference is None else np.abs(reference)
    if isinstance(setting, STFTSetting):
        return undo_db(raw, setting, 1.0 if level is None else float(level.max()))
    if isinstance(setting, MelSetting):
        ref = 1.0 if level is None else float((mel_filters(setting) @ level**2).max())
        return mel_to_stft(undo_db(raw, setting, ref), setting)
    mel_db = mfcc_to_mel_db(raw, setting)
    top = min(float(mel_db.max()), MEL_DB_CEILING)
    return mel_to_stft(undo_db(np.clip(mel_db, top - TOP_DB, top), setting), setting)


def db_change_per_bin(change: np.ndarray, setting: SpectralSetting) -> np.ndarray:
    """The dB change of each STFT bin that a change of a raw representation stands for.

    STFT: the change itself. Mel: each bin takes the filter-weighted mean of the dB changes of
    the Mel bands it feeds (0 for a bin no filter covers). MFCC: the same, of the Mel dB change
    given by :func:`mfcc_to_mel_db`.

    Parameters
    ----------
    change : np.ndarray, shape (n_rows, n_frames)
        Raw representation minus another of the same clip and setting (dB; coefficients).

    Returns
    -------
    np.ndarray, float64, shape (n_fft // 2 + 1, n_frames)
    """
    setting = check_spectral(setting)
    if isinstance(setting, STFTSetting):
        return np.asarray(change, dtype=np.float64)
    filters = mel_filters(setting).astype(np.float64)
    weight = filters.sum(axis=0)[:, None]
    spread = filters.T @ _mel_db(np.asarray(change, dtype=np.float64), setting)
    return np.divide(spread, weight, out=np.zeros_like(spread), where=weight > 0)


def magnitude_to_audio(
    magnitude: np.ndarray,
    setting: SpectralSetting,
    length: int,
    *,
    angle: Optional[np.ndarray] = None,
    n_iter: int = 0,
) -> np.ndarray:
    """A waveform with STFT magnitude ``magnitude`` (the inverse STFT of the setting's framing).

    Parameters
    ----------
    magnitude : np.ndarray, shape (n_fft // 2 + 1, n_frames)
    setting : STFTSetting, MelSetting or MFCCSetting
    length : int
        Samples of the waveform.
    angle : np.ndarray, shape of ``magnitude``, optional
        A phase (radians) to start from, e.g. the clean clip's; then ``n_iter`` Griffin-Lim
        rounds refine it (0: the inverse STFT of ``magnitude`` with that phase). Without it,
        :func:`librosa.griffinlim` from a random phase seeded with :data:`GRIFFINLIM_SEED`.
    n_iter : int >= 0
        Griffin-Lim rounds (at least 1 without ``angle``).

    Returns
    -------
    np.ndarray, float32 or float64, shape (length,)

    Examples
    --------
    >>> from specnb.representations import make_setting
    >>> setting = make_setting("stft", sr=8000, n_fft=512)
    >>> y = np.sin(np.arange(4000) * 0.3).astype(np.float32)
    >>> s = spectrum(y, setting)
    >>> back = magnitude_to_audio(np.abs(s), setting, len(y), angle=np.angle(s))
    >>> bool(np.abs(back - y).max() < 1e-4)
    True
    """
    n_fft, win, hop = framing(setting)
    if angle is None:
        return librosa.griffinlim(
            magnitude,
            n_iter=n_iter,
            hop_length=hop,
            win_length=win,
            n_fft=n_fft,
            length=length,
            random_state=GRIFFINLIM_SEED,
        )
    phasor = np.exp(1j * angle)
    for _ in range(n_iter):
        wave = librosa.istft(
            magnitude * phasor, hop_length=hop, win_length=win, n_fft=n_fft, length=length
        )
        again = librosa.stft(wave, n_fft=n_fft, hop_length=hop, win_length=win)
        phasor = np.exp(1j * np.angle(again))
    return librosa.istft(
        magnitude * phasor, hop_length=hop, win_length=win, n_fft=n_fft, length=length
    )
