"""Reference representations computed with librosa (and PyWavelets for the scalogram).

These functions define the numbers every other path must reproduce: one clip in, one 2D array
out, in the representation's natural units (dB for STFT, Mel and scalogram; cepstral
coefficients for MFCC).
"""

from __future__ import annotations

import librosa
import numpy as np

from specnb.errors import ParameterError
from specnb.representations.settings import (
    MelSetting,
    MFCCSetting,
    Setting,
    STFTSetting,
    WaveletSetting,
)

__all__ = ["TOP_DB", "check_setting", "check_waveform", "reference"]

#: Dynamic range kept by every dB representation: cells more than this many dB below the
#: clip's maximum are raised to that floor (librosa's ``top_db``).
TOP_DB = 80.0


def check_setting(setting: object) -> Setting:
    """Return ``setting`` if it is a representation setting, else raise :class:`TypeError`."""
    if not isinstance(setting, (MFCCSetting, STFTSetting, MelSetting, WaveletSetting)):
        raise TypeError(
            f"setting must be an MFCCSetting, STFTSetting, MelSetting or WaveletSetting, "
            f"got {type(setting).__name__}"
        )
    return setting


def check_waveform(y: np.ndarray, name: str = "y", ndims: tuple[int, ...] = (1,)) -> np.ndarray:
    """Validate a waveform array and return it as contiguous float32.

    Parameters
    ----------
    y : np.ndarray
        Waveform samples, floating point.
    name : str
        Parameter name used in error messages.
    ndims : tuple of int
        Accepted numbers of dimensions.

    Returns
    -------
    np.ndarray, float32
        ``y`` as a contiguous float32 array of the same shape.

    Raises
    ------
    TypeError
        If ``y`` is not a floating-point array.
    ValueError
        If ``y`` has the wrong number of dimensions, no samples, or a NaN or infinite sample.
    """
    if not isinstance(y, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(y).__name__}")
    if not np.issubdtype(y.dtype, np.floating):
        raise TypeError(
            f"{name} must hold floating-point samples (integer PCM must be scaled first), "
            f"got dtype {y.dtype}"
        )
    if y.ndim not in ndims:
        shapes = " or ".join({1: "(n_samples,)", 2: "(batch, n_samples)"}[d] for d in ndims)
        raise ParameterError(f"{name} must have shape {shapes}, got shape {y.shape}")
    if y.shape[-1] == 0 or y.size == 0:
        raise ParameterError(f"{name} is empty (shape {y.shape}); a clip needs at least one sample")
    y = np.ascontiguousarray(y, dtype=np.float32)
    if not np.isfinite(y).all():
        bad = int(np.size(y) - np.count_nonzero(np.isfinite(y)))
        raise ParameterError(f"{name} holds {bad} NaN or infinite sample(s)")
    return y


def reference(y: np.ndarray, setting: Setting) -> np.ndarray:
    """Compute the 2D representation of one clip with librosa (or PyWavelets).

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Mono waveform already at ``setting.sr``.
    setting : MFCCSetting, STFTSetting, MelSetting or WaveletSetting
        What to compute:

        - MFCC: ``librosa.feature.mfcc(y=y, sr=sr, n_mfcc=n_mfcc, dct_type=2,
          norm="ortho" or None, lifter=lifter, n_fft=n_fft, hop_length=hop_length,
          n_mels=n_mels)``;
        - STFT: ``amplitude_to_db(|stft(y, n_fft, hop, win)|, ref=np.max, top_db=80)``;
        - Mel: ``power_to_db(melspectrogram(y, sr, n_fft, hop, win, n_mels), ref=np.max,
          top_db=80)``;
        - wavelet: :func:`specnb.representations.wavelets.scalogram_reference`.

    Returns
    -------
    np.ndarray, float32, shape (n_rows, n_frames)
        Rows are MFCC coefficients, STFT bins (``n_fft // 2 + 1``), Mel bands or wavelet
        scales; frames are centred on ``t * hop`` samples (``1 + n_samples // hop`` of them for
        an even ``n_fft``).

    Notes
    -----
    Frames are centred and the clip is zero-padded by ``n_fft // 2`` on both sides, so a clip
    shorter than ``n_fft`` still gives at least one frame (librosa warns that ``n_fft`` is too
    large for it). A silent clip gives an all-zero dB representation (its maximum is the
    reference).

    Examples
    --------
    >>> import numpy as np
    >>> from specnb.representations import STFTSetting
    >>> y = np.sin(2 * np.pi * 440 * np.arange(22050) / 22050).astype(np.float32)
    >>> reference(y, STFTSetting(n_fft=1024)).shape
    (513, 87)
    """
    setting = check_setting(setting)
    y = check_waveform(y)
    if isinstance(setting, MFCCSetting):
        out = librosa.feature.mfcc(
            y=y,
            sr=setting.sr,
            n_mfcc=setting.n_mfcc,
            dct_type=2,
            norm="ortho" if setting.dct_norm == "ortho" else None,
            lifter=setting.lifter,
            n_fft=setting.n_fft,
            hop_length=setting.hop_length,
            n_mels=setting.n_mels,
        )
    elif isinstance(setting, STFTSetting):
        spectrum = librosa.stft(
            y, n_fft=setting.n_fft, hop_length=setting.hop, win_length=setting.win
        )
        out = librosa.amplitude_to_db(np.abs(spectrum), ref=np.max, top_db=TOP_DB)
    elif isinstance(setting, MelSetting):
        power = librosa.feature.melspectrogram(
            y=y,
            sr=setting.sr,
            n_fft=setting.n_fft,
            hop_length=setting.hop,
            win_length=setting.win,
            n_mels=setting.n_mels,
        )
        out = librosa.power_to_db(power, ref=np.max, top_db=TOP_DB)
    else:
        from specnb.representations import wavelets

        out = wavelets.scalogram_reference(y, setting)
    return np.asarray(out, dtype=np.float32)
