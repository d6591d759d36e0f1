"""Adversarial attacks on [0, 1] image classifiers, batched, with exact gradient counts.

Every attack is called as ``attack(images, labels, target_labels=None) -> adv_images`` and
records ``grad_counts`` (per sample) and ``total_grads`` (per batch) for its last call; see
:mod:`specnb.attacks.base` for what one gradient computation is. FGSM, DeepFool, JSMA and
Carlini-Wagner, whose run at a smaller budget is the beginning of the run at a larger one,
also give every budget of a curve from one run: ``attack.curve(images, labels, values=...)``
(:mod:`specnb.attacks.curves`).

Examples
--------
>>> from torch import nn
>>> net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
>>> attack = make_attack("bim-a", net, eps=0.1, steps=5)
>>> attack.variant
'a'

Modules
-------
- ``base`` -- The attack base class: model mode, target labels, gradient counting and budget curves.
- ``bim`` -- Basic iterative method (Kurakin et al. 2017): BIM-a stops per sample, BIM-b runs all
  steps.
- ``checks`` -- Checks of attack settings and batches: positive numbers, counts, choices, and a
  batch of [0, 1] images with its labels; each error names the parameter and what would be
  accepted.
- ``counting`` -- Independent gradient counting: a model wrapper that hooks every backward reaching
  its input.
- ``cw`` -- Carlini-Wagner l2 attack (Carlini & Wagner 2017) with a per-sample binary search over c.
- ``deepfool`` -- DeepFool (Moosavi-Dezfooli et al. 2016), l2 and l-inf, untargeted or targeted,
  batched.
- ``fgsm`` -- Fast gradient sign method (Goodfellow et al. 2015), l-inf and l2, targeted or not.
- ``jsma`` -- Jacobian-based saliency map attack (Papernot et al. 2016), targeted, l0, batched.
- ``lbfgs`` -- Box-constrained L-BFGS attack (Szegedy et al. 2014), targeted, with a search over c.
- ``precision`` -- The victim in the faster precision: bfloat16 autocast with channels-last
  inputs.
- ``targets`` -- Target labels of targeted attacks: seeded random wrong labels, and checks of given
  ones.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from specnb.attacks.base import Attack
from specnb.attacks.bim import BIM
from specnb.attacks.counting import CountedAttack, CountingModel, count_gradients
from specnb.attacks.cw import CW, cw_loss, cw_margin
from specnb.attacks.deepfool import DeepFool
from specnb.attacks.fgsm import FGSM
from specnb.attacks.jsma import JSMA
from specnb.attacks.lbfgs import LBFGS
from specnb.attacks.precision import MixedPrecisionModel, attack_precision, in_precision
from specnb.attacks.targets import random_targets
from specnb.errors import ParameterError

ATTACKS: dict[str, type[Attack]] = {cls.name: cls for cls in (FGSM, BIM, JSMA, CW, DeepFool, LBFGS)}
"""Attack classes by name."""

BIM_VARIANTS = {"bim-a": "a", "bim-b": "b"}


def make_attack(name: str, model: nn.Module, *, precision: str = "fp32", **params: Any) -> Attack:
    """Build an attack by name: one of :data:`ATTACKS`, or ``"bim-a"`` / ``"bim-b"``.

    Parameters
    ----------
    name : str
        Attack name (case-insensitive).
    model : torch.nn.Module
        Classifier of [0, 1] images returning logits.
    precision : {"fp32", "bf16"}
        The precision the attack runs the model in: ``"bf16"`` runs every forward and
        backward pass under autocast on channels-last inputs (:mod:`specnb.attacks.precision`;
        faster on many CPUs, the outcome equal up to rounding near the decision boundary).
        ``$SPECNB_PRECISION`` overrides it. The attack's :attr:`~Attack.precision` tells
        the one used.
    **params
        Constructor arguments of the attack class.

    Returns
    -------
    Attack

    Examples
    --------
    >>> from torch import nn
    >>> make_attack("FGSM", nn.Linear(2, 2), eps=0.1).eps
    0.1
    """
    key = name.lower()
    if key not in ATTACKS and key not in BIM_VARIANTS:
        known = sorted([*ATTACKS, *BIM_VARIANTS])
        raise ParameterError(f"unknown attack {name!r}; choose one of {known}")
    used = attack_precision(precision)
    victim = in_precision(model, used)
    if key in BIM_VARIANTS:
        attack: Attack = BIM(victim, variant=BIM_VARIANTS[key], **params)
    else:
        attack = ATTACKS[key](victim, **params)
    attack.precision = used
    return attack


__all__ = [
    "ATTACKS",
    "BIM",
    "CW",
    "FGSM",
    "JSMA",
    "LBFGS",
    "MixedPrecisionModel",
    "Attack",
    "CountedAttack",
    "CountingModel",
    "DeepFool",
    "count_gradients",
    "cw_loss",
    "cw_margin",
    "make_attack",
    "random_targets",
]
