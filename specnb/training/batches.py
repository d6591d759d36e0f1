"""Batches of the image cache on the compute device: where the cache lives, how a batch moves.

One rule for every loop that feeds cached images to a model (training, dev and test scoring):

- On CUDA, the whole cache is moved to the GPU once when it takes less than half the free GPU
  memory (:func:`place_images`); batches are then gathered on the GPU and nothing crosses PCIe.
- Otherwise each batch is gathered on the host into page-locked (pinned) memory and copied with
  ``non_blocking=True`` (:func:`should_pin`, :func:`host_batch`): the copy is a DMA that runs
  while the host gathers the next batch. Pinning the cache itself would not do this: indexing a
  pinned tensor with a shuffled index returns an ordinary pageable tensor.
- uint8 images cross as uint8 and become float in [0, 1] on the device (a quarter of the bytes
  of float32), see :func:`device_batch`.

On the CPU nothing is pinned or copied: a batch is ``images[index]`` as float, bit for bit.
"""

from __future__ import annotations

import torch

__all__ = ["device_batch", "host_batch", "place_images", "should_pin"]


def should_pin(device: torch.device, images: torch.Tensor) -> bool:
    """Whether batches of ``images`` bound for ``device`` are gathered into pinned memory.

    Parameters
    ----------
    device : torch.device
        Where the model runs.
    images : torch.Tensor
        The image cache (any dtype); pinned batches are worth it only for a host-to-CUDA copy.

    Returns
    -------
    bool
        True when ``images`` lives on the CPU and ``device`` is a CUDA device.

    Examples
    --------
    >>> should_pin(torch.device("cpu"), torch.zeros(2, 3, 8, 8, dtype=torch.uint8))
    False
    >>> should_pin(torch.device("cuda"), torch.zeros(2, 3, 8, 8, dtype=torch.uint8))
    True
    """
    return torch.device(device).type == "cuda" and images.device.type == "cpu"


def place_images(
    images: torch.Tensor, labels: torch.Tensor, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """The image cache and its labels where a run reads its batches from.

    Parameters
    ----------
    images : torch.Tensor, shape (N, ...)
        The cache, float in [0, 1] or uint8 in [0, 255], on any device.
    labels : torch.Tensor, shape (N,)
        Its labels.
    device : torch.device
        Where the model runs.

    Returns
    -------
    images, labels : torch.Tensor
        Both moved to ``device`` when it is a CUDA device and the images take less than half
        its free memory; otherwise both unchanged (the same tensors).

    Examples
    --------
    >>> x, y = torch.zeros(2, 3, 8, 8), torch.zeros(2, dtype=torch.int64)
    >>> place_images(x, y, torch.device("cpu"))[0] is x
    True
    """
    device = torch.device(device)
    if device.type == "cuda" and images.device != device:
        free, _ = torch.cuda.mem_get_info(device)
        if images.element_size() * images.nelement() < free // 2:
            return images.to(device), labels.to(device)
    return images, labels


def host_batch(images: torch.Tensor, index: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``images[index]`` in the cache's dtype, where it is read from before the copy.

    Parameters
    ----------
    images : torch.Tensor, shape (N, ...)
        The image cache.
    index : torch.Tensor, shape (B,), int64
        Rows of the batch, in order (on any device).
    device : torch.device
        Where the model runs.

    Returns
    -------
    torch.Tensor, shape (B, ...)
        On ``images``' device; in pinned memory when :func:`should_pin` says so.

    Examples
    --------
    >>> cache = torch.arange(4, dtype=torch.uint8).view(4, 1)
    >>> host_batch(cache, torch.tensor([2, 0]), torch.device("cpu")).flatten().tolist()
    [2, 0]
    """
    index = index.to(images.device)
    if not should_pin(device, images):
        return images[index]
    batch = torch.empty((len(index), *images.shape[1:]), dtype=images.dtype, pin_memory=True)
    return torch.index_select(images, 0, index, out=batch)


def device_batch(images: torch.Tensor, index: torch.Tensor, device: torch.device) -> torch.Tensor:
    """The model input ``images[index]`` on ``device``: float32 in [0, 1].

    Parameters
    ----------
    images : torch.Tensor, shape (N, ...)
        The image cache, float in [0, 1] or uint8 in [0, 255].
    index : torch.Tensor, shape (B,), int64
        Rows of the batch, in order.
    device : torch.device
        Where the model runs.

    Returns
    -------
    torch.Tensor, shape (B, ...), float32, on ``device``
        uint8 images are divided by 255 after the copy, on ``device``.

    Examples
    --------
    >>> cache = torch.full((3, 1), 255, dtype=torch.uint8)
    >>> device_batch(cache, torch.tensor([1]), torch.device("cpu")).tolist()
    [[1.0]]
    """
    batch = host_batch(images, index, device).to(device, non_blocking=True)
    if batch.dtype == torch.uint8:
        return batch.float().div_(255.0)
    return batch.float()
