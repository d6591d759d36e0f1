"""The attacks against their references on a small BatchNorm CNN: Carlini's CW-l2 (a port of
``l2_attack.py``), Foolbox 3.3.4's DeepFool, and L-BFGS run one sample at a time."""

from __future__ import annotations

from typing import NamedTuple

import foolbox
import numpy as np
import pytest
import torch
from carlini_l2_reference import carlini_l2
from torch import Tensor, nn

import specnb.attacks.cw as cw_module
from specnb.attacks import CW, LBFGS, DeepFool, count_gradients, random_targets
from specnb.bench.attack_victim import pattern_images, train_on_patterns
from specnb.errors import ParameterError
from specnb.metrics import fooling_rate, target_hit_rate

SIZE = 16


def batchnorm_cnn(classes: int = 10) -> nn.Module:
    """Two convolution blocks with BatchNorm and a linear head, for 3x16x16 images."""
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * (SIZE // 4) ** 2, classes),
    )


class Victim(NamedTuple):
    model: nn.Module
    images: Tensor
    labels: Tensor


@pytest.fixture(scope="module")
def victim() -> Victim:
    """The CNN trained for 60 Adam steps and 96 held-out images it classifies correctly."""
    torch.manual_seed(0)
    model = train_on_patterns(batchnorm_cnn(), 60, SIZE, seed=10, lr=3e-3)
    test_images, test_labels = pattern_images(160, SIZE, seed=11)
    with torch.no_grad():
        correct = model(test_images).argmax(dim=1) == test_labels
    chosen = correct.nonzero().flatten()[:96]
    assert chosen.numel() == 96
    return Victim(model, test_images[chosen], test_labels[chosen])


def l2_sizes(adv: Tensor, images: Tensor) -> Tensor:
    return (adv - images).flatten(1).norm(dim=1)


def rate(model: nn.Module, adv: Tensor, labels: Tensor) -> float:
    with torch.no_grad():
        predicted = model(adv).argmax(dim=1)
    return fooling_rate(predicted, labels, labels)


def test_cw_without_early_abort_equals_carlinis_algorithm(victim: Victim) -> None:
    model, images, labels = victim.model, victim.images[:16], victim.labels[:16]
    targets = random_targets(labels, 10, seed=3)
    ours = CW(model, c=1.0, search_steps=2, max_iterations=50, abort_early=False, targeted=True)
    adv = ours(images, labels, targets)
    reference = carlini_l2(
        model,
        images,
        targets,
        targeted=True,
        initial_const=1.0,
        binary_search_steps=2,
        max_iterations=50,
        abort_early=False,
        batch_size=16,
    )
    assert torch.allclose(l2_sizes(adv, images), l2_sizes(reference, images), atol=1e-4)


@pytest.mark.parametrize("targeted", [True, False])
def test_cw_early_abort_is_carlinis_per_sample_rule(victim: Victim, targeted: bool) -> None:
    model, images, labels = victim.model, victim.images[:16], victim.labels[:16]
    targets = random_targets(labels, 10, seed=3)
    goals = targets if targeted else labels
    settings = {"c": 3.0, "search_steps": 1, "max_iterations": 100, "targeted": targeted}
    aborting, patient = CW(model, **settings), CW(model, **settings, abort_early=False)
    adv = aborting(images, labels, targets if targeted else None)
    patient(images, labels, targets if targeted else None)
    reference = carlini_l2(
        model,
        images,
        goals,
        targeted=targeted,
        initial_const=3.0,
        binary_search_steps=1,
        max_iterations=100,
    )
    ours_l2, reference_l2 = l2_sizes(adv, images), l2_sizes(reference, images)
    with torch.no_grad():
        hit = model(adv).argmax(dim=1)
        ref_hit = model(reference).argmax(dim=1)
    ours_ok = hit == targets if targeted else hit != labels
    ref_ok = ref_hit == targets if targeted else ref_hit != labels
    assert torch.equal(ours_ok, ref_ok)
    assert float(ours_l2[ours_ok].median()) <= float(reference_l2[ref_ok].median()) * 1.01
    assert torch.allclose(ours_l2, reference_l2, atol=1e-4)
    assert aborting.total_grads <= patient.total_grads
    assert (aborting.grad_counts <= patient.grad_counts).all()


