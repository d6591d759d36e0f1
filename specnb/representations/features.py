"""Dataset to raw representations to model images, computing each representation once.

Raw representations are computed in batches by :func:`specnb.representations.compute.represent`
and kept in an optional :class:`~specnb.representations.cache.FeatureCache`; images are rendered
from them on
demand, so changing the colour map never recomputes a representation.
"""

from __future__ import annotations

from typing import Iterator, Sequence, Union

import numpy as np
import torch

from specnb.data.clips import AudioDataset, Clip
from specnb.devices import resolve_device
from specnb.errors import ParameterError
from specnb.representations.cache import FeatureCache
from specnb.representations.compute import represent
from specnb.representations.images import setting_image
from specnb.representations.settings import Setting

__all__ = ["clip_image", "dataset_features", "dataset_images", "to_uint8"]


def _batches(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _load_batch(dataset: AudioDataset, clips: Sequence[Clip], sr: int) -> np.ndarray:
    waves = [np.asarray(dataset.load(clip, sr), dtype=np.float32) for clip in clips]
    lengths = {w.shape for w in waves}
    if len(lengths) != 1 or waves[0].ndim != 1:
        shapes = ", ".join(f"{c.clip_id}: {w.shape}" for c, w in zip(clips, waves))
        raise ParameterError(f"{dataset.name}: clips must be mono and equally long, got {shapes}")
    return np.stack(waves)


def dataset_features(
    dataset: AudioDataset,
    clips: Union[Sequence[Clip], None],
    setting: Setting,
    *,
    cache: Union[FeatureCache, None] = None,
    backend: str = "torch",
    device: Union[str, torch.device, None] = None,
    batch_size: int = 32,
    progress: bool = False,
    stack: bool = True,
) -> Union[np.ndarray, list[np.ndarray]]:
    """Raw representations of ``clips``, from the cache where present, computed otherwise.

    Clips missing from the cache are loaded with ``dataset.load(clip, setting.sr)`` and
    transformed ``batch_size`` at a time; each new result is stored in ``cache`` under
    ``(dataset.cache_key, clip.clip_id, setting)``.

    Parameters
    ----------
    dataset : AudioDataset
        Where the clips come from; ``dataset.cache_key`` names them in the cache.
    clips : sequence of Clip or None
        The clips, in the order of the result; None means every clip of ``dataset``.
    setting : Setting
        Representation setting (its colour map is irrelevant here).
    cache : FeatureCache or None
        Cache to read and fill; None computes everything.
    backend : {"torch", "reference"}
        Implementation passed to ``represent``.
    device : str, torch.device or None
        Torch device; None picks CUDA when available.
    batch_size : int
        Clips transformed per call.
    progress : bool
        Show a progress bar over the clips being computed.
    stack : bool
        Return one stacked array (True) or a list of arrays (False).

    Returns
    -------
    np.ndarray, float32, shape (N, F, T), or list of N arrays of shape (F, T)
        In natural units (dB for spectrograms and scalograms, MFCC coefficients).

    Examples
    --------
    >>> from specnb.data import load_dataset
    >>> from specnb.representations import make_setting
    >>> data = load_dataset("synthetic")
    >>> dataset_features(data, data.clips[:2], make_setting("mfcc", n_mfcc=13)).shape[:2]
    (2, 13)
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ParameterError(f"batch_size must be a positive integer, got {batch_size!r}")
    chosen = list(dataset.clips if clips is None else clips)
    out: list[Union[np.ndarray, None]] = [None] * len(chosen)
    todo: list[int] = []
    for i, clip in enumerate(chosen):
        hit = None if cache is None else cache.get(dataset.cache_key, clip.clip_id, setting)
        if hit is None:
            todo.append(i)
        else:
            out[i] = hit
    bar = None
    if progress and todo:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), desc=setting.label(), unit="clip")
    dev = resolve_device(device) if backend == "torch" else None
    for idx in _batches(todo, batch_size):
        waves = _load_batch(dataset, [chosen[i] for i in idx], setting.sr)
        feats = np.asarray(
            represent(waves, setting, backend=backend, device=dev, batch_size=batch_size),
            dtype=np.float32,
        )
        for i, feat in zip(idx, feats):
            if cache is not None:
                cache.put(dataset.cache_key, chosen[i].clip_id, setting, feat)
            out[i] = feat
        if bar is not None:
            bar.update(len(idx))
    if bar is not None:
        bar.close()
    arrays = [a for a in out if a is not None]
    if not stack:
        return arrays
    if not arrays:
        return np.zeros((0, 0, 0), dtype=np.float32)
    return np.stack(arrays)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Quantise [0, 1] images to uint8 levels ``round(255 * x)`` (error at most 1/510).

    Examples
    --------
    >>> to_uint8(torch.tensor([0.0, 0.5, 1.0])).tolist()
    [0, 128, 255]
    """
    return images.clamp(0, 1).mul(255).round_().to(torch.uint8)


def dataset_images(
    dataset: AudioDataset,
    clips: Union[Sequence[Clip], None],
    setting: Setting,
    *,
    cache: Union[FeatureCache, None] = None,
    backend: str = "torch",
    device: Union[str, torch.device, None] = None,
    batch_size: int = 32,
    progress: bool = False,
    size: int = 128,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Model images of ``clips``: :func:`dataset_features` rendered by
    :func:`~specnb.representations.images.setting_image` (colour map, row scaling).

    Parameters
    ----------
    dataset, clips, setting, cache, backend, device, batch_size, progress
        As for :func:`dataset_features`; the cache holds raw features, so images in another
        colour map or row scaling reuse them.
    size : int
        Image side in pixels.
    dtype : {torch.float32, torch.uint8}
        float32 images in [0, 1], or uint8 levels (:func:`to_uint8`). With uint8 and a
        ``cache``, the images themselves are cached (``FeatureCache.put_image``) and a later
        call reads them without touching the raw features.

    Returns
    -------
    torch.Tensor, shape (N, 3, size, size), on the CPU
        RGB in [0, 1] (float32), or ``round(255 * RGB)`` (uint8); row 0 the highest frequency.

    Examples
    --------
    >>> from specnb.data import load_dataset
    >>> from specnb.representations import make_setting
    >>> data = load_dataset("synthetic")
    >>> dataset_images(data, data.clips[:2], make_setting("stft", n_fft=512)).shape
    torch.Size([2, 3, 128, 128])
    """
    if dtype not in (torch.float32, torch.uint8):
        raise ValueError(f"dtype must be torch.float32 or torch.uint8, got {dtype}")
    chosen = list(dataset.clips if clips is None else clips)
    images = torch.zeros((len(chosen), 3, size, size), dtype=dtype)
    todo = list(range(len(chosen)))
    if dtype == torch.uint8 and cache is not None:
        todo = []
        for i, clip in enumerate(chosen):
            hit = cache.get_image(dataset.cache_key, clip.clip_id, setting, size)
            if hit is None:
                todo.append(i)
            else:
                images[i] = torch.from_numpy(hit)
    feats = dataset_features(
        dataset,
        [chosen[i] for i in todo],
        setting,
        cache=cache,
        backend=backend,
        device=device,
        batch_size=batch_size,
        progress=progress,
        stack=False,
    )
    dev = resolve_device(device)
    for idx in _batches(range(len(feats)), batch_size):
        raw = torch.from_numpy(np.stack([feats[i] for i in idx])).to(dev)
        rendered = setting_image(raw, setting, size).cpu()
        if dtype == torch.uint8:
            rendered = to_uint8(rendered)
            if cache is not None:
                for i, image in zip(idx, rendered):
                    cache.put_image(
                        dataset.cache_key, chosen[todo[i]].clip_id, setting, image.numpy()
                    )
        images[[todo[i] for i in idx]] = rendered
    return images


def clip_image(
    y: np.ndarray,
    setting: Setting,
    backend: str = "torch",
    device: Union[str, torch.device, None] = None,
    size: int = 128,
) -> torch.Tensor:
    """Model image of one waveform.

    Parameters
    ----------
    y : np.ndarray, shape (N,)
        Mono waveform at ``setting.sr`` Hz.
    setting : Setting
        Representation setting, including the colour map.
    backend : {"torch", "reference"}
        Implementation passed to ``represent``.
    device : str, torch.device or None
        Torch device; None picks CUDA when available.
    size : int
        Image side in pixels.

    Returns
    -------
    torch.Tensor, float32, shape (3, size, size), on the CPU

    Examples
    --------
    >>> from specnb.representations import make_setting
    >>> y = np.sin(2 * np.pi * 440 * np.arange(8000) / 8000).astype(np.float32)
    >>> clip_image(y, make_setting("mel", sr=8000, n_fft=512)).shape
    torch.Size([3, 128, 128])
    """
    dev = resolve_device(device) if backend == "torch" else None
    raw = represent(np.asarray(y, dtype=np.float32), setting, backend=backend, device=dev)
    return setting_image(np.asarray(raw, dtype=np.float32), setting, size)
