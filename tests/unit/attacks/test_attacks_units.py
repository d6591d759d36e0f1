"""Unit checks of the attack building blocks that need no trained model."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from specnb.attacks import (
    BIM,
    CW,
    FGSM,
    JSMA,
    LBFGS,
    CountingModel,
    DeepFool,
    cw_loss,
    cw_margin,
    make_attack,
    random_targets,
)
from specnb.attacks.fgsm import steepest_step
from specnb.attacks.jsma import pair_saliency, pixel_saliency
from specnb.attacks.targets import check_target_labels


def linear_net(classes: int = 3) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(12, classes))


def test_random_targets_are_wrong_reproducible_and_cover_every_wrong_class() -> None:
    labels = torch.randint(0, 10, (4000,), generator=torch.Generator().manual_seed(1))
    targets = random_targets(labels, 10, seed=7)
    assert not (targets == labels).any()
    assert torch.equal(targets, random_targets(labels, 10, seed=7))
    assert not torch.equal(targets, random_targets(labels, 10, seed=8))
    assert targets.min() >= 0 and targets.max() < 10
    offsets = (targets - labels) % 10
    counts = torch.bincount(offsets, minlength=10)
    assert counts[0] == 0
    assert counts[1:].min() > 4000 / 9 * 0.8


def test_random_targets_reject_bad_arguments() -> None:
    with pytest.raises(ValueError, match="num_classes"):
        random_targets(torch.tensor([0]), 1, seed=0)
    with pytest.raises(ValueError, match="labels must lie"):
        random_targets(torch.tensor([0, 5]), 5, seed=0)
    with pytest.raises(ValueError, match="integer"):
        random_targets(torch.tensor([0.0]), 5, seed=0)


def test_given_targets_must_be_wrong_labels_in_range() -> None:
    labels = torch.tensor([0, 1, 2])
    with pytest.raises(ValueError, match=r"samples \[1\]"):
        check_target_labels(torch.tensor([1, 1, 0]), labels, 3)
    with pytest.raises(ValueError, match="lie in"):
        check_target_labels(torch.tensor([1, 2, 3]), labels, 3)
    with pytest.raises(ValueError, match="entries"):
        check_target_labels(torch.tensor([1, 2]), labels, 3)


def test_cw_margin_is_right_when_every_logit_is_negative() -> None:
    logits = torch.tensor([[-5.0, -1.0, -3.0], [-2.0, -9.0, -4.0]])
    targets = torch.tensor([0, 2])
    # targeted: best other logit minus the target's
    assert torch.equal(cw_margin(logits, targets, targeted=True), torch.tensor([4.0, 2.0]))
    # untargeted: own logit minus the best other
    labels = torch.tensor([1, 0])
    assert torch.equal(cw_margin(logits, labels, targeted=False), torch.tensor([2.0, 2.0]))
    # masking by multiplying with a one-hot would read a 0 for the excluded class instead
    one_hot = torch.nn.functional.one_hot(targets, 3).float()
    product_rival = ((1 - one_hot) * logits).amax(dim=1)
    assert not torch.equal(
        product_rival - logits.gather(1, targets[:, None]).squeeze(1),
        cw_margin(logits, targets, targeted=True),
    )


def test_cw_loss_clamps_at_minus_kappa_with_zero_gradient() -> None:
    logits = torch.tensor([[3.0, -1.0, 0.5], [0.0, 0.2, 0.1]], requires_grad=True)
    targets = torch.tensor([0, 0])
    loss = cw_loss(logits, targets, kappa=1.0, targeted=True)
    assert torch.allclose(loss, torch.tensor([-1.0, 0.2]))
    (grad,) = torch.autograd.grad(loss.sum(), logits)
    assert torch.equal(grad[0], torch.zeros(3))
    assert torch.equal(grad[1], torch.tensor([-1.0, 1.0, 0.0]))


def test_steepest_step_has_unit_norm_and_survives_zero_gradients() -> None:
    grad = torch.tensor([[[3.0, -4.0]], [[0.0, 0.0]]])
    step = steepest_step(grad, "l2")
    assert torch.allclose(step[0].norm(), torch.tensor(1.0))
    assert torch.equal(step[1], torch.zeros(1, 2))
    assert torch.equal(steepest_step(grad, "linf")[0], torch.tensor([[1.0, -1.0]]))


def test_pixel_saliency_follows_paper_conditions() -> None:
    gain = torch.tensor([[1.0, 5.0, 2.0, 3.0]])
    others = torch.tensor([[-1.0, 1.0, -4.0, -9.0]])
    domain = torch.tensor([[True, True, True, False]])
    picks, found = pixel_saliency(gain, others, domain)
    assert picks.tolist() == [[2]] and found.tolist() == [True]
    picks, found = pixel_saliency(gain, others.abs(), domain)
    assert found.tolist() == [False]


def test_pair_saliency_finds_a_pair_where_no_single_feature_qualifies() -> None:
    gain = torch.tensor([[2.0, -1.0, 0.5]])
    others = torch.tensor([[1.0, -3.0, 0.5]])
    domain = torch.ones(1, 3, dtype=torch.bool)
    assert pixel_saliency(gain, others, domain)[1].tolist() == [False]
    picks, found = pair_saliency(gain, others, domain, candidates=3)
    assert found.tolist() == [True] and sorted(picks[0].tolist()) == [0, 1]
    _, found = pair_saliency(gain, others, torch.tensor([[True, False, True]]), candidates=3)
    assert found.tolist() == [False]


def test_counting_model_counts_only_rows_that_receive_gradient() -> None:
    counter = CountingModel(linear_net())
    images = torch.rand(4, 3, 2, 2)
    counter.reset(reference=images)
    x = images.clone().requires_grad_(True)
    logits = counter(x)
    torch.autograd.grad(logits[[0, 2]].sum(), x, retain_graph=True)
    torch.autograd.grad(logits[2].sum(), x)
    subset = (images[[3, 1]] + 0.01).requires_grad_(True)
    torch.autograd.grad(counter(subset)[0].sum(), subset)
    with torch.no_grad():
        counter(images)
    assert counter.backward_passes == 3
    assert counter.total_grads == 4
    assert counter.grad_counts.tolist() == [1, 0, 2, 1]


def test_counting_model_assigns_copies_in_a_full_size_pass_to_their_sample() -> None:
    counter = CountingModel(linear_net())
    images = torch.rand(4, 3, 2, 2) + torch.arange(4.0).view(4, 1, 1, 1)
    counter.reset(reference=images)
    copies = images[[2, 0]].repeat(2, 1, 1, 1).requires_grad_(True)
    torch.autograd.grad(counter(copies).sum(), copies)
    assert counter.backward_passes == 1 and counter.total_grads == 4
    assert counter.grad_counts.tolist() == [2, 0, 2, 0]


def test_counting_model_keeps_the_wrapped_mode() -> None:
    net = linear_net().eval()
    assert not CountingModel(net).training


@pytest.mark.parametrize(
    ("images", "labels", "match"),
    [
        (torch.rand(2, 3, 2, 2) + 1, torch.tensor([0, 1]), r"\[0, 1\]"),
        (torch.full((2, 3, 2, 2), float("nan")), torch.tensor([0, 1]), "NaN"),
        (torch.rand(3, 2, 2), torch.tensor([0, 1, 2]), "shape"),
        (torch.rand(2, 3, 2, 2), torch.tensor([0, 1, 2]), "3 entries"),
        (torch.rand(2, 3, 2, 2), torch.tensor([0, 3]), "labels must lie"),
        (torch.rand(2, 3, 2, 2), torch.tensor([0.0, 1.0]), "integer"),
        (torch.rand(0, 3, 2, 2), torch.zeros(0, dtype=torch.long), "empty"),
    ],
)
def test_attacks_reject_bad_batches(images: torch.Tensor, labels: torch.Tensor, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        FGSM(linear_net(), eps=0.1)(images, labels)


def test_target_labels_need_a_targeted_attack() -> None:
    images, labels = torch.rand(2, 3, 2, 2), torch.tensor([0, 1])
    with pytest.raises(ValueError, match="targeted=True"):
        FGSM(linear_net(), eps=0.1)(images, labels, torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="wrong label"):
        FGSM(linear_net(), eps=0.1, targeted=True)(images, labels, torch.tensor([0, 2]))


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda m: FGSM(m, eps=-0.1), "eps"),
        (lambda m: FGSM(m, eps=0.1, norm="l1"), "norm"),
        (lambda m: BIM(m, eps=0.1, steps=0), "steps"),
        (lambda m: BIM(m, eps=0.1, variant="c"), "variant"),
        (lambda m: JSMA(m, theta=0.0), "theta"),
        (lambda m: JSMA(m, gamma=1.5), "gamma"),
        (lambda m: JSMA(m, variant="triple"), "variant"),
        (lambda m: CW(m, lr=0.0), "lr"),
        (lambda m: CW(m, kappa=-1.0), "kappa"),
        (lambda m: DeepFool(m, candidates=1), "candidates"),
        (lambda m: DeepFool(m, overshoot=float("nan")), "overshoot"),
        (lambda m: LBFGS(m, c_min=10.0, c_max=1.0), "c_min"),
        (lambda m: make_attack("pgd", m), "unknown attack"),
    ],
)
def test_bad_settings_name_the_parameter(build, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        build(linear_net())


def test_attacks_need_a_module() -> None:
    with pytest.raises(TypeError, match=r"torch\.nn\.Module"):
        FGSM(lambda x: x, eps=0.1)


def test_make_attack_builds_bim_variants_and_knows_settings() -> None:
    attack = make_attack("BIM-a", linear_net(), eps=0.1, steps=4)
    assert isinstance(attack, BIM) and attack.variant == "a"
    assert attack.params == {
        "eps": 0.1,
        "alpha": 2.5 * 0.1 / 4,
        "steps": 4,
        "variant": "a",
        "targeted": False,
        "seed": 0,
    }
    assert "variant='a'" in repr(attack)