def test_cw_gradient_pass_on_the_live_rows_alone_changes_nothing(
    victim: Victim, monkeypatch
) -> None:
    model, images, labels = victim.model, victim.images[:16], victim.labels[:16]
    whole = CW(model, c=3.0, search_steps=2, max_iterations=30)
    adv = whole(images, labels)
    monkeypatch.setattr(cw_module, "SPLIT_MIN_ELEMENTS", 0)
    split = CW(model, c=3.0, search_steps=2, max_iterations=30)
    counted = count_gradients(split)
    adv_split = counted(images, labels)
    assert torch.allclose(l2_sizes(adv_split, images), l2_sizes(adv, images), atol=1e-4)
    assert torch.equal(split.grad_counts, whole.grad_counts)
    assert torch.equal(split.grad_counts, counted.grad_counts)


@pytest.mark.parametrize("norm", ["l2", "linf"])
def test_deepfool_fooling_rates_follow_foolbox(victim: Victim, norm: str) -> None:
    model, images, labels = victim.model, victim.images, victim.labels
    reference_class = (
        foolbox.attacks.L2DeepFoolAttack if norm == "l2" else (foolbox.attacks.LinfDeepFoolAttack)
    )
    fmodel = foolbox.PyTorchModel(model, bounds=(0, 1))
    gaps = {}
    for steps in (1, 2, 3, 5):
        ours = DeepFool(model, norm=norm, overshoot=0.02, max_iter=steps, candidates=10)
        theirs = reference_class(steps=steps, candidates=10, overshoot=0.02)
        reference, _, _ = theirs(fmodel, images, labels, epsilons=None)
        gaps[steps] = rate(model, ours(images, labels), labels) - rate(model, reference, labels)
    assert all(abs(gap) <= 0.02 for gap in gaps.values()), gaps


def test_lbfgs_batch_equals_one_sample_at_a_time(victim: Victim) -> None:
    model, images, labels = victim.model, victim.images[:16], victim.labels[:16]
    targets = random_targets(labels, 10, seed=5)
    attack = LBFGS(model, search_steps=3, max_iterations=10)
    batch = attack(images, labels, targets)
    batch_counts = attack.grad_counts.clone()
    single, single_counts = [], []
    for i in range(16):
        single.append(attack(images[i : i + 1], labels[i : i + 1], targets[i : i + 1]))
        single_counts.append(attack.grad_counts)
    single = torch.cat(single)
    with torch.no_grad():
        batch_hit = model(batch).argmax(dim=1) == targets
        single_hit = model(single).argmax(dim=1) == targets
    assert torch.equal(batch_hit, single_hit)
    assert torch.allclose(l2_sizes(batch, images), l2_sizes(single, images), rtol=1e-4, atol=1e-5)
    assert torch.equal(batch_counts, torch.cat(single_counts))


def test_fooling_rate_names_both_lengths_when_they_differ() -> None:
    assert issubclass(ParameterError, ValueError)
    with pytest.raises(ParameterError, match=r"adv_pred 5, labels 4, clean_pred 4"):
        fooling_rate(np.zeros(5, int), np.zeros(4, int), np.zeros(4, int))
    with pytest.raises(ValueError, match=r"clean_pred.*3"):
        fooling_rate(np.zeros(4, int), np.zeros(4, int), np.zeros(3, int))
    with pytest.raises(ValueError, match=r"targets.*2"):
        target_hit_rate(np.zeros(4, int), np.zeros(4, int), np.zeros(4, int), np.zeros(2, int))
