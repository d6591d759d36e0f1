"""A 2D-trained model attacked on the waveform: waveform → representation → image → model.

:class:`WaveformPipeline` chains the differentiable torch front end of a representation
setting (:func:`specnb.representations.torch_backend.front_end`), the rendering of
:func:`specnb.representations.images.to_image` (min-max normalisation, colour map, bilinear resize;
all torch
operations, differentiable for every colour map but the qualitative ones and
``"hsv-uniform"``) and a 2D classifier, as one :class:`torch.nn.Module` that takes waveforms in
the [0, 1] layout of the waveform models (:func:`specnb.raw_audio.to_unit`). The attacks of
:mod:`specnb.attacks` then run on the waveform of a model trained on images, and the
perturbation is measured as an SNR in dB.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from specnb.errors import ParameterError
from specnb.models.registry import IMAGE_SHAPE
from specnb.raw_audio.waveforms import from_unit
from specnb.representations.images import setting_image
from specnb.representations.reference import check_setting
from specnb.representations.settings import COLORMAP_FAMILIES, Setting
from specnb.representations.torch_backend import front_end

__all__ = ["IMAGE_TOLERANCE", "WaveformPipeline"]

#: Largest pixel difference allowed between :meth:`WaveformPipeline.image` and
#: :func:`specnb.representations.images.setting_image` of the representation of the same waveform
#: (librosa or torch backend; measured: at most 1.3e-5 against librosa, 0 against the torch
#: backend). Images made from the original float32 clip, before the [0, 1] layout, differ by
#: more: storing
#: ``(y / 2 + 1) / 2`` in float32 rounds each sample by up to 2.4e-7, which cells at the 80 dB
#: floor of quiet clips feel (measured: up to 5e-3, about one 8-bit grey level).
IMAGE_TOLERANCE = 1e-4

_NOT_DIFFERENTIABLE = frozenset(COLORMAP_FAMILIES["qualitative"]) | {"hsv-uniform"}


class WaveformPipeline(nn.Module):
    """Waveforms (B, 1, 1, N) in [0, 1] to the logits of a model trained on images.

    Parameters
    ----------
    setting : Setting
        Representation setting the classifier was trained on (colour map included).
    classifier : nn.Module
        Maps [0, 1] images (B, 3, 128, 128) to logits; kept as a submodule.

    Raises
    ------
    ValueError
        For a colour map through which no gradient flows (qualitative maps, ``"hsv-uniform"``).

    Examples
    --------
    >>> from specnb.models import build_model
    >>> from specnb.representations import make_setting
    >>> pipe = WaveformPipeline(make_setting("stft", sr=8000, n_fft=256),
    ...                         build_model("sbcnn", 10, seed=0)).eval()
    >>> pipe(torch.full((2, 1, 1, 8000), 0.5) + 0.01 * torch.rand(2, 1, 1, 8000)).shape
    torch.Size([2, 10])
    """

    def __init__(self, setting: Setting, classifier: nn.Module) -> None:
        super().__init__()
        self.setting = check_setting(setting)
        if self.setting.colormap in _NOT_DIFFERENTIABLE:
            raise ParameterError(
                f"colormap={self.setting.colormap!r} is piecewise constant: no gradient reaches "
                "the waveform; choose a sequential, diverging or cyclic map"
            )
        self.front = copy.deepcopy(front_end(self.setting, device="cpu"))
        self.classifier = classifier
        param = next(classifier.parameters(), None)
        if param is not None:
            self.front.to(param.device)

    def image(self, inputs: torch.Tensor) -> torch.Tensor:
        """Model images (B, 3, 128, 128) in [0, 1] of waveforms (B, 1, 1, N) in [0, 1]."""
        raw = self.front(from_unit(inputs))
        return setting_image(raw, self.setting, IMAGE_SHAPE[-1])

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Logits (B, K) of waveforms (B, 1, 1, N) in [0, 1]."""
        return self.classifier(self.image(inputs))
