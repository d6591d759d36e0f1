"""From a raw 2D representation to the model image, and approximately back.

A raw representation (dB spectrogram, scalogram, MFCC matrix; frequency along the first axis,
lowest frequency first) becomes a ``3 x size x size`` image in [0, 1] in three steps:

1. :func:`normalise` — min-max scaling to [0, 1] per image, or per row (coefficient) for an
   MFCC setting with ``per_coefficient=True``;
2. colouring through a 256-entry lookup table (:func:`colormap_lut`), linearly interpolated;
3. bilinear resize to ``size x size``.

The image is flipped vertically so that row 0 holds the HIGHEST frequency, as a spectrogram is
displayed. Every step is a torch operation, batched, on the input's device, and differentiable
with respect to the raw values for every colour map except the qualitative family and
``"hsv-uniform"`` (both are piecewise constant in the input). :func:`setting_image` renders
under a setting's image fields (colour map, row scaling): callers holding a setting use it.
"""

from __future__ import annotations

import colorsys
from functools import lru_cache
from typing import Union

import numpy as np
import torch
import torch.nn.functional as F

from specnb.errors import ParameterError
from specnb.representations.settings import COLORMAP_FAMILIES, COLORMAPS, Setting

__all__ = [
    "colormap_lut",
    "equalise",
    "image_to_raw",
    "normalise",
    "scales_per_row",
    "setting_image",
    "to_image",
]

ArrayLike = Union[np.ndarray, torch.Tensor]

#: Number of entries of every lookup table.
LUT_SIZE = 256

#: Hue span of ``"hsv-uniform"``: red (0) through yellow, green, cyan and blue to magenta
#: (5/6). Stopping short of the full circle keeps the lowest and highest values apart.
HSV_UNIFORM_HUE_SPAN = 5.0 / 6.0

_QUALITATIVE = frozenset(COLORMAP_FAMILIES["qualitative"])


def _check_colormap(name: str) -> None:
    if name not in COLORMAPS:
        raise ParameterError(f"colormap={name!r} is not offered; choose one of {sorted(COLORMAPS)}")


def _as_tensor(x: ArrayLike, name: str) -> torch.Tensor:
    t = torch.from_numpy(np.asarray(x)) if isinstance(x, np.ndarray) else x
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a numpy array or a torch tensor, got {type(x).__name__}")
    return t.to(torch.float32)


