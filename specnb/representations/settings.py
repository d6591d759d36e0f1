"""Representation settings: small frozen, validated, hashable dataclasses.

One setting object fully describes how a clip becomes a 2D representation and then a model
image. Field names are the single vocabulary used everywhere (notebook parameters, sweep files,
the results store and ``specnb features --set KEY=VALUE``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any, ClassVar, Union

from specnb.errors import SettingError, check_positive_int

__all__ = [
    "COLORMAPS",
    "COLORMAP_FAMILIES",
    "MFCCSetting",
    "MelSetting",
    "STFTSetting",
    "Setting",
    "SettingError",
    "WaveletSetting",
    "IMAGE_FIELDS",
    "NEUTRAL_FIELDS",
    "SETTING_TYPES",
    "WAVELETS",
    "make_setting",
    "parse_assignments",
    "setting_from_dict",
]

#: Colour maps offered for rendering, by family (paper §5.5). ``"hsv-uniform"`` is the
#: uniformly distributed HSV rendering (histogram-equalised value mapped to hue).
COLORMAP_FAMILIES: dict[str, tuple[str, ...]] = {
    "sequential": ("viridis", "magma", "inferno", "plasma", "cividis", "gray"),
    "diverging": ("coolwarm", "RdBu", "PuOr", "Spectral"),
    "cyclic": ("twilight", "twilight_shifted", "hsv"),
    "qualitative": ("tab10", "tab20", "Set1", "Paired"),
    "uniform": ("hsv-uniform",),
}
#: Every offered colour map, flattened in ``COLORMAP_FAMILIES`` order.
COLORMAPS = tuple(name for names in COLORMAP_FAMILIES.values() for name in names)
_COLORMAPS = frozenset(COLORMAPS)

#: Fields that only change how the raw representation is rendered to an image; they are left
#: out of the feature key so that a cached raw representation serves every rendering.
IMAGE_FIELDS: frozenset[str] = frozenset({"colormap", "per_coefficient"})

#: Fields left out of ``to_dict()`` (and so of every key) while they hold their neutral value,
#: so that the keys of settings made before the field existed do not change.
NEUTRAL_FIELDS: dict[str, Any] = {"per_coefficient": False}

#: Wavelets of the scalogram: Haar (implemented by specnb), Mexican hat and complex Morlet.
WAVELETS = ("haar", "mexh", "cmor1.5-1.0")


@dataclass(frozen=True)
class _Base:
    kind: ClassVar[str] = ""
    #: Fields always named in :meth:`label`, even at their default value.
    label_fields: ClassVar[tuple[str, ...]] = ("sr",)

    sr: int = 22050
    colormap: str = "viridis"

    def __post_init__(self) -> None:
        check_positive_int(f"{self.kind}.sr", self.sr, SettingError)
        if self.colormap not in _COLORMAPS:
            raise SettingError(
                f"{self.kind}.colormap={self.colormap!r} is not offered; "
                f"choose one of {sorted(_COLORMAPS)}"
            )

    def to_dict(self) -> dict[str, Any]:
        """Fields plus ``repr``, JSON-serialisable; inverse of :func:`setting_from_dict`.
        A field of :data:`NEUTRAL_FIELDS` at its neutral value is left out."""
        neutral = NEUTRAL_FIELDS.items()
        kept = {k: v for k, v in dataclasses.asdict(self).items() if (k, v) not in neutral}
        return {"repr": self.kind, **kept}

    def feature_dict(self) -> dict[str, Any]:
        """The fields that determine the raw representation (image-only fields removed)."""
        return {k: v for k, v in self.to_dict().items() if k not in IMAGE_FIELDS}

    @property
    def key(self) -> str:
        """Stable 16-hex-digit hash of every field: identifies a full setting in the store."""
        return _digest(self.to_dict())

    @property
    def feature_key(self) -> str:
        """Stable hash of the fields that shape the raw representation (cache key part)."""
        return _digest(self.feature_dict())

    def replace(self, **changes: Any) -> "Setting":
        """Return a copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)

    def label(self) -> str:
        """Short human-readable description, e.g. ``stft(sr=22050, n_fft=1024)``: the
        representation's main fields and every field that differs from its default."""
        defaults = type(self)()
        changed = [
            f"{f.name}={getattr(self, f.name)}"
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != getattr(defaults, f.name) or f.name in self.label_fields
        ]
        return f"{self.kind}({', '.join(changed)})"


