"""Batch mode of the explorer: example figures and a table of feature statistics per setting."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from specnb.data.clips import AudioDataset, Clip
from specnb.errors import ParameterError
from specnb.representations import Setting
from specnb.representations.compute import represent
from specnb.representations.features import clip_image
from specnb.representations.figures import explorer_figure, save_figure

__all__ = ["example_clips", "feature_statistics", "write_example_figures"]


def example_clips(dataset: AudioDataset, per_class: int = 1) -> list[Clip]:
    """The first ``per_class`` original clips of every class, in class order."""
    if per_class < 1:
        raise ParameterError(f"per_class must be >= 1, got {per_class}")
    chosen: list[Clip] = []
    for label in range(len(dataset.classes)):
        chosen += [c for c in dataset.clips if c.label == label and c.is_original][:per_class]
    return chosen


def feature_statistics(
    dataset: AudioDataset,
    clips: Sequence[Clip],
    settings: Sequence[Setting],
    *,
    backend: str = "torch",
) -> pd.DataFrame:
    """One row per setting: shape and value statistics of the raw representation over ``clips``.

    Returns
    -------
    pandas.DataFrame
        Columns ``setting``, ``repr``, ``key``, ``rows``, ``frames``, ``min``, ``max``,
        ``mean``, ``std``, ``image_mean``, ``image_std`` and ``ms_per_clip`` (computation
        time of the representation for one clip with ``backend``).
    """
    records = []
    for setting in settings:
        waves = np.stack([dataset.load(c, setting.sr) for c in clips])
        start = time.perf_counter()
        raw = represent(waves, setting, backend=backend)
        elapsed = time.perf_counter() - start
        images = np.stack([clip_image(w, setting, backend=backend) for w in waves])
        records.append(
            {
                "setting": setting.label(),
                "repr": setting.kind,
                "key": setting.key,
                "rows": raw.shape[1],
                "frames": raw.shape[2],
                "min": float(raw.min()),
                "max": float(raw.max()),
                "mean": float(raw.mean()),
                "std": float(raw.std()),
                "image_mean": float(images.mean()),
                "image_std": float(images.std()),
                "ms_per_clip": 1000.0 * elapsed / len(clips),
            }
        )
    return pd.DataFrame.from_records(records)


def write_example_figures(
    dataset: AudioDataset,
    clips: Sequence[Clip],
    settings: Sequence[Setting],
    out_dir: Path,
    *,
    backend: str = "torch",
) -> list[Path]:
    """Save one explorer figure per clip (every setting stacked) as PNG under ``out_dir``."""
    paths = []
    for clip in clips:
        panels = []
        for setting in settings:
            y = dataset.load(clip, setting.sr)
            raw = represent(y, setting, backend=backend)
            panels.append((setting, raw, clip_image(y, setting, backend=backend)))
        y = dataset.load(clip, settings[0].sr)
        fig = explorer_figure(y, panels, title=f"{dataset.classes[clip.label]} · {clip.clip_id}")
        safe = clip.clip_id.replace("/", "_").replace("@", "_")
        paths.append(save_figure(fig, Path(out_dir) / f"example_{safe}.png"))
    return paths
