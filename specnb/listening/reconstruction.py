"""Listening to an attack: from a (perturbed) model image back to a waveform.

A model image is a ``3 x S x S`` rendering of a dB spectrogram (see
:mod:`specnb.representations.images`). To hear what an attack did to it, :func:`image_to_audio`
undoes the rendering with :func:`specnb.representations.images.image_to_raw` (colour map to
[0, 1], [0, 1] to the raw range, resize back to ``(F, T)``), turns the raw representation into
an STFT magnitude and pairs that magnitude with a phase. Every inverse step is the
representation's own (:mod:`specnb.representations.inverse`); this module chooses and
chains them:

- ``"stored"``: the phase of the clean clip's STFT, when the clean clip is at hand. The better
  reconstruction: exact for an unperturbed image up to the 80 dB floor.
- ``"refined"``: Griffin-Lim iterations started from the stored phase. They make the STFT of
  the waveform agree better with the perturbed magnitude, so more of the perturbation is still
  there when the audio is analysed again, at the price of a few dB of SNR.
- ``"griffinlim"``: Griffin-Lim from a seeded random phase, when no clean clip is at hand. The
  magnitude is matched but not the waveform, so its waveform SNR against the clean clip is near
  or below 0 dB even when it sounds right;
  :func:`specnb.listening.black_box.magnitude_snr_db` rates such reconstructions fairly.

Two magnitudes are offered. ``"image"`` reads everything from the image; its ``128 x 128``
pixels blur the ``(F, T)`` spectrogram (513 or 1025 STFT bins share 128 rows), so even a clean
image comes back at only a few dB of SNR. ``"difference"`` keeps the clean clip's
full-resolution spectrogram and applies to it only the change between the image and the clean
clip's own image, so what is heard is the attack and nothing of the resizing.
"""

from __future__ import annotations

from typing import Optional, Union

import numpy as np
import torch

from specnb.errors import ParameterError
from specnb.representations import inverse
from specnb.representations.compute import represent
from specnb.representations.images import normalise, scales_per_row, setting_image
from specnb.representations.inverse import SpectralSetting
from specnb.representations.reference import TOP_DB, check_waveform
from specnb.representations.settings import MFCCSetting, Setting

__all__ = ["MAGNITUDES", "PEAK", "PHASES", "image_to_audio"]

#: Where the magnitude comes from: the clean clip changed by the image's difference from the
#: clean clip's own image, or the image alone.
MAGNITUDES = ("difference", "image")

#: Where the phase comes from: the clean clip's STFT, Griffin-Lim started from it, or
#: Griffin-Lim from a random phase.
PHASES = ("stored", "refined", "griffinlim")

#: Peak sample magnitude of a reconstruction made without ``reference_audio`` (STFT and Mel
#: images keep no absolute level).
PEAK = 0.5

ArrayLike = Union[np.ndarray, torch.Tensor]


