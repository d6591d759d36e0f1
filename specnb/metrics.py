"""Metric definitions (SPEC "Metrics"): accuracy, fooling rate, AUC score, attack cost,
perturbation sizes, SNR and the transferability ratio."""

from __future__ import annotations

import math
from typing import Any, Sequence

import librosa
import numpy as np
import torch

from specnb.errors import ParameterError
from specnb.representations.reference import check_waveform

__all__ = [
    "fooled",
    "hits_target",
    "reaches_goal",
    "target_hit_rate",
    "accuracy_summary",
    "test_correct",
    "fooling_rate",
    "auc_score",
    "cost_to_reach",
    "perturbation_norms",
    "snr_db",
    "magnitude_snr_db",
    "transfer_ratio",
]


def accuracy_summary(fold_accuracies: Sequence[float]) -> tuple[float, float]:
    """Mean and (population) standard deviation of the fold models' test accuracies."""
    acc = np.asarray(fold_accuracies, dtype=np.float64)
    if acc.size == 0:
        raise ParameterError("fold_accuracies is empty")
    return float(acc.mean()), float(acc.std())


def fooled(predictions: Any, labels: Any) -> Any:
    """Whether each sample is fooled: misclassified, its predicted class not its true class.

    The one meaning of "fooled" (SPEC "Metrics"), for targeted attacks too: every fooling
    rate, gallery, listening table, explorer and report counts this. A targeted attack's
    target hits (:func:`hits_target`) stand beside it, never in its place.

    Parameters
    ----------
    predictions : torch.Tensor, np.ndarray or int, shape (n,) or scalar
        Predicted classes on the adversarial inputs.
    labels : same kind as ``predictions``
        True classes.

    Returns
    -------
    torch.Tensor, np.ndarray or bool
        Of the kind of ``predictions``: ``True`` where the sample is misclassified.

    Examples
    --------
    >>> fooled(np.array([1, 2]), np.array([1, 1]))
    array([False,  True])
    """
    return predictions != labels


def hits_target(predictions: Any, targets: Any) -> Any:
    """Whether each sample of a targeted attack is classified as its target class.

    A hit is also fooled (a target is never the true class); a sample fooled into another
    wrong class is fooled without a hit.

    Examples
    --------
    >>> hits_target(np.array([0, 2]), np.array([0, 1]))
    array([ True, False])
    """
    return predictions == targets


def reaches_goal(predictions: Any, labels: Any, targets: Any | None = None) -> Any:
    """Whether each sample is where its attack aims: at its target (targeted attacks,
    :func:`hits_target`) or anywhere but its true class (untargeted, :func:`fooled`).

    What an attack stops on or an attacker counts as success; what counts as *fooling* is
    :func:`fooled` alone.

    Examples
    --------
    >>> reaches_goal(np.array([2, 2]), np.array([1, 1]), targets=np.array([0, 2]))
    array([False,  True])
    """
    return fooled(predictions, labels) if targets is None else hits_target(predictions, targets)


def test_correct(predictions: np.ndarray, labels: np.ndarray) -> list[list[int]]:
    """Whether each fold model classifies each test clip correctly, as stored with a run.

    Parameters
    ----------
    predictions : array of int, shape (n_folds, n_test)
        Predicted class of every test clip by every fold model.
    labels : array of int, shape (n_test,)
        The clips' true classes.

    Returns
    -------
    list of list of int
        ``[fold][clip]`` 1 when correct, else 0 (what the report pairs clip by clip, by clip
        id, when it compares two runs of one seed).

    Examples
    --------
    >>> test_correct(np.array([[0, 1, 1], [0, 0, 1]]), np.array([0, 1, 1]))
    [[1, 1, 1], [1, 0, 1]]
    """
    p, y = np.asarray(predictions), np.asarray(labels)
    if p.ndim != 2 or p.shape[1:] != y.shape:
        raise ParameterError(
            f"predictions {p.shape} must be (n_folds, n_test) with n_test = {y.shape}"
        )
    return (p == y[None, :]).astype(int).tolist()


