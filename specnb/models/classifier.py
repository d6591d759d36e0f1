"""The model wrapper shared by every architecture: normalisation first, then the backbone.

Every specnb model maps ``[0, 1]`` images of shape (B, 3, H, W) to logits of shape
(B, num_classes), in training and in evaluation mode alike. GoogLeNet's auxiliary heads are
reached through :meth:`AuxClassifier.aux_loss`, never through the forward output.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import GoogLeNetOutputs

from specnb.models.normalisation import Normalise

__all__ = ["AuxClassifier", "Classifier"]


class Classifier(nn.Module):
    """A backbone behind its input normalisation.

    Parameters
    ----------
    arch : str
        Registry name of the architecture (``"resnet18"``, ...), kept for checkpoints.
    num_classes : int
        Number of output logits.
    normalise : Normalise
        The first layer; maps ``[0, 1]`` images to the backbone's input scale.
    backbone : nn.Module
        Maps normalised images (B, 3, H, W) to logits (B, num_classes).

    Examples
    --------
    >>> from specnb.models import build_model
    >>> model = build_model("sbcnn", 10, seed=0).eval()
    >>> model(torch.rand(2, 3, 128, 128)).shape
    torch.Size([2, 10])
    """

    def __init__(
        self, arch: str, num_classes: int, normalise: Normalise, backbone: nn.Module
    ) -> None:
        super().__init__()
        self.normalise = normalise
        self.backbone = backbone
        self.arch = arch
        self.num_classes = num_classes

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits for a batch of images.

        Parameters
        ----------
        images : torch.Tensor, shape (B, 3, H, W)
            Images in ``[0, 1]``.

        Returns
        -------
        torch.Tensor, shape (B, num_classes)
            Unnormalised class scores.
        """
        return self.backbone(self.normalise(images))

    def extra_repr(self) -> str:
        return f"arch={self.arch!r}, num_classes={self.num_classes}"


class AuxClassifier(Classifier):
    """A classifier whose backbone has auxiliary heads used only in training (GoogLeNet).

    ``forward`` returns the main logits in every mode. In training mode it also keeps the
    auxiliary heads' logits of that batch, which :meth:`aux_loss` turns into the auxiliary
    term of the loss without a second forward pass::

        logits = model(images)
        loss = F.cross_entropy(logits, labels)
        aux_loss = getattr(model, "aux_loss", None)
        if aux_loss is not None and model.training:
            loss = loss + aux_loss(images, labels)

    In evaluation mode (attacks, testing) the auxiliary heads are not run at all.
    """

    #: Weight of each auxiliary head's cross-entropy (Szegedy et al., 2015).
    aux_weight: float = 0.3

    def __init__(
        self, arch: str, num_classes: int, normalise: Normalise, backbone: nn.Module
    ) -> None:
        super().__init__(arch, num_classes, normalise, backbone)
        self._aux: tuple[torch.Tensor, list[torch.Tensor]] | None = None

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        out = self.backbone(self.normalise(images))
        if isinstance(out, GoogLeNetOutputs):
            heads = [t for t in (out.aux_logits1, out.aux_logits2) if t is not None]
            self._aux = (images, heads)
            return out.logits
        self._aux = None
        return out

    def aux_loss(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Weighted cross-entropy of the auxiliary heads on a training batch.

        Parameters
        ----------
        images : torch.Tensor, shape (B, 3, H, W)
            The batch just passed to ``forward``; the heads' outputs of that call are reused
            (the same tensor object), otherwise the model is run again on ``images``.
        labels : torch.Tensor, shape (B,), int64
            Class indices.

        Returns
        -------
        torch.Tensor, scalar
            ``aux_weight * sum(cross_entropy(head, labels))``; zero in evaluation mode.
        """
        if not self.training:
            return images.new_zeros(())
        if self._aux is None or self._aux[0] is not images:
            self.forward(images)
        assert self._aux is not None
        heads = self._aux[1]
        self._aux = None
        total = images.new_zeros(())
        for head in heads:
            total = total + F.cross_entropy(head, labels)
        return self.aux_weight * total

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_aux"] = None
        return state
