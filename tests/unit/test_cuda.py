"""The CUDA paths against the CPU: representations, a training step under autocast and its
resumed checkpoint, pinned asynchronous batches of the uint8 image cache, every attack's fooling
flags and gradient counts, the waveform front end's gradient.

Each check is one function of the device. The tests marked ``cuda`` run it on the CPU and on
CUDA and compare within the tolerances below (skipped without CUDA); their CPU halves run it
on the CPU only and check what holds there exactly (determinism, resume equal to an
uninterrupted run, attack results independent of the batch size). ``specnb doctor --gpu``
runs this file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from specnb.attack_eval import evaluate_attack
from specnb.attack_eval.grids import (
    bim_grid,
    cw_grid,
    deepfool_grid,
    fgsm_grid,
    jsma_grid,
    lbfgs_grid,
)
from specnb.bench.unit_costs import REFERENCE_SETTINGS
from specnb.data.clips import Clip
from specnb.models import build_model
from specnb.representations import setting_from_dict
from specnb.representations.compute import represent
from specnb.representations.images import to_image
from specnb.training import TrainConfig, cross_validation, train_cv
from specnb.training.batches import device_batch, host_batch
from specnb.training.checkpoints import epoch_checkpoint_path, load_checkpoint
from specnb.training.epochs import Plan, make_optimizer, score, train_epoch

CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not CUDA, reason="no CUDA device: only the CPU half runs")

#: Largest pixel difference of a model image (in [0, 1]) made on CUDA from the CPU's: half of
#: one 8-bit grey level (cuFFT and pocketfft round differently in float32).
IMAGE_ATOL = 2e-3
#: One training step under float16 autocast on CUDA against float32 on the CPU: relative
#: difference of the loss, and least cosine similarity of the parameter gradients.
LOSS_RTOL, GRADIENT_COSINE = 1e-2, 0.99
#: A run resumed from its checkpoint against the uninterrupted run on CUDA (cuDNN autotuning
#: is not bit-reproducible): largest difference of a curve value, least share of equal
#: test predictions. On the CPU both are exact.
CURVE_ATOL, PREDICTION_AGREEMENT = 0.05, 0.9
#: A uint8 batch made float on CUDA against the CPU's: largest pixel difference (one float32
#: rounding: CUDA divides by a scalar as a product with its reciprocal).
BATCH_ATOL = 1e-6
#: Attacks on CUDA against the CPU: samples whose fooling flag may differ per grid point
#: (those on the decision boundary), and relative difference of the gradients per sample.
FLAG_FLIPS, GRADIENT_RTOL = 1, 0.1
#: The front end's input gradient on CUDA against the CPU's: least cosine similarity.
FRONT_END_COSINE = 0.99

_ATTACK_GRIDS = {
    "fgsm": fgsm_grid([0.002, 0.02]),
    "bim-a": bim_grid([0.01, 0.02], "a"),
    "bim-b": bim_grid([0.01, 0.02], "b"),
    "deepfool": deepfool_grid([2, 10]),
    "jsma": jsma_grid([0.0002, 0.0004]),
    "cw": cw_grid([1, 2], [5]),
    "lbfgs": lbfgs_grid([2], search_steps=2),
}


# -- representations ----------------------------------------------------------------------


def representation_images(device: str) -> dict[str, np.ndarray]:
    """Model images of two 1-s noise clips per representation kind, on ``device``."""
    rng = np.random.default_rng(0)
    out = {}
    for kind, fields in REFERENCE_SETTINGS.items():
        setting = setting_from_dict(fields)
        waves = rng.standard_normal((2, setting.sr)).astype(np.float32) * 0.1
        raw = represent(waves, setting, backend="torch", device=device)
        out[kind] = to_image(torch.as_tensor(raw).to(device), setting.colormap).cpu().numpy()
    return out


def test_representations_cpu_half():
    first, second = representation_images("cpu"), representation_images("cpu")
    for kind, image in first.items():
        assert image.shape == (2, 3, 128, 128) and np.isfinite(image).all()
        assert 0 <= image.min() < image.max() <= 1
        np.testing.assert_array_equal(image, second[kind])


@pytest.mark.cuda
@needs_cuda
def test_representations_cuda_match_cpu():
    cpu, cuda = representation_images("cpu"), representation_images("cuda")
    for kind in cpu:
        np.testing.assert_allclose(cuda[kind], cpu[kind], atol=IMAGE_ATOL, rtol=0, err_msg=kind)


# -- a training step under autocast, and a resumed checkpoint -------------------------------


def training_step(device: str) -> tuple[float, torch.Tensor]:
    """Loss and flattened parameter gradients of one train_epoch step of ResNet-18 (no
    dropout) on 8 fixed images: float16 autocast on CUDA, float32 on the CPU."""
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(8, 3, 128, 128, generator=generator)
    labels = torch.arange(8) % 4
    model = build_model("resnet18", 4, seed=0).to(device)
    config = TrainConfig(model="resnet18", device=device)
    plan = Plan(torch.device(device), batch_size=8, lr=config.lr, amp=device == "cuda")
    optimizer = make_optimizer(model, config, plan)
    # a first step at the default scale of 2**16 may overflow float16 and be skipped by design
    scaler = torch.amp.GradScaler("cuda", init_scale=2.0**10, enabled=plan.amp)
    loss, _ = train_epoch(
        model,
        optimizer,
        scaler,
        images,
        labels,
        torch.arange(8),
        torch.Generator().manual_seed(1),
        plan,
    )
    grads = torch.cat([p.grad.flatten().float().cpu() for p in model.parameters()])
    return loss, grads


def test_training_step_cpu_half():
    loss, grads = training_step("cpu")
    again, grads_again = training_step("cpu")
    assert np.isfinite(loss) and loss > 0 and torch.isfinite(grads).all() and grads.abs().sum() > 0
    assert again == loss and torch.equal(grads, grads_again)


@pytest.mark.cuda
@needs_cuda
def test_training_step_autocast_cuda_matches_cpu():
    cpu_loss, cpu_grads = training_step("cpu")
    cuda_loss, cuda_grads = training_step("cuda")
    assert cuda_loss == pytest.approx(cpu_loss, rel=LOSS_RTOL)
    assert torch.isfinite(cuda_grads).all(), "the gradient scaler skipped the step"
    cosine = torch.nn.functional.cosine_similarity(cpu_grads, cuda_grads, dim=0)
    assert cosine >= GRADIENT_COSINE


def toy_run_data() -> tuple[torch.Tensor, torch.Tensor, list[Clip]]:
    """3 separable classes x 8 sources: 24 images (a bright band per class)."""
    generator = torch.Generator().manual_seed(0)
    clips, images = [], []
    for label in range(3):
        for source in range(8):
            clips.append(Clip(f"c{label}-s{source}", label, 1 + source % 5, f"c{label}-s{source}"))
            image = torch.rand(3, 128, 128, generator=generator) * 0.5
            image[label, 40 * label : 40 * label + 30] += 0.5
            images.append(image)
    return torch.stack(images), torch.tensor([c.label for c in clips]), clips


class _Crash(Exception):
    """Raised right after the first epoch checkpoint, as a kill would leave the run."""


def resumed_and_uninterrupted(device: str, tmp_path: Path, monkeypatch) -> tuple:
    """A run crashed after its first checkpoint then resumed, an uninterrupted run, and the
    crashed run's checkpoint (on ``device``; mixed precision on CUDA)."""
    config = TrainConfig(
        model="sbcnn",
        epochs=2,
        batch_size=8,
        n_folds=2,
        patience=10,
        seed=3,
        device=device,
        cuda_batch_scale=1,
    )
    data = toy_run_data()
    real_save = cross_validation.atomic_save

    def save_then_crash(obj, path):
        real_save(obj, path)
        if Path(path).name == "last.pt":
            raise _Crash(path)

    monkeypatch.setattr(cross_validation, "atomic_save", save_then_crash)
    with pytest.raises(_Crash):
        train_cv(*data, config, tmp_path / "resumed", progress=False)
    monkeypatch.undo()
    checkpoint = load_checkpoint(epoch_checkpoint_path(tmp_path / "resumed", 0))
    resumed = train_cv(*data, config, tmp_path / "resumed", progress=False)
    reference = train_cv(*data, config, tmp_path / "reference", progress=False)
    return resumed, reference, checkpoint


