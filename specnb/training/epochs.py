"""Device choice, precision, one training epoch, scoring and the optimiser."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Union

import torch
import torch.nn.functional as F
from torch import nn

from specnb.devices import resolve_device
from specnb.training.batch_augment import augment_batch
from specnb.training.batches import device_batch
from specnb.training.config import TrainConfig, TrainingError
from specnb.training.precision import precision_label, resolve_precision

__all__ = [
    "BatchAugment",
    "Plan",
    "batch_augment",
    "evaluate",
    "make_optimizer",
    "resolve_device",
    "score",
    "train_epoch",
]


@dataclass(frozen=True)
class Plan:
    """Device-dependent execution choices (see ``TrainConfig.batch_size`` and ``amp``).

    ``precision_source`` tells why ``amp`` and ``channels_last`` hold what they hold
    (:class:`specnb.training.precision.Precision`).
    """

    device: torch.device
    batch_size: int
    lr: float
    amp: bool
    channels_last: bool = False
    precision_source: str = "set"

    @classmethod
    def for_config(cls, config: TrainConfig) -> "Plan":
        """The plan of ``config`` on its device, with its precision resolved (measured once
        per machine where ``amp``/``channels_last`` are ``"auto"``)."""
        device = resolve_device(config.device)
        precision = resolve_precision(config, device)
        fast = (precision.amp, precision.channels_last, precision.source)
        if device.type != "cuda":
            return cls(device, config.batch_size, config.lr, *fast)
        scale = config.cuda_batch_scale
        return cls(device, config.batch_size * scale, config.lr * math.sqrt(scale), *fast)

    @property
    def precision(self) -> str:
        """The precision in words (:func:`~specnb.training.precision.precision_label`)."""
        return precision_label(self.amp, self.channels_last, self.device.type)

    @property
    def memory_format(self) -> torch.memory_format:
        """Memory order of the model and of its input batches."""
        return torch.channels_last if self.channels_last else torch.contiguous_format

    @property
    def grad_scaling(self) -> bool:
        """float16 on CUDA needs gradient scaling; bfloat16 on a CPU does not."""
        return self.amp and self.device.type == "cuda"


def score(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    index: torch.Tensor,
    *,
    batch_size: int,
    amp: bool = False,
) -> tuple[float, float, torch.Tensor]:
    """Mean cross-entropy, accuracy and predictions (CPU int64) of ``model`` on ``index``."""
    model.eval()
    device = next(model.parameters()).device
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    predictions = []
    with torch.no_grad(), torch.autocast(device.type, enabled=amp):
        for start in range(0, len(index), batch_size):
            chunk = index[start : start + batch_size]
            target = labels[chunk.to(labels.device)].to(device)
            logits = model(device_batch(images, chunk, device)).float()
            loss_sum += F.cross_entropy(logits, target, reduction="sum").double()
            predictions.append(logits.argmax(1).cpu())
    preds = torch.cat(predictions) if predictions else torch.zeros(0, dtype=torch.int64)
    truth = labels[index.to(labels.device)].cpu()
    n = max(len(index), 1)
    return float(loss_sum) / n, float((preds == truth).sum()) / n, preds


def evaluate(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 256
) -> tuple[float, torch.Tensor]:
    """Top-1 accuracy and predictions of ``model`` in evaluation mode.

    Parameters
    ----------
    model : nn.Module
        Maps [0, 1] images to logits; it is run on the device its parameters are on.
    images : torch.Tensor, shape (N, 3, 128, 128)
        Float images in [0, 1] or uint8 images in [0, 255].
    labels : torch.Tensor, shape (N,), int
        True classes.
    batch_size : int
        Images per forward pass.

    Returns
    -------
    accuracy : float
        Fraction of correct predictions, in [0, 1].
    predictions : torch.Tensor, shape (N,), int64
        Predicted classes, on the CPU.

    Examples
    --------
    >>> acc, preds = evaluate(model, images, labels)  # doctest: +SKIP
    """
    if len(images) != len(labels):
        raise TrainingError(f"images ({len(images)}) and labels ({len(labels)}) differ in length")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise TrainingError(f"batch_size must be a positive integer, got {batch_size!r}")
    index = torch.arange(len(images))
    _, accuracy, predictions = score(model, images, labels, index, batch_size=batch_size)
    return accuracy, predictions


#: A training step's view of the recipe: ``(images, labels, generator) -> (images, targets)``.
BatchAugment = Callable[
    [torch.Tensor, torch.Tensor, torch.Generator], tuple[torch.Tensor, torch.Tensor]
]


def batch_augment(config: TrainConfig, num_classes: int) -> BatchAugment:
    """The shifts, masks and mixup of ``config`` as one function of a batch (``augment_batch``)."""

    def apply(
        images: torch.Tensor, labels: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return augment_batch(
            images,
            labels,
            num_classes,
            generator,
            freq_masks=config.freq_masks,
            time_masks=config.time_masks,
            max_width=config.mask_width,
            mixup_alpha=config.mixup,
            max_shift=config.time_shift,
        )

    return apply


def train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    images: torch.Tensor,
    labels: torch.Tensor,
    index: torch.Tensor,
    order: torch.Generator,
    plan: Plan,
    *,
    augment: Union[BatchAugment, None] = None,
    lr_at: Union[Callable[[float], float], None] = None,
) -> tuple[float, float]:
    """One pass over ``index`` in the random order drawn from ``order``.

    Parameters
    ----------
    augment : callable, optional
        Turns a batch and its labels into augmented images and soft targets, drawing from
        ``order`` after the permutation; None trains on the plain batch.
    lr_at : callable, optional
        Learning rate as a function of the fraction of this epoch done after each batch
        (in (0, 1]); set on every parameter group before each step. None keeps the
        optimiser's rate.

    Returns
    -------
    loss, accuracy : float
        Mean cross-entropy of the main head (against the soft targets when augmenting) and
        accuracy against the dominant target over the epoch's batches (training mode). A
        final batch of one sample is skipped (batch normalisation needs two).
    """
    model.train()
    shuffled = index[torch.randperm(len(index), generator=order)]
    aux_loss = getattr(model, "aux_loss", None)
    loss_sum = torch.zeros((), dtype=torch.float64, device=plan.device)
    correct = torch.zeros((), dtype=torch.int64, device=plan.device)
    seen = 0
    starts = range(0, len(shuffled), plan.batch_size)
    for number, start in enumerate(starts, 1):
        chunk = shuffled[start : start + plan.batch_size]
        if len(chunk) < 2 and seen:  # a single-sample batch breaks batch normalisation
            break
        x = device_batch(images, chunk, plan.device)
        y = labels[chunk.to(labels.device)].to(plan.device)
        target: Union[torch.Tensor, None] = None
        if augment is not None:
            x, target = augment(x, y, order)
            y = target.argmax(1)
        x = x.contiguous(memory_format=plan.memory_format)
        if lr_at is not None:
            for group in optimizer.param_groups:
                group["lr"] = lr_at(number / len(starts))
        with torch.autocast(plan.device.type, enabled=plan.amp):
            logits = model(x)
            truth = y if target is None else target
            loss = F.cross_entropy(logits.float(), truth)
            total = loss + aux_loss(x, truth) if aux_loss is not None else loss
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(total).backward()
        scaler.step(optimizer)
        scaler.update()
        loss_sum += loss.detach().double() * len(chunk)
        correct += (logits.detach().argmax(1) == y).sum()
        seen += len(chunk)
    return float(loss_sum) / seen, float(correct) / seen


def make_optimizer(model: nn.Module, config: TrainConfig, plan: Plan) -> torch.optim.Optimizer:
    """AdamW, or SGD with Nesterov momentum 0.9, at the plan's learning rate."""
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            model.parameters(),
            lr=plan.lr,
            momentum=0.9,
            nesterov=True,
            weight_decay=config.weight_decay,
        )
    return torch.optim.AdamW(model.parameters(), lr=plan.lr, weight_decay=config.weight_decay)