def fooling_rate(
    adv_pred: torch.Tensor | np.ndarray,
    labels: torch.Tensor | np.ndarray,
    clean_pred: torch.Tensor | np.ndarray,
) -> float:
    """Fooling rate: among the samples the model classifies correctly, the share whose
    adversarial example is misclassified (:func:`fooled`), for targeted attacks too.

    Parameters
    ----------
    adv_pred, labels, clean_pred : array of int, shape (n,)
        Predictions on the adversarial examples, true labels, predictions on the clean inputs.

    Returns
    -------
    float
        In [0, 1]; NaN when no sample is classified correctly (the rate is undefined).

    Raises
    ------
    ParameterError
        When the arrays are not 1-D of one length (the message names each length).

    Examples
    --------
    >>> fooling_rate([2, 1, 0], [1, 1, 0], [1, 1, 1])
    0.5
    """
    arrays = _same_length("fooling_rate", adv_pred=adv_pred, labels=labels, clean_pred=clean_pred)
    adv, y, clean = arrays["adv_pred"], arrays["labels"], arrays["clean_pred"]
    return _among_correct(fooled(adv, y), clean == y)


def target_hit_rate(
    adv_pred: torch.Tensor | np.ndarray,
    labels: torch.Tensor | np.ndarray,
    clean_pred: torch.Tensor | np.ndarray,
    targets: torch.Tensor | np.ndarray,
) -> float:
    """A targeted attack's target-hit rate: among the samples the model classifies
    correctly, the share whose adversarial example is classified as its target
    (:func:`hits_target`); at most the fooling rate.

    Parameters
    ----------
    adv_pred, labels, clean_pred, targets : array of int, shape (n,)
        As for :func:`fooling_rate`, and the target classes.

    Returns
    -------
    float
        In [0, 1]; NaN when no sample is classified correctly.

    Raises
    ------
    ParameterError
        When the arrays are not 1-D of one length (the message names each length).

    Examples
    --------
    >>> target_hit_rate([2, 0, 0], [1, 1, 0], [1, 1, 0], [2, 2, 1])
    0.3333333333333333
    """
    arrays = _same_length(
        "target_hit_rate", adv_pred=adv_pred, labels=labels, clean_pred=clean_pred, targets=targets
    )
    y = arrays["labels"]
    hits = hits_target(arrays["adv_pred"], arrays["targets"])
    return _among_correct(hits, arrays["clean_pred"] == y)


def _same_length(caller: str, **named: Any) -> dict[str, np.ndarray]:
    """The arrays as NumPy, checked 1-D of one length (the error names every length)."""
    arrays = {name: np.asarray(_np(a)) for name, a in named.items()}
    shapes = {name: a.shape for name, a in arrays.items()}
    if any(len(shape) != 1 for shape in shapes.values()) or len(set(shapes.values())) > 1:
        sizes = ", ".join(
            f"{name} {'x'.join(map(str, shape)) or 'scalar'}" for name, shape in shapes.items()
        )
        raise ParameterError(f"{caller} needs 1-D arrays of one length, got {sizes}")
    return arrays


def _among_correct(flags: np.ndarray, correct: np.ndarray) -> float:
    return float(flags[correct].mean()) if correct.any() else math.nan


def _np(a: torch.Tensor | np.ndarray) -> np.ndarray:
    return a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)


def auc_score(budgets: Sequence[float], rates: Sequence[float]) -> float:
    """Area under the fooling-rate-versus-budget curve, budget axis normalised to [0, 1].

    The budgets are mapped linearly onto [0, 1] (smallest to 0, largest to 1) and the curve is
    integrated with the trapezoid rule over the attack's grid, so the score lies in [0, 1]. A
    grid of one budget has the fooling rate at that budget as its score.

    Examples
    --------
    >>> auc_score([0.0, 0.5, 1.0], [0.0, 1.0, 1.0])
    0.75
    """
    b = np.asarray(budgets, dtype=np.float64)
    r = np.asarray(rates, dtype=np.float64)
    if b.shape != r.shape or b.ndim != 1 or b.size == 0:
        raise ParameterError(
            f"budgets and rates must be 1-D of equal length, got {b.shape}, {r.shape}"
        )
    if np.any(np.isnan(r)):
        raise ParameterError("rates contain NaN (no correctly classified sample at some budget)")
    if np.any((r < 0) | (r > 1)):
        raise ParameterError(f"rates must lie in [0, 1], got {r.tolist()}")
    order = np.argsort(b, kind="stable")
    b, r = b[order], r[order]
    if b.size == 1:
        return float(r[0])
    span = b[-1] - b[0]
    if span <= 0:
        raise ParameterError(f"budgets must not all be equal, got {b.tolist()}")
    x = (b - b[0]) / span
    return float(np.sum((x[1:] - x[:-1]) * (r[1:] + r[:-1]) / 2.0))


