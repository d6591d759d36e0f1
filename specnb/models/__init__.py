"""Victim models: seven architectures taking [0, 1] images (B, 3, 128, 128) to logits."""

from specnb.errors import ModelError
from specnb.models.classifier import AuxClassifier, Classifier
from specnb.models.normalisation import IMAGENET_MEAN, IMAGENET_STD, Normalise
from specnb.models.registry import (
    IMAGE_SHAPE,
    MODELS,
    ArchSpec,
    build_model,
    count_parameters,
    model_info,
)

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "IMAGE_SHAPE",
    "MODELS",
    "ArchSpec",
    "AuxClassifier",
    "Classifier",
    "ModelError",
    "Normalise",
    "build_model",
    "count_parameters",
    "model_info",
]
