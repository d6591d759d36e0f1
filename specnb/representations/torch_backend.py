"""Batched, differentiable torch front ends that reproduce the librosa reference.

Each front end is a :class:`torch.nn.Module` mapping a batch of waveforms ``(B, N)`` to a batch
of representations ``(B, F, T)`` in the same units as :func:`specnb.representations.reference`.
They run on CPU or CUDA and keep gradients with respect to the waveform, so attacks can be run
through them end to end.

librosa conventions reproduced here: frames centred on ``t * hop`` with the clip zero-padded by
``n_fft // 2`` on both sides (``center=True, pad_mode="constant"``), a periodic Hann window of
``win_length`` samples centred in ``n_fft``, Slaney-normalised Mel filters, dB values relative
to the clip's maximum (or to 1 for MFCC) with an 80 dB floor below the clip's maximum, the
type-2 DCT of :func:`scipy.fft.dct` and librosa's sinusoidal lifter.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Optional, Union

import librosa
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from specnb.devices import resolve_device
from specnb.representations.reference import TOP_DB, check_setting
from specnb.representations.settings import MelSetting, MFCCSetting, Setting, STFTSetting

__all__ = [
    "MelFrontEnd",
    "MFCCFrontEnd",
    "PowerSpectrogram",
    "STFTFrontEnd",
    "dct2_matrix",
    "front_end",
    "mel_filters",
    "mfcc_matrix",
    "power_to_db",
]

#: Smallest power entering the logarithm (librosa's ``amin`` for power, ``1e-5 ** 2`` for
#: amplitude).
AMIN = 1e-10

_CACHE_SIZE = 32
_CACHE: "OrderedDict[tuple[str, str], nn.Module]" = OrderedDict()


class PowerSpectrogram(nn.Module):
    """Squared STFT magnitude with librosa's centred, zero-padded framing.

    Only the ``win_length`` samples under the window's support are framed; their real FFT is
    zero-padded to ``n_fft``. This changes the phase of every bin but not its magnitude, so the
    power equals that of librosa's window centred in ``n_fft``.

    Parameters
    ----------
    n_fft : int
        FFT size in samples.
    win_length : int
        Hann window length in samples, ``<= n_fft``.
    hop_length : int
        Hop between frames in samples.

    Examples
    --------
    >>> PowerSpectrogram(512, 256, 128)(torch.zeros(2, 1000)).shape
    torch.Size([2, 257, 8])
    """

    window: torch.Tensor

    def __init__(self, n_fft: int, win_length: int, hop_length: int) -> None:
        super().__init__()
        self.n_fft, self.win_length, self.hop_length = n_fft, win_length, hop_length
        window = torch.hann_window(win_length, periodic=True, dtype=torch.float64)
        self.register_buffer("window", window.float())

    def n_frames(self, n_samples: int) -> int:
        """Number of frames for a clip of ``n_samples`` samples."""
        pad = self.n_fft // 2
        return 1 + (n_samples + 2 * pad - self.n_fft) // self.hop_length

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        """Map ``y`` of shape (B, N) to the power spectrogram (B, n_fft // 2 + 1, T)."""
        pad = self.n_fft // 2
        offset = (self.n_fft - self.win_length) // 2
        padded = F.pad(y, (pad - offset, pad))
        frames = padded.unfold(-1, self.win_length, self.hop_length)
        frames = frames[:, : self.n_frames(y.shape[-1])] * self.window
        spectrum = torch.fft.rfft(frames, n=self.n_fft)
        power = torch.addcmul(spectrum.real.square(), spectrum.imag, spectrum.imag)
        return power.transpose(-1, -2)


def power_to_db(
    power: torch.Tensor, ref_max: bool, top_db: float = TOP_DB, inplace: bool = False
) -> torch.Tensor:
    """Power to dB per clip, as :func:`librosa.power_to_db` does on one clip.

    Parameters
    ----------
    power : torch.Tensor, shape (B, F, T)
        Non-negative power values.
    ref_max : bool
        True: 0 dB is each clip's maximum (``ref=np.max``); False: 0 dB is power 1.
    top_db : float
        Cells more than ``top_db`` below each clip's maximum are raised to that floor.
    inplace : bool
        Overwrite ``power`` with the result (saves memory; only where autograd does not need
        ``power``).

    Returns
    -------
    torch.Tensor, shape (B, F, T)
        ``10 * log10(max(power, 1e-10))`` shifted and floored per clip.

    Examples
    --------
    >>> power_to_db(torch.tensor([[[1.0, 0.1, 0.0]]]), ref_max=True)
    tensor([[[  0., -10., -80.]]])
    """
    if inplace:
        db = power.clamp_min_(AMIN).log10_().mul_(10.0)
        peak = db.amax(dim=(-2, -1), keepdim=True)
        if ref_max:
            return db.sub_(peak).clamp_min_(-top_db)
        return torch.maximum(db, peak - top_db, out=db)
    db = 10.0 * torch.log10(power.clamp_min(AMIN))
    peak = db.amax(dim=(-2, -1), keepdim=True)
    if ref_max:
        return (db - peak).clamp_min(-top_db)
    return torch.maximum(db, peak - top_db)


def _tracks_grad(y: torch.Tensor) -> bool:
    return torch.is_grad_enabled() and y.requires_grad


def dct2_matrix(n_out: int, n_in: int, ortho: bool) -> torch.Tensor:
    """Matrix of the type-2 DCT as :func:`scipy.fft.dct` computes it, first ``n_out`` rows.

    ``X[k] = 2 * sum_n x[n] * cos(pi * k * (2 n + 1) / (2 n_in))``; with ``ortho`` row 0 is
    scaled by ``sqrt(1 / (4 n_in))`` and the other rows by ``sqrt(1 / (2 n_in))``.

    Returns
    -------
    torch.Tensor, float32, shape (n_out, n_in)
    """
    k = torch.arange(n_out, dtype=torch.float64)[:, None]
    n = torch.arange(n_in, dtype=torch.float64)[None, :]
    basis = 2.0 * torch.cos(math.pi * k * (2.0 * n + 1.0) / (2.0 * n_in))
    if ortho:
        scale = torch.full((n_out, 1), math.sqrt(1.0 / (2.0 * n_in)), dtype=torch.float64)
        scale[0] = math.sqrt(1.0 / (4.0 * n_in))
        basis = basis * scale
    return basis.float()


def mel_filters(setting: Union[MelSetting, MFCCSetting]) -> np.ndarray:
    """The Slaney-normalised Mel filter bank of a Mel or MFCC setting, as librosa makes it.

    Returns
    -------
    np.ndarray, float32, shape (n_mels, n_fft // 2 + 1)
        Row ``m`` weighs the STFT power bins that Mel band ``m`` sums.

    Examples
    --------
    >>> mel_filters(MelSetting(sr=8000, n_fft=512, n_mels=64)).shape
    (64, 257)
    """
    basis = librosa.filters.mel(
        sr=setting.sr, n_fft=setting.n_fft, n_mels=setting.n_mels, dtype=np.float32
    )
    return np.ascontiguousarray(basis)


def mfcc_matrix(setting: MFCCSetting) -> torch.Tensor:
    """The matrix from Mel dB to MFCC: the type-2 DCT's first ``n_mfcc`` rows, liftered.

    Row ``k`` of :func:`dct2_matrix` is scaled by librosa's sinusoidal lifter
    ``1 + (L / 2) sin(pi (k + 1) / L)`` when ``L = setting.lifter > 0``.

    Returns
    -------
    torch.Tensor, float32, shape (n_mfcc, n_mels)

    Examples
    --------
    >>> mfcc_matrix(MFCCSetting(n_mfcc=13, n_mels=40)).shape
    torch.Size([13, 40])
    """
    dct = dct2_matrix(setting.n_mfcc, setting.n_mels, ortho=setting.dct_norm == "ortho")
    if setting.lifter > 0:
        k = torch.arange(1, setting.n_mfcc + 1, dtype=torch.float64)
        lift = 1.0 + (setting.lifter / 2.0) * torch.sin(math.pi * k / setting.lifter)
        dct = dct * lift.float()[:, None]
    return dct


class STFTFrontEnd(nn.Module):
    """Magnitude STFT in dB relative to each clip's maximum, 80 dB floor.

    Parameters
    ----------
    setting : STFTSetting

    Examples
    --------
    >>> STFTFrontEnd(STFTSetting(n_fft=512))(torch.randn(4, 8000)).shape
    torch.Size([4, 257, 63])
    """

    def __init__(self, setting: STFTSetting) -> None:
        super().__init__()
        self.setting = setting
        self.power = PowerSpectrogram(setting.n_fft, setting.win, setting.hop)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        """Map ``y`` (B, N) to dB values (B, n_fft // 2 + 1, T)."""
        return power_to_db(self.power(y), ref_max=True, inplace=not _tracks_grad(y))


class MelFrontEnd(nn.Module):
    """Mel power spectrogram in dB relative to each clip's maximum, 80 dB floor.

    Parameters
    ----------
    setting : MelSetting
    """

    mel_basis: torch.Tensor

    def __init__(self, setting: MelSetting) -> None:
        super().__init__()
        self.setting = setting
        self.power = PowerSpectrogram(setting.n_fft, setting.win, setting.hop)
        self.register_buffer("mel_basis", torch.from_numpy(mel_filters(setting)))

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        """Map ``y`` (B, N) to dB values (B, n_mels, T)."""
        mel = self.mel_basis @ self.power(y)
        return power_to_db(mel, ref_max=True, inplace=not _tracks_grad(y))


class MFCCFrontEnd(nn.Module):
    """MFCC: type-2 DCT of the Mel spectrogram in dB (relative to power 1), then the lifter.

    Parameters
    ----------
    setting : MFCCSetting
    """

    mel_basis: torch.Tensor
    dct: torch.Tensor

    def __init__(self, setting: MFCCSetting) -> None:
        super().__init__()
        self.setting = setting
        self.power = PowerSpectrogram(setting.n_fft, setting.n_fft, setting.hop_length)
        self.register_buffer("mel_basis", torch.from_numpy(mel_filters(setting)))
        self.register_buffer("dct", mfcc_matrix(setting))

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        """Map ``y`` (B, N) to cepstral coefficients (B, n_mfcc, T)."""
        mel = self.mel_basis @ self.power(y)
        mel_db = power_to_db(mel, ref_max=False, inplace=not _tracks_grad(y))
        return self.dct @ mel_db


def front_end(setting: Setting, device: Optional[Union[str, torch.device]] = None) -> nn.Module:
    """The differentiable torch front end of ``setting``, cached per feature key and device.

    Parameters
    ----------
    setting : MFCCSetting, STFTSetting, MelSetting or WaveletSetting
        The representation to compute.
    device : str or torch.device, optional
        Where the module's buffers live; CUDA when available if None.

    Returns
    -------
    torch.nn.Module
        Maps a float32 tensor (B, N) on ``device`` to (B, F, T) in the units of
        :func:`specnb.representations.reference`. The module is shared between callers: use it,
        do not move or modify it (ask again with another ``device`` instead).

    Examples
    --------
    >>> import torch
    >>> from specnb.representations import MelSetting
    >>> module = front_end(MelSetting(n_fft=1024, n_mels=64), device="cpu")
    >>> y = torch.randn(2, 22050, requires_grad=True)
    >>> module(y).shape
    torch.Size([2, 64, 87])
    """
    setting = check_setting(setting)
    device = resolve_device(device)
    key = (setting.feature_key, str(device))
    module = _CACHE.get(key)
    if module is None:
        module = _build(setting).to(device).eval()
        _CACHE[key] = module
        if len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(key)
    return module


def _build(setting: Setting) -> nn.Module:
    if isinstance(setting, MFCCSetting):
        return MFCCFrontEnd(setting)
    if isinstance(setting, STFTSetting):
        return STFTFrontEnd(setting)
    if isinstance(setting, MelSetting):
        return MelFrontEnd(setting)
    from specnb.representations import wavelets

    return wavelets.TorchScalogram(setting)
