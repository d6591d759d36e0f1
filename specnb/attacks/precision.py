"""The victim in the faster precision: bfloat16 autocast with channels-last inputs.

An attack built with ``precision="bf16"`` (:func:`specnb.attacks.make_attack`) sees its
victim through :class:`MixedPrecisionModel`: every forward pass runs under autocast
(bfloat16 on a CPU, float16 on CUDA) on channels-last inputs and returns float32 logits, so
the attack's own arithmetic (steps, projections, its loss) stays in float32 and its input
gradients come back in float32. Whether an example fools the model is still judged by the
caller on the model itself, in float32. Gradient computations are counted as in float32
(the attack counts its backward passes; a hook on the model input sees the same passes).
``$SPECNB_PRECISION`` (:func:`specnb.devices.forced_precision`) overrides the option.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from specnb.devices import check_precision, forced_precision

__all__ = ["MixedPrecisionModel", "attack_precision", "in_precision", "precision_param"]


class _ChannelsLast(torch.autograd.Function):
    """Channels-last copy of a batch whose gradient comes back in the caller's contiguous
    layout (attacks view gradients as flat rows)."""

    @staticmethod
    def forward(ctx: object, images: Tensor) -> Tensor:  # type: ignore[override]
        return images.contiguous(memory_format=torch.channels_last)

    @staticmethod
    def backward(ctx: object, grad: Tensor) -> Tensor:  # type: ignore[override]
        return grad.contiguous()


class MixedPrecisionModel(nn.Module):
    """A classifier run under autocast on channels-last inputs, returning float32 logits.

    The wrapped model itself is left as it is (its weights are cast inside autocast).

    Parameters
    ----------
    model : torch.nn.Module
        Maps (B, C, H, W) images to (B, K) logits.

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.LazyLinear(2))
    >>> fast = MixedPrecisionModel(net)
    >>> fast(torch.rand(2, 3, 8, 8)).dtype
    torch.float32
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.training = model.training

    def forward(self, images: Tensor) -> Tensor:
        """Logits of ``images`` (float32), computed in mixed precision."""
        dtype = torch.float16 if images.device.type == "cuda" else torch.bfloat16
        with torch.autocast(images.device.type, dtype=dtype):
            logits = self.model(_ChannelsLast.apply(images))
        return logits.float()


def attack_precision(precision: str) -> str:
    """The precision an attack runs its victim in: ``$SPECNB_PRECISION`` when set, else
    ``precision`` (``"fp32"`` or ``"bf16"``; a bad value is a ``ParameterError``)."""
    chosen = check_precision("precision", precision, allow_auto=False)
    return forced_precision() or chosen


def in_precision(model: nn.Module, precision: str) -> nn.Module:
    """``model`` as an attack runs it in ``precision`` (see :func:`attack_precision`): itself
    for float32, else wrapped in :class:`MixedPrecisionModel`."""
    if attack_precision(precision) == "fp32":
        return model
    return MixedPrecisionModel(model)


def precision_param(precision: str) -> dict[str, str]:
    """What the precision adds to an attack's stored parameters (and so to its key): nothing
    for float32, so that the keys of float32 attacks stay as they were; else
    ``{"precision": precision}``.

    Examples
    --------
    >>> precision_param("fp32"), precision_param("bf16")
    ({}, {'precision': 'bf16'})
    """
    return {} if precision == "fp32" else {"precision": precision}
