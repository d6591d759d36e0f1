"""Reading audio files into mono float32 waveforms at a chosen sampling rate."""

from __future__ import annotations

import warnings
from os import PathLike
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

from specnb.errors import AudioError, ParameterError

__all__ = [
    "AudioError",
    "MAX_SECONDS",
    "SILENCE_PEAK",
    "SilentClipWarning",
    "TruncatedAudioWarning",
    "check_rate",
    "fix_length",
    "load_audio",
]

#: A clip whose largest absolute sample is at most this value (-120 dBFS) counts as silent.
SILENCE_PEAK = 1e-6

#: Longest file :func:`load_audio` decodes whole, in seconds; longer ones are refused.
MAX_SECONDS = 600.0

#: Seconds read past a clip's end so that resampling gives the samples of the whole file.
#: Measured: 2048 frames at 44.1 kHz already give identical samples at 8, 16 and 22.05 kHz.
_RESAMPLER_MARGIN = 0.25


class SilentClipWarning(UserWarning):
    """A clip is digitally silent; the message names the file."""


class TruncatedAudioWarning(UserWarning):
    """An audio file ends before its stream does; the message names the file and the length
    that could be decoded."""


def check_rate(sr: object, owner: str = "sr") -> int:
    """Return ``sr`` as an int after checking it is a positive integer number of Hz.

    Parameters
    ----------
    sr : object
        The candidate sampling rate.
    owner : str
        How the error message names the parameter.

    Returns
    -------
    sr : int

    Raises
    ------
    ValueError
        When ``sr`` is not a positive integer (bools are refused).
    """
    if isinstance(sr, (bool, np.bool_)) or not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ParameterError(f"{owner} must be a positive integer number of Hz, got {sr!r}")
    return int(sr)


def load_audio(path: str | PathLike[str], sr: int, *, duration: float | None = None) -> np.ndarray:
    """Load an audio file as a mono float32 waveform at ``sr`` Hz.

    The samples equal those of ``librosa.load(path, sr=sr)``: the file is decoded with
    soundfile as float32, channels are averaged into one, and the signal is resampled with
    ``librosa.resample(res_type="soxr_hq")`` when the file's rate differs from ``sr``.

    Parameters
    ----------
    path : str or path-like
        Any format libsndfile decodes (WAV, FLAC, OGG Vorbis, ...).
    sr : int > 0
        Target sampling rate in Hz.
    duration : float > 0, optional
        Read only the first ``duration`` seconds (and a quarter second more, so that the
        resampled samples equal those of the whole file); the result's first
        ``round(duration * sr)`` samples are the whole file's. None reads the whole file,
        which must then be at most :data:`MAX_SECONDS` long.

    Returns
    -------
    y : np.ndarray, shape (n,), dtype float32
        The waveform; ``n`` is the duration read times ``sr`` (rounded up by the resampler).

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist (the message names it).
    AudioError
        ``sr`` is not a positive integer; the file cannot be decoded (corrupt, truncated or not
        audio); it holds no samples; or it holds NaN or infinite samples. The message names the
        file in every case.

    Warns
    -----
    TruncatedAudioWarning
        The file ends before its stream does (an OGG file without its last page, a WAV file
        shorter than its data chunk declares): the readable part is returned.
    SilentClipWarning
        The clip's peak is at most :data:`SILENCE_PEAK`. Silent clips are returned unchanged
        (all zeros, or nearly so): they are legitimate members of a dataset, and later stages
        (log scaling, normalisation) are defined for them.

    Examples
    --------
    >>> y = load_audio("data/esc50/audio/1-100032-A-0.wav", sr=22050)  # doctest: +SKIP
    >>> y.dtype, y.ndim  # doctest: +SKIP
    (dtype('float32'), 1)
    """
    path = Path(path)
    try:
        rate = check_rate(sr)
    except ValueError as exc:
        raise AudioError(f"{path}: {exc}") from None
    if duration is not None and not duration > 0:
        raise AudioError(f"{path}: duration must be positive seconds, got {duration!r}")
    if not path.is_file():
        raise FileNotFoundError(f"audio file not found: {path}")
    try:
        with sf.SoundFile(path) as handle:
            native, readable = handle.samplerate, handle.frames
            wanted = _frames_to_read(path, readable, native, duration)
            frames = handle.read(wanted, dtype="float32", always_2d=True)
    except (sf.SoundFileError, RuntimeError) as exc:
        raise AudioError(f"{path}: cannot decode audio ({exc})") from exc
    if frames.size == 0:
        raise AudioError(f"{path}: the file holds no audio samples")
    if not np.all(np.isfinite(frames)):
        raise AudioError(f"{path}: the file holds NaN or infinite samples")
    cut = _truncation(path)
    if cut:
        warnings.warn(
            f"{path}: the file is truncated ({cut}); it decodes to only {readable} samples "
            f"({readable / native:.2f} s at {native} Hz)",
            TruncatedAudioWarning,
            stacklevel=2,
        )
    y = np.mean(frames.T, axis=0)
    if float(np.max(np.abs(y))) <= SILENCE_PEAK:
        warnings.warn(f"{path}: the clip is silent", SilentClipWarning, stacklevel=2)
    if native != rate:
        y = librosa.resample(y, orig_sr=native, target_sr=rate, res_type="soxr_hq")
    return np.ascontiguousarray(y, dtype=np.float32)


