"""Hearing the attacks: adversarial images back to audio, and the paper's black-box question.

For each chosen test sample and attack, the kept adversarial image is turned into a waveform
with :func:`specnb.listening.reconstruction.image_to_audio` (the clean clip's full-resolution
spectrogram changed by the image's perturbation, with the clean clip's phase) and handed to
:func:`specnb.listening.black_box.black_box_check`: the model classifies the reconstructed audio
through its own front end, as a deployed system would. Wavelet scalograms have no inverse,
so runs on them are not listened to.
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
from specnb.representations.settings import MelSetting, MFCCSetting, Setting, STFTSetting

__all__ = ["Listening", "can_listen", "listen_to_attacks", "listening_frame", "snr_by_attack"]


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
        :func:`specnb.listening.black_box.black_box_check`'s result (predictions, fooling, SNR).
    """

    attack: str
    index: int
    sr: int
    clean: np.ndarray
    adversarial: np.ndarray
    check: dict[str, Any]


def listen_to_attacks(
    evaluations: Sequence[AttackEvaluation],
    audio: Callable[[int], np.ndarray],
    setting: Setting,
    model: nn.Module,
    samples: Sequence[int],
    *,
    device: Union[str, torch.device, None] = None,
) -> list[Listening]:
    """Reconstruct and re-classify the kept adversarial examples of ``samples``.

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
            at = positions.index(index)
            clean = clips[index]
            image = ev.adv_images[at]
            back = image_to_audio(image, setting, reference_audio=clean)
            target = None if ev.targets is None else int(ev.targets[at])
            check = black_box_check(
                clean,
                image,
                setting,
                model,
                int(ev.labels[at]),
                target=target,
                reconstructed=back,
                device=device,
            )
            heard.append(Listening(ev.attack, index, setting.sr, clean, back, check))
    return heard


def listening_frame(
    heard: Sequence[Listening], classes: Optional[Sequence[str]] = None
) -> pd.DataFrame:
    """One row per example heard: classes (names when ``classes`` is given), fooling, SNR."""

    def name(value: Optional[int]) -> Any:
        if value is None or classes is None:
            return value
        return classes[value]

    rows = [
        {
            "attack": attack_label(h.attack),
            "sample": h.index,
            "label": name(h.check["label"]),
            "target": name(h.check["target"]),
            "pred_image": name(h.check["pred_image"]),
            "pred_audio": name(h.check["pred_audio"]),
            "image_fools": h.check["image_fools"],
            "audio_fools": h.check["audio_fools"],
            "snr_db": h.check["snr_db"],
            "magnitude_snr_db": h.check["magnitude_snr_db"],
        }
        for h in heard
    ]
    return pd.DataFrame(rows)


def snr_by_attack(heard: Sequence[Listening]) -> dict[str, float]:
    """Mean SNR in dB of the reconstructed audio per attack name, over its finite values."""
    values: dict[str, list[float]] = {}
    for h in heard:
        values.setdefault(h.attack, []).append(h.check["snr_db"])
    means = {}
    for attack, snrs in values.items():
        finite = [s for s in snrs if math.isfinite(s)]
        means[attack] = float(np.mean(finite)) if finite else math.inf
    return means
