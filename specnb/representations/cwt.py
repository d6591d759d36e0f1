"""The continuous wavelet transform of the scalogram: mother wavelets, scales, discretisation.

The scalogram uses three mother wavelets: the Mexican hat (``"mexh"``) and the complex Morlet
(``"cmor1.5-1.0"``, bandwidth 1.5, centre frequency 1.0) of PyWavelets, and a continuous Haar
wavelet (``"haar"``) defined here, since PyWavelets only offers Haar as a discrete wavelet.

Continuous Haar wavelet
    ``psi(t) = 1`` on ``[0, 1/2)``, ``-1`` on ``[1/2, 1)``, ``0`` elsewhere. Its integral
    ``int_{-inf}^{t} psi`` is the triangle rising from 0 at ``t = 0`` to ``1/2`` at ``t = 1/2``
    and back to 0 at ``t = 1``. Its Fourier magnitude is
    ``|Psi(nu)| = sin^2(pi nu / 2) / (pi nu / 2)`` (``nu`` in cycles per unit time), whose
    peak lies at ``nu = 2 u / pi`` with ``u`` the root of ``tan(u) = 2 u`` in ``(0, pi/2)``:
    :data:`HAAR_CENTRE_FREQUENCY` ``= 0.7420193``. That exact peak is its centre frequency.
    (PyWavelets' FFT-bin estimate, :func:`pywt.central_frequency`, would round it to
    ``1 / support = 1.0``; the Mexican hat and Morlet keep PyWavelets' values, 0.25 and 1.0,
    so that their rows are labelled exactly as :func:`pywt.cwt` labels them.)

Discretisation (identical to :func:`pywt.cwt`)
    The wavelet is sampled on ``2**precision`` points of its support ``[lower, upper]``
    (``[-8, 8]`` for mexh and cmor, ``[0, 1]`` for Haar) and integrated by the rectangle rule
    (cumulative sum times the grid step); complex wavelets are conjugated. At scale ``s``
    (in samples) the integral is read at grid indices ``floor(k / (s * step))`` for
    ``k = 0, 1, ..., ceil(s * (upper - lower))`` (indices past the grid dropped) and
    reversed, giving ``h``. The transform is ``W = -sqrt(s) * diff(y * h)`` (full
    convolution, first difference), cropped symmetrically to the clip's ``N`` samples.
    Equivalently ``W[n] = sum_k g[k] * y[n + lead - k]`` with the difference kernel
    ``g = -sqrt(s) * diff([0, h, 0])`` and ``lead = len(h) // 2``, which is the form the torch
    path uses (:func:`scale_kernels`).
"""

from __future__ import annotations

from math import ceil, floor

import numpy as np
import pywt

from specnb.errors import ParameterError
from specnb.representations.settings import WAVELETS, SettingError, WaveletSetting

__all__ = [
    "HAAR_CENTRE_FREQUENCY",
    "PRECISION",
    "centre_frequency",
    "discretised_cwt",
    "haar_integral",
    "haar_psi",
    "integrated_wavelet",
    "is_complex",
    "scale_frequencies",
    "scale_kernels",
    "scales",
    "wavelet_function",
]

#: Number of grid points of a sampled mother wavelet is ``2**PRECISION`` (pywt.cwt's default).
PRECISION = 12

#: Peak of the continuous Haar wavelet's Fourier magnitude, in cycles per unit time.
HAAR_CENTRE_FREQUENCY = 0.7420192964071032


def _check_wavelet(wavelet: str) -> None:
    if wavelet not in WAVELETS:
        raise SettingError(f"wavelet.wavelet={wavelet!r} is not offered; choose one of {WAVELETS}")


def haar_psi(t: np.ndarray) -> np.ndarray:
    """The continuous Haar mother wavelet.

    Parameters
    ----------
    t : np.ndarray
        Times (in units of the wavelet's support).

    Returns
    -------
    psi : np.ndarray, same shape as ``t``
        1 on ``[0, 1/2)``, -1 on ``[1/2, 1)``, 0 elsewhere.

    Examples
    --------
    >>> haar_psi(np.array([-0.1, 0.0, 0.25, 0.5, 0.99, 1.0]))
    array([ 0.,  1.,  1., -1., -1.,  0.])
    """
    t = np.asarray(t, dtype=np.float64)
    return np.where((t >= 0) & (t < 0.5), 1.0, 0.0) - np.where((t >= 0.5) & (t < 1), 1.0, 0.0)


