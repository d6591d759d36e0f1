"""Which device and which precision a computation runs in: the rules every room uses.

The device: CUDA when present (:func:`resolve_device`). The precision: ``"fp32"`` (float32,
contiguous tensors) or ``"bf16"`` (bfloat16 autocast with channels-last tensors on a CPU;
float16 autocast on CUDA). Training resolves its precision per (device, model) by measurement
(:mod:`specnb.training.precision`); attacks take it as an option. The environment variable
``SPECNB_PRECISION`` (``fp32``, ``bf16`` or ``auto``) forces one precision for every training
run and every attack built by :func:`specnb.attacks.make_attack` (the notebooks' and sweeps'
path) in the process, whatever the settings say: ``fp32`` runs as a CPU without native
bfloat16 would, ``bf16`` takes the mixed-precision path even where the CPU emulates bfloat16.
"""

from __future__ import annotations

import os

import torch

from specnb.errors import ParameterError

__all__ = [
    "PRECISIONS",
    "PRECISION_VARIABLE",
    "check_precision",
    "cpu_bf16_supported",
    "forced_precision",
    "resolve_device",
]

#: The precisions a computation can run in.
PRECISIONS: tuple[str, ...] = ("fp32", "bf16")

#: Environment variable forcing one precision everywhere (``fp32``, ``bf16``; ``auto``/unset:
#: the settings decide).
PRECISION_VARIABLE = "SPECNB_PRECISION"


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


def cpu_bf16_supported() -> bool:
    """Whether this CPU runs bfloat16 convolutions natively (AVX512-BF16 or AMX)."""
    if not torch.backends.mkldnn.is_available():
        return False
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def check_precision(name: str, value: object, *, allow_auto: bool = True) -> str:
    """``value`` if it names a precision (or ``"auto"`` where allowed), else a clear error.

    Parameters
    ----------
    name : str
        The parameter's name, for the message.
    value : object
        The value given.
    allow_auto : bool
        Whether ``"auto"`` is accepted.

    Returns
    -------
    str

    Raises
    ------
    ParameterError
        Naming the parameter, the value and the accepted values.

    Examples
    --------
    >>> check_precision("precision", "bf16")
    'bf16'
    """
    accepted = (*PRECISIONS, "auto") if allow_auto else PRECISIONS
    if not isinstance(value, str) or value not in accepted:
        raise ParameterError(f"{name}={value!r} is not a precision; use one of {accepted}")
    return value


def forced_precision() -> str | None:
    """The precision ``SPECNB_PRECISION`` forces, or None when it is unset, empty or ``auto``.

    Raises
    ------
    ParameterError
        For any other value; the message names the variable and the accepted values.
    """
    value = os.environ.get(PRECISION_VARIABLE, "").strip()
    if value in ("", "auto"):
        return None
    return check_precision(f"${PRECISION_VARIABLE}", value)
