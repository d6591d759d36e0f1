"""The black-box path of paper §2: adversarial image -> audio -> representation -> model.

An adversary who cannot feed images to the system reconstructs a waveform from an adversarial
spectrogram (:func:`specnb.listening.reconstruction.image_to_audio`) and plays it to the system,
which
computes its representation and image itself. :func:`reclassify` is that system;
:func:`black_box_check` tells whether an attack survives the trip and how loud it is.
"""

from __future__ import annotations

from typing import Any, Optional, Union

import numpy as np
import torch
from torch import nn

from specnb.errors import ParameterError
from specnb.listening.reconstruction import image_to_audio
from specnb.metrics import fooled, hits_target, magnitude_snr_db, snr_db
from specnb.models.registry import IMAGE_SHAPE
from specnb.representations.compute import represent
from specnb.representations.images import setting_image
from specnb.representations.reference import check_waveform
from specnb.representations.settings import Setting

__all__ = ["black_box_check", "reclassify"]

ArrayLike = Union[np.ndarray, torch.Tensor]


def reclassify(
    audio: np.ndarray,
    setting: Setting,
    model: nn.Module,
    *,
    device: Optional[Union[str, torch.device]] = None,
) -> tuple[Union[int, np.ndarray], np.ndarray]:
    """Classify waveform(s) as the deployed system does: representation, image, model.

    Parameters
    ----------
    audio : np.ndarray, shape (n_samples,) or (batch, n_samples)
        Mono waveform(s) at ``setting.sr`` Hz.
    setting : Setting
        Representation setting of the model, colour map included.
    model : torch.nn.Module
        Maps ``[0, 1]`` images (B, 3, 128, 128) to logits; run in evaluation mode without
        gradients, its training flag restored afterwards.
    device : str or torch.device, optional
        Where the representation is computed (torch backend); None: the model's device.

    Returns
    -------
    pred : int, or np.ndarray of int64, shape (batch,)
        Predicted class(es).
    probs : np.ndarray, float32, shape (num_classes,) or (batch, num_classes)
        Softmax probabilities.

    Raises
    ------
    ValueError
        If ``audio`` is empty, non-finite or not 1D/2D (the message names ``audio``).

    Examples
    --------
    >>> from specnb.models import build_model
    >>> from specnb.representations import make_setting
    >>> model = build_model("sbcnn", 10, seed=0)
    >>> y = np.random.default_rng(0).standard_normal(8000).astype(np.float32)
    >>> pred, probs = reclassify(y, make_setting("stft", sr=8000, n_fft=512), model)
    >>> probs.shape
    (10,)
    """
    waves = check_waveform(np.asarray(audio), name="audio", ndims=(1, 2))
    model_device = _device_of(model)
    raw = represent(waves, setting, device=device if device is not None else model_device)
    images = setting_image(torch.from_numpy(raw).to(model_device), setting, IMAGE_SHAPE[-1])
    probs = _probabilities(model, images.reshape(-1, *IMAGE_SHAPE))
    if waves.ndim == 1:
        return int(probs[0].argmax()), probs[0]
    return probs.argmax(axis=1), probs


