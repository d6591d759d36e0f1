"""The learning-rate schedule: constant, or linear warm-up followed by cosine decay.

The rate is a pure function of the training progress measured in epochs (``epoch +
batch / batches_per_epoch``), so a run resumed at an epoch boundary continues on exactly the
curve an uninterrupted run follows, with nothing to checkpoint.
"""

from __future__ import annotations

import math

__all__ = ["SCHEDULES", "learning_rate"]

#: Names accepted by ``TrainConfig.schedule``.
SCHEDULES: tuple[str, ...] = ("constant", "cosine")

#: Fraction of the peak rate the cosine decay ends at.
FINAL_FRACTION = 0.01


def learning_rate(
    progress: float, *, peak: float, epochs: int, warmup_epochs: float, schedule: str
) -> float:
    """Learning rate at ``progress`` epochs into a run of ``epochs`` epochs.

    Parameters
    ----------
    progress : float >= 0
        Epochs done so far, fractional within an epoch.
    peak : float > 0
        The rate after warm-up (``"cosine"``) or throughout (``"constant"``).
    epochs : int > 0
        Length of the schedule (``TrainConfig.epochs``): the cosine reaches its floor there.
    warmup_epochs : float >= 0
        Length of the linear ramp from 0 to ``peak`` (the caller passes the progress at the
        end of each batch, so no step runs at rate 0).
    schedule : {"constant", "cosine"}
        ``"cosine"``: linear warm-up, then ``peak * (f + (1 - f) * (1 + cos(pi * t)) / 2)``
        with ``t`` going from 0 at the end of warm-up to 1 at ``epochs`` and ``f = 0.01``.

    Returns
    -------
    float

    Examples
    --------
    >>> [round(learning_rate(p, peak=1.0, epochs=10, warmup_epochs=2, schedule="cosine"), 3)
    ...  for p in (0, 1, 2, 6, 10)]
    [0.0, 0.5, 1.0, 0.505, 0.01]
    """
    if schedule == "constant":
        return peak
    if schedule != "cosine":
        raise ValueError(f"schedule={schedule!r}; choose one of {SCHEDULES}")
    if progress < warmup_epochs:
        return peak * progress / warmup_epochs
    span = max(epochs - warmup_epochs, 1e-12)
    t = min(max((progress - warmup_epochs) / span, 0.0), 1.0)
    return peak * (FINAL_FRACTION + (1 - FINAL_FRACTION) * (1 + math.cos(math.pi * t)) / 2)
