"""What an attack evaluation measured: one :class:`BudgetResult` per grid point, gathered in
an :class:`AttackEvaluation` with the curve's AUC score and cost (see
:mod:`specnb.attack_eval.evaluate` for the definitions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np
import pandas as pd
from torch import Tensor

from specnb.attack_eval.budgets import BudgetGrid, attack_label
from specnb.attacks.precision import precision_param
from specnb.metrics import auc_score, cost_to_reach, fooled, hits_target

__all__ = ["AttackEvaluation", "BudgetResult", "Example"]


@dataclass(frozen=True)
class Example:
    """One attacked sample's adversarial example as shown and played
    (:meth:`AttackEvaluation.example`).

    Attributes
    ----------
    image : torch.Tensor, shape (C, H, W)
        The adversarial image, in [0, 1].
    pred : int
        The model's class for it.
    label : int
        The true class.
    target : int or None
        The target of a targeted attack.
    budget : float
        The budget it was made at: the smallest that fools, else the kept one.
    linf : float
        ℓ∞ size of its perturbation (0: the image is unchanged, δ = 0; NaN: not measured).
    """

    image: Tensor
    pred: int
    label: int
    target: Optional[int]
    budget: float
    linf: float

    @property
    def fools(self) -> bool:
        """Misclassified (:func:`specnb.metrics.fooled`)."""
        return bool(fooled(self.pred, self.label))

    @property
    def hits_target(self) -> Optional[bool]:
        """Classified as its target (None when untargeted)."""
        return None if self.target is None else bool(hits_target(self.pred, self.target))

    @property
    def perturbed(self) -> bool:
        """False when the attack left the image unchanged (δ = 0)."""
        return self.linf != 0.0


@dataclass
class BudgetResult:
    """The attack at one point of its grid.

    Attributes
    ----------
    params : dict
        The attack's constructor parameters at this point.
    budget : float
        The point's scalar budget.
    fooling_rate : float
        In [0, 1], among the attacked samples: the share misclassified (the paper's fooling
        rate, targeted attacks included).
    grad_counts : np.ndarray, shape (n_attacked,), int64
        Gradient computations of every attacked sample.
    grads_per_batch : float
        Mean gradient computations per batch (``total_grads`` of the attack's calls).
    norms : dict of str to float
        ``l0_mean``, ``l0_median``, ``l2_mean``... over the fooled samples (NaN if none).
    seconds : float
        Wall time of the attack run that produced this point and of its predictions; a run
        that serves several points is counted on its largest one (0 on the others).
    target_rate : float or None
        Targeted attacks: the share classified as their target (None when untargeted).
    fooled : np.ndarray, shape (n_attacked,), bool
        Whether each attacked sample is misclassified at this point.
    linf : np.ndarray, shape (n_attacked,), float64
        ℓ∞ size of each attacked sample's perturbation at this point (0: unchanged).
    """

    params: dict[str, Any]
    budget: float
    fooling_rate: float
    grad_counts: np.ndarray
    grads_per_batch: float
    norms: dict[str, float]
    seconds: float
    target_rate: Optional[float] = None
    fooled: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    linf: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def grads_per_sample(self) -> float:
        """Mean gradient computations per attacked sample."""
        return float(self.grad_counts.mean())


@dataclass
class AttackEvaluation:
    """One attack evaluated over its budget grid on one model.

    Attributes
    ----------
    grid : BudgetGrid
    targeted : bool
    seed : int
        Seed of the target labels.
    n_samples : int
        Samples given.
    n_correct : int
        Samples among them the model classifies correctly.
    indices : torch.Tensor, shape (n_attacked,), int64
        Positions (in the given images) of the attacked samples: the first correctly
        classified ones, at most ``max_samples``.
    labels : torch.Tensor, shape (n_attacked,)
        Their true labels.
    targets : torch.Tensor or None, shape (n_attacked,)
        Their target labels (targeted attacks).
    results : list of BudgetResult
        One per grid point, in grid order.
    kept : int
        Grid point whose adversarial examples are kept.
    adv_images : torch.Tensor, shape (n_attacked, C, H, W), CPU
        Adversarial examples at the kept point.
    adv_pred : torch.Tensor, shape (n_attacked,)
        The model's classes for them.
    norm : str
        The attack's norm (``"linf"``, ``"l2"`` or ``"l0"``).
    seconds : float
        Wall time of the whole evaluation.
    max_samples : int or None
        The cap on attacked samples.
    spent_grads_per_sample : float
        Gradient computations per attacked sample that the evaluation actually spent: each
        attack run once, however many grid points it served (NaN when not measured).
    point_adv : list of (torch.Tensor, torch.Tensor) or None
        With ``keep_every``: the adversarial images (n_attacked, C, H, W) and their predicted
        classes (n_attacked,) at every grid point, in grid order.
    first_adv : torch.Tensor or None, shape (n_attacked, C, H, W), CPU
        Each sample's adversarial example at the smallest budget of the grid that fools it
        (its clean image when none does); see :meth:`example`.
    first_pred : torch.Tensor or None, shape (n_attacked,)
        The model's classes for them (-1 where no budget fools).
    precision : {"fp32", "bf16"}
        The precision the attack ran the model in (:func:`specnb.attacks.make_attack`).
    """

    grid: BudgetGrid
    targeted: bool
    seed: int
    n_samples: int
    n_correct: int
    indices: Tensor
    labels: Tensor
    targets: Optional[Tensor]
    results: list[BudgetResult]
    kept: int
    adv_images: Tensor
    adv_pred: Tensor
    norm: str
    seconds: float
    max_samples: Optional[int] = field(default=None)
    spent_grads_per_sample: float = field(default=float("nan"))
    point_adv: Optional[list[tuple[Tensor, Tensor]]] = field(default=None)
    first_adv: Optional[Tensor] = field(default=None)
    first_pred: Optional[Tensor] = field(default=None)
    precision: str = field(default="fp32")

    @property
    def attack(self) -> str:
        """The attack's name."""
        return self.grid.attack

    @property
    def label(self) -> str:
        """The attack's name as the paper spells it."""
        return attack_label(self.attack)

    @property
    def budgets(self) -> list[float]:
        """Scalar budget of every grid point."""
        return [r.budget for r in self.results]

    @property
    def fooling_rates(self) -> list[float]:
        """Fooling rate (misclassification) at every grid point."""
        return [r.fooling_rate for r in self.results]

    @property
    def target_rates(self) -> Optional[list[float]]:
        """Targeted attacks: the share that hits its target at every grid point, else None."""
        if not self.targeted:
            return None
        return [float(r.target_rate) for r in self.results]  # type: ignore[arg-type]

    @property
    def grads_per_sample(self) -> list[float]:
        """Mean gradient computations per attacked sample at every grid point."""
        return [r.grads_per_sample for r in self.results]

    @property
    def grads_per_batch(self) -> list[float]:
        """Mean gradient computations per batch at every grid point."""
        return [r.grads_per_batch for r in self.results]

    @property
    def auc(self) -> float:
        """Area under the fooling-rate curve, budget axis normalised to [0, 1]."""
        return auc_score(self.budgets, self.fooling_rates)

    @property
    def target_auc(self) -> Optional[float]:
        """Targeted attacks: area under the target-hit curve (as :attr:`auc`), else None."""
        rates = self.target_rates
        return None if rates is None else auc_score(self.budgets, rates)

    def first_fooled(self) -> tuple[np.ndarray, np.ndarray]:
        """Per attacked sample, the first budget of the grid at which it is misclassified
        and the gradient computations it had taken there (NaN for never).

        Returns
        -------
        budgets, grads : np.ndarray, shape (n_attacked,), float64
        """
        budgets = np.full(len(self.indices), np.nan)
        grads = np.full(len(self.indices), np.nan)
        for result in self.results:
            first = np.isnan(budgets) & result.fooled
            budgets[first] = result.budget
            grads[first] = result.grad_counts[first]
        return budgets, grads

    @property
    def cost_to_fr90(self) -> float:
        """Gradient computations per sample at which the fooling rate first reaches 0.9."""
        return cost_to_reach(self.grads_per_sample, self.fooling_rates, 0.9)

    @property
    def clean_accuracy(self) -> float:
        """Share of the given samples the model classifies correctly."""
        return self.n_correct / self.n_samples

    @property
    def fooled(self) -> Tensor:
        """Whether each kept adversarial example fools the model (is misclassified)."""
        return fooled(self.adv_pred, self.labels)

    @property
    def hits(self) -> Optional[Tensor]:
        """Targeted attacks: whether each kept example is classified as its target."""
        return None if self.targets is None else hits_target(self.adv_pred, self.targets)

    def example(self, at: int) -> Example:
        """The example to show or play for attacked sample ``at``: its adversarial example
        at the smallest budget that fools it, or at the kept budget (the largest by default)
        when no budget does (or the smallest fooling ones were not kept).

        Parameters
        ----------
        at : int
            Position among the attacked samples (in :attr:`indices`).

        Returns
        -------
        Example
        """
        fooling = [(r.budget, i) for i, r in enumerate(self.results) if r.fooled[at]]
        point = self.kept
        image, pred = self.adv_images[at], int(self.adv_pred[at])
        if fooling and self.first_adv is not None and self.first_pred is not None:
            point = min(fooling)[1]
            image, pred = self.first_adv[at], int(self.first_pred[at])
        result = self.results[point]
        target = None if self.targets is None else int(self.targets[at])
        linf = float(result.linf[at]) if len(result.linf) else math.nan
        return Example(image, pred, int(self.labels[at]), target, result.budget, linf)

    def params(self) -> dict[str, Any]:
        """What shapes the result besides the run and fold: the key of its store row."""
        return {
            "grid": self.grid.to_dict(),
            "targeted": self.targeted,
            "seed": self.seed,
            "max_samples": self.max_samples,
            **precision_param(self.precision),
        }

    def frame(self) -> pd.DataFrame:
        """One row per grid point: parameters, budget, fooling rate, costs, sizes, seconds."""
        rows = [
            {
                "attack": self.label,
                **r.params,
                "budget": r.budget,
                "fooling_rate": r.fooling_rate,
                "target_rate": r.target_rate,
                "grads_per_sample": r.grads_per_sample,
                "grads_per_batch": r.grads_per_batch,
                **r.norms,
                "seconds": r.seconds,
            }
            for r in self.results
        ]
        return pd.DataFrame(rows)
