"""ImageNet weights for the torchvision-derived backbones: torchvision's own, or a local file.

``pretrained="imagenet"`` takes torchvision's ``IMAGENET1K_V1`` weights of the architecture,
as a torchvision user gets them: the file is read from torch's hub cache
(``torch.hub.get_dir()/checkpoints``, ``$TORCH_HOME/hub/checkpoints``), and downloaded there
once when it is missing and the machine is online; offline, the error names the file to place
and the folder to place it in. Any other value is a local file holding a torchvision
``state_dict`` of the same architecture (as saved by ``torch.save(model.state_dict(), path)``).
Every tensor except the classifier head must match by name and shape; the head is left at its
random initialisation because its class count differs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from urllib.parse import urlparse

import torch
import torchvision.models
from torch import nn

from specnb.errors import ModelError

__all__ = ["IMAGENET", "IMAGENET_WEIGHTS", "imagenet_weights_file", "load_pretrained"]

#: The ``pretrained`` value that asks for torchvision's own ImageNet weights.
IMAGENET = "imagenet"

#: torchvision's weights enum of each architecture that has ImageNet weights.
IMAGENET_WEIGHTS: dict[str, str] = {
    "resnet18": "ResNet18_Weights",
    "resnet34": "ResNet34_Weights",
    "alexnet": "AlexNet_Weights",
    "googlenet": "GoogLeNet_Weights",
}


def imagenet_weights_file(arch: str, *, download: bool = True) -> Path:
    """torchvision's ImageNet weights file of ``arch`` in torch's hub cache.

    Parameters
    ----------
    arch : str
        One of :data:`IMAGENET_WEIGHTS`.
    download : bool
        Download the file (checking its hash) when it is not in the cache.

    Returns
    -------
    Path
        ``torch.hub.get_dir() / "checkpoints" / <torchvision's file name>``.

    Raises
    ------
    ModelError
        ``arch`` has no torchvision ImageNet weights, or the file is missing and cannot be
        downloaded; the message names the file, where to place it and its URL.
    """
    if arch not in IMAGENET_WEIGHTS:
        raise ModelError(
            f"model {arch!r} has no torchvision ImageNet weights; they exist for "
            f"{', '.join(IMAGENET_WEIGHTS)}"
        )
    url = getattr(torchvision.models, IMAGENET_WEIGHTS[arch]).IMAGENET1K_V1.url
    name = Path(urlparse(url).path).name
    path = Path(torch.hub.get_dir()) / "checkpoints" / name
    if path.is_file() or not download:
        return path
    digest = re.search(r"-([a-f0-9]+)\.", name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(
            url, str(path), hash_prefix=digest.group(1) if digest else None, progress=True
        )
    except Exception as exc:  # URLError, socket errors, a hash mismatch...
        raise ModelError(
            f"torchvision's ImageNet weights for {arch!r} are not in torch's cache and could "
            f"not be downloaded ({type(exc).__name__}: {exc}); place the file {name} "
            f"(from {url}) in {path.parent}, or pass a local weights file as pretrained"
        ) from exc
    return path


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
        Local ``.pth`` file holding the state_dict, or :data:`IMAGENET` for torchvision's
        own weights (see :func:`imagenet_weights_file`).
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
    path = imagenet_weights_file(arch) if str(path) == IMAGENET else Path(path)
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
        raise ModelError(f"{path} does not hold torchvision {arch!r} weights: " + "; ".join(parts))
    backbone.load_state_dict({k: v for k, v in given.items() if k in expected}, strict=False)
