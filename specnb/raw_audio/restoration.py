"""The random-scalar restoration of paper §5.6: multiply an adversarial example by s ≈ 1.

For a range ``r``, every example is multiplied by its own scalar ``s ~ U(1 - r, 1 + r)`` and
classified again; over ``n_draws`` independent draws we record, per range:

* ``restored``: the share of the *fooling* adversarial examples whose true label comes back
  (the paper: "multiplying the adversarial examples by a small random scalar restored the
  audio waveforms' correct label");
* ``still_fooling``: the share that still fool (misclassified, or on target when targeted);
* for clean inputs (a control), ``restored`` is the share of correctly classified clean
  examples that stay correct: the accuracy the scaling keeps.

What is multiplied depends on the input (:data:`DOMAINS`): ``"waveform"`` inputs are in the
[0, 1] layout ``x = (y / H + 1) / 2`` of :mod:`specnb.raw_audio.waveforms`, and the scalar
multiplies the waveform ``y`` (clipped to the layout's [-H, H]); ``"image"`` inputs are model
images, and the
scalar multiplies the pixel values (clipped to [0, 1]), a change of brightness.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from specnb.attack_eval import predict
from specnb.errors import ParameterError
from specnb.metrics import reaches_goal

__all__ = ["DOMAINS", "RestorationCurve", "restoration_curve", "scale_inputs"]

#: What the scalar multiplies: the waveform behind a [0, 1] waveform input, or image pixels.
DOMAINS = ("waveform", "image")


def scale_inputs(inputs: torch.Tensor, scalars: torch.Tensor, domain: str) -> torch.Tensor:
    """Multiply each input by its scalar in ``domain``, keeping it in [0, 1].

    Parameters
    ----------
    inputs : torch.Tensor, shape (B, C, H, W)
        Model inputs in [0, 1].
    scalars : torch.Tensor, shape (B,)
        One factor per input.
    domain : {"waveform", "image"}
        ``"waveform"``: ``x' = (clip(s (2 x - 1), -1, 1) + 1) / 2``; ``"image"``:
        ``x' = clip(s x, 0, 1)``.

    Returns
    -------
    torch.Tensor, same shape as ``inputs``

    Examples
    --------
    >>> scale_inputs(torch.tensor([[[[0.75]]]]), torch.tensor([2.0]), "waveform").item()
    1.0
    """
    if domain not in DOMAINS:
        raise ParameterError(f"domain must be one of {DOMAINS}, got {domain!r}")
    if scalars.shape != inputs.shape[:1]:
        raise ParameterError(
            f"scalars must have shape ({inputs.shape[0]},), got {tuple(scalars.shape)}"
        )
    s = scalars.to(inputs).view(-1, *([1] * (inputs.ndim - 1)))
    if domain == "image":
        return (inputs * s).clamp(0.0, 1.0)
    return (0.5 + (inputs - 0.5) * s).clamp(0.0, 1.0)


@dataclass
class RestorationCurve:
    """Restored and still-fooling shares per scalar range (see the module notes).

    Attributes
    ----------
    kind : str
        What was scaled, e.g. ``"waveform adversarial (bim-a)"``.
    ranges : list of float
        The ``r`` of each ``U(1 - r, 1 + r)``.
    restored, restored_std : list of float
        Mean and standard deviation over draws of the share restored (kept, for clean inputs).
    still_fooling : list of float
        Mean share that still fools (0 for clean inputs).
    n_examples : int
        Examples scaled (the fooling ones, or the correctly classified clean ones).
    n_draws : int
    """

    kind: str
    ranges: list[float]
    restored: list[float]
    restored_std: list[float]
    still_fooling: list[float]
    n_examples: int
    n_draws: int

    def to_dict(self) -> dict[str, object]:
        """JSON-serialisable form, for the results store."""
        return dict(self.__dict__)

    def frame(self) -> pd.DataFrame:
        """One row per range."""
        return pd.DataFrame(
            {
                "kind": self.kind,
                "range": self.ranges,
                "restored": self.restored,
                "restored_std": self.restored_std,
                "still_fooling": self.still_fooling,
                "n_examples": self.n_examples,
            }
        )


def restoration_curve(
    model: nn.Module,
    inputs: torch.Tensor,
    labels: torch.Tensor,
    ranges: Sequence[float],
    *,
    domain: str,
    targets: torch.Tensor | None = None,
    adversarial: bool = True,
    n_draws: int = 5,
    seed: int = 0,
    kind: str = "",
    batch_size: int = 64,
) -> RestorationCurve:
    """Measure how often a random scalar near 1 restores the true label.

    Parameters
    ----------
    model : nn.Module
        The classifier of ``inputs``.
    inputs : torch.Tensor, shape (n, C, H, W)
        Adversarial examples (``adversarial=True``) or clean inputs, in [0, 1].
    labels : torch.Tensor, shape (n,)
        True classes.
    ranges : sequence of float
        Half-widths ``r`` in (0, 1) of the scalar's range ``U(1 - r, 1 + r)``.
    domain : {"waveform", "image"}
        See :func:`scale_inputs`.
    targets : torch.Tensor, shape (n,), optional
        Targets of a targeted attack: fooling then means hitting them.
    adversarial : bool
        True: scale the examples that fool (unscaled) and count restorations; False: scale
        the correctly classified inputs and count those kept correct.
    n_draws : int
        Independent draws of the scalars per range.
    seed : int
        Seed of the scalars.
    kind : str
        Label of the curve.
    batch_size : int
        Inputs per forward pass.

    Returns
    -------
    RestorationCurve
        With ``n_examples = 0`` and NaN shares when no example qualifies.

    Raises
    ------
    ValueError
        A range outside (0, 1), ``n_draws < 1``, mismatched shapes or an unknown ``domain``.

    Examples
    --------
    >>> net = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    >>> x = torch.rand(6, 1, 1, 4)
    >>> curve = restoration_curve(net, x, net(x).argmax(1), [0.1], domain="waveform",
    ...                           adversarial=False)
    >>> curve.n_examples
    6
    """
    ranges = [float(r) for r in ranges]
    if not ranges or not all(0.0 < r < 1.0 for r in ranges):
        raise ParameterError(f"ranges must be values in (0, 1), got {ranges}")
    if isinstance(n_draws, bool) or not isinstance(n_draws, int) or n_draws < 1:
        raise ParameterError(f"n_draws must be an int >= 1, got {n_draws!r}")
    if domain not in DOMAINS:
        raise ParameterError(f"domain must be one of {DOMAINS}, got {domain!r}")
    if inputs.ndim != 4 or labels.shape != inputs.shape[:1]:
        raise ParameterError(
            f"inputs (n, C, H, W) and labels (n,) do not match: {tuple(inputs.shape)}, "
            f"{tuple(labels.shape)}"
        )
    labels = labels.cpu().long()
    goal = None if targets is None else targets.cpu().long()

    def fooling(pred: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        return reaches_goal(pred, labels[rows], None if goal is None else goal[rows])

    pred = predict(model, inputs, batch_size)
    every = torch.arange(len(labels))
    chosen = every[fooling(pred, every)] if adversarial else every[pred == labels]
    nan = [float("nan")] * len(ranges)
    if chosen.numel() == 0:
        return RestorationCurve(kind, ranges, nan, nan, nan, 0, n_draws)
    rng = torch.Generator().manual_seed(int(seed))
    subset = inputs[chosen]
    restored, spread, fools = [], [], []
    for r in ranges:
        shares, rates = [], []
        for _ in range(n_draws):
            scalars = 1.0 - r + 2.0 * r * torch.rand(len(chosen), generator=rng)
            out = predict(model, scale_inputs(subset, scalars, domain), batch_size)
            shares.append(float((out == labels[chosen]).double().mean()))
            rates.append(float(fooling(out, chosen).double().mean()) if adversarial else 0.0)
        restored.append(float(np.mean(shares)))
        spread.append(float(np.std(shares)))
        fools.append(float(np.mean(rates)))
    return RestorationCurve(kind, ranges, restored, spread, fools, int(chosen.numel()), n_draws)
