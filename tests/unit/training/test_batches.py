"""Batches of the image cache: which are pinned, where the cache lives, and that on the CPU a
batch (and so a run) is what it was before batches could be pinned.

The CUDA half (pinned, asynchronous batches against the CPU's) is in ``tests/unit/test_cuda.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from specnb.data.clips import Clip
from specnb.training import TrainConfig, train_cv
from specnb.training.batches import device_batch, host_batch, place_images, should_pin

CPU, CUDA = torch.device("cpu"), torch.device("cuda")


def _cache(n: int = 10) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (n, 3, 16, 16), dtype=torch.uint8, generator=generator)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_only_host_to_cuda_batches_are_pinned(dtype):
    host = torch.zeros(2, 3, 4, 4, dtype=dtype)
    assert should_pin(CUDA, host) and should_pin(torch.device("cuda:1"), host)
    assert should_pin("cuda", host)
    assert not should_pin(CPU, host)
    # a cache already off the host (as placed on the GPU) is gathered where it is
    assert not should_pin(CUDA, torch.zeros(2, 3, 4, 4, dtype=dtype, device="meta"))


def test_a_cpu_batch_is_the_indexed_cache_as_float_and_the_cache_is_untouched():
    cache = _cache()
    before = cache.clone()
    index = torch.tensor([7, 2, 2, 0])
    batch = device_batch(cache, index, CPU)
    assert batch.dtype == torch.float32 and batch.device == CPU
    assert torch.equal(batch, cache[index].float() / 255.0)
    assert batch.min() >= 0 and batch.max() <= 1
    assert torch.equal(cache, before) and not cache.is_pinned() and not batch.is_pinned()
    floats = cache.float() / 255.0
    assert torch.equal(device_batch(floats, index, CPU), floats[index])
    assert device_batch(floats, index, CPU).data_ptr() != floats.data_ptr()


def test_a_host_batch_keeps_the_cache_dtype_and_follows_the_index_order():
    cache = _cache()
    batch = host_batch(cache, torch.tensor([3, 1]), CPU)
    assert batch.dtype == torch.uint8 and torch.equal(batch, cache[[3, 1]])
    assert host_batch(cache, torch.zeros(0, dtype=torch.int64), CPU).shape == (0, 3, 16, 16)


def test_the_cache_stays_where_it_is_off_cuda():
    images, labels = _cache(), torch.arange(10)
    placed_images, placed_labels = place_images(images, labels, CPU)
    assert placed_images is images and placed_labels is labels


def _toy_run() -> tuple[torch.Tensor, torch.Tensor, list[Clip]]:
    """3 classes x 4 sources of uint8 images; a class brightens one band of one channel."""
    generator = torch.Generator().manual_seed(2)
    clips, images = [], []
    for label in range(3):
        for source in range(4):
            clips.append(Clip(f"c{label}-s{source}", label, 1 + source, f"c{label}-s{source}"))
            image = torch.randint(0, 150, (3, 128, 128), dtype=torch.uint8, generator=generator)
            image[label, 40 * label : 40 * label + 30] += 100
            images.append(image)
    return torch.stack(images), torch.tensor([c.label for c in clips]), clips


def test_a_uint8_run_equals_the_run_on_its_float_levels(one_thread, tmp_path):
    """Converting on the device after the copy changes no number of a run on the CPU."""
    images, labels, clips = _toy_run()
    config = TrainConfig(
        model="sbcnn", epochs=2, batch_size=4, n_folds=2, patience=5, seed=1, device="cpu"
    )
    as_uint8 = train_cv(images, labels, clips, config, tmp_path / "uint8", progress=False)
    levels = images.float() / 255.0
    as_float = train_cv(levels, labels, clips, config, tmp_path / "float", progress=False)
    assert as_uint8.curves == as_float.curves
    assert as_uint8.fold_accuracies == as_float.fold_accuracies
    np.testing.assert_array_equal(as_uint8.test_predictions, as_float.test_predictions)
    assert all(np.isfinite(c["train_loss"]).all() for c in as_uint8.curves)
