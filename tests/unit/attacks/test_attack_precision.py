"""Attacks in the faster precision: the victim under autocast and channels-last, float32 logits
and gradients out, exact gradient counts, the environment's forced precision honoured."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from specnb.attacks import MixedPrecisionModel, count_gradients, make_attack
from specnb.errors import ParameterError

SIZE = 16


class SmallNet(nn.Module):
    """Two convolutions with batch normalisation and a linear layer."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.norm = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32 * (SIZE // 4) ** 2, 10)

    def forward(self, x: Tensor) -> Tensor:
        x = F.max_pool2d(F.relu(self.norm(self.conv1((x - 0.5) / 0.25))), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))


@pytest.fixture(scope="module")
def victim(train_on_patterns) -> tuple[nn.Module, Tensor, Tensor]:
    torch.manual_seed(0)
    model = SmallNet()
    images, labels, _ = train_on_patterns(model, size=SIZE, steps=60, count=16, pool=128)
    return model, images, labels


@pytest.fixture(autouse=True)
def nothing_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPECNB_PRECISION", raising=False)


def test_the_wrapped_victim_gives_float32_logits_and_gradients(victim) -> None:
    model, images, _ = victim
    fast = MixedPrecisionModel(model)
    x = images.clone().requires_grad_(True)
    logits = fast(x)
    (grad,) = torch.autograd.grad(logits.sum(), x)
    assert logits.dtype == grad.dtype == torch.float32 and grad.shape == images.shape
    assert grad.is_contiguous()  # attacks view gradients as flat rows
    logits, exact = logits.detach(), model(images).detach()
    # bfloat16 keeps 8 bits of mantissa: logits agree to a few parts in a hundred of their range
    assert float((logits - exact).abs().max()) < 0.05 * float(exact.abs().max())
    assert next(model.parameters()).dtype == torch.float32  # the victim itself is untouched


@pytest.mark.parametrize(
    "name, params",
    [
        ("fgsm", {"eps": 0.1}),
        ("bim-a", {"eps": 0.1, "alpha": 0.02, "steps": 5}),
        ("deepfool", {"max_iter": 10}),
        ("cw", {"search_steps": 2, "max_iterations": 20}),
    ],
)
def test_gradient_counts_stay_exact_in_bf16(victim, name: str, params: dict) -> None:
    model, images, labels = victim
    attack = make_attack(name, model, precision="bf16", **params)
    assert attack.precision == "bf16" and isinstance(attack.model, MixedPrecisionModel)
    counted = count_gradients(attack)
    adv = counted(images, labels)
    assert attack.total_grads == counted.total_grads > 0
    assert torch.equal(attack.grad_counts, counted.grad_counts)
    assert adv.dtype == torch.float32 and 0 <= float(adv.min()) and float(adv.max()) <= 1


def test_bf16_fools_like_fp32_at_a_generous_budget(victim) -> None:
    model, images, labels = victim
    rates = {}
    for precision in ("fp32", "bf16"):
        adv = make_attack("bim-b", model, precision=precision, eps=0.3, alpha=0.05, steps=10)(
            images, labels
        )
        with torch.no_grad():  # success judged on the float32 model
            rates[precision] = float((model(adv).argmax(1) != labels).float().mean())
    assert rates["fp32"] == 1.0 and rates["bf16"] == 1.0


@pytest.mark.parametrize("forced, asked", [("bf16", "fp32"), ("fp32", "bf16")])
def test_the_environment_forces_the_attack_precision(
    victim, forced: str, asked: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = victim[0]
    monkeypatch.setenv("SPECNB_PRECISION", forced)
    attack = make_attack("fgsm", model, precision=asked, eps=0.1)
    assert attack.precision == forced
    assert isinstance(attack.model, MixedPrecisionModel) == (forced == "bf16")


def test_fp32_leaves_the_victim_as_it_is(victim) -> None:
    model = victim[0]
    attack = make_attack("fgsm", model, eps=0.1)
    assert attack.precision == "fp32" and attack.model is model


@pytest.mark.parametrize("value", ["auto", "fp16", None])
def test_bad_precisions_are_named(victim, value) -> None:
    with pytest.raises(ParameterError, match=r"precision=.* is not a precision; use one of"):
        make_attack("fgsm", victim[0], precision=value, eps=0.1)


def test_an_evaluation_records_its_precision_and_bf16_keys_apart(victim) -> None:
    from specnb.attack_eval import budget_grid, evaluate_attack
    from specnb.attack_eval.run import attack_params

    model, images, labels = victim
    grid = budget_grid("fgsm", "quick")
    runs = {
        p: evaluate_attack(model, grid, images, labels, precision=p, max_samples=4)
        for p in ("fp32", "bf16")
    }
    for precision, evaluation in runs.items():
        assert evaluation.precision == precision
        params = attack_params(grid, targeted=None, seed=0, max_samples=4, precision=precision)
        assert evaluation.params() == params
    # float32 keeps the parameters (and store keys) it always had; bf16 adds itself
    assert "precision" not in runs["fp32"].params()
    assert runs["bf16"].params()["precision"] == "bf16"
    # the same gradient counts: FGSM takes one gradient per sample and budget either way
    assert runs["fp32"].grads_per_sample == runs["bf16"].grads_per_sample
