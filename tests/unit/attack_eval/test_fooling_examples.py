"""One meaning of "fools" (misclassification, target hits beside it) in the gallery, the
listening table and the black-box check; the example shown is the smallest budget that fools;
SNR leaves out examples the attack did not change."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from specnb.attack_eval import evaluate_attack, fgsm_grid, gallery_figure
from specnb.data import load_dataset
from specnb.listening.attack_audio import (
    listen_to_attacks,
    listening_frame,
    reconstruction_floor,
    snr_by_attack,
)
from specnb.listening.black_box import black_box_check
from specnb.representations import make_setting
from specnb.representations.features import clip_image

STFT = make_setting("stft", sr=8000, n_fft=256)
#: Margins of class 0 over class 1 of :func:`_margin_model`; FGSM lowers one by 120 * eps.
MARGINS = (2.0, 5.0, 59.0)
GRID = [0.0, 0.01, 0.02, 0.05, 0.1]


def _margin_model() -> nn.Module:
    """Two classes: logit 0 = 10 * the sum of the 12 pixels, logit 1 = 60."""
    net = nn.Sequential(nn.Flatten(), nn.Linear(12, 2))
    with torch.no_grad():
        net[1].weight.copy_(torch.stack([torch.full((12,), 10.0), torch.zeros(12)]))
        net[1].bias.copy_(torch.tensor([0.0, 60.0]))
    return net.eval()


@pytest.fixture(scope="module")
def margins():
    """FGSM over :data:`GRID` on three clips of class 0 whose margins are :data:`MARGINS`."""
    images = torch.stack([torch.full((3, 2, 2), (60.0 + m) / 120.0) for m in MARGINS])
    labels = torch.zeros(len(MARGINS), dtype=torch.long)
    ev = evaluate_attack(
        _margin_model(), "fgsm", images, labels, budgets=fgsm_grid(GRID), targeted=False
    )
    return ev, images


def test_the_example_is_the_smallest_budget_that_fools(margins) -> None:
    ev, images = margins
    # margin 2 flips at 0.02 (120 * 0.02 = 2.4), margin 5 at 0.05; margin 59 saturates the
    # softmax: no gradient, FGSM leaves it unchanged at every budget
    shown = [ev.example(at) for at in range(len(MARGINS))]
    assert [e.budget for e in shown] == [0.02, 0.05, 0.1]
    assert [e.fools for e in shown] == [True, True, False]
    for example, image in zip(shown[:2], images):
        # FGSM lowers every pixel by the budget: the image is the one made at that budget
        torch.testing.assert_close(example.image, image - example.budget, atol=1e-6, rtol=0)
        # float32 pixels: ℓ∞ within a few ulps of the budget
        assert example.linf == pytest.approx(example.budget, abs=1e-6) and example.perturbed
    assert torch.equal(shown[2].image, images[2]) and not shown[2].perturbed
    assert shown[0].pred == 1 and shown[2].pred == 0 and shown[0].hits_target is None
    # the kept examples are still the largest budget's
    assert float(ev.adv_images[0].max()) == pytest.approx(float(images[0].max()) - 0.1)


def test_the_gallery_shows_the_smallest_fooling_budget(margins) -> None:
    ev, images = margins
    figure = gallery_figure([ev], images, ["zero", "one"], samples=[0, 2])
    titles = [ax.get_title() for ax in figure.axes]
    assert "FGSM @ 0.02\n→ one" in titles
    assert "FGSM @ 0.1: not fooled\n→ zero" in titles
    assert not any("@ 0.1\n" in t for t in titles)


@pytest.fixture(scope="module")
def clip():
    dataset = load_dataset("synthetic", n_per_class=1, sr_native=16000)
    y = dataset.load(dataset.clips[0], STFT.sr)
    return y, clip_image(y, STFT, device="cpu")


def _pooled_linear() -> nn.Module:
    torch.manual_seed(1)
    return nn.Sequential(nn.AdaptiveAvgPool2d(8), nn.Flatten(), nn.Linear(192, 10)).eval()


def test_a_targeted_miss_that_is_misclassified_fools(clip) -> None:
    y, image = clip
    model = _pooled_linear()
    pred = int(model(image[None]).argmax())
    label, target = (pred + 1) % 10, (pred + 2) % 10
    check = black_box_check(y, image, STFT, model, label=label, target=target)
    # taken for another wrong class than its target: fooled, target missed
    assert check["image_fools"] and check["audio_fools"]
    assert check["image_hits_target"] is False and check["audio_hits_target"] is False
    hit = black_box_check(y, image, STFT, model, label=label, target=pred)
    assert hit["image_fools"] and hit["image_hits_target"] is True
    untargeted = black_box_check(y, image, STFT, model, label=pred)
    assert not untargeted["image_fools"] and untargeted["image_hits_target"] is None


def test_snr_leaves_out_unchanged_examples_and_the_floor_is_said_apart(clip) -> None:
    y, image = clip
    model = _pooled_linear()
    label = torch.tensor([int(model(image[None]).argmax())])
    unchanged = evaluate_attack(
        model, "fgsm", image[None], label, budgets=fgsm_grid([0.0]), targeted=False
    )
    changed = evaluate_attack(
        model, "fgsm", image[None], label, budgets=fgsm_grid([0.0, 0.1]), targeted=False
    )
    heard = listen_to_attacks([unchanged], lambda i: y, STFT, model, [0])
    assert not heard[0].perturbed and heard[0].budget == 0.0
    floor = reconstruction_floor(image, y, STFT)
    # the unchanged example's audio is the reconstruction's own floor: it is no attack's SNR
    assert heard[0].check["snr_db"] == pytest.approx(floor) and floor > 40
    assert math.isnan(heard[0].snr_db) and math.isnan(snr_by_attack(heard)["fgsm"])
    frame = listening_frame(heard)
    assert math.isnan(frame.loc[0, "snr_db"]) and frame.loc[0, "budget"] == 0.0
    assert frame.loc[0, "image_fools"] == False  # noqa: E712 (a NumPy bool)
    both = listen_to_attacks([unchanged, changed], lambda i: y, STFT, model, [0])
    means = snr_by_attack(both)
    assert means == {"fgsm": pytest.approx(both[1].check["snr_db"])}
    assert 0 < means["fgsm"] < floor and np.isfinite(means["fgsm"])