def test_resume_cpu_half(tmp_path, monkeypatch):
    resumed, reference, checkpoint = resumed_and_uninterrupted("cpu", tmp_path, monkeypatch)
    assert checkpoint["epoch"] == 1 and resumed.resumed_from[0] == 1
    assert resumed.curves == reference.curves
    np.testing.assert_array_equal(resumed.test_predictions, reference.test_predictions)


@pytest.mark.cuda
@needs_cuda
def test_resume_with_autocast_on_cuda(tmp_path, monkeypatch):
    resumed, reference, checkpoint = resumed_and_uninterrupted("cuda", tmp_path, monkeypatch)
    assert checkpoint["scaler"], "the checkpoint holds no gradient-scaler state"
    assert resumed.device.startswith("cuda") and resumed.resumed_from[0] == 1
    for got, want in zip(resumed.curves, reference.curves):
        for name in want:
            np.testing.assert_allclose(got[name], want[name], atol=CURVE_ATOL, err_msg=name)
    agreement = np.mean(resumed.test_predictions == reference.test_predictions)
    assert agreement >= PREDICTION_AGREEMENT


# -- pinned batches of the uint8 image cache -----------------------------------------------


def cached_batches(device: str) -> dict[str, object]:
    """A fixed SB-CNN scored on a uint8 cache held on the host (on CUDA: batches gathered into
    pinned memory, copied asynchronously, made float on the GPU), and one of those batches."""
    generator = torch.Generator().manual_seed(0)
    cache = torch.randint(0, 256, (20, 3, 128, 128), dtype=torch.uint8, generator=generator)
    labels = torch.arange(20) % 4
    index = torch.randperm(20, generator=generator)
    model = build_model("sbcnn", 4, seed=0).to(device)
    loss, _, predictions = score(model, cache, labels, index, batch_size=8)
    return {
        "loss": loss,
        "predictions": predictions,
        "pinned": host_batch(cache, index[:8], torch.device(device)).is_pinned(),
        "batch": device_batch(cache, index[:8], torch.device(device)).cpu(),
        "expected": cache[index[:8]].float() / 255.0,
    }


