"""The clip and dataset model shared by every loader, the splitter and the feature cache: a
clip, its augmented copies, a dataset and the reader of clips stored as files."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from specnb.errors import AudioError, ParameterError

from .audio import fix_length, load_audio
from .augment import PITCH_SCALES, apply_augmentation, augmentation_tag

__all__ = ["AudioDataset", "Clip", "FixedLengthReader", "augment_clips"]


@dataclass(frozen=True)
class Clip:
    """One labelled recording (or an augmented copy of one).

    Parameters
    ----------
    clip_id : str
        Unique within its dataset; the file stem for real datasets. An augmented copy has the
        id of its original with the augmentation appended (``"1-100032-A-0@pitch0.75"``).
    label : int
        Class index in ``AudioDataset.classes``.
    fold : int
        Official fold (1-5 for ESC, 1-10 for UrbanSound8K; synthetic clips get 1-5).
    source_id : str
        Identifier of the source recording: clips (and fragments) sharing it are never split
        across train and test.
    path : Path or None
        Audio file, None for synthesised clips.
    augmentation : str
        Empty for an original clip, otherwise ``"pitch<scale>"`` or ``"stretch<rate>"``.
    parent_id : str
        ``clip_id`` of the original this copy was made from (itself for an original).
    """

    clip_id: str
    label: int
    fold: int
    source_id: str
    path: Path | None = None
    augmentation: str = ""
    parent_id: str = ""

    def __post_init__(self) -> None:
        if not self.parent_id:
            object.__setattr__(self, "parent_id", self.clip_id)

    @property
    def is_original(self) -> bool:
        return not self.augmentation

    def augmented(self, augmentation: str) -> "Clip":
        """The copy of this clip under ``augmentation`` (same label, fold, source)."""
        return replace(
            self,
            clip_id=f"{self.clip_id}@{augmentation}",
            augmentation=augmentation,
            parent_id=self.clip_id,
        )


@dataclass
class AudioDataset:
    """A labelled set of clips with a way to load each one's waveform.

    Parameters
    ----------
    name : str
        ``"esc50"``, ``"esc10"``, ``"urbansound8k"`` or ``"synthetic"``.
    key : str
        Identifies the exact content for caching (``"esc50"``, ``"synthetic-s0-n40"``...).
    classes : tuple of str
        Class names; ``Clip.label`` indexes this tuple.
    clips : tuple of Clip
        Every clip, originals first in metadata order.
    duration : float
        Clip length in seconds after fixing the length (5.0 for ESC, 4.0 for UrbanSound8K).
    reader : callable
        ``reader(clip, sr) -> np.ndarray`` returns the mono float32 waveform of an original
        clip at ``sr`` Hz, exactly ``round(duration * sr)`` samples long.
    root : Path or None
        Folder of the on-disk copy, None for a synthesised set.
    cache_key : str
        Names the clips in the feature cache. For an on-disk copy it adds a hash of the
        metadata file and the folder to ``name`` (``"esc50-3f1c9a0e5b7d2c41"``), so two copies
        never share cached features; empty means ``key`` (the synthetic set, whose key already
        fixes its content).
    skipped : int
        Clips the metadata lists whose audio file is absent, left out under
        ``missing="skip"`` (a partial copy).
    """

    name: str
    key: str
    classes: tuple[str, ...]
    clips: tuple[Clip, ...]
    duration: float
    reader: Callable[[Clip, int], np.ndarray] = field(repr=False)
    root: Path | None = None
    cache_key: str = ""
    skipped: int = 0

    def __post_init__(self) -> None:
        if not self.cache_key:
            self.cache_key = self.key

    def __len__(self) -> int:
        return len(self.clips)

    def __iter__(self) -> Iterator[Clip]:
        return iter(self.clips)

    def n_samples(self, sr: int) -> int:
        """Length in samples of every clip at ``sr`` Hz."""
        return int(round(self.duration * sr))

    def by_id(self, clip_id: str) -> Clip:
        for clip in self.clips:
            if clip.clip_id == clip_id:
                return clip
        raise KeyError(f"{self.name}: no clip {clip_id!r}")

    def subset(self, clips: Sequence[Clip]) -> "AudioDataset":
        """The same dataset restricted to ``clips`` (augmented copies allowed)."""
        return replace(self, clips=tuple(clips))

    def load(self, clip: Clip, sr: int) -> np.ndarray:
        """The waveform of ``clip`` at ``sr`` Hz, original or augmented copy.

        An original is read with ``reader``; a copy is made by reading its original and
        applying ``clip.augmentation`` (see :func:`specnb.data.augment.apply_augmentation`).

        Parameters
        ----------
        clip : Clip
            A clip of this dataset or an augmented copy of one.
        sr : int > 0
            Sampling rate in Hz.

        Returns
        -------
        y : np.ndarray, shape (round(duration * sr),), dtype float32

        Examples
        --------
        >>> from specnb.data import load_synthetic
        >>> data = load_synthetic(n_per_class=2)
        >>> data.load(data.clips[0].augmented("pitch1.5"), 8000).shape
        (40000,)
        """
        n = self.n_samples(sr)
        if clip.is_original:
            return fix_length(np.asarray(self.reader(clip, sr), dtype=np.float32), n)
        original = replace(clip, clip_id=clip.parent_id, augmentation="", parent_id="")
        y = fix_length(np.asarray(self.reader(original, sr), dtype=np.float32), n)
        return fix_length(apply_augmentation(y, sr, clip.augmentation), n)


def augment_clips(
    clips: Sequence[Clip],
    pitch_scales: Sequence[float] = PITCH_SCALES,
    stretch_rates: Sequence[float] = (),
) -> tuple[Clip, ...]:
    """The original clips followed by their augmented copies.

    Parameters
    ----------
    clips : sequence of Clip
        Original clips (an augmented copy here is an error).
    pitch_scales : sequence of float > 0
        One ``"pitch<scale>"`` copy per scale and clip.
    stretch_rates : sequence of float > 0
        One ``"stretch<rate>"`` copy per rate and clip.

    Returns
    -------
    clips_aug : tuple of Clip
        ``clips`` in their order, then, clip by clip, its pitch copies and its stretch copies.
        Copies keep the label, fold and source of their original, so that splits keep them
        together.

    Examples
    --------
    >>> out = augment_clips([Clip("a", 0, 1, "s")], pitch_scales=(0.75, 1.5))
    >>> [c.clip_id for c in out]
    ['a', 'a@pitch0.75', 'a@pitch1.5']
    """
    tags = [augmentation_tag("pitch", scale) for scale in pitch_scales]
    tags += [augmentation_tag("stretch", rate) for rate in stretch_rates]
    repeated = sorted({tag for tag in tags if tags.count(tag) > 1})
    if repeated:
        raise ParameterError(f"pitch_scales/stretch_rates repeat augmentation(s) {repeated}")
    copies = [clip for clip in clips if not clip.is_original]
    if copies:
        raise ParameterError(
            f"augment_clips takes original clips; {copies[0].clip_id!r} is already augmented"
        )
    return tuple(clips) + tuple(clip.augmented(tag) for clip in clips for tag in tags)


@dataclass(frozen=True)
class FixedLengthReader:
    """Reads a clip's file with :func:`load_audio` and fixes its length to ``duration``.

    Only the frames the clip needs are decoded, so a long file costs no more than a short one.

    The ``reader`` of the on-disk datasets; a picklable callable so that datasets travel to
    worker processes.

    Parameters
    ----------
    duration : float > 0
        Clip length in seconds; a clip read at ``sr`` Hz has ``round(duration * sr)`` samples.
    """

    duration: float

    def __post_init__(self) -> None:
        if not self.duration > 0:
            raise ParameterError(f"duration must be positive seconds, got {self.duration!r}")

    def __call__(self, clip: Clip, sr: int) -> np.ndarray:
        if clip.path is None:
            raise AudioError(f"clip {clip.clip_id!r} has no audio file")
        y = load_audio(clip.path, sr, duration=self.duration)
        return fix_length(y, int(round(self.duration * sr)))