def haar_integral(t: np.ndarray) -> np.ndarray:
    """The integral of :func:`haar_psi` from minus infinity to ``t``: a triangle.

    Examples
    --------
    >>> haar_integral(np.array([-1.0, 0.25, 0.5, 0.75, 2.0]))
    array([0.  , 0.25, 0.5 , 0.25, 0.  ])
    """
    t = np.asarray(t, dtype=np.float64)
    return np.clip(np.minimum(t, 1.0 - t), 0.0, None)


def is_complex(wavelet: str) -> bool:
    """Whether the wavelet is complex-valued (its coefficients are complex)."""
    _check_wavelet(wavelet)
    return wavelet.startswith("cmor")


def wavelet_function(wavelet: str, precision: int = PRECISION) -> tuple[np.ndarray, np.ndarray]:
    """The mother wavelet sampled on ``2**precision`` points of its support.

    Returns
    -------
    psi : np.ndarray, shape (2**precision,)
        Samples (complex for cmor).
    x : np.ndarray, shape (2**precision,)
        Their times, evenly spaced from the support's lower to its upper bound.
    """
    _check_wavelet(wavelet)
    if wavelet == "haar":
        x = np.linspace(0.0, 1.0, 2**precision)
        return haar_psi(x), x
    psi, x = pywt.ContinuousWavelet(wavelet).wavefun(precision)
    return np.asarray(psi), np.asarray(x, dtype=np.float64)


def centre_frequency(wavelet: str) -> float:
    """Centre frequency of the mother wavelet, in cycles per unit time.

    Examples
    --------
    >>> centre_frequency("mexh"), centre_frequency("cmor1.5-1.0")
    (0.25, 1.0)
    >>> round(centre_frequency("haar"), 4)
    0.742
    """
    _check_wavelet(wavelet)
    if wavelet == "haar":
        return HAAR_CENTRE_FREQUENCY
    return float(pywt.central_frequency(wavelet, precision=PRECISION))


def scale_frequencies(setting: WaveletSetting) -> np.ndarray:
    """Centre frequency of each scalogram row, low to high.

    Parameters
    ----------
    setting : WaveletSetting
        Uses ``f_min``, ``sr`` and ``n_scales``.

    Returns
    -------
    frequencies : np.ndarray, shape (n_scales,)
        Hz, log-spaced from ``f_min`` (row 0) to ``sr / 2`` (last row).

    Examples
    --------
    >>> f = scale_frequencies(WaveletSetting(sr=8000, f_min=50.0, n_scales=3))
    >>> f.round(1).tolist()
    [50.0, 447.2, 4000.0]
    """
    return np.geomspace(setting.f_min, setting.sr / 2.0, setting.n_scales)


def scales(setting: WaveletSetting) -> np.ndarray:
    """PyWavelets scales (in samples) of the rows: ``centre_frequency * sr / frequency``.

    Returns
    -------
    scales : np.ndarray, shape (n_scales,)
        Decreasing down the rows (row 0 is the largest scale).

    Examples
    --------
    >>> scales(WaveletSetting(sr=8000, wavelet="mexh", f_min=50.0, n_scales=2)).tolist()
    [40.0, 0.5]
    """
    return centre_frequency(setting.wavelet) * setting.sr / scale_frequencies(setting)


def integrated_wavelet(wavelet: str, precision: int = PRECISION) -> tuple[np.ndarray, np.ndarray]:
    """Rectangle-rule integral of the sampled wavelet, conjugated for complex wavelets.

    Returns
    -------
    int_psi : np.ndarray, shape (2**precision,)
        ``cumsum(psi) * step`` (conjugated when complex).
    x : np.ndarray, shape (2**precision,)
        Grid times.
    """
    psi, x = wavelet_function(wavelet, precision)
    int_psi = np.cumsum(psi) * (x[1] - x[0])
    return (np.conj(int_psi) if np.iscomplexobj(int_psi) else int_psi), x


