"""The attack benchmark's whole-curve table: a quick-grid budget curve from ours and references.

The paper's grid needs every attack at every budget of its grid. specnb's FGSM, DeepFool,
JSMA and Carlini-Wagner give the whole curve from one run per group of nested budgets
(:func:`~specnb.attack_eval.grids.curve_runs`, :meth:`specnb.attacks.Attack.curve`), as
:mod:`specnb.attack_eval` runs them; a reference runs once per budget point. Each attack's
row times ours for the whole :func:`~specnb.attack_eval.grids.budget_grid` ``"quick"`` curve
against each reference's runs at every point, and counts the ratio only at equal work at
every point (:func:`curve_equal_quality`: the per-run rule of
:func:`~specnb.bench.attack_comparison.equal_quality` at each budget). References that cannot
run a point of the grid are left out (torchattacks' CW has no search over c).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from torch import Tensor, nn

from specnb.attack_eval.grids import budget_grid, curve_runs
from specnb.attacks import make_attack
from specnb.bench.attack_comparison import (
    Outcome,
    equal_quality,
    geomean_speedup,
    score,
    time_crafts,
)
from specnb.bench.attack_references import JSMA_FEATURE_LIMIT, unfound_as_clean
from specnb.bench.attack_victim import NUM_CLASSES
from specnb.errors import ParameterError

CurveCraft = Callable[[], list[Tensor]]
"""A whole curve: no arguments, the adversarial batch at each grid point in grid order."""


@dataclass(frozen=True)
class CurveRow:
    """One attack's whole curve: our time and per-point outcomes against a reference's."""

    attack: str
    ours_seconds: float
    ours: tuple[Outcome, ...]
    reference_name: str
    reference_seconds: float
    reference: tuple[Outcome, ...]

    @property
    def ratio(self) -> float:
        """Speed ratio: the reference's seconds for every point over ours for the curve."""
        return self.reference_seconds / self.ours_seconds

    @property
    def equal_quality(self) -> bool:
        """Whether our curve did the reference's work at every budget point."""
        return curve_equal_quality(self.ours, self.reference)


def curve_equal_quality(ours: Sequence[Outcome], reference: Sequence[Outcome]) -> bool:
    """Equal work at every point: :func:`~specnb.bench.attack_comparison.equal_quality` each.

    Examples
    --------
    >>> good, worse = Outcome(0.0, 1.0, 0.5), Outcome(0.0, 0.5, 0.5)
    >>> curve_equal_quality([good, good], [good, good]), curve_equal_quality([good, worse],
    ...                                                                      [good, good])
    (True, False)
    """
    if len(ours) != len(reference):
        raise ParameterError(
            f"reference has {len(reference)} points but ours has {len(ours)}; give one per point"
        )
    return all(equal_quality(o, r) for o, r in zip(ours, reference))


def curve_table(rows: Sequence[CurveRow]) -> list[str]:
    """The whole-curve table, one line per attack, and its own geometric-mean line."""
    lines = [
        "whole quick-grid curves (ours: one run per nested group, as specnb.attack_eval; "
        "reference: one run per budget point)",
        f"{'attack':<9} {'points':>6} {'ours s':>8} {'reference':>22} {'ratio':>7} "
        f"{'equal points':>13} {'equal':>6}",
    ]
    for row in rows:
        same = sum(equal_quality(o, r) for o, r in zip(row.ours, row.reference))
        reference = f"{row.reference_name} {row.reference_seconds:.3f}s"
        lines.append(
            f"{row.attack:<9} {len(row.ours):>6} {row.ours_seconds:8.3f} {reference:>22} "
            f"{row.ratio:6.2f}x {same:>6}/{len(row.ours):<6} "
            f"{'yes' if row.equal_quality else 'NO':>6}"
        )
    lines.append(f"geomean speedup, whole curves: {geomean_speedup(rows):.2f}")
    return lines


def compare_curves(
    name: str,
    ours: CurveCraft,
    references: dict[str, CurveCraft],
    repeats: int,
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    targets: Tensor | None,
    *,
    l0: bool = False,
) -> CurveRow:
    """Time our curve and the references' interleaved; the row against the fastest reference
    at equal quality at every point (the fastest of all when none is)."""
    seconds, last = time_crafts({name: ours, **references}, repeats, images.device)
    outcomes = {
        key: tuple(
            Outcome(
                statistics.median(seconds[key]), *score(model, images, labels, targets, adv, l0=l0)
            )
            for adv in advs
        )
        for key, advs in last.items()
    }
    fair = [key for key in references if curve_equal_quality(outcomes[name], outcomes[key])]
    chosen = min(fair or list(references), key=lambda key: statistics.median(seconds[key]))
    return CurveRow(
        name,
        statistics.median(seconds[name]),
        outcomes[name],
        chosen,
        statistics.median(seconds[chosen]),
        outcomes[chosen],
    )


