"""``pretrained="imagenet"``: torchvision's own weights through torch's hub cache, no network."""

from __future__ import annotations

import urllib.error
from pathlib import Path

import pytest
import torch
import torchvision.models as tvm

from specnb.errors import ModelError
from specnb.models import MODELS, build_model, model_info
from specnb.models.pretrained import IMAGENET_WEIGHTS, imagenet_weights_file
from specnb.training import TrainConfig


@pytest.fixture()
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty torch hub cache; any download attempt fails as it would offline."""
    previous = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path / "hub"))

    def offline(url, dst, *args, **kwargs):
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    yield tmp_path / "hub"
    torch.hub.set_dir(previous)


def test_imagenet_weights_come_from_torchs_cache(hub: Path) -> None:
    torch.manual_seed(1)
    net = tvm.resnet18(weights=None)
    path = imagenet_weights_file("resnet18", download=False)
    assert path == hub / "checkpoints" / "resnet18-f37072fd.pth"
    path.parent.mkdir(parents=True)
    torch.save(net.state_dict(), path)
    model = build_model("resnet18", 10, pretrained="imagenet", seed=0)
    state = model.backbone.state_dict()
    assert torch.equal(state["conv1.weight"], net.conv1.weight)
    assert torch.equal(state["layer4.1.bn2.running_var"], net.layer4[1].bn2.running_var)
    assert state["fc.weight"].shape == (10, 512)
    config = TrainConfig(model="resnet18", pretrained="imagenet")
    assert config.key != config.replace(pretrained=None).key


def test_offline_without_the_file_names_it_and_where_to_put_it(hub: Path) -> None:
    with pytest.raises(ModelError) as info:
        build_model("alexnet", 10, pretrained="imagenet")
    message = str(info.value)
    assert "alexnet-owt-7be5be79.pth" in message
    assert str(hub / "checkpoints") in message
    assert "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth" in message
    assert "network is unreachable" in message
    assert not (hub / "checkpoints" / "alexnet-owt-7be5be79.pth").exists()


def test_models_without_imagenet_weights_refuse_them(hub: Path) -> None:
    with pytest.raises(ModelError, match="'sbcnn' has no ImageNet weights.*resnet18"):
        build_model("sbcnn", 10, pretrained="imagenet")
    accepting = [name for name in MODELS if model_info(name, 10)["accepts_pretrained"]]
    assert accepting == list(IMAGENET_WEIGHTS)
