"""Nested runs: the states of one attack run at the budgets it passes on its way.

For FGSM over ε, DeepFool over ``max_iter``, JSMA over γ and Carlini-Wagner over
``search_steps``, the run at a smaller budget is exactly the beginning of the run at a larger
one (same operations on the same rows, so the same numbers). One run at the largest budget
then gives every smaller one: a :class:`CurveRecorder` keeps, at each requested budget (in the
attack's own units of progress), a copy of the adversarial images the run at that budget
would return and the gradient computations each sample had spent by then.
:meth:`specnb.attacks.base.Attack.curve` drives it.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

__all__ = ["CurveRecorder"]


class CurveRecorder:
    """Copies of a run's adversarial images and gradient counts at given marks of progress.

    Parameters
    ----------
    marks : sequence of float
        Progress (iterations, search steps, or ε for FGSM) at which the run at that budget
        would end; repeated marks are recorded once.

    Examples
    --------
    >>> import torch
    >>> recorder = CurveRecorder([0, 2])
    >>> recorder.reach(0, torch.zeros(1, 2), torch.tensor([0]))
    >>> recorder.finish(torch.ones(1, 2), torch.tensor([4]))
    >>> [counts.tolist() for _, counts in recorder.states()]
    [[0], [4]]
    """

    def __init__(self, marks: Sequence[float]) -> None:
        self.marks = list(marks)
        self.done = 0
        self._states: dict[float, tuple[Tensor, Tensor]] = {}

    def reach(self, done: float, adv: Tensor, counts: Tensor) -> None:
        """The run has made ``done`` progress: ``adv`` is what a run of that budget returns."""
        if done in self.marks and done not in self._states:
            self._states[done] = (adv.detach().clone(), counts.detach().clone())

    def advance(self, adv: Tensor, counts: Tensor) -> None:
        """One more unit of progress is done: :meth:`reach` at the count of these calls."""
        self.done += 1
        self.reach(self.done, adv, counts)

    def finish(self, adv: Tensor, counts: Tensor) -> None:
        """The run ended with ``adv``: every mark not reached yet ends there too.

        A run that ends before a mark does so because nothing is left to do (every sample
        finished), which a run at that budget finds at the same point.
        """
        for mark in self.marks:
            self.reach(mark, adv, counts)

    def states(self) -> list[tuple[Tensor, Tensor]]:
        """Adversarial images and per-sample gradient counts at each mark, in mark order
        (after :meth:`finish`, which reaches every mark)."""
        return [self._states[m] for m in self.marks]