def image_to_audio(
    image: ArrayLike,
    setting: Setting,
    *,
    reference_audio: Optional[np.ndarray] = None,
    value_range: Optional[ArrayLike] = None,
    n_iter: int = 32,
    magnitude: Optional[str] = None,
    phase: Optional[str] = None,
    length: Optional[int] = None,
) -> np.ndarray:
    """Turn a (possibly adversarial) STFT, Mel or MFCC model image back into a waveform.

    Parameters
    ----------
    image : np.ndarray or torch.Tensor, shape (3, S, S)
        RGB model image in [0, 1], rendered with ``setting.colormap`` (row 0 the highest
        frequency), e.g. an attack's output.
    setting : STFTSetting, MelSetting or MFCCSetting
        The setting the image was made with.
    reference_audio : np.ndarray, shape (n_samples,), optional
        The clean clip at ``setting.sr`` Hz. It supplies what the image normalisation removed
        (the raw range, the clip's level), the stored phase, the full-resolution spectrogram
        of ``magnitude="difference"`` and the output length.
    value_range : array-like, shape (2,), or (n_mfcc, 2) for ``per_coefficient``, optional
        ``(min, max)`` of the raw representation behind the image (dB; coefficients for MFCC;
        of each coefficient for an MFCC setting with ``per_coefficient=True``), as
        :func:`specnb.representations.images.normalise` returns it. Given, it overrides the
        range of ``reference_audio``; absent with no reference, STFT and Mel assume
        ``(-80, 0)`` (their dB are relative to the clip's maximum with an 80 dB floor) and MFCC
        raises.
    n_iter : int
        Griffin-Lim iterations (``phase="refined"`` or ``"griffinlim"``).
    magnitude : {"difference", "image"}, optional
        ``"difference"``: the clean clip's spectrogram changed by ``image`` minus the clean
        clip's image (needs ``reference_audio``); ``"image"``: from the image alone. Default:
        ``"difference"`` with ``reference_audio``, else ``"image"``.
    phase : {"stored", "refined", "griffinlim"}, optional
        ``"stored"``: the phase of the clean clip's STFT; ``"refined"``: ``n_iter`` Griffin-Lim
        iterations started from it (both need ``reference_audio``); ``"griffinlim"``:
        :func:`librosa.griffinlim` from a seeded random phase. Default: ``"stored"`` with
        ``reference_audio``, else ``"griffinlim"``.
    length : int, optional
        Samples of the output; defaults to the length of ``reference_audio`` and is required
        without it.

    Returns
    -------
    np.ndarray, float32, shape (length,)
        Waveform at ``setting.sr`` Hz. Without ``reference_audio``, STFT and Mel
        reconstructions are scaled to a peak of :data:`PEAK`; MFCC keeps its absolute level.

    Raises
    ------
    ValueError
        A wavelet ``setting`` (no inverse), an ``image`` that is not ``(3, S, S)`` in [0, 1]
        or holds NaN, a bad ``value_range``, ``n_iter``, ``length``, ``magnitude`` or
        ``phase``, or a choice that needs ``reference_audio`` without it; each message names
        the parameter.
    TypeError
        If ``setting`` is not a representation setting.

    Notes
    -----
    The inverse steps are those of :mod:`specnb.representations.inverse`: dB become levels
    as the front end made them (:func:`~specnb.representations.inverse.undo_db`, STFT
    amplitude with ``ref`` the clean clip's largest STFT magnitude, Mel power with ``ref`` its
    largest Mel power), Mel power becomes an STFT magnitude by non-negative least squares on
    the front end's filters (:func:`~specnb.representations.inverse.mel_to_stft`), MFCCs
    become Mel dB relative to power 1 through the pseudo-inverse of the front end's liftered
    DCT (:func:`~specnb.representations.inverse.mfcc_to_mel_db`). With
    ``magnitude="difference"`` the change is applied as a gain to the clean STFT magnitude
    (floored 80 dB below its maximum); a Mel or MFCC change reaches each STFT bin as the
    filter-weighted mean of the Mel bands' dB changes
    (:func:`~specnb.representations.inverse.db_change_per_bin`), and changes beyond +-80 dB
    are clipped (the 80 dB floor makes them look alike to the model).

    Measured SNR against the clean clip, for the image of that clean clip (ten synthetic and
    seven ESC-10 clips at 8 kHz, ``n_fft=512``, gray and viridis alike): difference magnitude
    with the stored phase 61 dB or more; image magnitude with the stored phase 7.4 to 15 dB for
    STFT, 7.6 to 16 dB for Mel (64 bands), 2.8 to 12.5 dB for MFCC (20 coefficients);
    Griffin-Lim on the image magnitude -3 to 0 dB on the waveform but 1.6 to 11 dB on STFT
    magnitudes (:func:`specnb.listening.black_box.magnitude_snr_db`).

    MFCC keeps only the spectral envelope (``n_mfcc`` of ``n_mels`` coefficients): with
    ``magnitude="image"`` the harmonics are lost and the sound is a noisy envelope; with
    ``"difference"`` the clean clip's fine structure is kept. ``"hsv-uniform"`` images invert
    only to ranks (:func:`specnb.representations.images.image_to_raw`), qualitative colour maps
    to 256 levels at best.

    Examples
    --------
    >>> from specnb.representations.features import clip_image
    >>> from specnb.representations import make_setting
    >>> from specnb.metrics import snr_db
    >>> setting = make_setting("stft", sr=8000, n_fft=512)
    >>> y = np.sin(2 * np.pi * 440 * np.arange(8000) / 8000).astype(np.float32)
    >>> back = image_to_audio(clip_image(y, setting), setting, reference_audio=y)
    >>> back.shape, snr_db(y, back) > 40
    ((8000,), True)
    """
    setting = inverse.check_spectral(setting)
    picture = _check_image(image)
    reference = None
    if reference_audio is not None:
        reference = check_waveform(np.asarray(reference_audio), name="reference_audio")
    n_samples = _check_length(length, reference)
    magnitude = _choose("magnitude", magnitude, MAGNITUDES, reference is not None)
    phase = _choose("phase", phase, PHASES, reference is not None)
    if isinstance(n_iter, bool) or not isinstance(n_iter, int) or n_iter < 1:
        raise ParameterError(f"n_iter must be a positive integer, got {n_iter!r}")
    spectrum = None
    raw_ref = None
    if reference is not None:
        spectrum = inverse.spectrum(reference, setting)
        raw_ref = represent(reference, setting)
        if value_range is None:
            value_range = normalise(raw_ref, per_row=scales_per_row(setting))[1]
    raw = inverse.from_image(picture, setting, n_samples, value_range)

    if magnitude == "difference":
        assert spectrum is not None and raw_ref is not None
        clean_image = setting_image(raw_ref, setting, size=picture.shape[-1])
        change = raw - inverse.from_image(clean_image, setting, n_samples, value_range)
        amplitude = _changed_magnitude(np.abs(spectrum), change, setting)
    else:
        amplitude = inverse.raw_to_magnitude(raw, setting, spectrum)

    if phase in ("stored", "refined"):
        assert spectrum is not None
        rounds = n_iter if phase == "refined" else 0
        angle = np.angle(spectrum)
        audio = inverse.magnitude_to_audio(
            amplitude, setting, n_samples, angle=angle, n_iter=rounds
        )
    else:
        audio = inverse.magnitude_to_audio(amplitude, setting, n_samples, n_iter=n_iter)
    if reference is None and not isinstance(setting, MFCCSetting):
        peak = float(np.max(np.abs(audio)))
        audio = audio * (PEAK / peak) if peak > 0 else audio
    return np.asarray(audio, dtype=np.float32)


