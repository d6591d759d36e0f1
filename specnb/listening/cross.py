"""The cross-representation path of paper §2 over many examples.

An adversarial spectrogram made against a 2D model becomes audio
(:func:`specnb.listening.reconstruction.image_to_audio`: the clean clip's spectrogram changed by the
attack, with the clean clip's phase); the system computes the spectrogram of that audio and
classifies it (:func:`specnb.listening.black_box.black_box_check`). Notebook 03 listens to a few
such
clips; :func:`cross_representation` measures the share of all fooling examples that still
fool after the trip, and the SNR of the audio the adversary would have to play. Optionally
the same audio is also handed to a waveform model, to see whether it transfers there.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from specnb.attack_eval.evaluate import predict
from specnb.attack_eval.results import AttackEvaluation
from specnb.listening.black_box import black_box_check
from specnb.listening.reconstruction import image_to_audio
from specnb.raw_audio.waveforms import to_unit
from specnb.representations.settings import Setting

__all__ = ["CrossResult", "cross_representation"]


@dataclass
class CrossResult:
    """What survived the trip adversarial image → audio → image → model.

    Attributes
    ----------
    attack : str
    n_fooling : int
        Adversarial images that fool the 2D model (white box): the examples sent through.
    still_fooling : float
        Share of them whose reconstructed audio still fools it (black box); NaN if none.
    snr_db_mean : float
        Mean SNR in dB of the reconstructed audio against the clean clips (finite values).
    fools_waveform_model : float or None
        Share of the reconstructed clips a waveform model misclassifies (None: not asked).
    rows : pandas.DataFrame
        One row per example: ``index``, ``label``, ``target``, ``pred_image``, ``pred_audio``,
        ``audio_fools`` (misclassified), ``audio_hits_target`` (None when untargeted),
        ``snr_db``, and ``pred_waveform_model`` when asked.
    """

    attack: str
    n_fooling: int
    still_fooling: float
    snr_db_mean: float
    fools_waveform_model: float | None
    rows: pd.DataFrame

    def to_dict(self) -> dict[str, object]:
        """The summary numbers, JSON-serialisable."""
        return {
            "attack": self.attack,
            "n_fooling": self.n_fooling,
            "still_fooling": self.still_fooling,
            "snr_db_mean": self.snr_db_mean,
            "fools_waveform_model": self.fools_waveform_model,
        }


def cross_representation(
    evaluation: AttackEvaluation,
    audio: Callable[[int], np.ndarray],
    setting: Setting,
    model: nn.Module,
    *,
    waveform_model: nn.Module | None = None,
    max_examples: int | None = None,
) -> CrossResult:
    """Send every fooling adversarial image of ``evaluation`` through audio and back.

    Parameters
    ----------
    evaluation : AttackEvaluation
        An attack on ``model``'s images; its kept adversarial examples are used.
    audio : callable
        ``audio(i)``: the clean waveform at ``setting.sr`` of test sample ``i`` (the positions
        of ``evaluation.indices``), e.g. :meth:`specnb.runs.TrainedRun.audio`.
    setting : STFTSetting, MelSetting or MFCCSetting
        The 2D model's representation.
    model : nn.Module
        The 2D model attacked.
    waveform_model : nn.Module, optional
        A waveform model (inputs (B, 1, 1, N) in [0, 1]) of the same classes and sampling rate
        to classify the reconstructed audio too.
    max_examples : int, optional
        Send at most this many fooling examples (the first ones).

    Returns
    -------
    CrossResult

    Raises
    ------
    ValueError
        For a wavelet setting (no inverse), or an error of the reconstruction.
    """
    fooled = evaluation.fooled.nonzero().flatten().tolist()[:max_examples]
    records = []
    for at in fooled:
        index = int(evaluation.indices[at])
        clean = np.asarray(audio(index), dtype=np.float32)
        image = evaluation.adv_images[at]
        target = None if evaluation.targets is None else int(evaluation.targets[at])
        back = image_to_audio(image, setting, reference_audio=clean)
        check = black_box_check(
            clean,
            image,
            setting,
            model,
            int(evaluation.labels[at]),
            target=target,
            reconstructed=back,
        )
        record = {
            key: check[key]
            for key in (
                "label",
                "target",
                "pred_image",
                "pred_audio",
                "audio_fools",
                "audio_hits_target",
                "snr_db",
            )
        }
        record["index"] = index
        if waveform_model is not None:
            peak = max(float(np.abs(back).max()), 1.0)
            wave = to_unit(torch.from_numpy(back / peak)[None])
            record["pred_waveform_model"] = int(predict(waveform_model, wave)[0])
        records.append(record)
    rows = pd.DataFrame(records)
    if not records:
        return CrossResult(
            evaluation.attack,
            0,
            math.nan,
            math.nan,
            None if waveform_model is None else math.nan,
            rows,
        )
    snrs = [s for s in rows["snr_db"] if math.isfinite(s)]
    on_1d = None
    if waveform_model is not None:
        on_1d = float((rows["pred_waveform_model"] != rows["label"]).mean())
    return CrossResult(
        evaluation.attack,
        len(records),
        float(rows["audio_fools"].mean()),
        float(np.mean(snrs)) if snrs else math.nan,
        on_1d,
        rows,
    )