def black_box_check(
    clean_audio: np.ndarray,
    adv_image: ArrayLike,
    setting: Setting,
    model: nn.Module,
    label: int,
    *,
    target: Optional[int] = None,
    reconstructed: Optional[np.ndarray] = None,
    magnitude: Optional[str] = None,
    phase: Optional[str] = None,
    n_iter: int = 32,
    device: Optional[Union[str, torch.device]] = None,
) -> dict[str, Any]:
    """Does an adversarial image still fool the model once turned into audio?

    Parameters
    ----------
    clean_audio : np.ndarray, shape (n_samples,)
        The clean clip at ``setting.sr`` Hz.
    adv_image : np.ndarray or torch.Tensor, shape (3, 128, 128)
        The attack's image of that clip, in [0, 1].
    setting : STFTSetting, MelSetting or MFCCSetting
        The model's representation setting.
    model : torch.nn.Module
        The victim (see :func:`reclassify`).
    label : int
        True class of the clip.
    target : int, optional
        Target class of a targeted attack: whether each prediction hits it is reported
        beside whether it fools (fooling is misclassification, targeted or not).
    reconstructed : np.ndarray, shape (n_samples,), optional
        Audio already reconstructed from ``adv_image`` (for instance to listen to it); None
        reconstructs it with :func:`~specnb.listening.reconstruction.image_to_audio` from
        ``clean_audio`` with ``magnitude``, ``phase`` and ``n_iter``.
    magnitude, phase, n_iter
        Passed to :func:`~specnb.listening.reconstruction.image_to_audio` (defaults: the difference
        magnitude and the stored phase).
    device : str or torch.device, optional
        Where representations are computed; None: the model's device.

    Returns
    -------
    dict
        ``label``, ``target``; ``pred_clean``, ``pred_image``, ``pred_audio``: the model's
        class for the clean clip, for ``adv_image`` fed directly (white box) and for the
        reconstructed audio (black box); ``image_fools``, ``audio_fools``: whether those two
        fool it (a prediction other than ``label``, :func:`specnb.metrics.fooled`);
        ``image_hits_target``, ``audio_hits_target``: whether they are ``target`` (None
        without a target, :func:`specnb.metrics.hits_target`); ``snr_db``: SNR
        of the reconstructed audio against the clean clip
        (:func:`specnb.metrics.snr_db`); ``magnitude_snr_db``: the same on STFT magnitudes
        (:func:`specnb.metrics.magnitude_snr_db`).

    Raises
    ------
    ValueError
        For a ``label`` or ``target`` outside the model's classes, ``target == label``, a
        ``reconstructed`` clip of another length than ``clean_audio``, or any error of
        :func:`~specnb.listening.reconstruction.image_to_audio`.

    Examples
    --------
    >>> from specnb.representations.features import clip_image
    >>> from specnb.models import build_model
    >>> from specnb.representations import make_setting
    >>> setting = make_setting("stft", sr=8000, n_fft=512)
    >>> y = np.random.default_rng(0).standard_normal(8000).astype(np.float32)
    >>> check = black_box_check(y, clip_image(y, setting), setting,
    ...                         build_model("sbcnn", 10, seed=0), label=3)
    >>> check["pred_audio"] == check["pred_clean"], check["snr_db"] > 40
    (True, True)
    """
    clean = check_waveform(np.asarray(clean_audio), name="clean_audio")
    image = torch.as_tensor(adv_image).detach().to(_device_of(model), torch.float32)
    if tuple(image.shape) != IMAGE_SHAPE:
        raise ParameterError(f"adv_image must have shape {IMAGE_SHAPE}, got {tuple(image.shape)}")
    if not bool(torch.isfinite(image).all()):
        raise ParameterError("adv_image holds NaN or infinite values")
    image_probs = _probabilities(model, image[None])[0]
    _check_class("label", label, len(image_probs))
    if target is not None:
        _check_class("target", target, len(image_probs))
        if target == label:
            raise ParameterError(f"target={target} equals label; a targeted attack aims elsewhere")
    if reconstructed is None:
        reconstructed = image_to_audio(
            image,
            setting,
            reference_audio=clean,
            magnitude=magnitude,
            phase=phase,
            n_iter=n_iter,
        )
    audio = check_waveform(np.asarray(reconstructed), name="reconstructed")
    if audio.shape != clean.shape:
        raise ParameterError(
            f"reconstructed has {audio.shape[0]} samples, clean_audio {clean.shape[0]}"
        )
    preds, _ = reclassify(np.stack([clean, audio]), setting, model, device=device)
    pred_image = int(image_probs.argmax())
    pred_clean, pred_audio = (int(p) for p in preds)

    def hits(pred: int) -> Optional[bool]:
        return None if target is None else bool(hits_target(pred, target))

    return {
        "label": int(label),
        "target": None if target is None else int(target),
        "pred_clean": pred_clean,
        "pred_image": pred_image,
        "pred_audio": pred_audio,
        "image_fools": bool(fooled(pred_image, label)),
        "audio_fools": bool(fooled(pred_audio, label)),
        "image_hits_target": hits(pred_image),
        "audio_hits_target": hits(pred_audio),
        "snr_db": snr_db(clean, audio),
        "magnitude_snr_db": magnitude_snr_db(clean, audio),
    }


def _device_of(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def _probabilities(model: nn.Module, images: torch.Tensor) -> np.ndarray:
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            logits = model(images)
    finally:
        model.train(was_training)
    return torch.softmax(logits.float(), dim=-1).cpu().numpy()


def _check_class(name: str, value: object, n_classes: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ParameterError(f"{name} must be a class index, got {value!r}")
    if not 0 <= int(value) < n_classes:
        raise ParameterError(f"{name}={value} is not a class of the model (0 to {n_classes - 1})")
