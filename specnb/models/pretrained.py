"""ImageNet weights for the torchvision-derived backbones, read from a local file only.

The file must hold a torchvision ``state_dict`` of the same architecture (as saved by
``torch.save(model.state_dict(), path)`` or downloaded by hand from torchvision's model page).
Every tensor except the classifier head must match by name and shape; the head is left at its
random initialisation because its class count differs. Nothing is ever downloaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from pathlib import Path

import torch
from torch import nn

from specnb.errors import ModelError

__all__ = ["load_pretrained"]

_SHOWN = 3


def _matches(key: str, prefixes: tuple[str, ...]) -> bool:
    return any(key == p or key.startswith(p + ".") for p in prefixes)


def _read_state_dict(path: Path, arch: str) -> Mapping[str, torch.Tensor]:
    if not path.is_file():
        raise ModelError(f"pretrained weights for {arch!r}: file {path} does not exist")
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for non-checkpoint files
        raise ModelError(
            f"pretrained weights for {arch!r}: {path} is not a readable torch checkpoint "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
        ) from exc
    if isinstance(loaded, Mapping) and isinstance(loaded.get("state_dict"), Mapping):
        loaded = loaded["state_dict"]
    if not (
        isinstance(loaded, Mapping)
        and loaded
        and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in loaded.items())
    ):
        raise ModelError(
            f"pretrained weights for {arch!r}: {path} holds a {type(loaded).__name__}, not a "
            "state_dict mapping parameter names to tensors"
        )
    return loaded


def load_pretrained(
    backbone: nn.Module,
    path: str | PathLike[str],
    arch: str,
    head: tuple[str, ...],
    optional: tuple[str, ...] = (),
) -> None:
    """Copy a torchvision checkpoint into ``backbone``, except its classifier head.

    Parameters
    ----------
    backbone : nn.Module
        The freshly built torchvision network; modified in place.
    path : str or os.PathLike
        Local ``.pth`` file holding the state_dict.
    arch : str
        Architecture name, used in error messages.
    head : tuple of str
        Module names whose tensors are reinitialised rather than loaded (e.g. ``("fc",)``).
    optional : tuple of str
        Module names whose tensors may be absent from the file (they keep their random
        initialisation), e.g. GoogLeNet's auxiliary heads.

    Raises
    ------
    ModelError
        If the file is missing, unreadable, not a state_dict, or its names or shapes differ
        from ``arch``; the message names the file, the architecture and the first mismatches.
    """
    path = Path(path)
    loaded = _read_state_dict(path, arch)
    expected = {k: v for k, v in backbone.state_dict().items() if not _matches(k, head)}
    given = {k: v for k, v in loaded.items() if not _matches(k, head)}
    missing = [
        k
        for k in expected
        if k not in given and not _matches(k, optional) and not k.endswith("num_batches_tracked")
    ]
    unexpected = [k for k in given if k not in expected]
    reshaped = [
        f"{k}: file {tuple(given[k].shape)} vs model {tuple(v.shape)}"
        for k, v in expected.items()
        if k in given and given[k].shape != v.shape
    ]
    if missing or unexpected or reshaped:
        parts = [
            f"{len(items)} {what} (e.g. {', '.join(items[:_SHOWN])})"
            for what, items in (
                ("missing keys", missing),
                ("unexpected keys", unexpected),
                ("shape mismatches", reshaped),
            )
            if items
        ]
        raise ModelError(
            f"{path} does not hold torchvision {arch!r} weights: " + "; ".join(parts)
        )
    backbone.load_state_dict({k: v for k, v in given.items() if k in expected}, strict=False)