def _frames_to_read(path: Path, total: int, native: int, duration: float | None) -> int:
    """How many frames :func:`load_audio` reads: the clip and a margin, or the whole file."""
    if duration is not None:
        return min(total, int(np.ceil((duration + _RESAMPLER_MARGIN) * native)))
    if total > MAX_SECONDS * native:
        raise AudioError(
            f"{path}: the file is {total / native:.1f} s long; at most {MAX_SECONDS:.1f} s are "
            "read whole (pass duration= to read the start of a longer file)"
        )
    return total


def _truncation(path: Path) -> str:
    """Why ``path`` looks cut short ("" when it does not, or its format declares no end)."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(12)
        if head[:4] == b"OggS":
            handle.seek(max(0, size - 65536))
            tail = handle.read()
            page = tail.rfind(b"OggS")
            if page < 0 or len(tail) < page + 27:
                return "its last Ogg page is incomplete"
            segments = tail[page + 27 : page + 27 + tail[page + 26]]
            if len(tail) < page + 27 + len(segments) + sum(segments):
                return "its last Ogg page is incomplete"
            return "" if tail[page + 5] & 0x04 else "no end-of-stream page"
        if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
            offset = 12
            while offset + 8 <= size:
                handle.seek(offset)
                chunk = handle.read(8)
                length = int.from_bytes(chunk[4:8], "little")
                if chunk[:4] == b"data":
                    end = offset + 8 + length
                    return f"its data chunk declares {end - size} more bytes" if end > size else ""
                offset += 8 + length + (length & 1)
    return ""


def fix_length(y: np.ndarray, n: int) -> np.ndarray:
    """Cut ``y`` to ``n`` samples, or pad it with zeros at the end.

    Parameters
    ----------
    y : np.ndarray, shape (m,)
        A mono waveform.
    n : int >= 0
        Wanted length in samples.

    Returns
    -------
    y_fixed : np.ndarray, shape (n,)
        A new array with the dtype of ``y``.

    Examples
    --------
    >>> fix_length(np.ones(3, dtype=np.float32), 5)
    array([1., 1., 1., 0., 0.], dtype=float32)
    """
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ParameterError(f"n must be a non-negative integer number of samples, got {n!r}")
    if y.ndim != 1:
        raise ParameterError(f"y must be a mono waveform of shape (n,), got shape {y.shape}")
    if len(y) >= n:
        return y[:n].copy()
    return np.pad(y, (0, int(n) - len(y)))