def test_cached_batches_cpu_half():
    first, again = cached_batches("cpu"), cached_batches("cpu")
    assert not first["pinned"] and torch.equal(first["batch"], first["expected"])
    assert np.isfinite(first["loss"]) and first["loss"] == again["loss"]
    assert torch.equal(first["predictions"], again["predictions"])


@pytest.mark.cuda
@needs_cuda
def test_pinned_batches_on_cuda_match_cpu():
    cpu, cuda = cached_batches("cpu"), cached_batches("cuda")
    assert cuda["pinned"], "a host-to-CUDA batch was not gathered into pinned memory"
    torch.testing.assert_close(cuda["batch"], cpu["batch"], atol=BATCH_ATOL, rtol=0)
    assert cuda["loss"] == pytest.approx(cpu["loss"], rel=LOSS_RTOL)
    agreement = (cuda["predictions"] == cpu["predictions"]).float().mean()
    assert agreement >= PREDICTION_AGREEMENT


@pytest.mark.cuda
@needs_cuda
def test_a_run_from_pinned_batches_matches_the_cache_on_the_gpu(tmp_path, monkeypatch):
    images, labels, clips = toy_run_data()
    cache = images.mul(255).round().to(torch.uint8)
    config = TrainConfig(
        model="sbcnn", epochs=2, batch_size=8, n_folds=2, seed=3, device="cuda", cuda_batch_scale=1
    )
    on_gpu = train_cv(cache, labels, clips, config, tmp_path / "on-gpu", progress=False)
    # no room on the GPU: the cache stays on the host and every batch is pinned and copied
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (0, 1))
    pinned = train_cv(cache, labels, clips, config, tmp_path / "pinned", progress=False)
    for got, want in zip(pinned.curves, on_gpu.curves):
        for name in want:
            np.testing.assert_allclose(got[name], want[name], atol=CURVE_ATOL, err_msg=name)
    agreement = np.mean(pinned.test_predictions == on_gpu.test_predictions)
    assert agreement >= PREDICTION_AGREEMENT