def our_curve(
    attack: str,
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    targets: Tensor | None,
    **fixed: Any,
) -> CurveCraft:
    """Our whole quick-grid curve of ``attack``: one run (a :meth:`~specnb.attacks.Attack.curve`
    call where a run serves several points) per :func:`~specnb.attack_eval.grids.curve_runs`
    entry, with ``fixed`` settings added to each point's."""
    grid = budget_grid(attack, "quick")
    points = grid.points()
    plan = []
    for params, indices in curve_runs(grid):
        instance = make_attack(grid.attack, model, **{**params, **fixed})
        key = instance.curve_param if len(indices) > 1 else None
        values = [points[i][key] for i in indices] if key is not None else []
        plan.append((instance, indices, key, values))

    def run() -> list[Tensor]:
        advs: dict[int, Tensor] = {}
        for instance, indices, key, values in plan:
            if key is None:
                advs[indices[0]] = instance(images, labels, targets)
            else:
                advs.update(zip(indices, instance.curve(images, labels, targets, values=values)))
        return [advs[i] for i in range(len(points))]

    return run


def per_point(make: Callable[[dict[str, Any]], Callable[[], Tensor]], attack: str) -> CurveCraft:
    """A reference's curve: one run of ``make(point)`` per quick-grid point of ``attack``."""
    runs = [make(point) for point in budget_grid(attack, "quick").points()]
    return lambda: [run() for run in runs]


def compare_curves_with_references(
    model: nn.Module, images: Tensor, labels: Tensor, targets: Tensor, repeats: int, seed: int
) -> list[CurveRow]:
    """The whole quick-grid curves of FGSM, DeepFool, CW-l2 and JSMA against the references
    run at each point with the settings of the per-run table (FGSM l-inf, CW untargeted with
    c=1 and lr=0.01, DeepFool l2 with overshoot 0.02 over 10 classes, JSMA targeted)."""
    import foolbox
    import torchattacks

    fmodel = foolbox.PyTorchModel(model, bounds=(0, 1))
    batch = (model, images, labels)

    def foolbox_run(attack: Any, epsilon: float | None) -> Callable[[], Tensor]:
        return lambda: attack(fmodel, images, labels, epsilons=epsilon)[1]

    def theirs(attack: Any) -> Callable[[], Tensor]:
        return lambda: attack(images, labels)

    def jsma(point: dict[str, Any]) -> Callable[[], Tensor]:
        attack = torchattacks.JSMA(model, theta=point["theta"], gamma=point["gamma"])
        attack.set_mode_targeted_by_function(lambda _images, _labels: targets, quiet=True)
        return theirs(attack)

    def foolbox_cw(point: dict[str, Any]) -> Callable[[], Tensor]:
        attack = foolbox.attacks.L2CarliniWagnerAttack(
            binary_search_steps=point["search_steps"],
            steps=point["max_iterations"],
            stepsize=0.01,
            confidence=point["kappa"],
            initial_const=1.0,
            abort_early=True,
        )
        run = foolbox_run(attack, None)
        return lambda: unfound_as_clean(run(), images)

    fgsm = foolbox.attacks.LinfFastGradientAttack(random_start=False)
    rows = [
        compare_curves(
            "FGSM",
            our_curve("fgsm", *batch, None),
            {
                "torchattacks": per_point(
                    lambda p: theirs(torchattacks.FGSM(model, eps=p["eps"])), "fgsm"
                ),
                "foolbox": per_point(lambda p: foolbox_run(fgsm, p["eps"]), "fgsm"),
            },
            repeats,
            *batch,
            None,
        ),
        compare_curves(
            "DeepFool",
            our_curve("deepfool", *batch, None, overshoot=0.02, candidates=NUM_CLASSES),
            {
                "torchattacks": per_point(
                    lambda p: theirs(
                        torchattacks.DeepFool(model, steps=p["max_iter"], overshoot=0.02)
                    ),
                    "deepfool",
                ),
                "foolbox": per_point(
                    lambda p: foolbox_run(
                        foolbox.attacks.L2DeepFoolAttack(
                            steps=p["max_iter"], candidates=NUM_CLASSES, overshoot=0.02
                        ),
                        None,
                    ),
                    "deepfool",
                ),
            },
            repeats,
            *batch,
            None,
        ),
        compare_curves(
            "CW-l2",
            our_curve("cw", *batch, None, c=1.0, lr=0.01),
            {"foolbox": per_point(foolbox_cw, "cw")},
            repeats,
            *batch,
            None,
        ),
    ]
    if images[0].numel() <= JSMA_FEATURE_LIMIT:
        rows.append(
            compare_curves(
                "JSMA",
                our_curve("jsma", *batch, targets, seed=seed),
                {"torchattacks": per_point(jsma, "jsma")},
                repeats,
                *batch,
                targets,
                l0=True,
            )
        )
    return rows