def cost_to_reach(costs: Sequence[float], rates: Sequence[float], threshold: float = 0.9) -> float:
    """Attack cost (gradient computations per sample) at which the fooling rate first reaches
    ``threshold``, scanning the grid in increasing cost; NaN if it never does."""
    c = np.asarray(costs, dtype=np.float64)
    r = np.asarray(rates, dtype=np.float64)
    if c.shape != r.shape:
        raise ParameterError(f"costs and rates differ in shape: {c.shape} vs {r.shape}")
    for i in np.argsort(c, kind="stable"):
        if r[i] >= threshold:
            return float(c[i])
    return math.nan


def perturbation_norms(
    clean: torch.Tensor, adv: torch.Tensor, *, l0_tol: float = 1e-6
) -> dict[str, torch.Tensor]:
    """Per-sample ℓ0, ℓ2 and ℓ∞ sizes of ``adv - clean`` (images in [0, 1], shape (B, ...)).

    ℓ0 counts the elements changed by more than ``l0_tol``.
    """
    if clean.shape != adv.shape:
        raise ParameterError(
            f"clean {tuple(clean.shape)} and adv {tuple(adv.shape)} differ in shape"
        )
    d = (adv - clean).flatten(1).float()
    return {
        "l0": (d.abs() > l0_tol).sum(1).float(),
        "l2": d.norm(p=2, dim=1),
        "linf": d.abs().amax(1),
    }


def snr_db(clean: np.ndarray | torch.Tensor, perturbed: np.ndarray | torch.Tensor) -> float:
    """Signal-to-noise ratio in dB of ``perturbed`` against ``clean``; inf if identical."""
    x = _np(clean).astype(np.float64).ravel()
    e = _np(perturbed).astype(np.float64).ravel() - x
    if x.shape != e.shape:
        raise ParameterError("clean and perturbed differ in length")
    noise = float(np.sum(e * e))
    if noise == 0.0:
        return math.inf
    return 10.0 * math.log10(max(float(np.sum(x * x)), 1e-30) / noise)


def transfer_ratio(fooled_source: np.ndarray, fooled_target: np.ndarray) -> float:
    """Of the examples that fool the source model, the fraction that also fool the target.

    Both masks are over the same test samples (boolean, shape (n,)); NaN if none fools the
    source.
    """
    s = np.asarray(fooled_source, dtype=bool)
    t = np.asarray(fooled_target, dtype=bool)
    if s.shape != t.shape:
        raise ParameterError(f"masks differ in shape: {s.shape} vs {t.shape}")
    if not s.any():
        return math.nan
    return float(t[s].mean())


def magnitude_snr_db(
    clean: np.ndarray, perturbed: np.ndarray, n_fft: int = 2048, hop_length: int = 512
) -> float:
    """SNR in dB of the STFT magnitude of ``perturbed`` against that of ``clean``.

    Blind to phase, so it rates a Griffin-Lim reconstruction by its spectrogram rather than by
    sample-wise agreement (where it scores near or below 0 dB).

    Parameters
    ----------
    clean, perturbed : np.ndarray, shape (n_samples,)
        Waveforms of equal length at the same rate.
    n_fft, hop_length : int
        STFT size and hop in samples.

    Returns
    -------
    float
        ``10 log10(sum |C|^2 / sum (|P| - |C|)^2)``; inf if the magnitudes are identical.

    Examples
    --------
    >>> y = np.random.default_rng(0).standard_normal(4000).astype(np.float32)
    >>> magnitude_snr_db(y, -y)
    inf
    """
    x = check_waveform(np.asarray(clean), name="clean")
    z = check_waveform(np.asarray(perturbed), name="perturbed")
    if x.shape != z.shape:
        raise ParameterError(f"clean {x.shape} and perturbed {z.shape} differ in length")
    reference = np.abs(librosa.stft(x.astype(np.float64), n_fft=n_fft, hop_length=hop_length))
    other = np.abs(librosa.stft(z.astype(np.float64), n_fft=n_fft, hop_length=hop_length))
    noise = float(np.sum((other - reference) ** 2))
    if noise <= 0.0:
        return math.inf
    return 10.0 * math.log10(max(float(np.sum(reference**2)), 1e-30) / noise)
