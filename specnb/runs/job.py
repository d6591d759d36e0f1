"""The training job: dataset, representation setting, augmentation and protocol in one value."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping, Union

import numpy as np
import torch

from specnb.data import DATASETS, AudioDataset, Clip, augment_clips, load_dataset
from specnb.data.augment import augmentation_tag
from specnb.representations import Setting, setting_from_dict
from specnb.representations.settings import SETTING_TYPES, STFTSetting
from specnb.store import run_key
from specnb.training import TrainConfig, TrainingError

__all__ = ["TrainingJob"]

#: Keyword arguments each dataset's loader accepts through ``dataset_options``.
_OPTIONS = {"synthetic": frozenset({"seed", "n_per_class", "sr_native"})}
_REAL_OPTIONS = frozenset({"missing"})


def _scalar(name: str, value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if value is not None and not isinstance(value, (bool, int, float, str)):
        raise TrainingError(f"TrainingJob.{name} must be a number or a string, got {value!r}")
    return value


@dataclass(frozen=True)
class TrainingJob:
    """Everything that shapes one trained run, as a frozen, hashable, validated value.

    Parameters
    ----------
    dataset : {"synthetic", "esc10", "esc50", "urbansound8k"}
        Dataset name, as for :func:`specnb.data.load_dataset`.
    data_path : str or None
        Folder of a real dataset (absolute: notebooks run in their own run folder); None for
        the default folder, and always None for the synthetic set.
    dataset_options : mapping
        Loader options: ``seed``, ``n_per_class``, ``sr_native`` for the synthetic set;
        ``missing`` for the real ones. Stored as sorted ``(name, value)`` pairs.
    setting : Setting or mapping
        Representation setting (a mapping with ``"repr"`` is converted by
        :func:`~specnb.representations.setting_from_dict`).
    pitch_scales : sequence of float > 0
        One pitch-shifted copy of every clip per scale (paper: ``PITCH_SCALES``); empty for
        no augmentation.
    stretch_rates : sequence of float > 0
        One time-stretched copy of every clip per rate.
    config : TrainConfig
        The training protocol (model, epochs, folds, seed, device...).
    uint8_images : bool
        Train on images quantised to uint8 levels (``round(255 * x)``) and cache them so
        (a quarter of the memory; a second run reads them instead of the raw features).
        Recorded in the protocol as ``"images": "uint8"``.

    Raises
    ------
    TrainingError
        Unknown dataset, a path for the synthetic set, an option the dataset's loader does
        not take, a setting that is not one, an invalid scale or rate (names the field).

    Examples
    --------
    >>> job = TrainingJob("synthetic", dataset_options={"n_per_class": 6},
    ...                   setting={"repr": "stft", "sr": 8000, "n_fft": 256},
    ...                   config=TrainConfig(model="sbcnn", epochs=2, n_folds=2))
    >>> job.setting.n_fft, job.dataset_kwargs
    (256, {'n_per_class': 6})
    """

    dataset: str = "synthetic"
    data_path: Union[str, None] = None
    dataset_options: Union[Mapping[str, Any], tuple[tuple[str, Any], ...]] = ()
    setting: Union[Setting, Mapping[str, Any]] = field(
        default_factory=lambda: STFTSetting(n_fft=1024)
    )
    pitch_scales: tuple[float, ...] = ()
    stretch_rates: tuple[float, ...] = ()
    config: TrainConfig = field(default_factory=TrainConfig)
    uint8_images: bool = False

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS:
            raise TrainingError(f"TrainingJob.dataset={self.dataset!r}; choose one of {DATASETS}")
        if self.data_path is not None:
            if self.dataset == "synthetic":
                raise TrainingError("TrainingJob.data_path must be None for the synthetic set")
            object.__setattr__(self, "data_path", str(self.data_path))
        try:
            options = dict(self.dataset_options)
        except (TypeError, ValueError):
            raise TrainingError(
                f"TrainingJob.dataset_options must be a mapping, got {self.dataset_options!r}"
            ) from None
        allowed = _OPTIONS.get(self.dataset, _REAL_OPTIONS)
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise TrainingError(
                f"TrainingJob.dataset_options: {self.dataset} takes no option {unknown[0]!r}; "
                f"known: {sorted(allowed)}"
            )
        if options.get("missing") == "error":  # the loader's default: the same job, the same key
            del options["missing"]
        pairs = sorted((k, _scalar(f"dataset_options[{k!r}]", v)) for k, v in options.items())
        object.__setattr__(self, "dataset_options", tuple(pairs))
        setting = self.setting
        if isinstance(setting, Mapping):
            setting = setting_from_dict(dict(setting))
        if not isinstance(setting, tuple(SETTING_TYPES.values())):
            raise TrainingError(f"TrainingJob.setting must be a Setting, got {setting!r}")
        object.__setattr__(self, "setting", setting)
        for name, kind in (("pitch_scales", "pitch"), ("stretch_rates", "stretch")):
            try:
                tags = [augmentation_tag(kind, v) for v in getattr(self, name)]
            except (TypeError, ValueError) as error:
                raise TrainingError(f"TrainingJob.{name}: {error}") from None
            if len(set(tags)) < len(tags):
                raise TrainingError(f"TrainingJob.{name} repeats a value: {getattr(self, name)}")
            object.__setattr__(self, name, tuple(float(v) for v in getattr(self, name)))
        if not isinstance(self.uint8_images, bool):
            raise TrainingError(
                f"TrainingJob.uint8_images must be True or False, got {self.uint8_images!r}"
            )
        if not isinstance(self.config, TrainConfig):
            raise TrainingError(
                f"TrainingJob.config must be a TrainConfig, got {type(self.config).__name__}"
            )

    @property
    def dataset_kwargs(self) -> dict[str, Any]:
        """``dataset_options`` as keyword arguments for :func:`~specnb.data.load_dataset`."""
        return dict(self.dataset_options)

    @property
    def augmentation(self) -> list[str]:
        """Tags of the augmented copies made of every clip (``["pitch0.75", ...]``)."""
        return [augmentation_tag("pitch", s) for s in self.pitch_scales] + [
            augmentation_tag("stretch", r) for r in self.stretch_rates
        ]

    def load_dataset(self) -> AudioDataset:
        """The dataset (metadata only: audio is read when images are computed)."""
        return load_dataset(self.dataset, self.data_path, **self.dataset_kwargs)

    def training_clips(self, dataset: AudioDataset) -> tuple[Clip, ...]:
        """The dataset's clips followed by their augmented copies (see ``augment_clips``)."""
        if not self.augmentation:
            return tuple(dataset.clips)
        return augment_clips(dataset.clips, self.pitch_scales, self.stretch_rates)

    def protocol(self) -> dict[str, Any]:
        """``config.protocol()`` plus ``"augmentation"`` when copies are made and
        ``"images": "uint8"`` for quantised images.

        Both are left out when off, so that the key of a plain run is the one
        :func:`specnb.store.run_key` gives for ``TrainConfig.protocol()``.
        """
        protocol = self.config.protocol()
        if self.augmentation:
            protocol["augmentation"] = self.augmentation
        if self.uint8_images:
            protocol["images"] = "uint8"
        return protocol

    @property
    def image_dtype(self) -> torch.dtype:
        """The dtype of the training images (``dtype`` of ``dataset_images``)."""
        return torch.uint8 if self.uint8_images else torch.float32

    def run_key(self, dataset: Union[AudioDataset, None] = None) -> str:
        """Key of this job's row in the results store.

        Parameters
        ----------
        dataset : AudioDataset, optional
            The loaded dataset (loaded here when omitted); its ``key`` identifies the clips.
        """
        dataset = self.load_dataset() if dataset is None else dataset
        return run_key(
            dataset=dataset.key,
            setting=self.setting.to_dict(),
            model=self.config.model,
            seed=self.config.seed,
            protocol=self.protocol(),
        )

    def label(self) -> str:
        """One line for titles: dataset, setting, model, seed and augmentation."""
        aug = f", {len(self.augmentation)} copies per clip" if self.augmentation else ""
        return (
            f"{self.dataset} · {self.setting.label()} · {self.config.model} · "
            f"seed {self.config.seed}{aug}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form; inverse of :meth:`from_dict`."""
        return {
            "dataset": self.dataset,
            "data_path": self.data_path,
            "dataset_options": self.dataset_kwargs,
            "setting": self.setting.to_dict(),
            "pitch_scales": list(self.pitch_scales),
            "stretch_rates": list(self.stretch_rates),
            "config": self.config.to_dict(),
            "uint8_images": self.uint8_images,
        }

    @classmethod
    def from_dict(cls, fields: Mapping[str, Any]) -> "TrainingJob":
        """Rebuild a job from :meth:`to_dict` output."""
        fields = dict(fields)
        fields["config"] = TrainConfig.from_dict(dict(fields["config"]))
        return cls(**fields)

    def replace(self, **changes: Any) -> "TrainingJob":
        """A copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)