def _check_image(image: ArrayLike) -> torch.Tensor:
    if isinstance(image, np.ndarray):
        image = torch.from_numpy(image)
    if not isinstance(image, torch.Tensor):
        kind = type(image).__name__
        raise TypeError(f"image must be a numpy array or a torch tensor, got {kind}")
    picture = image.detach().to("cpu", torch.float32)
    if picture.ndim != 3 or picture.shape[0] != 3 or picture.shape[1] != picture.shape[2]:
        raise ParameterError(
            f"image must be one RGB image of shape (3, S, S), got shape {tuple(picture.shape)}"
        )
    if picture.shape[1] < 2:
        raise ParameterError(
            f"image must be at least 2 x 2 pixels, got shape {tuple(picture.shape)}"
        )
    if not bool(torch.isfinite(picture).all()):
        raise ParameterError("image holds NaN or infinite values")
    if float(picture.min()) < -1e-3 or float(picture.max()) > 1 + 1e-3:
        raise ParameterError(
            f"image must lie in [0, 1], got values in [{float(picture.min()):.3g}, "
            f"{float(picture.max()):.3g}]"
        )
    return picture


def _check_length(length: Optional[int], reference: Optional[np.ndarray]) -> int:
    if length is None:
        if reference is None:
            raise ParameterError("length is required when no reference_audio is given")
        return len(reference)
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1:
        raise ParameterError(f"length must be a positive integer number of samples, got {length!r}")
    if reference is not None and int(length) != len(reference):
        raise ParameterError(
            f"length={length} differs from the {len(reference)} samples of reference_audio"
        )
    return int(length)


def _choose(name: str, value: Optional[str], options: tuple[str, ...], has_reference: bool) -> str:
    """Check a choice of :data:`MAGNITUDES` or :data:`PHASES`: all but the last need the clip."""
    if value is None:
        return options[0] if has_reference else options[-1]
    if value not in options:
        raise ParameterError(f"{name} must be one of {options}, got {value!r}")
    if value != options[-1] and not has_reference:
        raise ParameterError(f"{name}={value!r} needs reference_audio (the clean clip)")
    return value


def _changed_magnitude(
    base: np.ndarray, change: np.ndarray, setting: SpectralSetting
) -> np.ndarray:
    """The clean STFT magnitude ``base`` with a raw-domain ``change`` applied as a gain.

    Changes beyond +-80 dB are clipped: the representation's 80 dB floor makes them look alike
    to the model (only an MFCC change, through the DCT's pseudo-inverse, can reach them).
    """
    floor = float(base.max()) * 10.0 ** (-TOP_DB / 20.0)
    base = np.maximum(base, floor)
    db = inverse.db_change_per_bin(change, setting)
    return base * np.power(10.0, np.clip(db, -TOP_DB, TOP_DB) / 20.0)
