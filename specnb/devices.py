"""Which device a computation runs on: the one rule every room uses (CUDA when present)."""

from __future__ import annotations

import torch

from specnb.errors import ParameterError

__all__ = ["resolve_device"]


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """The device to compute on: CUDA when available for ``"auto"``/``None``, else as named.

    Parameters
    ----------
    device : str, torch.device or None
        ``"auto"`` or ``None`` for CUDA when a CUDA device is available, else the CPU; any
        other name (``"cpu"``, ``"cuda"``, ``"cuda:1"``) or a ``torch.device`` is checked.

    Returns
    -------
    torch.device

    Raises
    ------
    ParameterError
        When CUDA is named but not available; the message names the device.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ParameterError(f"device={str(device)!r} but CUDA is not available; use 'cpu'")
    return resolved
