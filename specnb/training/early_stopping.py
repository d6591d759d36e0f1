"""When a fold's training stops, and which epoch's weights it keeps.

The rule watches one dev-set quantity per epoch (``TrainConfig.monitor``):

- **best weights**: an epoch is the new best when its value beats the best so far (dev loss
  lower; dev accuracy higher, ties broken by the lower dev loss);
- **stopping**: the values are smoothed by an exponential moving average
  ``s_t = a * s_{t-1} + (1 - a) * v_t`` (``a = TrainConfig.smoothing``; 0 keeps the raw
  curve), and training stops once the smoothed curve has not improved on its best for
  ``patience`` epochs, but never before ``min_epochs`` epochs. A noisy dev curve that still
  climbs keeps improving its average, so the stop waits for the climb to end.

The state is a small dict of plain numbers, saved in every checkpoint.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["initial_state", "monitored", "update"]


def initial_state() -> dict[str, Any]:
    """The rule's state before the first epoch."""
    return {
        "best_value": (math.inf, math.inf),
        "best_smoothed": math.inf,
        "smoothed": None,
        "bad_epochs": 0,
        "stopped": False,
    }


def monitored(monitor: str, dev_loss: float, dev_acc: float) -> tuple[float, float]:
    """The value to minimise: ``(dev_loss, 0)`` or ``(-dev_acc, dev_loss)`` (tie-break)."""
    if monitor == "dev_loss":
        return (dev_loss, 0.0)
    return (-dev_acc, dev_loss)


def update(
    state: dict[str, Any],
    value: tuple[float, float],
    *,
    epoch: int,
    patience: int,
    min_epochs: int = 0,
    smoothing: float = 0.0,
) -> bool:
    """Record one epoch's monitored ``value``; return whether its weights are the new best.

    Parameters
    ----------
    state : dict
        From :func:`initial_state` or a checkpoint; updated in place (``stopped`` becomes
        True when training should end after this epoch).
    value : tuple of float
        :func:`monitored` of this epoch (lower is better, compared lexicographically).
    epoch : int
        1-based number of this epoch.
    patience : int > 0
        Epochs without improvement of the smoothed curve before stopping.
    min_epochs : int >= 0
        No stop before this many epochs.
    smoothing : float in [0, 1)
        Weight of the past in the moving average.

    Returns
    -------
    bool
        True when ``value`` beats every earlier epoch's.

    Examples
    --------
    >>> state = initial_state()
    >>> [update(state, (v, 0.0), epoch=e, patience=1) for e, v in enumerate([3, 2, 2.5], 1)]
    [True, True, False]
    >>> state["stopped"]
    True
    """
    value = (float(value[0]), float(value[1]))
    best = state["best_value"]
    best = tuple(best) if isinstance(best, (tuple, list)) else (float(best), math.inf)
    improved = value < best
    if improved:
        state["best_value"] = value
    head = value[0]
    previous = state["smoothed"]
    smoothed = head if previous is None else smoothing * previous + (1 - smoothing) * head
    state["smoothed"] = smoothed
    if smoothed < state["best_smoothed"] or (smoothing == 0 and improved):
        state["best_smoothed"] = min(smoothed, state["best_smoothed"])
        state["bad_epochs"] = 0
    else:
        state["bad_epochs"] += 1
    state["stopped"] = epoch >= min_epochs and state["bad_epochs"] >= patience
    return improved