def _digest(d: dict[str, Any]) -> str:
    blob = json.dumps(d, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


@dataclass(frozen=True)
class MFCCSetting(_Base):
    """MFCC as :func:`librosa.feature.mfcc` computes it.

    Parameters
    ----------
    sr : int
        Sampling rate in Hz the clip is resampled to (paper grid: 8000, 16000, 22050, 24000).
    n_mfcc : int
        Number of cepstral coefficients (13, 20, 40).
    hop_length : int
        Hop between frames in samples (paper: 1024).
    dct_norm : {"ortho", "none"}
        Normalisation of the type-2 DCT.
    lifter : float
        Cepstral lifter ``L`` (librosa's sinusoidal liftering); the paper's grid is
        ``L = d * n_mfcc`` with ``d`` in 0, 0.5, ..., 2.5. 0 disables liftering.
    n_fft : int
        FFT size of the underlying Mel spectrogram.
    n_mels : int
        Mel bands of the underlying Mel spectrogram.
    colormap : str
        Colour map of the model image.
    per_coefficient : bool
        Image only: scale each coefficient (image row) to [0, 1] by its own minimum and maximum
        over time before the colour map; with one range for the whole matrix the 0th
        coefficient leaves the others nearly one colour. False is the paper's rendering (§4.2).
    """

    kind: ClassVar[str] = "mfcc"
    label_fields: ClassVar[tuple[str, ...]] = ("sr", "n_mfcc")
    n_mfcc: int = 20
    hop_length: int = 1024
    dct_norm: str = "ortho"
    lifter: float = 0.0
    n_fft: int = 2048
    n_mels: int = 128
    per_coefficient: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.per_coefficient, bool):
            raise SettingError(
                f"mfcc.per_coefficient must be True or False, got {self.per_coefficient!r}"
            )
        for name in ("n_mfcc", "hop_length", "n_fft", "n_mels"):
            check_positive_int(f"{self.kind}.{name}", getattr(self, name), SettingError)
        if self.dct_norm not in ("ortho", "none"):
            raise SettingError(f"mfcc.dct_norm must be 'ortho' or 'none', got {self.dct_norm!r}")
        if not isinstance(self.lifter, (int, float)) or isinstance(self.lifter, bool):
            raise SettingError(f"mfcc.lifter must be a number, got {self.lifter!r}")
        if self.lifter < 0:
            raise SettingError(f"mfcc.lifter must be >= 0, got {self.lifter}")
        if self.n_mfcc > self.n_mels:
            raise SettingError(f"mfcc.n_mfcc={self.n_mfcc} cannot exceed mfcc.n_mels={self.n_mels}")
        object.__setattr__(self, "lifter", float(self.lifter))


@dataclass(frozen=True)
class STFTSetting(_Base):
    """Magnitude STFT in dB (``amplitude_to_db(|stft|, ref=np.max, top_db=80)``).

    Parameters
    ----------
    sr : int
        Sampling rate in Hz.
    n_fft : int
        FFT size (512, 1024, 2048).
    win_length : int or None
        Window length in samples, at most ``n_fft``; None means ``n_fft``. The paper's grid is
        0.25 to 1 times ``n_fft``.
    hop_length : int or None
        Hop in samples; None means ``win_length // 4`` (librosa's default). The paper also
        uses 512.
    colormap : str
        Colour map of the model image.
    """

    kind: ClassVar[str] = "stft"
    label_fields: ClassVar[tuple[str, ...]] = ("sr", "n_fft")
    n_fft: int = 2048
    win_length: Union[int, None] = None
    hop_length: Union[int, None] = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _validate_frames(self)

    @property
    def win(self) -> int:
        """Effective window length in samples."""
        return self.win_length if self.win_length is not None else self.n_fft

    @property
    def hop(self) -> int:
        """Effective hop length in samples."""
        return self.hop_length if self.hop_length is not None else self.win // 4


def _validate_frames(s: Union[STFTSetting, "MelSetting"]) -> None:
    check_positive_int(f"{s.kind}.n_fft", s.n_fft, SettingError)
    if s.win_length is not None:
        check_positive_int(f"{s.kind}.win_length", s.win_length, SettingError)
        if s.win_length > s.n_fft:
            raise SettingError(
                f"{s.kind}.win_length={s.win_length} exceeds {s.kind}.n_fft={s.n_fft}"
            )
    if s.hop_length is not None:
        check_positive_int(f"{s.kind}.hop_length", s.hop_length, SettingError)
    elif s.win // 4 < 1:
        raise SettingError(f"{s.kind}.win_length={s.win} is too short for a default hop")


@dataclass(frozen=True)
class MelSetting(_Base):
    """Mel spectrogram in dB (``power_to_db(melspectrogram, ref=np.max, top_db=80)``).

    Parameters
    ----------
    sr : int
        Sampling rate in Hz.
    n_fft : int
        FFT size (512, 1024, 2048).
    win_length : int or None
        Window length in samples (the paper's window scale 0.2-1 times ``n_fft``); None means
        ``n_fft``.
    hop_length : int or None
        Hop in samples; None means ``win_length // 4``.
    n_mels : int
        Number of Mel bands.
    colormap : str
        Colour map of the model image.
    """

    kind: ClassVar[str] = "mel"
    label_fields: ClassVar[tuple[str, ...]] = ("sr", "n_fft")
    n_fft: int = 2048
    win_length: Union[int, None] = None
    hop_length: Union[int, None] = None
    n_mels: int = 128

    def __post_init__(self) -> None:
        super().__post_init__()
        _validate_frames(self)
        check_positive_int(f"{self.kind}.n_mels", self.n_mels, SettingError)

    win = STFTSetting.win
    hop = STFTSetting.hop