# -- attacks --------------------------------------------------------------------------------


def attack_results(device: str, batch_size: int = 6) -> dict[str, dict[str, object]]:
    """Each attack on a fixed SB-CNN and 6 fixed images (every one counted correct): the
    fooling flags at the grid's last point, the fooling rates and gradients per sample."""
    model = build_model("sbcnn", 4, seed=0).eval().to(device)
    images = torch.rand(6, 3, 128, 128, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        labels = model(images.to(device)).argmax(1).cpu()
    out = {}
    for name, grid in _ATTACK_GRIDS.items():
        ev = evaluate_attack(model, grid, images, labels, batch_size=batch_size)
        flags = ev.adv_pred != ev.labels if ev.targets is None else ev.adv_pred == ev.targets
        out[name] = {
            "flags": flags.numpy(),
            "rates": [r.fooling_rate for r in ev.results],
            "grads": np.stack([r.grad_counts for r in ev.results]),
        }
    return out


def test_attacks_cpu_half_are_independent_of_the_batch_size():
    whole, halves = attack_results("cpu", 6), attack_results("cpu", 2)
    for name, result in whole.items():
        assert result["rates"][-1] == pytest.approx(result["flags"].mean()), name
        assert (result["grads"] > 0).all() and result["grads"].dtype == np.int64, name
        # larger attack batches keep every number the same
        np.testing.assert_array_equal(result["flags"], halves[name]["flags"], err_msg=name)
        np.testing.assert_array_equal(result["grads"], halves[name]["grads"], err_msg=name)


@pytest.mark.cuda
@needs_cuda
def test_attacks_cuda_match_cpu():
    cpu, cuda = attack_results("cpu"), attack_results("cuda")
    for name in cpu:
        flips = int((cpu[name]["flags"] != cuda[name]["flags"]).sum())
        assert flips <= FLAG_FLIPS, f"{name}: {flips} fooling flags differ"
        rates = np.abs(np.subtract(cpu[name]["rates"], cuda[name]["rates"]))
        assert (rates <= FLAG_FLIPS / 6 + 1e-9).all(), name
        np.testing.assert_allclose(
            cuda[name]["grads"].mean(1),
            cpu[name]["grads"].mean(1),
            rtol=GRADIENT_RTOL,
            err_msg=name,
        )


# -- the waveform front end -----------------------------------------------------------------


def front_end_gradient(device: str) -> torch.Tensor:
    """Input gradient of a waveform pipeline (STFT front end, fixed SB-CNN) at two clips."""
    from specnb.raw_audio.front_end import WaveformPipeline
    from specnb.representations import make_setting

    classifier = build_model("sbcnn", 4, seed=0).eval().to(device)
    pipe = WaveformPipeline(make_setting("stft", sr=8000, n_fft=256), classifier).eval()
    generator = torch.Generator().manual_seed(0)
    inputs = (0.5 + 0.05 * torch.randn(2, 1, 1, 8000, generator=generator)).to(device)
    inputs.requires_grad_(True)
    pipe(inputs)[:, 0].sum().backward()
    return inputs.grad.detach().cpu().flatten()


def test_front_end_gradient_cpu_half():
    grad = front_end_gradient("cpu")
    assert torch.isfinite(grad).all() and (grad != 0).float().mean() > 0.5
    assert torch.equal(grad, front_end_gradient("cpu"))


@pytest.mark.cuda
@needs_cuda
def test_front_end_gradient_cuda_matches_cpu():
    cpu, cuda = front_end_gradient("cpu"), front_end_gradient("cuda")
    cosine = torch.nn.functional.cosine_similarity(cpu, cuda, dim=0)
    assert cosine >= FRONT_END_COSINE
