"""Every attack class in ``specnb.attacks.__all__`` states its label, norm and modes, and runs."""

from __future__ import annotations

import inspect

import pytest
import torch
from torch import nn

import specnb.attacks as attacks
from specnb.attack_eval import attack_label
from specnb.attacks import Attack
from specnb.errors import ParameterError

#: Small budgets so that one forward over a tiny batch takes milliseconds.
SMALL = {
    "BIM": {"steps": 2},
    "CW": {"search_steps": 1, "max_iterations": 2},
    "DeepFool": {"max_iter": 2, "candidates": 3},
    "JSMA": {"gamma": 0.05, "candidates": 8},
    "LBFGS": {"search_steps": 1, "max_iterations": 2},
}
#: The paper's spelling of each attack.
PAPER_LABELS = {
    "BIM": "BIM",
    "CW": "CWA",
    "DeepFool": "DeepFool",
    "FGSM": "FGSM",
    "JSMA": "JSMA",
    "LBFGS": "L-BFGS",
}
CLASSES = [
    getattr(attacks, name)
    for name in attacks.__all__
    if inspect.isclass(getattr(attacks, name))
    and issubclass(getattr(attacks, name), Attack)
    and getattr(attacks, name) is not Attack
]


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 3)).eval()


def test_every_attack_class_of_all_is_checked() -> None:
    assert {cls.__name__ for cls in CLASSES} == {"BIM", "CW", "DeepFool", "FGSM", "JSMA", "LBFGS"}
    assert set(attacks.ATTACKS.values()) == set(CLASSES)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_attack_states_label_norm_and_modes_and_crafts_images_in_range(cls: type) -> None:
    assert cls.label == PAPER_LABELS[cls.__name__]
    assert attack_label(cls.name if cls.name != "bim" else "bim-b").startswith(cls.label)
    assert cls.norms and set(cls.norms) <= {"l0", "l2", "linf"}
    assert cls.supported_modes and set(cls.supported_modes) <= {"default", "targeted"}
    takes_targeted = "targeted" in inspect.signature(cls.__init__).parameters
    assert takes_targeted == ("default" in cls.supported_modes)
    images = torch.rand(4, 3, 4, 4, generator=torch.Generator().manual_seed(1))
    labels = torch.tensor([0, 1, 2, 0])
    for mode in cls.supported_modes:
        extra = {"targeted": mode == "targeted"} if takes_targeted else {}
        attack = cls(_model(), **SMALL.get(cls.__name__, {}), **extra)
        assert attack.norm in cls.norms and attack.targeted == (mode == "targeted")
        adv = attack(images, labels)
        assert adv.shape == images.shape and float(adv.min()) >= 0 and float(adv.max()) <= 1
        assert attack.grad_counts.shape == (4,) and attack.total_grads >= 1


def test_an_attack_built_in_a_mode_it_does_not_support_is_refused() -> None:
    class TargetedOnly(Attack):
        supported_modes = ("targeted",)

    with pytest.raises(ParameterError, match=r"TargetedOnly supports the modes \('targeted',\)"):
        TargetedOnly(_model(), targeted=False, seed=0)
    assert TargetedOnly(_model(), targeted=True, seed=0).targeted