@dataclass(frozen=True)
class WaveletSetting(_Base):
    """Continuous-wavelet scalogram (the paper's "DWT"), framed and in dB.

    The clip is transformed at ``n_scales`` scales whose centre frequencies are log-spaced
    from ``f_min`` to ``sr / 2``; the magnitude is averaged over frames of ``frame_ms``
    milliseconds overlapping by ``overlap``, and expressed in dB relative to its maximum with
    an 80 dB floor.

    Parameters
    ----------
    sr : int
        Sampling rate in Hz (paper: 8000 or 16000).
    wavelet : {"haar", "mexh", "cmor1.5-1.0"}
        Mother wavelet: Haar (specnb's own continuous Haar), Mexican hat, complex Morlet.
    frame_ms : float
        Frame length in milliseconds (paper: 30 to 70, 50 by default).
    overlap : float
        Fraction of a frame shared with the next one, in [0, 1) (paper: 0.5).
    n_scales : int
        Number of scales (rows of the scalogram).
    f_min : float
        Centre frequency of the largest scale, in Hz.
    colormap : str
        Colour map of the model image.
    """

    kind: ClassVar[str] = "wavelet"
    label_fields: ClassVar[tuple[str, ...]] = ("sr", "wavelet", "frame_ms")
    sr: int = 8000
    wavelet: str = "cmor1.5-1.0"
    frame_ms: float = 50.0
    overlap: float = 0.5
    n_scales: int = 64
    f_min: float = 50.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.wavelet not in WAVELETS:
            raise SettingError(
                f"wavelet.wavelet={self.wavelet!r} is not offered; choose one of {WAVELETS}"
            )
        if not 0 < float(self.frame_ms):
            raise SettingError(f"wavelet.frame_ms must be > 0, got {self.frame_ms}")
        if not 0 <= float(self.overlap) < 1:
            raise SettingError(f"wavelet.overlap must be in [0, 1), got {self.overlap}")
        check_positive_int(f"{self.kind}.n_scales", self.n_scales, SettingError)
        if not 0 < float(self.f_min) < self.sr / 2:
            raise SettingError(
                f"wavelet.f_min={self.f_min} must lie strictly between 0 and sr/2={self.sr / 2}"
            )
        if self.frame_length < 1:
            raise SettingError(f"wavelet.frame_ms={self.frame_ms} is shorter than one sample")
        for name in ("frame_ms", "overlap", "f_min"):
            object.__setattr__(self, name, float(getattr(self, name)))

    @property
    def frame_length(self) -> int:
        """Frame length in samples."""
        return int(round(self.frame_ms * self.sr / 1000.0))

    @property
    def hop(self) -> int:
        """Hop between frames in samples (at least 1)."""
        return max(1, int(round(self.frame_length * (1.0 - self.overlap))))


Setting = Union[MFCCSetting, STFTSetting, MelSetting, WaveletSetting]

SETTING_TYPES: dict[str, type] = {
    cls.kind: cls for cls in (MFCCSetting, STFTSetting, MelSetting, WaveletSetting)
}


def make_setting(repr: str, **fields: Any) -> Setting:
    """Build a setting of representation ``repr`` ("mfcc", "stft", "mel", "wavelet").

    Examples
    --------
    >>> make_setting("stft", n_fft=1024).win
    1024
    """
    try:
        cls = SETTING_TYPES[repr]
    except KeyError:
        raise SettingError(
            f"repr={repr!r} is not a representation; choose one of {sorted(SETTING_TYPES)}"
        ) from None
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(fields) - names)
    if unknown:
        raise SettingError(f"{repr} has no setting {unknown[0]!r}; known: {sorted(names)}")
    return cls(**fields)


def setting_from_dict(d: dict[str, Any]) -> Setting:
    """Inverse of ``Setting.to_dict()``."""
    d = dict(d)
    return make_setting(d.pop("repr"), **d)


def parse_assignments(repr: str, pairs: list[str]) -> Setting:
    """Build a setting from ``KEY=VALUE`` strings (as given to ``--set``), typed by field."""
    cls = SETTING_TYPES.get(repr)
    if cls is None:
        return make_setting(repr)
    types = {f.name: f.type for f in dataclasses.fields(cls)}
    fields: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep:
            raise SettingError(f"--set expects KEY=VALUE, got {pair!r}")
        if key not in types:
            raise SettingError(f"{repr} has no setting {key!r}; known: {sorted(types)}")
        fields[key] = _coerce(key, raw, str(types[key]))
    return make_setting(repr, **fields)


def _coerce(key: str, raw: str, type_name: str) -> Any:
    if raw.lower() == "none" and "None" in type_name:
        return None
    if type_name == "bool":
        if raw.lower() not in ("true", "false"):
            raise SettingError(f"setting {key} expects true or false, got {raw!r}")
        return raw.lower() == "true"
    try:
        if "int" in type_name:
            return int(raw)
        if "float" in type_name:
            return float(raw)
    except ValueError:
        raise SettingError(f"setting {key} expects a number, got {raw!r}") from None
    return raw
