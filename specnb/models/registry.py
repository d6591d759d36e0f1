"""The model registry: names, construction with optional local ImageNet weights, sizes.

| name | backbone | input scaling | ImageNet weights |
|---|---|---|---|
| resnet18 | torchvision ResNet-18, ``fc`` replaced | ImageNet mean/std | yes |
| resnet34 | torchvision ResNet-34, ``fc`` replaced | ImageNet mean/std | yes |
| resnet56 | CIFAR-style ResNet-56, stride-2 stem | (x - 0.5) / 0.5 | no |
| alexnet | torchvision AlexNet, stride-2 first conv | ImageNet mean/std | yes |
| googlenet | torchvision GoogLeNet with auxiliary heads | (x - 0.5) / 0.5 | yes |
| sbcnn | Salamon & Bello (2017) SB-CNN | (x - 0.5) / 0.5 | no |
| lstm | 2-layer bidirectional LSTM over columns | (x - 0.5) / 0.5 | no |
| convnet1d | M5-style 1D ConvNet on waveforms (B, 1, 1, N) | (x - 0.5) / 0.25 | no |

:data:`MODELS` lists the image models; :data:`WAVEFORM_MODELS` the models of waveforms
stored as one-row images ``(y / 2 + 1) / 2`` (see :mod:`specnb.models.waveform`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from os import PathLike
from typing import Any

import torch
from torch import nn

from specnb.errors import ModelError
from specnb.models.classic import build_alexnet, build_googlenet
from specnb.models.classifier import AuxClassifier, Classifier
from specnb.models.lstm import LSTMClassifier
from specnb.models.normalisation import HALF_MEAN, HALF_STD, IMAGENET_MEAN, IMAGENET_STD, Normalise
from specnb.models.pretrained import load_pretrained
from specnb.models.resnet import ResNet56, build_resnet18, build_resnet34
from specnb.models.sbcnn import SBCNN
from specnb.models.waveform import WAVEFORM_HEADROOM, ConvNet1D

__all__ = [
    "IMAGE_SHAPE",
    "MODELS",
    "WAVEFORM_MODELS",
    "WAVEFORM_SHAPE",
    "ArchSpec",
    "build_model",
    "count_parameters",
    "input_shape",
    "model_info",
]

#: Shape (C, H, W) of the images every model is built for.
IMAGE_SHAPE: tuple[int, int, int] = (3, 128, 128)

#: Shape (C, H, W) of the inputs of the waveform models; -1: any number of samples.
WAVEFORM_SHAPE: tuple[int, int, int] = (1, 1, -1)


@dataclass(frozen=True)
class ArchSpec:
    """How one registered architecture is built.

    Parameters
    ----------
    name : str
        Registry name.
    description : str
        One line for tables and widgets.
    builder : callable
        ``builder(num_classes) -> nn.Module`` returning the randomly initialised backbone.
    mean, std : tuple of float
        Per-channel input normalisation applied to ``[0, 1]`` images.
    head : tuple of str
        Backbone modules producing class logits; reinitialised when ImageNet weights load.
        Empty for architectures without ImageNet weights.
    optional : tuple of str
        Backbone modules allowed to be absent from an ImageNet weights file.
    aux_heads : tuple of str
        Backbone modules used only for the training loss (not by evaluation forward).
    input_shape : tuple of int
        (C, H, W) of the model's inputs: :data:`IMAGE_SHAPE` or :data:`WAVEFORM_SHAPE`.
    """

    name: str
    description: str
    builder: Callable[[int], nn.Module]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    head: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    aux_heads: tuple[str, ...] = ()
    input_shape: tuple[int, int, int] = IMAGE_SHAPE

    @property
    def accepts_pretrained(self) -> bool:
        """Whether ImageNet weights from torchvision can initialise this architecture."""
        return bool(self.head)


_SPECS: dict[str, ArchSpec] = {
    spec.name: spec
    for spec in (
        ArchSpec(
            "resnet18",
            "ResNet-18 (torchvision), 7x7 stride-2 stem",
            build_resnet18,
            IMAGENET_MEAN,
            IMAGENET_STD,
            head=("fc",),
        ),
        ArchSpec(
            "resnet34",
            "ResNet-34 (torchvision), 7x7 stride-2 stem",
            build_resnet34,
            IMAGENET_MEAN,
            IMAGENET_STD,
            head=("fc",),
        ),
        ArchSpec(
            "resnet56",
            "ResNet-56 (CIFAR-style, 16/32/64 filters), stride-2 stem",
            ResNet56,
            HALF_MEAN,
            HALF_STD,
        ),
        ArchSpec(
            "alexnet",
            "AlexNet (torchvision), stride-2 first convolution",
            build_alexnet,
            IMAGENET_MEAN,
            IMAGENET_STD,
            head=("classifier.6",),
        ),
        ArchSpec(
            "googlenet",
            "GoogLeNet (torchvision) with auxiliary heads",
            build_googlenet,
            HALF_MEAN,
            HALF_STD,
            head=("fc", "aux1.fc2", "aux2.fc2"),
            optional=("aux1", "aux2"),
            aux_heads=("aux1", "aux2"),
        ),
        ArchSpec(
            "sbcnn",
            "SB-CNN (Salamon & Bello 2017)",
            SBCNN,
            HALF_MEAN,
            HALF_STD,
        ),
        ArchSpec(
            "lstm",
            "2-layer bidirectional LSTM over time frames",
            LSTMClassifier,
            HALF_MEAN,
            HALF_STD,
        ),
        ArchSpec(
            "convnet1d",
            "1D ConvNet on the waveform (M5-style)",
            ConvNet1D,
            (0.5,),
            (0.5 / WAVEFORM_HEADROOM,),
            input_shape=WAVEFORM_SHAPE,
        ),
    )
}

#: Registered image architectures; ``"resnet18"`` is the primary victim model.
MODELS: tuple[str, ...] = tuple(n for n, s in _SPECS.items() if s.input_shape == IMAGE_SHAPE)

#: Registered waveform architectures (inputs (B, 1, 1, N) in [0, 1]).
WAVEFORM_MODELS: tuple[str, ...] = tuple(n for n in _SPECS if n not in MODELS)


def _spec(name: str, num_classes: int) -> ArchSpec:
    if name not in _SPECS:
        known = ", ".join(MODELS + WAVEFORM_MODELS)
        raise ModelError(f"unknown model {name!r}; known models: {known}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ModelError(f"num_classes must be an integer >= 2, got {num_classes!r}")
    return _SPECS[name]


def input_shape(name: str) -> tuple[int, int, int]:
    """(C, H, W) of the inputs model ``name`` takes; -1 stands for any size.

    Parameters
    ----------
    name : str
        A registered model.

    Returns
    -------
    tuple of int
        :data:`IMAGE_SHAPE` or :data:`WAVEFORM_SHAPE`.

    Raises
    ------
    ModelError
        For an unknown name.

    Examples
    --------
    >>> input_shape("convnet1d")
    (1, 1, -1)
    """
    return _spec(name, 2).input_shape


def _construct(spec: ArchSpec, num_classes: int) -> Classifier:
    wrapper = AuxClassifier if spec.aux_heads else Classifier
    normalise = Normalise(spec.mean, spec.std)
    return wrapper(spec.name, num_classes, normalise, spec.builder(num_classes))


def build_model(
    name: str,
    num_classes: int,
    *,
    pretrained: str | PathLike[str] | None = None,
    seed: int | None = None,
) -> Classifier:
    """Build a registered architecture for ``[0, 1]`` images of shape (B, 3, 128, 128).

    Waveform models (:data:`WAVEFORM_MODELS`) take one-row images (B, 1, 1, N) instead.

    Parameters
    ----------
    name : str
        One of :data:`MODELS` or :data:`WAVEFORM_MODELS`.
    num_classes : int
        Number of classes, at least 2.
    pretrained : str or os.PathLike, optional
        ``"imagenet"``: torchvision's own ImageNet weights, from torch's hub cache (downloaded
        there once when online; offline, the error names the file to place and where); or a
        local file holding the torchvision ImageNet ``state_dict`` of the same architecture.
        Every layer but the classifier head is loaded. Only ``resnet18``, ``resnet34``,
        ``alexnet`` and ``googlenet`` accept it.
    seed : int, optional
        Seed for the random initialisation (the global RNG state is left untouched); ``None``
        draws from the global RNG.

    Returns
    -------
    Classifier
        On the CPU, in training mode; its first module is the input :class:`Normalise`.

    Raises
    ------
    ModelError
        For an unknown name, ``num_classes < 2``, ``pretrained`` given for an architecture
        without ImageNet weights, or a weights file that is missing or does not match.

    Examples
    --------
    >>> model = build_model("resnet18", 10, seed=0).eval()
    >>> model(torch.rand(2, 3, 128, 128)).shape
    torch.Size([2, 10])
    """
    spec = _spec(name, num_classes)
    if pretrained is not None and not spec.accepts_pretrained:
        accepting = [n for n, s in _SPECS.items() if s.accepts_pretrained]
        raise ModelError(
            f"model {name!r} has no ImageNet weights (pretrained={str(pretrained)!r}); "
            f"pretrained weights are accepted by: {', '.join(accepting)}"
        )
    if seed is None:
        model = _construct(spec, num_classes)
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = _construct(spec, num_classes)
    if pretrained is not None:
        load_pretrained(model.backbone, pretrained, name, spec.head, spec.optional)
    return model


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters (``requires_grad``) of a model.

    Parameters
    ----------
    model : nn.Module
        Any module.

    Returns
    -------
    int
        Total element count of the parameters that require gradients.
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def model_info(name: str, num_classes: int) -> dict[str, Any]:
    """Size and set-up of an architecture, without allocating its weights.

    Parameters
    ----------
    name : str
        One of :data:`MODELS` or :data:`WAVEFORM_MODELS`.
    num_classes : int
        Number of classes, at least 2.

    Returns
    -------
    dict
        ``name``, ``description``, ``num_classes``, ``parameters`` (trainable, auxiliary
        heads included), ``aux_parameters`` (those used only by the training loss),
        ``input_shape`` (C, H, W), ``mean``, ``std`` and ``accepts_pretrained``.

    Examples
    --------
    >>> model_info("resnet18", 10)["parameters"]
    11181642
    """
    spec = _spec(name, num_classes)
    with torch.device("meta"):
        model = _construct(spec, num_classes)
    aux = sum(count_parameters(model.backbone.get_submodule(m)) for m in spec.aux_heads)
    return {
        "name": name,
        "description": spec.description,
        "num_classes": num_classes,
        "parameters": count_parameters(model),
        "aux_parameters": aux,
        "input_shape": spec.input_shape,
        "mean": spec.mean,
        "std": spec.std,
        "accepts_pretrained": spec.accepts_pretrained,
    }
