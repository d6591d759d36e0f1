"""The attack base class: model mode, target labels, gradient counting and budget curves.

Gradient computation
--------------------
One *gradient computation* is the gradient of a scalar function of one sample's logits with
respect to that sample's input image, obtained by one backward pass through the model. A
backward pass over a batch of ``n`` samples that all receive a non-zero output gradient is
``n`` gradient computations. Samples that ride along in a batched pass with a zero output
gradient (a sample that finished in the same forward pass, a Carlini-Wagner sample whose
margin term is saturated) are not counted: nothing of theirs is asked for, and the attack
drops them from the next pass on. :class:`~specnb.attacks.counting.CountingModel` checks the
counts independently by hooking the model input.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from specnb.attacks.checks import check_batch, check_count
from specnb.attacks.curves import CurveRecorder
from specnb.attacks.targets import check_target_labels, random_targets
from specnb.errors import ParameterError


class Attack:
    """Base class of the attacks: ``attack(images, labels, target_labels=None) -> adv_images``.

    Subclasses implement :meth:`forward` on a validated batch. Calling the attack puts the
    model in eval mode (restoring every module's mode afterwards), resolves target labels for
    targeted attacks (random wrong labels drawn from ``seed`` when none are given), and records
    the gradient computations of the call in :attr:`grad_counts` and :attr:`total_grads`.
    Work happens on the device of ``images``; the model must already live there.

    Parameters
    ----------
    model : torch.nn.Module
        Classifier mapping (B, C, H, W) images in [0, 1] to (B, K) logits.
    targeted : bool
        Drive samples to target labels instead of away from their labels.
    seed : int
        Seed of the random target labels drawn when none are given.

    Attributes
    ----------
    label : str
        The paper's spelling of the attack (``"FGSM"``, ``"CWA"``...).
    norms : tuple of str
        The norms the attack's perturbation is measured in (``"l0"``, ``"l2"``, ``"linf"``);
        ``norm`` is the one an instance uses (the first unless the constructor takes ``norm``).
    supported_modes : tuple of str
        ``"default"`` (untargeted) and/or ``"targeted"``, as in torchattacks; constructing an
        attack in another mode is an error.
    grad_counts : torch.Tensor, shape (B,), int64
        Gradient computations per sample in the last call (see the module docstring).
    total_grads : int
        Their sum over the batch.
    curve_grad_counts : list of torch.Tensor, shape (B,), int64
        Gradient computations per sample at each value of the last :meth:`curve` call.
    """

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    norms: ClassVar[tuple[str, ...]] = ()
    supported_modes: ClassVar[tuple[str, ...]] = ()
    budget: ClassVar[str] = ""
    param_names: ClassVar[tuple[str, ...]] = ()
    #: Constructor parameter along which runs are nested (the run at a smaller value is the
    #: beginning of the run at a larger one), so that :meth:`curve` serves every value with
    #: one run; None where each value needs its own run.
    curve_param: ClassVar[str | None] = None
    #: The precision the model runs in (``"fp32"``, or ``"bf16"`` when
    #: :func:`~specnb.attacks.make_attack` wraps it in
    #: :class:`~specnb.attacks.precision.MixedPrecisionModel`).
    precision: str = "fp32"

    def __init__(self, model: nn.Module, *, targeted: bool, seed: int) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        mode = "targeted" if targeted else "default"
        if mode not in self.supported_modes:
            raise ParameterError(
                f"{type(self).__name__} supports the modes {self.supported_modes}, "
                f"not targeted={targeted!r}"
            )
        self.model = model
        self.targeted = bool(targeted)
        self.seed = check_count("seed", seed, minimum=0)
        self.grad_counts = torch.zeros(0, dtype=torch.long)
        self.total_grads = 0
        self._counts = torch.zeros(0, dtype=torch.long)
        self._classes: tuple[nn.Module | None, int] = (None, 0)
        self._first_parameter: tuple[nn.Module | None, Tensor | None] = (None, None)
        self._recorder: CurveRecorder | None = None
        self.curve_grad_counts: list[Tensor] = []

    @property
    def norm(self) -> str:
        """The norm this instance's perturbation is measured in (one of :attr:`norms`)."""
        return self.__dict__.get("norm", self.norms[0])

    @norm.setter
    def norm(self, value: str) -> None:
        self.__dict__["norm"] = value

    @property
    def params(self) -> dict[str, Any]:
        """The attack's settings as a plain dict (constructor arguments besides the model)."""
        return {name: getattr(self, name) for name in (*self.param_names, "targeted", "seed")}

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({inner})"

    def __call__(
        self, images: Tensor, labels: Tensor, target_labels: Tensor | None = None
    ) -> Tensor:
        """Attack a batch.

        Parameters
        ----------
        images : torch.Tensor, shape (B, C, H, W)
            Clean images in [0, 1].
        labels : torch.Tensor, shape (B,)
            True labels.
        target_labels : torch.Tensor, shape (B,), optional
            Targets of a targeted attack, each different from its label; drawn at random
            (seeded) when omitted. Must be omitted for untargeted attacks.

        Returns
        -------
        torch.Tensor, shape (B, C, H, W)
            Adversarial images in [0, 1], on the device of ``images``.
        """
        images, labels = check_batch(images, labels)
        self._check_model_device(images.device)
        modes = [(module, module.training) for module in self.model.modules()]
        self.model.eval()
        try:
            num_classes = self._num_classes(images)
            low, high = (int(v) for v in torch.aminmax(labels))
            if low < 0 or high >= num_classes:
                raise ParameterError(f"labels must lie in [0, {num_classes}), the model's classes")
            goals = self._resolve_targets(labels, target_labels, num_classes)
            self._counts = torch.zeros(images.shape[0], dtype=torch.long, device=images.device)
            with torch.enable_grad():
                adv = self.forward(images, labels, goals).detach()
            if self._recorder is not None:
                self._recorder.finish(adv, self._counts)
        finally:
            for module, training in modes:
                module.training = training
        self.grad_counts = self._counts.cpu()
        self.total_grads = int(self.grad_counts.sum())
        return adv

    def forward(self, images: Tensor, labels: Tensor, target_labels: Tensor | None) -> Tensor:
        """Craft adversarial images for a validated batch (``target_labels`` None if untargeted)."""
        raise NotImplementedError

    def curve(
        self,
        images: Tensor,
        labels: Tensor,
        target_labels: Tensor | None = None,
        *,
        values: Sequence[Any],
    ) -> list[Tensor]:
        """Attack a batch at every value of :attr:`curve_param` with one run at the largest.

        The run at a smaller value is the beginning of the run at the largest, so the
        adversarial images and per-sample gradient counts at each value equal those of an
        attack built with that value (:mod:`specnb.attacks.curves`). The attack's own setting
        of the parameter is left as it was.

        Parameters
        ----------
        images, labels, target_labels
            As for calling the attack.
        values : sequence
            Values of :attr:`curve_param`, each valid for the constructor.

        Returns
        -------
        list of torch.Tensor, shape (B, C, H, W)
            Adversarial images at each value, in the order given. :attr:`curve_grad_counts`
            holds the gradient computations per sample at each value; :attr:`grad_counts` and
            :attr:`total_grads` those of the whole run (the largest value's).

        Raises
        ------
        ParameterError
            For an attack without a curve parameter, no values, or an invalid value.

        Examples
        --------
        >>> from specnb.attacks import DeepFool
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
        >>> deepfool = DeepFool(net, max_iter=1)
        >>> advs = deepfool.curve(torch.rand(2, 3, 2, 2), torch.tensor([0, 1]), values=[0, 3])
        >>> len(advs), deepfool.max_iter
        (2, 1)
        """
        if self.curve_param is None:
            raise ParameterError(
                f"{type(self).__name__} has no curve parameter; run each budget alone"
            )
        values = list(values)
        if not values:
            raise ParameterError(f"values is empty; give at least one value of {self.curve_param}")
        images, labels = check_batch(images, labels)
        checked = [getattr(self._with(value), self.curve_param) for value in values]
        largest = max(checked)
        marks = [self._progress(value, images) for value in checked]
        original = getattr(self, self.curve_param)
        setattr(self, self.curve_param, largest)
        self._recorder = CurveRecorder(marks)
        try:
            self(images, labels, target_labels)
            states = self._recorder.states()
        finally:
            setattr(self, self.curve_param, original)
            self._recorder = None
        self.curve_grad_counts = [counts.cpu() for _, counts in states]
        return [adv for adv, _ in states]

    def _with(self, value: Any) -> "Attack":
        """A copy of this attack with :attr:`curve_param` set to ``value`` (validated)."""
        accepted = inspect.signature(type(self)).parameters
        params = {k: v for k, v in self.params.items() if k in accepted}
        return type(self)(self.model, **{**params, str(self.curve_param): value})

    def _progress(self, value: Any, images: Tensor) -> float:
        """Where in the run at a larger value the run at ``value`` ends, in the units that
        :meth:`_reached` is called with; the value itself unless an attack says otherwise."""
        return value

    def _curve_marks(self) -> list[float]:
        """The marks of progress of the :meth:`curve` call in flight (none otherwise)."""
        return [] if self._recorder is None else list(self._recorder.marks)

    def _reached(self, done: float, adv: Tensor) -> None:
        """Record ``adv`` and the counts so far as the result of a run ending at ``done``."""
        if self._recorder is not None:
            self._recorder.reach(done, adv, self._counts)

    def _advance(self, adv: Tensor) -> None:
        """One more unit of progress is done (a search step, say): :meth:`_reached` at the
        count of these calls in this run."""
        if self._recorder is not None:
            self._recorder.advance(adv, self._counts)

    def _input_grad(
        self,
        scalar: Tensor,
        inputs: Tensor,
        rows: Tensor | None,
        *,
        retain_graph: bool = False,
        copies: int = 1,
    ) -> Tensor:
        """Gradient of ``scalar`` w.r.t. ``inputs``, counting one computation per ``rows`` entry.

        ``rows`` holds the batch indices of the samples whose output gradient is non-zero;
        None stands for every sample of the batch. ``inputs`` may hold ``copies`` copies of
        each sample (one backward pass for several gradients of it): each of the ``rows``
        then counts ``copies`` computations.
        """
        (grad,) = torch.autograd.grad(scalar, inputs, retain_graph=retain_graph)
        if rows is None:
            self._counts += copies
        else:
            self._counts[rows] += copies
        return grad

    def _resolve_targets(
        self, labels: Tensor, target_labels: Tensor | None, num_classes: int
    ) -> Tensor | None:
        if not self.targeted:
            if target_labels is not None:
                raise ParameterError(
                    f"{type(self).__name__} is untargeted; pass targeted=True to use target_labels"
                )
            return None
        if target_labels is None:
            return random_targets(labels, num_classes, self.seed)
        return check_target_labels(target_labels, labels, num_classes)

    def _num_classes(self, images: Tensor) -> int:
        """Classes of the model, from one forward pass of one image (cached per model)."""
        model, classes = self._classes
        if model is self.model and classes:
            return classes
        with torch.no_grad():
            logits = self.model(images[:1])
        if logits.dim() != 2:
            shape = tuple(logits.shape)
            raise ParameterError(f"the model must return (B, K) logits, got shape {shape}")
        self._classes = (self.model, int(logits.shape[1]))
        return self._classes[1]

    def _check_model_device(self, device: torch.device) -> None:
        model, param = self._first_parameter
        if model is not self.model:
            param = next(self.model.parameters(), None)
            self._first_parameter = (self.model, param)
        if param is not None and param.device != device:
            raise ParameterError(
                f"images are on {device} but the model is on {param.device}; move one of them"
            )
