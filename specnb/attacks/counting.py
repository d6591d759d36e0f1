"""Independent gradient counting: a model wrapper that hooks every backward reaching its input.

The count follows the definition of :mod:`specnb.attacks.base`: each backward pass that
reaches the model input adds one gradient computation for every sample whose input gradient
is non-zero. It works for any attack that calls ``attack.model`` (specnb's and torchattacks').
"""

from __future__ import annotations

from functools import partial
from typing import Any

import torch
from torch import Tensor, nn


class CountingModel(nn.Module):
    """Wrap a model and count the gradients that reach its input, per backward pass and sample.

    The wrapper starts in the wrapped model's mode, so attacks that restore "the model's
    mode" afterwards restore the right one.

    Every forward pass with an input that requires grad taps the input with a hook. When a
    backward pass reaches the tap, the rows of the gradient that are non-zero are the samples
    that took part. With a ``reference`` batch (the clean images), rows are assigned to
    samples: every row goes to the sample whose clean image or last seen input is nearest
    (Euclidean distance), which identifies the sample as long as it moves less between two of
    its passes (or from its clean image, after a restart) than half its distance to the other
    samples. Rows are not taken in batch order, even in a pass over as many rows as the
    reference batch: such a pass may hold several copies of fewer samples.

    Parameters
    ----------
    model : torch.nn.Module
        The classifier to wrap.

    Attributes
    ----------
    backward_passes : int
        Backward passes that reached the input with at least one non-zero row.
    total_grads : int
        Gradient computations: non-zero input-gradient rows over all backward passes.
    grad_counts : torch.Tensor, shape (B,), int64, or None
        Gradient computations per sample of the reference batch (None without a reference).

    Examples
    --------
    >>> model = CountingModel(nn.Sequential(nn.Flatten(), nn.Linear(12, 3)))
    >>> x = torch.rand(2, 3, 2, 2, requires_grad=True)
    >>> model.reset(reference=x)
    >>> _ = torch.autograd.grad(model(x).sum(), x)
    >>> model.total_grads, model.grad_counts.tolist()
    (2, [1, 1])
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.training = model.training
        self.clean: Tensor | None = None
        self.positions: Tensor | None = None
        self.backward_passes = 0
        self.total_grads = 0
        self.grad_counts: Tensor | None = None

    def reset(self, reference: Tensor | None = None) -> None:
        """Zero the counts; ``reference`` (B, ...) enables per-sample counts for that batch."""
        self.backward_passes = 0
        self.total_grads = 0
        if reference is None:
            self.clean = self.positions = None
            self.grad_counts = None
        else:
            self.clean = reference.detach().flatten(1)
            self.positions = self.clean.clone()
            self.grad_counts = torch.zeros(reference.shape[0], dtype=torch.long)

    def forward(self, x: Tensor) -> Tensor:
        """Run the wrapped model, tapping ``x`` when gradients may flow back to it."""
        if torch.is_grad_enabled() and x.requires_grad:
            tap = x.view_as(x)
            tap.register_hook(partial(self._record, x.detach()))
            x = tap
        return self.model(x)

    def _record(self, inputs: Tensor, grad: Tensor) -> None:
        rows = grad.flatten(1).ne(0).any(dim=1)
        taken = int(rows.sum())
        if taken == 0:
            return
        self.backward_passes += 1
        self.total_grads += taken
        if self.clean is None or self.positions is None or self.grad_counts is None:
            return
        flat = inputs.flatten(1).to(self.positions.device)
        size = self.positions.shape[0]
        owner = torch.cdist(flat, torch.cat([self.clean, self.positions])).argmin(dim=1) % size
        self.positions[owner] = flat
        self.grad_counts += torch.bincount(
            owner[rows.to(owner.device)], minlength=self.positions.shape[0]
        ).cpu()


class CountedAttack:
    """An attack whose model is wrapped in a :class:`CountingModel`; see :func:`count_gradients`.

    Calling it resets the counter (with the clean images as reference when ``per_sample``) and
    runs the attack with the same arguments.

    Parameters
    ----------
    attack : object
        An attack with a ``model`` attribute and ``attack(images, labels, ...)`` call.
    per_sample : bool
        Identify the sample of every gradient row (a nearest-image search per backward pass);
        False counts totals only, which costs less.
    """

    def __init__(self, attack: Any, *, per_sample: bool = True) -> None:
        if not isinstance(getattr(attack, "model", None), nn.Module):
            raise TypeError("attack must have a torch.nn.Module `model` attribute")
        self.attack = attack
        self.per_sample = per_sample
        self.counter = CountingModel(attack.model)
        if hasattr(attack, "set_model"):
            attack.set_model(self.counter)
        else:
            attack.model = self.counter

    def __call__(self, images: Tensor, labels: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        """Run the attack on a batch, counting its gradients."""
        self.counter.reset(images if self.per_sample else None)
        return self.attack(images, labels, *args, **kwargs)

    @property
    def grad_counts(self) -> Tensor | None:
        """Gradient computations per sample in the last call (None when not ``per_sample``)."""
        return self.counter.grad_counts

    @property
    def total_grads(self) -> int:
        """Gradient computations of the last call."""
        return self.counter.total_grads

    @property
    def backward_passes(self) -> int:
        """Backward passes of the last call that reached the model input."""
        return self.counter.backward_passes


def count_gradients(attack: Any, *, per_sample: bool = True) -> CountedAttack:
    """Count the gradient computations of any attack, torchattacks' included.

    Parameters
    ----------
    attack : object
        An attack exposing its classifier as ``attack.model`` (replaced by a counting wrapper).
    per_sample : bool
        Also count per sample of the batch passed to each call.

    Returns
    -------
    CountedAttack
        Callable like the attack, with ``grad_counts``, ``total_grads`` and
        ``backward_passes`` of the last call.

    Examples
    --------
    >>> import torchattacks
    >>> net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    >>> fgsm = count_gradients(torchattacks.FGSM(net, eps=0.1))
    >>> _ = fgsm(torch.rand(4, 3, 2, 2), torch.tensor([0, 1, 2, 0]))
    >>> fgsm.total_grads
    4
    """
    return CountedAttack(attack, per_sample=per_sample)
