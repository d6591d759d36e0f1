"""The attacks on a small CNN trained in seconds: fooling, budgets, targets, counts, references."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import pytest
import torch
import torch.nn.functional as F
import torchattacks
from torch import Tensor, nn

from specnb.attacks import (
    BIM,
    CW,
    FGSM,
    JSMA,
    LBFGS,
    Attack,
    DeepFool,
    count_gradients,
    random_targets,
)
from specnb.bench.attack_victim import pattern_images

Build = Callable[[nn.Module], Attack]
SIZE = 16


class SmallNet(nn.Module):
    """Two convolutions and a linear layer; normalisation inside, like specnb's models."""

    def __init__(self, classes: int, size: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.dropout = nn.Dropout(0.1)
        self.fc = nn.Linear(32 * (size // 4) ** 2, classes)

    def forward(self, x: Tensor) -> Tensor:
        x = F.max_pool2d(F.relu(self.conv1((x - 0.5) / 0.25)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(self.dropout(x.flatten(1)))


class Victim(NamedTuple):
    model: nn.Module
    images: Tensor
    labels: Tensor
    accuracy: float


@pytest.fixture(scope="session")
def victim(train_on_patterns) -> Victim:
    """A 10-class CNN on 3x16x16 pattern images and 16 held-out images it gets right."""
    torch.manual_seed(0)
    model = SmallNet(10, SIZE)
    images, labels, accuracy = train_on_patterns(model, size=SIZE, steps=100, count=16, pool=128)
    return Victim(model, images, labels, accuracy)


def predictions(model: nn.Module, images: Tensor) -> Tensor:
    with torch.no_grad():
        return model(images).argmax(dim=1)


def fooling_rate(model: nn.Module, adv: Tensor, labels: Tensor) -> float:
    return float((predictions(model, adv) != labels).float().mean())


GENEROUS: dict[str, Build] = {
    "fgsm-linf": lambda m: FGSM(m, eps=0.15),
    "fgsm-l2": lambda m: FGSM(m, eps=8.0, norm="l2"),
    "bim-a": lambda m: BIM(m, eps=0.1, steps=10, variant="a"),
    "bim-b": lambda m: BIM(m, eps=0.1, steps=10, variant="b"),
    "jsma": lambda m: JSMA(m, gamma=0.3),
    "cw": lambda m: CW(m, search_steps=2, max_iterations=50),
    "deepfool-l2": lambda m: DeepFool(m, norm="l2"),
    "deepfool-linf": lambda m: DeepFool(m, norm="linf"),
    "lbfgs": lambda m: LBFGS(m, search_steps=2, max_iterations=10),
}

ZERO_BUDGET: dict[str, Build] = {
    "fgsm": lambda m: FGSM(m, eps=0.0),
    "bim-a": lambda m: BIM(m, eps=0.0, steps=3, variant="a"),
    "bim-b": lambda m: BIM(m, eps=0.0, steps=3, variant="b"),
    "jsma": lambda m: JSMA(m, gamma=0.0),
    "cw": lambda m: CW(m, search_steps=2, max_iterations=0),
    "deepfool": lambda m: DeepFool(m, max_iter=0),
    "lbfgs": lambda m: LBFGS(m, max_iterations=0),
}

TARGETED: dict[str, Build] = {
    "bim": lambda m: BIM(m, eps=0.2, steps=20, variant="a", targeted=True),
    "jsma": lambda m: JSMA(m, gamma=0.3, theta=-1.0),
    "jsma-up": lambda m: JSMA(m, gamma=0.3, theta=1.0),
    "cw": lambda m: CW(m, search_steps=2, max_iterations=50, targeted=True),
    "deepfool": lambda m: DeepFool(m, targeted=True),
    "lbfgs": lambda m: LBFGS(m, search_steps=2, max_iterations=10),
}


def test_victim_is_accurate(victim: Victim) -> None:
    assert victim.accuracy >= 0.95
    assert victim.images.shape == (16, 3, SIZE, SIZE)


@pytest.mark.parametrize("name", sorted(GENEROUS))
def test_generous_budget_fools_and_stays_in_the_image_range(victim: Victim, name: str) -> None:
    attack = GENEROUS[name](victim.model)
    adv = attack(victim.images, victim.labels)
    assert adv.shape == victim.images.shape and not adv.requires_grad
    assert adv.min() >= 0 and adv.max() <= 1
    threshold = 0.75 if name.startswith(("fgsm", "jsma")) else 0.95
    assert fooling_rate(victim.model, adv, victim.labels) >= threshold


@pytest.mark.parametrize("name", sorted(ZERO_BUDGET))
def test_zero_budget_changes_nothing(victim: Victim, name: str) -> None:
    attack = ZERO_BUDGET[name](victim.model)
    adv = attack(victim.images, victim.labels)
    assert torch.equal(adv, victim.images)
    assert fooling_rate(victim.model, adv, victim.labels) == 0


@pytest.mark.parametrize("name", sorted(TARGETED))
def test_targeted_attacks_hit_given_and_seeded_targets(victim: Victim, name: str) -> None:
    attack = TARGETED[name](victim.model)
    # raising pixels alone cannot reach every target of this model within the budget
    threshold = 0.85 if name == "jsma-up" else 0.9
    given = (victim.labels + 3) % 10
    adv = attack(victim.images, victim.labels, given)
    assert float((predictions(victim.model, adv) == given).float().mean()) >= threshold
    adv = attack(victim.images, victim.labels)
    drawn = random_targets(victim.labels, 10, attack.seed)
    assert float((predictions(victim.model, adv) == drawn).float().mean()) >= threshold


def test_targeted_fgsm_moves_toward_its_targets(victim: Victim) -> None:
    targets = random_targets(victim.labels, 10, seed=0)
    adv = FGSM(victim.model, eps=0.15, targeted=True)(victim.images, victim.labels, targets)
    with torch.no_grad():
        before = F.log_softmax(victim.model(victim.images), 1).gather(1, targets[:, None])
        after = F.log_softmax(victim.model(adv), 1).gather(1, targets[:, None])
    assert (after > before).float().mean() >= 0.9


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_fgsm_and_bim_stay_in_their_eps_ball(victim: Victim, norm: str) -> None:
    eps = 0.03 if norm == "linf" else 1.5
    attacks = [FGSM(victim.model, eps=eps, norm=norm)]
    if norm == "linf":
        attacks += [BIM(victim.model, eps=eps, steps=5, variant=v) for v in "ab"]
    for attack in attacks:
        delta = (attack(victim.images, victim.labels) - victim.images).flatten(1)
        size = delta.abs().amax(dim=1) if norm == "linf" else delta.norm(dim=1)
        assert (size <= eps * (1 + 1e-5)).all()
        assert size.max() >= eps * 0.5


def test_jsma_changes_at_most_gamma_of_the_features(victim: Victim) -> None:
    n_features = victim.images[0].numel()
    for variant in ("pixel", "pair"):
        attack = JSMA(victim.model, gamma=0.02, variant=variant)
        adv = attack(victim.images, victim.labels)
        changed = (adv != victim.images).flatten(1).sum(dim=1)
        assert (changed <= math.ceil(0.02 * n_features)).all()
        per_iteration = 1 if variant == "pixel" else 2
        assert (changed <= attack.grad_counts // 2 * per_iteration).all()


COUNTED: dict[str, Build] = {
    **{f"generous-{k}": v for k, v in GENEROUS.items()},
    **{f"targeted-{k}": v for k, v in TARGETED.items()},
    "cw-kappa": lambda m: CW(m, search_steps=2, max_iterations=30, kappa=2.0),
    "jsma-pixel-down": lambda m: JSMA(m, theta=-1.0, gamma=0.05, variant="pixel"),
    "deepfool-top3": lambda m: DeepFool(m, candidates=3),
}


@pytest.mark.parametrize("name", sorted(COUNTED))
def test_gradient_counts_equal_the_hooked_backward_passes(victim: Victim, name: str) -> None:
    attack = COUNTED[name](victim.model)
    counted = count_gradients(attack)
    counted(victim.images, victim.labels)
    assert attack.total_grads == counted.total_grads == int(attack.grad_counts.sum())
    assert torch.equal(attack.grad_counts, counted.grad_counts)
    assert attack.grad_counts.shape == (16,) and attack.total_grads > 0


def test_gradient_counts_follow_each_attack_design(victim: Victim) -> None:
    model, images, labels = victim.model, victim.images, victim.labels
    fgsm = FGSM(model, eps=0.1)
    fgsm(images, labels)
    assert fgsm.grad_counts.tolist() == [1] * 16
    bim_b, bim_a = BIM(model, eps=0.1, steps=7), BIM(model, eps=0.1, steps=7, variant="a")
    bim_b(images, labels)
    adv = bim_a(images, labels)
    assert bim_b.grad_counts.tolist() == [7] * 16
    assert (bim_a.grad_counts <= 7).all() and bim_a.total_grads < bim_b.total_grads
    fooled_late = predictions(model, adv) == labels
    assert (bim_a.grad_counts[fooled_late] == 7).all()
    deepfool = DeepFool(model, candidates=4)
    deepfool(images, labels)
    assert (deepfool.grad_counts % 3 == 0).all() and (deepfool.grad_counts > 0).all()
    jsma = JSMA(model, gamma=0.05)
    jsma(images, labels)
    assert (jsma.grad_counts % 2 == 0).all()


def test_torchattacks_are_counted_per_sample(victim: Victim) -> None:
    bim = count_gradients(torchattacks.BIM(victim.model, eps=0.1, alpha=0.01, steps=3))
    bim(victim.images[:4], victim.labels[:4])
    assert bim.grad_counts.tolist() == [3] * 4 and bim.backward_passes == 3
    deepfool = count_gradients(torchattacks.DeepFool(victim.model, steps=5))
    deepfool(victim.images[:4], victim.labels[:4])
    assert (deepfool.grad_counts % 10 == 0).all() and (deepfool.grad_counts > 0).all()


def test_fgsm_equals_torchattacks(victim: Victim) -> None:
    ours = FGSM(victim.model, eps=0.05)(victim.images, victim.labels)
    theirs = torchattacks.FGSM(victim.model, eps=0.05)(victim.images, victim.labels)
    assert torch.equal(ours, theirs)


def _compare_l2(
    model: nn.Module, images: Tensor, labels: Tensor, ours: Tensor, theirs: Tensor
) -> tuple[float, float, float, float]:
    ours_fooled = predictions(model, ours) != labels
    theirs_fooled = predictions(model, theirs) != labels
    both = ours_fooled & theirs_fooled
    assert both.any()
    ours_l2 = (ours - images).flatten(1).norm(dim=1)[both].median()
    theirs_l2 = (theirs - images).flatten(1).norm(dim=1)[both].median()
    return (
        float(ours_fooled.float().mean()),
        float(theirs_fooled.float().mean()),
        float(ours_l2),
        float(theirs_l2),
    )


def test_deepfool_is_no_larger_than_torchattacks(victim: Victim) -> None:
    model, images, labels = victim.model, victim.images, victim.labels
    ours = DeepFool(model, overshoot=0.02, max_iter=50)(images, labels)
    theirs = torchattacks.DeepFool(model, steps=50, overshoot=0.02)(images, labels)
    ours_rate, theirs_rate, ours_l2, theirs_l2 = _compare_l2(model, images, labels, ours, theirs)
    assert ours_rate >= theirs_rate
    assert ours_l2 <= theirs_l2 * (1 + 1e-3)


def test_cw_is_no_larger_than_torchattacks(victim: Victim) -> None:
    model, images, labels = victim.model, victim.images, victim.labels
    ours = CW(model, c=1.0, search_steps=3, max_iterations=100)(images, labels)
    theirs = torchattacks.CW(model, c=1.0, steps=100, lr=0.01)(images, labels)
    ours_rate, theirs_rate, ours_l2, theirs_l2 = _compare_l2(model, images, labels, ours, theirs)
    assert ours_rate >= theirs_rate
    assert ours_l2 <= theirs_l2


def test_jsma_handles_fifty_classes_with_two_passes_per_iteration() -> None:
    torch.manual_seed(1)
    model = SmallNet(50, 16).eval()
    images, labels = pattern_images(8, 16, seed=2, classes=50)
    with torch.no_grad():
        labels = model(images).argmax(dim=1)
    attack = count_gradients(JSMA(model, gamma=0.2))
    targets = random_targets(labels, 50, seed=3)
    adv = attack(images, labels, targets)
    assert float((predictions(model, adv) == targets).float().mean()) >= 0.75
    assert attack.backward_passes == int(attack.grad_counts.max())
    assert torch.equal(attack.grad_counts, attack.attack.grad_counts)


def test_model_mode_is_restored_and_attacks_run_in_eval(victim: Victim) -> None:
    model = victim.model
    model.train()
    try:
        first = FGSM(model, eps=0.05)(victim.images, victim.labels)
        assert model.training and model.dropout.training
        second = FGSM(model, eps=0.05)(victim.images, victim.labels)
        assert torch.equal(first, second)
    finally:
        model.eval()
