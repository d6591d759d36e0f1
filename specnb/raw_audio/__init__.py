"""Adversarial examples on raw audio (paper §5.6 and the black-box scenario of §2).

End-to-end waveform models (:mod:`specnb.models.waveform`) take waveforms ``y`` in [-2, 2] as
one-row images ``(y / 2 + 1) / 2`` of shape (B, 1, 1, N), so the attacks of :mod:`specnb.attacks`
and the evaluation of :mod:`specnb.attack_eval` run on them unchanged; perturbations are
measured as an SNR in dB.

Modules
-------
- ``attacks`` -- Attacks on waveforms: budget grids on the waveform scale, store rows, SNR in dB.
- ``figures`` -- Figures of the raw-audio study: the restoration curves and an adversarial waveform.
- ``front_end`` -- A 2D-trained model attacked on the waveform: waveform → representation → image →
  model.
- ``restoration`` -- The random-scalar restoration of paper §5.6: multiply an adversarial example by
  s ≈ 1.
- ``training`` -- A waveform run: an end-to-end waveform model trained by ``train_cv`` with the
  protocol of the 2D models, keyed in the results store.
- ``waveforms`` -- Fixed-length waveform tensors of a dataset, and the [0, 1] layout the models and
  attacks use.
"""

from specnb.raw_audio.attacks import (
    WAVEFORM_EPS,
    accuracy_under_attack,
    attack_waveforms,
    fooled_snr_db,
    waveform_grid,
)
from specnb.raw_audio.figures import (
    RESTORATION_FILE,
    WAVEFORM_FILE,
    restoration_figure,
    waveform_figure,
)
from specnb.raw_audio.front_end import IMAGE_TOLERANCE, WaveformPipeline
from specnb.raw_audio.restoration import (
    DOMAINS,
    RestorationCurve,
    restoration_curve,
    scale_inputs,
)
from specnb.raw_audio.training import (
    WAVEFORM_TRAINING,
    WaveformRun,
    train_waveform_model,
)
from specnb.raw_audio.waveforms import (
    WAVEFORM_REPR,
    from_unit,
    load_waveforms,
    to_unit,
    waveform_setting,
)

__all__ = [
    "DOMAINS",
    "IMAGE_TOLERANCE",
    "RESTORATION_FILE",
    "WAVEFORM_EPS",
    "WAVEFORM_FILE",
    "WAVEFORM_REPR",
    "WAVEFORM_TRAINING",
    "RestorationCurve",
    "WaveformPipeline",
    "WaveformRun",
    "accuracy_under_attack",
    "attack_waveforms",
    "fooled_snr_db",
    "from_unit",
    "load_waveforms",
    "restoration_curve",
    "restoration_figure",
    "scale_inputs",
    "to_unit",
    "train_waveform_model",
    "waveform_figure",
    "waveform_grid",
    "waveform_setting",
]