def _integral_at_scale(int_psi: np.ndarray, x: np.ndarray, scale: float) -> np.ndarray:
    """The integral read at ``scale`` and reversed (``h`` of the module docstring)."""
    step = x[1] - x[0]
    index = (np.arange(scale * (x[-1] - x[0]) + 1) / (scale * step)).astype(int)
    index = index[index < int_psi.size]
    if index.size < 2:
        raise ParameterError(f"scale {scale} is too small for the sampled wavelet")
    return int_psi[index][::-1]


def scale_kernels(
    wavelet: str, scales: np.ndarray, precision: int = PRECISION
) -> list[tuple[np.ndarray, int]]:
    """Difference kernel and lead of each scale: ``W[n] = sum_k g[k] * y[n + lead - k]``.

    Parameters
    ----------
    wavelet : {"haar", "mexh", "cmor1.5-1.0"}
        Mother wavelet.
    scales : np.ndarray, shape (S,)
        Scales in samples.
    precision : int
        The sampled wavelet has ``2**precision`` points.

    Returns
    -------
    kernels : list of (g, lead)
        Per scale, ``g = -sqrt(scale) * diff([0, h, 0])`` (float64 or complex128, length
        ``len(h) + 1``) and ``lead = len(h) // 2``.

    Examples
    --------
    >>> [(g.shape, lead) for g, lead in scale_kernels("haar", np.array([4.0, 2.0]))]
    [((6,), 2), ((4,), 1)]
    """
    int_psi, x = integrated_wavelet(wavelet, precision)
    kernels = []
    for scale in np.asarray(scales, dtype=np.float64):
        h = _integral_at_scale(int_psi, x, scale)
        kernels.append((-np.sqrt(scale) * np.diff(np.concatenate([[0.0], h, [0.0]])), h.size // 2))
    return kernels


def discretised_cwt(
    y: np.ndarray,
    scales: np.ndarray,
    wavelet: str,
    method: str = "conv",
    precision: int = PRECISION,
) -> np.ndarray:
    """Continuous wavelet transform with pywt.cwt's integrate-then-differentiate scheme.

    Works for every wavelet of :data:`~specnb.representations.settings.WAVELETS`; for mexh
    and cmor it reproduces :func:`pywt.cwt` (to rounding), and it is the reference transform
    of the Haar wavelet, which PyWavelets lacks.

    Parameters
    ----------
    y : np.ndarray, shape (N,)
        Signal.
    scales : np.ndarray, shape (S,)
        Scales in samples.
    wavelet : {"haar", "mexh", "cmor1.5-1.0"}
        Mother wavelet.
    method : {"conv", "fft"}
        Direct convolution (:func:`numpy.convolve`) or FFT convolution padded to a power of two.
    precision : int
        The sampled wavelet has ``2**precision`` points.

    Returns
    -------
    coefficients : np.ndarray, shape (S, N)
        Real for real wavelets, complex for cmor.

    Examples
    --------
    >>> w = discretised_cwt(np.sin(np.arange(256) / 4.0), np.array([8.0, 4.0]), "haar")
    >>> w.shape
    (2, 256)
    """
    if method not in ("conv", "fft"):
        raise ParameterError(f"method must be 'conv' or 'fft', got {method!r}")
    y = np.asarray(y)
    int_psi, x = integrated_wavelet(wavelet, precision)
    out = np.empty((len(scales), y.size), dtype=np.result_type(y, int_psi))
    for row, scale in enumerate(np.asarray(scales, dtype=np.float64)):
        h = _integral_at_scale(int_psi, x, scale)
        if method == "conv":
            full = np.convolve(y, h)
        else:
            n_fft = 1 << int(ceil(np.log2(y.size + h.size - 1)))
            full = np.fft.ifft(np.fft.fft(y, n_fft) * np.fft.fft(h, n_fft))
            full = full[: y.size + h.size - 1]
        coef = -np.sqrt(scale) * np.diff(full)
        excess = (coef.size - y.size) / 2.0
        if excess > 0:
            coef = coef[floor(excess) : coef.size - ceil(excess)]
        out[row] = coef if np.iscomplexobj(out) else coef.real
    return out
