"""The ε explorer of notebook 03: the slider, the audio it plays, and the clip it opens on."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from specnb.attack_eval import evaluate_attack, fgsm_grid
from specnb.data import load_dataset
from specnb.listening.attack_audio import listen_to_attacks
from specnb.representations import make_setting
from specnb.representations.features import clip_image
from specnb.ui.eps_attacks import explorer_clip
from specnb.ui.eps_explorer import EpsilonExplorer

pytestmark = pytest.mark.usefixtures("one_thread")

STFT = make_setting("stft", sr=8000, n_fft=256)


@pytest.fixture(scope="module")
def clip():
    """One synthetic clip at 8 kHz and its STFT model image."""
    dataset = load_dataset("synthetic", n_per_class=1, sr_native=16000)
    y = dataset.load(dataset.clips[0], STFT.sr)
    return y, clip_image(y, STFT, device="cpu"), dataset.classes


def _pooled_linear() -> nn.Module:
    torch.manual_seed(1)
    return nn.Sequential(nn.AdaptiveAvgPool2d(8), nn.Flatten(), nn.Linear(192, 10)).eval()


def test_epsilon_explorer_follows_the_slider_and_plays_the_audio(clip):
    y, image, classes = clip
    model = _pooled_linear()
    label = int(model(image[None]).argmax())
    explorer = EpsilonExplorer(model, image, label, classes, STFT, clean_audio=y)
    clean = explorer.set_epsilon(0)
    assert clean["adv_pred"] == clean["clean_pred"] == label and not clean["fooled"]
    assert np.allclose(clean["adv_probs"], clean["clean_probs"])
    assert torch.equal(clean["adv_image"], image)
    # δ = 0: no SNR; the reconstruction's own floor is said once, above the players
    assert clean["snr_db"] is None and clean["hits_target"] is None
    assert "no perturbation (δ = 0): no SNR" in explorer.verdict.value
    assert explorer.floor_db > 40
    assert f"comes back at {explorer.floor_db:.1f} dB SNR" in explorer.audio_box.children[2].value
    strong = explorer.set_epsilon(0.1)
    assert np.abs(strong["adv_probs"] - strong["clean_probs"]).max() > 0.05
    assert strong["adv_probs"][label] < strong["clean_probs"][label]
    assert strong["audio"].shape == y.shape and 0 < strong["snr_db"] < explorer.floor_db
    assert explorer.adv_player.value[:4] == b"RIFF"
    assert explorer.figure.value[:4] == b"\x89PNG" and "computed in" in explorer.verdict.value
    explorer.set_epsilon(0.03)
    assert ("0.03", 0.03) in explorer.epsilon.options and explorer.last["eps"] == 0.03
    explorer.attack.value = "bim-b"
    explorer.target.value = (label + 1) % 10
    assert (explorer.last["attack"], explorer.last["target"]) == ("bim-b", (label + 1) % 10)
    last = explorer.last  # fooled is misclassification; the target hit stands beside it
    assert last["fooled"] == (last["adv_pred"] != label)
    assert last["hits_target"] == (last["adv_pred"] == (label + 1) % 10)
    assert ("target hit" if last["hits_target"] else "target missed") in explorer.verdict.value
    assert "specnb-epsilon" in explorer.epsilon._dom_classes
    with pytest.raises(ValueError, match="eps must lie in"):
        explorer.set_epsilon(2)


def test_explorer_without_audio_for_wavelets_and_listening(clip):
    y, image, classes = clip
    model = _pooled_linear()
    label = int(model(image[None]).argmax())
    wavelet = make_setting("wavelet", sr=8000)
    explorer = EpsilonExplorer(model, image, label, classes, wavelet, clean_audio=y, eps=0.05)
    assert explorer.last["audio"] is None and explorer.last["snr_db"] is None
    assert explorer.audio_box.layout.display == "none"
    ev = evaluate_attack(
        model,
        "fgsm",
        image[None],
        torch.tensor([label]),
        budgets=fgsm_grid([0.0, 0.1]),
        targeted=False,
    )
    heard = listen_to_attacks([ev], lambda i: y, STFT, model, [0])
    assert len(heard) == 1 and heard[0].check["pred_image"] == int(ev.adv_pred[0])
    assert heard[0].adversarial.shape == y.shape and heard[0].check["snr_db"] > 0
    with pytest.raises(ValueError, match="cannot be turned back into audio"):
        listen_to_attacks([ev], lambda i: y, wavelet, model, [0])


def test_explorer_clip_is_confident_and_flips_inside_the_slider() -> None:
    net = nn.Sequential(nn.Flatten(), nn.Linear(12, 2))
    with torch.no_grad():  # logit 0 = 10 * sum of the pixels, logit 1 = 60
        net[1].weight.copy_(torch.stack([torch.full((12,), 10.0), torch.zeros(12)]))
        net[1].bias.copy_(torch.tensor([0.0, 60.0]))
    margins = {"confident": 2.0, "saturated": 59.0, "unsure": 0.4, "wrong": -10.0, "surer": 5.0}
    images = torch.stack([torch.full((3, 2, 2), (60.0 + m) / 120.0) for m in margins.values()])
    labels = torch.zeros(5, dtype=torch.long)
    clip = explorer_clip(net, images, labels)
    # Not the saturated clip (no gradient), not the unsure one, and not the surer one: it
    # flips only at ε = 0.05, the confident one already at 0.02.
    assert clip.index == 0
    assert explorer_clip(net, images[1:], labels[1:]).index == 3  # the surer one then
    assert clip.probability == pytest.approx(torch.sigmoid(torch.tensor(2.0)).item(), abs=1e-4)
    assert clip.flips_at == 0.02  # FGSM lowers the margin by 120 * eps
    unsure = explorer_clip(net, images[1:4], labels[1:4])  # none confident that flips
    assert unsure.index == 1 and unsure.flips_at == 0.005 and unsure.probability < 0.8
