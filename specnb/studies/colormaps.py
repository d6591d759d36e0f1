"""Colour maps as a study variable (§5.5, Table 8).

The paper renders every representation through a colour map before the CNN sees it, and asks
whether the choice matters: one map from each family — sequential, diverging, cyclic,
qualitative — and the uniformly distributed HSV rendering. :func:`colormap_variants` gives the
setting changes of such a comparison for :func:`~specnb.runs.variants.variants`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from specnb.errors import ParameterError
from specnb.representations import COLORMAP_FAMILIES, COLORMAPS, Setting
from specnb.representations.images import setting_image, to_image

__all__ = [
    "ALL_COLORMAPS",
    "DEFAULT_COLORMAPS",
    "colormap_family",
    "colormap_variants",
    "render_colormaps",
]

#: One colour map per family, the first of each family in ``COLORMAP_FAMILIES`` order except
#: where a better-known member exists, and the uniform HSV rendering.
DEFAULT_COLORMAPS = ("viridis", "coolwarm", "twilight", "tab20", "hsv-uniform")


#: Every colour map offered, family by family.
ALL_COLORMAPS = COLORMAPS


def colormap_family(name: str) -> str:
    """The family of a colour map (``"sequential"``, ..., ``"uniform"``).

    Raises
    ------
    ValueError
        An unknown colour map (the message lists the families).

    Examples
    --------
    >>> colormap_family("twilight")
    'cyclic'
    """
    for family, names in COLORMAP_FAMILIES.items():
        if name in names:
            return family
    raise ParameterError(
        f"colour map {name!r} is not offered; families: "
        + "; ".join(f"{f}: {', '.join(n)}" for f, n in COLORMAP_FAMILIES.items())
    )


def colormap_variants(colormaps: Sequence[str] | None = None) -> dict[str, dict[str, str]]:
    """Setting changes of a colour-map comparison, by colour map name.

    Parameters
    ----------
    colormaps : sequence of str, optional
        Default :data:`DEFAULT_COLORMAPS`.

    Returns
    -------
    dict of str to dict
        ``{name: {"colormap": name}}``, in the order given.

    Raises
    ------
    ValueError
        An unknown colour map, a repeated one, or an empty list.

    Examples
    --------
    >>> colormap_variants(["viridis", "hsv-uniform"])
    {'viridis': {'colormap': 'viridis'}, 'hsv-uniform': {'colormap': 'hsv-uniform'}}
    """
    names = list(DEFAULT_COLORMAPS if colormaps is None else colormaps)
    if not names:
        raise ParameterError("COLORMAPS is empty: name at least one colour map")
    if len(set(names)) < len(names):
        raise ParameterError(f"COLORMAPS repeats a colour map: {names}")
    for name in names:
        colormap_family(name)
    return {name: {"colormap": name} for name in names}


def render_colormaps(
    raw: ArrayLike,
    colormaps: Sequence[str] = ALL_COLORMAPS,
    size: int = 128,
    *,
    setting: Setting | None = None,
) -> dict[str, np.ndarray]:
    """One representation rendered as the model image under each colour map.

    Parameters
    ----------
    raw : array, shape (n_rows, n_frames)
        A representation in dB (e.g. from :func:`specnb.representations.represent`).
    colormaps : sequence of str
        Colour map names (default every one offered).
    size : int
        Side of the square image, in pixels.
    setting : Setting, optional
        The setting ``raw`` was made with: its image fields apply (an MFCC's
        ``per_coefficient`` row scaling), its colour map replaced by each of ``colormaps``.
        None: one range per image.

    Returns
    -------
    dict of str to np.ndarray, float32, shape (3, size, size), values in [0, 1]
        By colour map, in the order given.

    Examples
    --------
    >>> images = render_colormaps(np.random.default_rng(0).normal(size=(64, 40)),
    ...                           ["gray", "hsv-uniform"], size=32)
    >>> images["gray"].shape, bool(np.allclose(images["gray"][0], images["gray"][2]))
    ((3, 32, 32), True)
    """
    for name in colormaps:
        colormap_family(name)
    return {
        name: (
            to_image(raw, name, size)
            if setting is None
            else setting_image(raw, setting, size, colormap=name)
        ).numpy()
        for name in colormaps
    }
