"""Hearing the attacks: adversarial images back to audio, and the paper's black-box question.

For each chosen test sample and attack, the adversarial image the gallery shows (at the
smallest budget that fools, :meth:`~specnb.attack_eval.results.AttackEvaluation.example`) is
turned into a waveform with :func:`specnb.listening.reconstruction.image_to_audio` (the clean
clip's full-resolution spectrogram changed by the image's perturbation, with the clean clip's
phase) and handed to :func:`specnb.listening.black_box.black_box_check`: the model classifies
the reconstructed audio through its own front end, as a deployed system would. Wavelet
scalograms have no inverse, so runs on them are not listened to.

SNR is the perturbation's loudness: an example the attack left unchanged (δ = 0) has none, and
its reconstruction's SNR is the reconstruction's own floor (:func:`reconstruction_floor`, said
once), not the attack's; it is left out of every SNR here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np
import pandas as pd
import torch
from torch import nn

from specnb.attack_eval.budgets import attack_label
from specnb.attack_eval.results import AttackEvaluation
from specnb.errors import ParameterError
from specnb.listening.black_box import black_box_check
from specnb.listening.reconstruction import image_to_audio
from specnb.metrics import snr_db
from specnb.representations.settings import MelSetting, MFCCSetting, Setting, STFTSetting

__all__ = [
    "Listening",
    "can_listen",
    "listen_to_attacks",
    "listening_frame",
    "reconstruction_floor",
    "snr_by_attack",
]


def can_listen(setting: Setting) -> bool:
    """Whether images of ``setting`` can be turned back into audio (STFT, Mel, MFCC)."""
    return isinstance(setting, (STFTSetting, MelSetting, MFCCSetting))


@dataclass
class Listening:
    """One adversarial example heard: the clean clip, its reconstruction and the verdict.

    Attributes
    ----------
    attack : str
        The attack's name.
    index : int
        Position of the sample in the test split.
    sr : int
        Sampling rate of both waveforms.
    clean, adversarial : np.ndarray, shape (n_samples,)
        The clean clip and the audio reconstructed from the adversarial image.
    check : dict
        :func:`specnb.listening.black_box.black_box_check`'s result (predictions, fooling,
        target hits, SNR).
    budget : float
        The budget of the example heard (the smallest that fools, else the largest).
    perturbed : bool
        False when the attack left the image unchanged (δ = 0): its SNR is the
        reconstruction's floor and is not counted.
    """

    attack: str
    index: int
    sr: int
    clean: np.ndarray
    adversarial: np.ndarray
    check: dict[str, Any]
    budget: float = math.nan
    perturbed: bool = True

    @property
    def snr_db(self) -> float:
        """SNR of the perturbation in dB; NaN when there is none (δ = 0)."""
        return float(self.check["snr_db"]) if self.perturbed else math.nan


def listen_to_attacks(
    evaluations: Sequence[AttackEvaluation],
    audio: Callable[[int], np.ndarray],
    setting: Setting,
    model: nn.Module,
    samples: Sequence[int],
    *,
    device: Union[str, torch.device, None] = None,
) -> list[Listening]:
    """Reconstruct and re-classify the adversarial examples of ``samples`` the gallery shows
    (each attack's smallest fooling budget, else its largest).

    Parameters
    ----------
    evaluations : sequence of AttackEvaluation
        Attacks on ``model``; a sample one of them did not attack is skipped for it.
    audio : callable
        ``audio(i)`` is the waveform of test sample ``i`` at ``setting.sr`` Hz (e.g.
        :meth:`specnb.runs.TrainedRun.audio`).
    setting : STFTSetting, MelSetting or MFCCSetting
        The model's representation.
    model : torch.nn.Module
        The attacked model.
    samples : sequence of int
        Test positions to listen to.
    device : str or torch.device, optional
        Where representations are computed; None: the model's device.

    Returns
    -------
    list of Listening

    Raises
    ------
    ValueError
        For a wavelet setting (no inverse; see :func:`can_listen`).
    """
    if not can_listen(setting):
        raise ParameterError(f"{setting.kind} images cannot be turned back into audio")
    heard = []
    clips = {i: audio(i) for i in samples}
    for ev in evaluations:
        positions = ev.indices.tolist()
        for index in samples:
            if index not in positions:
                continue
            example = ev.example(positions.index(index))
            clean = clips[index]
            back = image_to_audio(example.image, setting, reference_audio=clean)
            check = black_box_check(
                clean,
                example.image,
                setting,
                model,
                example.label,
                target=example.target,
                reconstructed=back,
                device=device,
            )
            heard.append(
                Listening(
                    ev.attack, index, setting.sr, clean, back, check, example.budget,
                    example.perturbed,
                )
            )  # fmt: skip
    return heard


def reconstruction_floor(image: torch.Tensor, clean: np.ndarray, setting: Setting) -> float:
    """The reconstruction's own floor: the SNR in dB of the *unperturbed* model image turned
    back to audio as an adversarial one is (:func:`image_to_audio` with the clean clip).

    An attack's SNR near it is the reconstruction's, not the attack's.

    Parameters
    ----------
    image : torch.Tensor, shape (3, 128, 128)
        The clean model image of the clip, in [0, 1].
    clean : np.ndarray, shape (n_samples,)
        The clip at ``setting.sr`` Hz.
    setting : STFTSetting, MelSetting or MFCCSetting

    Returns
    -------
    float
        SNR in dB (inf for an exact round trip).
    """
    return snr_db(clean, image_to_audio(image, setting, reference_audio=clean))


def listening_frame(
    heard: Sequence[Listening], classes: Optional[Sequence[str]] = None
) -> pd.DataFrame:
    """One row per example heard: its budget, classes (names when ``classes`` is given),
    whether the image and the audio fool (misclassified) and, for targeted attacks, hit the
    target (None otherwise), SNR (NaN where the attack left the image unchanged)."""

    def name(value: Optional[int]) -> Any:
        if value is None or classes is None:
            return value
        return classes[value]

    rows = [
        {
            "attack": attack_label(h.attack),
            "budget": h.budget,
            "sample": h.index,
            "label": name(h.check["label"]),
            "target": name(h.check["target"]),
            "pred_image": name(h.check["pred_image"]),
            "pred_audio": name(h.check["pred_audio"]),
            "image_fools": h.check["image_fools"],
            "audio_fools": h.check["audio_fools"],
            "image_hits_target": h.check["image_hits_target"],
            "audio_hits_target": h.check["audio_hits_target"],
            "snr_db": h.snr_db,
            "magnitude_snr_db": h.check["magnitude_snr_db"] if h.perturbed else math.nan,
        }
        for h in heard
    ]
    return pd.DataFrame(rows)


def snr_by_attack(heard: Sequence[Listening]) -> dict[str, float]:
    """Mean SNR in dB of the reconstructed audio per attack name, over the examples the
    attack changed (δ ≠ 0) with a finite SNR; NaN when there is none."""
    values: dict[str, list[float]] = {}
    for h in heard:
        values.setdefault(h.attack, []).append(h.snr_db)
    means = {}
    for attack, snrs in values.items():
        finite = [s for s in snrs if math.isfinite(s)]
        means[attack] = float(np.mean(finite)) if finite else math.nan
    return means
