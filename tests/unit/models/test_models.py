"""Victim models: shapes, gradients, normalisation, seeding, sizes and local ImageNet weights."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torchvision import models as tvm

from specnb.models import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    MODELS,
    AuxClassifier,
    ModelError,
    Normalise,
    build_model,
    count_parameters,
    model_info,
)

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
TORCHVISION_ARCHS = ("resnet18", "resnet34", "alexnet", "googlenet")
AUX_PREFIXES = ("backbone.aux1.", "backbone.aux2.")

# Paper Table 6: training-parameter ratio relative to ResNet-18, in percent (as printed).
PAPER_TABLE6_PARAM_RATIO = {
    "resnet34": 51.11,
    "resnet56": 49.88,
    "alexnet": 61.32,
    "googlenet": 40.26,
    "sbcnn": -14.14,
    "lstm": 36.39,
}


def _images(batch: int = 2, *, seed: int = 0) -> torch.Tensor:
    return torch.rand(batch, 3, 128, 128, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("arch", MODELS)
def test_forward_backward_reach_input_and_parameters(arch: str) -> None:
    model = build_model(arch, 10, seed=0).to(DEVICE).train()
    x = _images().to(DEVICE).requires_grad_(True)
    labels = torch.tensor([3, 7], device=DEVICE)
    logits = model(x)
    assert type(logits) is torch.Tensor
    assert logits.shape == (2, 10)
    F.cross_entropy(logits, labels).backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    no_grad = [
        name
        for name, p in model.named_parameters()
        if not name.startswith(AUX_PREFIXES) and (p.grad is None or p.grad.abs().sum() == 0)
    ]
    assert no_grad == []

    # Attack mode: evaluation forward, gradient with respect to the input only.
    model.eval().requires_grad_(False)
    x_eval = _images(seed=1).to(DEVICE).requires_grad_(True)
    out = model(x_eval)
    assert type(out) is torch.Tensor and out.shape == (2, 10)
    (grad,) = torch.autograd.grad(out[:, 0].sum(), x_eval)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0


@pytest.mark.parametrize("arch", MODELS)
def test_fifty_classes_and_plain_tensor_in_eval(arch: str) -> None:
    model = build_model(arch, 50, seed=0).eval()
    with torch.no_grad():
        out = model(_images())
    assert type(out) is torch.Tensor
    assert out.shape == (2, 50) and out.dtype == torch.float32
    assert torch.isfinite(out).all()


def test_googlenet_aux_loss_trains_the_aux_heads_only_in_training() -> None:
    model = build_model("googlenet", 10, seed=0).train()
    assert isinstance(model, AuxClassifier)
    x, labels = _images(), torch.tensor([1, 2])
    logits = model(x)
    assert type(logits) is torch.Tensor and logits.shape == (2, 10)
    # A training-mode forward keeps graph tensors; copying the model must still work.
    copy.deepcopy(model)
    pickle.dumps(model)
    aux = model.aux_loss(x, labels)
    assert aux.ndim == 0 and aux.item() > 0
    (F.cross_entropy(logits, labels) + aux).backward()
    aux_fc = model.backbone.aux1.fc2.weight
    assert aux_fc.grad is not None and aux_fc.grad.abs().sum() > 0
    # Without a matching forward, aux_loss runs the heads itself.
    assert model.aux_loss(_images(seed=3), labels).item() > 0
    model.eval()
    assert model.aux_loss(x, labels).item() == 0.0


def test_normalisation_is_the_first_layer() -> None:
    x = _images()
    for arch in MODELS:
        model = build_model(arch, 10, seed=0).eval()
        first = next(model.children())
        assert isinstance(first, Normalise), arch
        imagenet = arch in ("resnet18", "resnet34", "alexnet")
        mean = torch.tensor(IMAGENET_MEAN if imagenet else (0.5, 0.5, 0.5)).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD if imagenet else (0.5, 0.5, 0.5)).view(1, 3, 1, 1)
        seen: list[torch.Tensor] = []
        handle = model.backbone.register_forward_pre_hook(lambda _m, a: seen.append(a[0]))
        with torch.no_grad():
            model(x)
        handle.remove()
        torch.testing.assert_close(seen[0], (x - mean) / std)
        assert "normalise.mean" in model.state_dict(), arch


def test_normalise_rejects_bad_statistics_and_inputs() -> None:
    with pytest.raises(ValueError, match="equal"):
        Normalise((0.5, 0.5), (0.5,))
    with pytest.raises(ValueError, match="positive std"):
        Normalise((0.5,), (0.0,))
    with pytest.raises(ValueError, match="positive std"):
        Normalise((float("nan"),), (1.0,))
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        Normalise((0.5,) * 3, (0.5,) * 3)(torch.rand(2, 1, 8, 8))


def test_seeded_construction_is_deterministic_and_leaves_global_rng() -> None:
    for arch in MODELS:
        state = torch.random.get_rng_state()
        a = build_model(arch, 10, seed=7).state_dict()
        assert torch.equal(torch.random.get_rng_state(), state), arch
        b = build_model(arch, 10, seed=7).state_dict()
        c = build_model(arch, 10, seed=8).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), arch
        assert not all(torch.equal(a[k], c[k]) for k in a), arch


def test_parameter_counts(capsys: pytest.CaptureFixture[str]) -> None:
    info = {(a, n): model_info(a, n) for a in MODELS for n in (10, 50)}
    for arch in ("sbcnn", "googlenet"):
        assert info[arch, 10]["parameters"] == count_parameters(build_model(arch, 10))
    params = {key: value["parameters"] for key, value in info.items()}

    # Against torchvision's published ImageNet counts (1000 classes; GoogLeNet without aux).
    published = {
        "resnet18": (tvm.ResNet18_Weights.IMAGENET1K_V1, 512),
        "resnet34": (tvm.ResNet34_Weights.IMAGENET1K_V1, 512),
        "alexnet": (tvm.AlexNet_Weights.IMAGENET1K_V1, 4096),
        "googlenet": (tvm.GoogLeNet_Weights.IMAGENET1K_V1, 1024),
    }
    for arch, (weights, features) in published.items():
        main = info[arch, 10]["parameters"] - info[arch, 10]["aux_parameters"]
        assert main == weights.meta["num_params"] - (features + 1) * (1000 - 10), arch
    # He et al. (2016) report 0.85M parameters for the CIFAR-10 ResNet-56.
    assert abs(params["resnet56", 10] - 0.85e6) < 0.01e6

    # Only the heads grow with the class count (GoogLeNet: main + two auxiliary heads).
    head_in = {
        "resnet18": 512,
        "resnet34": 512,
        "resnet56": 64,
        "alexnet": 4096,
        "sbcnn": 64,
        "lstm": 512,
    }
    for arch, features in head_in.items():
        assert params[arch, 50] - params[arch, 10] == 40 * (features + 1), arch
    assert params["googlenet", 50] - params["googlenet", 10] == 40 * (1024 + 1) * 3

    p = {arch: params[arch, 10] for arch in MODELS}
    assert p["alexnet"] > p["resnet34"] > p["resnet18"] > p["googlenet"]
    assert p["resnet18"] > p["lstm"] > p["resnet56"] > p["sbcnn"]

    with capsys.disabled():
        print("\narch        params(10)  params(50)  aux(10)   vs resnet18  paper Table 6")
        for arch in MODELS:
            ratio = 100 * (p[arch] / p["resnet18"] - 1)
            paper = PAPER_TABLE6_PARAM_RATIO.get(arch)
            print(
                f"{arch:<10} {params[arch, 10]:>11,} {params[arch, 50]:>11,} "
                f"{info[arch, 10]['aux_parameters']:>9,} {ratio:>+10.2f}% "
                f"{'' if paper is None else f'{paper:+.2f}%':>13}"
            )


def test_registry_rejects_unknown_names_and_class_counts() -> None:
    with pytest.raises(ModelError, match="resnet18.*lstm"):
        build_model("vgg16", 10)
    with pytest.raises(ModelError, match="known models"):
        model_info("ResNet18", 10)
    for bad in (1, 0, -3, True, 2.5):
        with pytest.raises(ModelError, match="num_classes"):
            build_model("sbcnn", bad)  # type: ignore[arg-type]


def test_input_size_errors_name_the_expected_shape() -> None:
    with pytest.raises(ValueError, match="3, 128, W"):
        build_model("lstm", 10)(torch.rand(1, 3, 64, 128))
    with pytest.raises(ValueError, match="128x128"):
        build_model("sbcnn", 10)(torch.rand(1, 3, 128, 96))
    # The time axis of the LSTM is free.
    assert build_model("lstm", 10).eval()(torch.rand(1, 3, 128, 40)).shape == (1, 10)


# --- ImageNet weights from a local file -------------------------------------------------


@pytest.fixture(scope="module")
def weight_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("weights")
    torch.manual_seed(0)
    nets = {
        "resnet18": tvm.resnet18(weights=None),
        "resnet34": tvm.resnet34(weights=None),
        "googlenet": tvm.GoogLeNet(aux_logits=False, init_weights=True),
        "alexnet": tvm.alexnet(weights=None),
    }
    files = {}
    for name, net in nets.items():
        for module in net.modules():  # make running statistics distinguishable from defaults
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-1, 1)
        files[name] = folder / f"{name}.pth"
        torch.save(net.state_dict(), files[name])
    return files


@pytest.mark.parametrize(
    ("arch", "head"),
    [("resnet18", "fc"), ("alexnet", "classifier.6"), ("googlenet", "fc")],
)
def test_pretrained_loads_all_but_the_head(
    arch: str, head: str, weight_files: dict[str, Path]
) -> None:
    source = torch.load(weight_files[arch], weights_only=True)
    model = build_model(arch, 10, pretrained=weight_files[arch], seed=0)
    state = model.backbone.state_dict()
    for key, tensor in source.items():
        if key.startswith(head + "."):
            assert state[key].shape[0] == 10
        else:
            assert torch.equal(state[key], tensor), key
    # The head is the seeded random one, not a slice of the file's.
    fresh = build_model(arch, 10, seed=0).backbone.state_dict()
    assert torch.equal(state[head + ".weight"], fresh[head + ".weight"])
    with torch.no_grad():
        assert model.eval()(_images()).shape == (2, 10)


def test_pretrained_googlenet_keeps_random_aux_heads_when_file_lacks_them(
    weight_files: dict[str, Path],
) -> None:
    model = build_model("googlenet", 10, pretrained=weight_files["googlenet"], seed=0)
    fresh = build_model("googlenet", 10, seed=0)
    torch.testing.assert_close(model.backbone.aux1.fc1.weight, fresh.backbone.aux1.fc1.weight)
    assert not torch.equal(model.backbone.conv1.conv.weight, fresh.backbone.conv1.conv.weight)


def test_pretrained_accepts_a_checkpoint_dict(
    weight_files: dict[str, Path], tmp_path: Path
) -> None:
    wrapped = tmp_path / "wrapped.pt"
    source = torch.load(weight_files["resnet18"], weights_only=True)
    torch.save({"state_dict": source, "epoch": 3}, wrapped)
    model = build_model("resnet18", 10, pretrained=wrapped)
    assert torch.equal(model.backbone.conv1.weight, source["conv1.weight"])


def test_pretrained_mismatched_architecture_is_a_clear_error(
    weight_files: dict[str, Path], tmp_path: Path
) -> None:
    with pytest.raises(ModelError, match=r"resnet34\.pth.*'resnet18'.*unexpected keys.*layer1\.2"):
        build_model("resnet18", 10, pretrained=weight_files["resnet34"])
    with pytest.raises(ModelError, match=r"resnet18\.pth.*'resnet34'.*missing keys"):
        build_model("resnet34", 10, pretrained=weight_files["resnet18"])
    with pytest.raises(ModelError, match=r"googlenet\.pth.*'resnet18'"):
        build_model("resnet18", 10, pretrained=weight_files["googlenet"])
    source = torch.load(weight_files["resnet18"], weights_only=True)
    source["layer1.0.conv1.weight"] = torch.zeros(64, 64, 1, 1)
    reshaped = tmp_path / "reshaped.pth"
    torch.save(source, reshaped)
    with pytest.raises(ModelError, match=r"shape mismatches.*layer1\.0\.conv1\.weight"):
        build_model("resnet18", 10, pretrained=reshaped)


def test_pretrained_bad_files_are_clear_errors(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"this is not a torch checkpoint at all")
    with pytest.raises(ModelError, match=r"garbage\.pth is not a readable torch checkpoint"):
        build_model("resnet18", 10, pretrained=garbage)
    empty = tmp_path / "empty.pth"
    empty.write_bytes(b"")
    with pytest.raises(ModelError, match=r"empty\.pth"):
        build_model("googlenet", 10, pretrained=empty)
    listed = tmp_path / "list.pth"
    torch.save([torch.zeros(2)], listed)
    with pytest.raises(ModelError, match=r"list\.pth holds a list, not a state_dict"):
        build_model("alexnet", 10, pretrained=listed)
    with pytest.raises(ModelError, match=r"absent\.pth does not exist"):
        build_model("resnet34", 10, pretrained=tmp_path / "absent.pth")
    with pytest.raises(ModelError, match="'sbcnn' has no ImageNet weights.*resnet18"):
        build_model("sbcnn", 10, pretrained=garbage)
    assert [a for a in MODELS if model_info(a, 10)["accepts_pretrained"]] == list(TORCHVISION_ARCHS)