def normalise(raw: ArrayLike, *, per_row: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Scale each image, or each row of each image, to [0, 1] by its own minimum and maximum.

    Parameters
    ----------
    raw : np.ndarray or torch.Tensor, shape (F, T) or (B, F, T)
        Raw representation(s) in natural units (dB, MFCC coefficients).
    per_row : bool
        Scale each row (frequency bin, MFCC coefficient) by its own minimum and maximum over
        time instead of one range per image.

    Returns
    -------
    scaled : torch.Tensor, float32, same shape as ``raw``
        ``(raw - min) / (max - min)`` per image (per row). A constant image (row) has no
        contrast to scale and becomes all zeros.
    value_range : torch.Tensor, float32, shape (2,) or (B, 2); per row (F, 2) or (B, F, 2)
        ``(min, max)`` of each image (row), so that ``min + scaled * (max - min)`` restores it.

    Raises
    ------
    ValueError
        If ``raw`` is not 2D/3D, is empty, or holds NaN or infinite values.

    Examples
    --------
    >>> scaled, value_range = normalise(np.array([[-80.0, 0.0], [-40.0, -20.0]]))
    >>> scaled.tolist(), value_range.tolist()
    ([[0.0, 1.0], [0.5, 0.75]], [-80.0, 0.0])
    >>> scaled, value_range = normalise(np.array([[-80.0, 0.0], [-40.0, -20.0]]), per_row=True)
    >>> scaled.tolist(), value_range.tolist()
    ([[0.0, 1.0], [0.0, 1.0]], [[-80.0, 0.0], [-40.0, -20.0]])
    """
    x = _as_tensor(raw, "raw")
    if x.ndim not in (2, 3) or x.numel() == 0:
        raise ParameterError(
            f"raw must be a non-empty (F, T) or (B, F, T) array, got {tuple(x.shape)}"
        )
    if not bool(torch.isfinite(x).all()):
        raise ParameterError("raw holds NaN or infinite values; cannot normalise")
    flat = x if per_row else x.flatten(-2)
    lo = flat.amin(dim=-1, keepdim=True)
    hi = flat.amax(dim=-1, keepdim=True)
    span = hi - lo
    flat_span = torch.where(span > 0, span, torch.ones_like(span))
    scaled = torch.where(span > 0, (flat - lo) / flat_span, torch.zeros_like(flat))
    return scaled.reshape(x.shape), torch.cat([lo, hi], dim=-1)


def equalise(scaled: torch.Tensor) -> torch.Tensor:
    """Rank-based histogram equalisation of each image, so values spread uniformly on [0, 1].

    Each value becomes the mid-point of its empirical cumulative distribution within its own
    image, rescaled so the smallest value maps to 0 and the largest to 1; tied values share one
    output. A constant image becomes all zeros. Not differentiable (ranks are piecewise
    constant).

    Parameters
    ----------
    scaled : torch.Tensor, shape (..., F, T)
        Values to equalise (typically the output of :func:`normalise`).

    Returns
    -------
    torch.Tensor, float32, same shape

    Examples
    --------
    >>> equalise(torch.tensor([[0.0, 0.0, 0.0, 0.1, 0.2, 0.9]])).tolist()
    [[0.0, 0.0, 0.0, 0.5, 0.75, 1.0]]
    """
    flat = scaled.detach().flatten(-2).contiguous()
    ordered, _ = torch.sort(flat, dim=-1)
    below = torch.searchsorted(ordered, flat, right=False).to(torch.float32)
    upto = torch.searchsorted(ordered, flat, right=True).to(torch.float32)
    mid = (below + upto - 1.0) / 2.0
    lo = mid.amin(dim=-1, keepdim=True)
    hi = mid.amax(dim=-1, keepdim=True)
    span = hi - lo
    out = torch.where(span > 0, (mid - lo) / torch.where(span > 0, span, 1.0), 0.0)
    return out.reshape(scaled.shape)


@lru_cache(maxsize=None)
def _lut_array(name: str) -> np.ndarray:
    _check_colormap(name)
    if name == "hsv-uniform":
        hues = np.linspace(0.0, HSV_UNIFORM_HUE_SPAN, LUT_SIZE)
        rgb = [colorsys.hsv_to_rgb(h, 1.0, 1.0) for h in hues]
        return np.asarray(rgb, dtype=np.float32)
    import matplotlib

    cmap = matplotlib.colormaps[name]
    return np.asarray(cmap(np.linspace(0.0, 1.0, LUT_SIZE))[:, :3], dtype=np.float32)


def colormap_lut(name: str) -> torch.Tensor:
    """The 256-entry RGB lookup table of colour map ``name``.

    Entry ``i`` is the colour of the normalised value ``i / 255``, taken from matplotlib for
    every map of :data:`~specnb.representations.settings.COLORMAP_FAMILIES`. ``"hsv-uniform"``
    is specnb's own: hue running linearly from 0 (red) to 5/6 (magenta) with saturation and
    value 1; :func:`to_image` feeds it histogram-equalised values (:func:`equalise`), so the
    hues of an image are uniformly distributed.

    Parameters
    ----------
    name : str
        A colour map name, e.g. ``"viridis"``, ``"gray"``, ``"coolwarm"``, ``"twilight"``,
        ``"tab10"`` or ``"hsv-uniform"``.

    Returns
    -------
    torch.Tensor, float32, shape (256, 3)
        RGB in [0, 1].

    Raises
    ------
    ValueError
        If ``name`` is not an offered colour map (the message names ``colormap``).

    Examples
    --------
    >>> colormap_lut("gray")[[0, 255]].tolist()
    [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]
    """
    return torch.from_numpy(_lut_array(name).copy())


def _colour(values: torch.Tensor, name: str) -> torch.Tensor:
    """Map values in [0, 1] of shape (B, F, T) to RGB of shape (B, 3, F, T)."""
    lut = colormap_lut(name).to(values.device)
    pos = values.clamp(0.0, 1.0) * (LUT_SIZE - 1)
    if name in _QUALITATIVE:
        return lut[pos.round().long()].permute(0, 3, 1, 2)
    left = pos.detach().floor().clamp(max=LUT_SIZE - 2).long()
    frac = (pos - left.to(pos.dtype)).unsqueeze(-1)
    rgb = lut[left] * (1.0 - frac) + lut[left + 1] * frac
    return rgb.permute(0, 3, 1, 2)


def to_image(
    raw: ArrayLike, colormap: str = "viridis", size: int = 128, *, per_row: bool = False
) -> torch.Tensor:
    """Render raw representation(s) as RGB model image(s).

    Parameters
    ----------
    raw : np.ndarray or torch.Tensor, shape (F, T) or (B, F, T)
        Raw representation, frequency (or coefficient) index along ``F`` with the lowest
        first, as librosa returns it.
    colormap : str
        Colour map name (see :func:`colormap_lut`); ``"hsv-uniform"`` histogram-equalises
        first.
    size : int
        Side of the square output in pixels.
    per_row : bool
        Scale each row to [0, 1] by its own range (:func:`normalise`) before the colour map;
        ``"hsv-uniform"`` then equalises the scaled rows together.

    Returns
    -------
    torch.Tensor, float32, shape (3, size, size) or (B, 3, size, size)
        RGB in [0, 1] on the device of ``raw`` (CPU for numpy input); row 0 is the HIGHEST
        frequency. Differentiable with respect to a tensor ``raw`` except for qualitative maps
        and ``"hsv-uniform"``.

    Raises
    ------
    ValueError
        For an unknown ``colormap``, a non-positive ``size`` or a bad ``raw`` (see
        :func:`normalise`).

    Examples
    --------
    >>> to_image(np.zeros((513, 216)), "magma", size=64).shape
    torch.Size([3, 64, 64])
    """
    _check_colormap(colormap)
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise ParameterError(f"size must be a positive integer, got {size!r}")
    scaled, _ = normalise(raw, per_row=per_row)
    single = scaled.ndim == 2
    batch = scaled.unsqueeze(0) if single else scaled
    if colormap == "hsv-uniform":
        batch = equalise(batch)
    rgb = _colour(batch.flip(-2), colormap)
    image = F.interpolate(rgb, size=(size, size), mode="bilinear", align_corners=False)
    image = image.clamp(0.0, 1.0)
    return image[0] if single else image


def scales_per_row(setting: Setting) -> bool:
    """Whether images of ``setting`` scale each row by its own range (MFCC ``per_coefficient``)."""
    return bool(getattr(setting, "per_coefficient", False))


def setting_image(
    raw: ArrayLike, setting: Setting, size: int = 128, *, colormap: Union[str, None] = None
) -> torch.Tensor:
    """Render raw representation(s) as model image(s) under the image fields of ``setting``.

    :func:`to_image` with the setting's colour map and row scaling (:func:`scales_per_row`):
    the one way from a representation of ``setting`` to the images its models see.

    Parameters
    ----------
    raw, size
        As for :func:`to_image`; ``raw`` made with ``setting``.
    setting : Setting
        The representation's setting.
    colormap : str, optional
        A colour map to use instead of ``setting.colormap`` (the row scaling is kept).

    Returns
    -------
    torch.Tensor, float32, shape (3, size, size) or (B, 3, size, size)
        As :func:`to_image`; differentiable with respect to a tensor ``raw`` as it is.

    Examples
    --------
    >>> from specnb.representations import make_setting
    >>> raw = np.array([[-500.0, -490.0], [1.0, 2.0]])
    >>> paper = setting_image(raw, make_setting("mfcc"), size=2)
    >>> rows = setting_image(raw, make_setting("mfcc", per_coefficient=True), size=2)
    >>> bool(torch.equal(paper, to_image(raw, "viridis", 2))), bool(torch.equal(rows, paper))
    (True, False)
    """
    name = setting.colormap if colormap is None else colormap
    return to_image(raw, name, size, per_row=scales_per_row(setting))


def _invert_colour(pixels: torch.Tensor, name: str, chunk: int = 16384) -> torch.Tensor:
    """Normalised value of each RGB pixel (shape (P, 3)) under colour map ``name``."""
    if name == "gray":
        return pixels.mean(dim=-1)
    lut = colormap_lut(name).to(pixels.device)
    index = torch.arange(LUT_SIZE, dtype=torch.float32, device=pixels.device)
    # A run of identical entries (qualitative maps) stands for the middle of its run.
    same = (lut[:, None, :] == lut[None, :, :]).all(dim=-1).to(torch.float32)
    centre = (same @ index) / same.sum(dim=1)
    start, end = lut[:-1], lut[1:]
    seg = end - start
    seg_len2 = (seg * seg).sum(dim=-1).clamp_min(1e-12)
    out = []
    for part in pixels.split(chunk):
        if name in _QUALITATIVE:
            nearest = torch.cdist(part, lut, compute_mode="donot_use_mm_for_euclid_dist")
            nearest = nearest.argmin(dim=-1)
            out.append(centre[nearest] / (LUT_SIZE - 1))
            continue
        # Project each pixel on every segment of the colour curve, keep the closest point.
        rel = part[:, None, :] - start[None]
        t = ((rel * seg[None]).sum(dim=-1) / seg_len2).clamp(0.0, 1.0)
        dist = (rel - t[..., None] * seg[None]).square().sum(dim=-1)
        best = dist.argmin(dim=-1)
        frac = t.gather(1, best[:, None])[:, 0]
        out.append((best.to(torch.float32) + frac) / (LUT_SIZE - 1))
    return torch.cat(out)


def image_to_raw(
    image: ArrayLike,
    colormap: str,
    value_range: ArrayLike,
    shape: tuple[int, int],
    *,
    per_row: bool = False,
) -> np.ndarray:
    """Approximately invert :func:`to_image`, e.g. to listen to an adversarial image.

    Each pixel's colour is mapped back to a normalised value (exactly for ``"gray"``, by the
    closest point on the colour map's curve otherwise; a qualitative colour gives the middle
    of its run), the image is flipped back and resized bilinearly to ``shape``, and the values
    are scaled to ``value_range``. For ``"hsv-uniform"`` the result is the equalised rank
    spread over the range, a monotone but not level-preserving approximation.

    Parameters
    ----------
    image : np.ndarray or torch.Tensor, shape (3, S, S) or (B, 3, S, S)
        RGB image(s) in [0, 1] (values outside are clipped).
    colormap : str
        The colour map the image was rendered with.
    value_range : array-like, shape (2,) or (B, 2); with ``per_row`` (F, 2) or (B, F, 2)
        ``(min, max)`` of the raw representation (of each of its rows), finite with
        ``min <= max``, as returned by :func:`normalise`.
    shape : tuple of int
        ``(F, T)`` of the raw representation.
    per_row : bool
        The image was rendered with ``per_row=True``: one range per row.

    Returns
    -------
    np.ndarray, float32, shape (F, T) or (B, F, T)

    Examples
    --------
    >>> raw = np.random.default_rng(0).uniform(-80, 0, (128, 128)).astype(np.float32)
    >>> back = image_to_raw(to_image(raw, "gray"), "gray", normalise(raw)[1], raw.shape)
    >>> bool(np.abs(back - raw).max() < 1e-3)
    True
    """
    _check_colormap(colormap)
    img = _as_tensor(image, "image").detach()
    single = img.ndim == 3
    batch = img.unsqueeze(0) if single else img
    if batch.ndim != 4 or batch.shape[1] != 3:
        raise ParameterError(
            f"image must have shape (3, S, S) or (B, 3, S, S), got {tuple(img.shape)}"
        )
    b, _, h, w = batch.shape
    pixels = batch.clamp(0.0, 1.0).permute(0, 2, 3, 1).reshape(-1, 3)
    values = _invert_colour(pixels, colormap).reshape(b, 1, h, w).flip(-2)
    n_freq, n_time = (int(n) for n in shape)
    values = F.interpolate(values, size=(n_freq, n_time), mode="bilinear", align_corners=False)
    rng = _check_range(value_range, n_freq if per_row else None, b).to(values.device)
    raw = rng[..., :1] + values[:, 0] * (rng[..., 1:] - rng[..., :1])
    out = raw.cpu().numpy().astype(np.float32)
    return out[0] if single else out


def _check_range(value_range: ArrayLike, n_rows: Union[int, None], n_images: int) -> torch.Tensor:
    """``value_range`` as a (B or 1, n_rows or 1, 2) tensor of finite ``(min, max)`` pairs."""
    if not isinstance(value_range, torch.Tensor):
        value_range = np.asarray(value_range)
    rng = _as_tensor(value_range, "value_range").detach()
    want = (2,) if n_rows is None else (n_rows, 2)
    if tuple(rng.shape[-len(want) :]) != want or rng.ndim > len(want) + 1:
        expected = "(2,) or (B, 2)" if n_rows is None else f"({n_rows}, 2) or (B, {n_rows}, 2)"
        raise ParameterError(
            f"value_range must have shape {expected} (per_row={n_rows is not None}), "
            f"got {tuple(rng.shape)}"
        )
    rng = rng.reshape(-1, 1 if n_rows is None else n_rows, 2)
    if rng.shape[0] not in (1, n_images):
        raise ParameterError(f"value_range holds {rng.shape[0]} ranges for {n_images} images")
    if not bool(torch.isfinite(rng).all()) or bool((rng[..., 0] > rng[..., 1]).any()):
        pairs = rng.reshape(-1, 2).tolist()
        raise ParameterError(f"value_range must hold finite (min, max) pairs, min <= max: {pairs}")
    return rng
