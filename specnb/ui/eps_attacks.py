"""The ε explorer's attacks and budgets, and the clip it opens on: classified correctly and
confidently, and flipped by the attack inside the slider's range."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

import torch
from torch import Tensor, nn

from specnb.attack_eval.grids import BIM_STEP, bim_steps
from specnb.attacks import make_attack
from specnb.metrics import fooled

__all__ = [
    "EPSILONS",
    "EXPLORER_ATTACKS",
    "EXPLORER_LABELS",
    "ExplorerClip",
    "explorer_attack",
    "explorer_clip",
]

#: Budgets the slider offers, in the [0, 1] image domain: roughly logarithmic, from none.
EPSILONS = (0.0, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1)

#: Attacks of the explorer: label shown, attack name.
EXPLORER_ATTACKS = (("FGSM", "fgsm"), ("BIM-a", "bim-a"), ("BIM-b", "bim-b"))

#: Label of each explorer attack, by attack name.
EXPLORER_LABELS = {name: label for label, name in EXPLORER_ATTACKS}

#: Bars shown in the probability chart (the classes most likely before or after).


def explorer_attack(model: nn.Module, name: str, eps: float, targeted: bool) -> Any:
    """The explorer's attack at ``eps``: FGSM, or BIM with its step and iterations."""
    params: dict[str, Any] = {"eps": eps, "targeted": targeted}
    if name != "fgsm":
        params.update(steps=bim_steps(eps), alpha=BIM_STEP)
    return make_attack(name, model, **params)


@dataclass(frozen=True)
class ExplorerClip:
    """The clip the explorer opens on (see :func:`explorer_clip`).

    Attributes
    ----------
    index : int
        Its position in the images given.
    probability : float
        The model's probability of its true class (it is classified correctly).
    flips_at : float or None
        The smallest ε of the slider at which the attack changes the prediction (None:
        none does).
    """

    index: int
    probability: float
    flips_at: Optional[float]

    def describe(self, classes: Sequence[str], label: int, attack: str = "fgsm") -> str:
        """One line for the notebook."""
        flip = (
            f"{EXPLORER_LABELS[attack]} flips it from ε = {self.flips_at:g}"
            if self.flips_at is not None
            else f"no ε of the slider makes {EXPLORER_LABELS[attack]} flip it"
        )
        return (
            f"explorer clip: test clip {self.index}, {classes[label]}, classified "
            f"correctly with probability {self.probability:.2f}; {flip}"
        )


def explorer_clip(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    *,
    attack: str = "fgsm",
    min_probability: float = 0.8,
) -> ExplorerClip:
    """The clip that teaches: correct and confident, and flipped inside the slider's range.

    Among the correctly classified clips whose prediction the attack (untargeted) changes at
    some ε of :data:`EPSILONS`: of those at ``min_probability`` or more, the one flipped at
    the smallest ε (the most probable of them on a tie), else the most probable one; without
    any flip, the most probable correct clip. The most confident clip is often no example to
    teach with: it can sit so far from the decision boundary that no ε of the slider moves
    it, and a confident clip that flips early shows best that confidence is no robustness.

    Parameters
    ----------
    model : torch.nn.Module
        Classifier of [0, 1] images returning logits.
    images : torch.Tensor, shape (n, 3, H, W)
    labels : torch.Tensor, shape (n,)
    attack : {"fgsm", "bim-a", "bim-b"}
    min_probability : float

    Raises
    ------
    ValueError
        The model classifies none of the clips correctly.
    """
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    model.eval()
    with torch.no_grad():
        probs = torch.softmax(model(images.to(device)), dim=1).cpu()
    labels = labels.cpu().long()
    truth = probs[torch.arange(len(labels)), labels]
    correct = (probs.argmax(dim=1) == labels).nonzero().flatten().tolist()
    if not correct:
        raise ValueError(f"the model classifies none of the {len(labels)} clips correctly")
    flips: dict[int, float] = {}
    for eps in EPSILONS[1:]:
        left = [i for i in correct if i not in flips]
        if not left:
            break
        adv = explorer_attack(model, attack, eps, targeted=False)(
            images[left].to(device), labels[left].to(device), None
        )
        with torch.no_grad():
            moved = fooled(model(adv).argmax(dim=1).cpu(), labels[left])
        flips.update({i: eps for i, m in zip(left, moved.tolist()) if m})
    confident = [i for i in flips if truth[i] >= min_probability]
    if confident:
        best = min(confident, key=lambda i: (flips[i], -float(truth[i])))
    else:
        best = max(list(flips) or correct, key=lambda i: float(truth[i]))
    return ExplorerClip(best, float(truth[best]), flips.get(best))
