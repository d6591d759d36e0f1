"""Victim models: seven architectures taking [0, 1] images (B, 3, 128, 128) to logits.

Modules
-------
- ``classic`` -- AlexNet and GoogLeNet from torchvision, adapted to 128×128 images.
- ``classifier`` -- The model wrapper shared by every architecture: normalisation first, then the
  backbone.
- ``lstm`` -- An LSTM classifier that reads the image's columns (time frames) as a sequence.
- ``normalisation`` -- Per-channel input normalisation placed inside every model.
- ``pretrained`` -- ImageNet weights for the torchvision-derived backbones, read from a local file
  only.
- ``registry`` -- The model registry: names, construction with optional local ImageNet weights,
  sizes.
- ``resnet`` -- Residual networks: ResNet-18/34 (torchvision) and a CIFAR-style ResNet-56.
- ``sbcnn`` -- SB-CNN, the environmental-sound CNN of Salamon & Bello (2017), on 3-channel images.
- ``waveform`` -- An end-to-end 1D ConvNet on the raw waveform, in the spirit of Dai et al.'s M5
  (2017).
"""

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
