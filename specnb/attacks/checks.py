"""Checks of attack settings and batches: positive numbers, counts, choices, and a batch of
[0, 1] images with its labels; each error names the parameter and what would be accepted."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from specnb.errors import ParameterError


def check_positive(name: str, value: float, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a float, raising ``ValueError`` naming ``name`` if it is not positive.

    Parameters
    ----------
    name : str
        Parameter name used in the error message.
    value : float
        The value to check; must be finite.
    allow_zero : bool
        Accept ``0`` as well.

    Returns
    -------
    float
        ``value`` converted to ``float``.

    Examples
    --------
    >>> check_positive("eps", 0.1)
    0.1
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ParameterError(f"{name} must be finite and {bound}, got {value}")
    return value


def check_count(name: str, value: int, *, minimum: int = 1) -> int:
    """Return ``value``, raising ``ValueError`` naming ``name`` unless it is an int >= ``minimum``.

    Parameters
    ----------
    name : str
        Parameter name used in the error message.
    value : int
        The value to check.
    minimum : int
        Smallest accepted value.

    Returns
    -------
    int
        ``value``.

    Examples
    --------
    >>> check_count("steps", 10)
    10
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ParameterError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_choice(name: str, value: str, choices: Sequence[str]) -> str:
    """Return ``value``, raising ``ValueError`` naming ``name`` unless it is one of ``choices``.

    Parameters
    ----------
    name : str
        Parameter name used in the error message.
    value : str
        The value to check.
    choices : sequence of str
        Accepted values.

    Returns
    -------
    str
        ``value``.

    Examples
    --------
    >>> check_choice("norm", "l2", ("linf", "l2"))
    'l2'
    """
    if value not in choices:
        raise ParameterError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def check_batch(images: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
    """Validate an attack batch and return detached copies on the images' device.

    Parameters
    ----------
    images : torch.Tensor, shape (B, C, H, W)
        Floating-point images in [0, 1].
    labels : torch.Tensor, shape (B,)
        Integer class labels.

    Returns
    -------
    images, labels : torch.Tensor
        ``images`` detached, ``labels`` as int64 on ``images.device``.

    Examples
    --------
    >>> x, y = check_batch(torch.zeros(2, 3, 4, 4), torch.tensor([0, 1]))
    >>> y.dtype
    torch.int64
    """
    if not isinstance(images, Tensor) or not images.is_floating_point() or images.dim() != 4:
        raise ParameterError("images must be a floating-point tensor of shape (B, C, H, W)")
    if images.shape[0] == 0:
        raise ParameterError("images is an empty batch")
    low, high = (float(v) for v in torch.aminmax(images))
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ParameterError("images contains NaN or infinite values")
    if low < 0 or high > 1:
        raise ParameterError(f"images must lie in [0, 1], got range [{low:.4g}, {high:.4g}]")
    if not isinstance(labels, Tensor) or labels.dim() != 1 or labels.is_floating_point():
        raise ParameterError("labels must be an integer tensor of shape (B,)")
    if labels.shape[0] != images.shape[0]:
        raise ParameterError(
            f"labels has {labels.shape[0]} entries but images holds {images.shape[0]} samples"
        )
    return images.detach(), labels.detach().to(images.device, torch.long)
