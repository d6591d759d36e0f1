"""The attack benchmark's comparison at equal work: timing, scoring, the chosen reference, table.

Each library's run of an attack is an :class:`Outcome` (median seconds of interleaved runs,
success rate, median perturbation of the successful samples). A speed ratio counts only at equal
work (:func:`equal_quality`): our success rate no lower than the reference's and our median
perturbation no more than :data:`QUALITY_TOLERANCE` above it. Each attack is compared with the
faster of the references at equal quality (:func:`choose_reference`); the table closes with the
geometric mean over the attacks of the speed ratios at equal quality, each attack at its fastest
row (its float32 or bfloat16 run, :func:`fastest_per_attack`). Used by ``specnb bench attacks``
(:mod:`specnb.bench.attacks`).
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import torch
from torch import Tensor, nn

from specnb.metrics import reaches_goal

QUALITY_TOLERANCE = 0.02
"""Largest relative excess of our median perturbation over the reference's at equal work."""

Craft = Callable[[], Tensor]
Result = TypeVar("Result")


@dataclass(frozen=True)
class Outcome:
    """One library's run of an attack: median seconds, success rate, median perturbation."""

    seconds: float
    success: float
    size: float


class Rated(Protocol):
    """A row with a speed ratio that counts only at equal quality (:class:`Row`, a curve's)."""

    @property
    def ratio(self) -> float: ...

    @property
    def equal_quality(self) -> bool: ...


@dataclass(frozen=True)
class Row:
    """One attack: our outcome against the reference it is compared with."""

    attack: str
    ours: Outcome
    reference_name: str
    reference: Outcome

    @property
    def ratio(self) -> float:
        """Speed ratio: reference seconds over ours."""
        return self.reference.seconds / self.ours.seconds

    @property
    def equal_quality(self) -> bool:
        """Our success no lower and our median perturbation within the tolerance above."""
        return equal_quality(self.ours, self.reference)


def equal_quality(ours: Outcome, reference: Outcome) -> bool:
    """Whether ``ours`` did at least the reference's work (see :data:`QUALITY_TOLERANCE`).

    Examples
    --------
    >>> equal_quality(Outcome(1.0, 1.0, 0.50), Outcome(2.0, 1.0, 0.495))
    True
    >>> equal_quality(Outcome(1.0, 1.0, 0.60), Outcome(2.0, 1.0, 0.50))
    False
    """
    if ours.success < reference.success:
        return False
    if math.isnan(reference.size):
        return True
    return ours.size <= reference.size * (1 + QUALITY_TOLERANCE)


def choose_reference(ours: Outcome, references: dict[str, Outcome]) -> str:
    """The fastest reference among those at equal quality with ``ours`` (of all, when none is).

    Examples
    --------
    >>> ours = Outcome(1.0, 1.0, 0.5)
    >>> choose_reference(ours, {"a": Outcome(3.0, 1.0, 0.5), "b": Outcome(2.0, 1.0, 0.4)})
    'a'
    """
    fair = {name: run for name, run in references.items() if equal_quality(ours, run)}
    pool = fair or references
    return min(pool, key=lambda name: pool[name].seconds)


def geomean_speedup(rows: Sequence[Rated]) -> float:
    """Geometric mean of the speed ratios of the rows at equal quality (NaN if none is).

    Examples
    --------
    >>> same = Outcome(1.0, 1.0, 0.5)
    >>> geomean_speedup([Row("a", same, "r", Outcome(4.0, 1.0, 0.5)),
    ...                  Row("b", same, "r", Outcome(9.0, 1.0, 0.5))])
    6.0
    """
    ratios = [row.ratio for row in rows if row.equal_quality]
    if not ratios:
        return math.nan
    return math.exp(sum(math.log(r) for r in ratios) / len(ratios))


def fastest_per_attack(rows: Sequence[Row]) -> list[Row]:
    """Per attack, its fastest row at equal quality (its first row when none is).

    An attack's rows share the first word of their names (``"FGSM"`` and ``"FGSM bf16"``:
    the same attack with the victim in float32 and in bfloat16), so that the faster precision
    counts where its outcome is equal.

    Examples
    --------
    >>> same = Outcome(1.0, 1.0, 0.5)
    >>> rows = [Row("FGSM", same, "r", Outcome(2.0, 1.0, 0.5)),
    ...         Row("FGSM bf16", Outcome(0.5, 1.0, 0.5), "r", Outcome(2.0, 1.0, 0.5))]
    >>> [row.attack for row in fastest_per_attack(rows)]
    ['FGSM bf16']
    """
    groups: dict[str, list[Row]] = {}
    for row in rows:
        groups.setdefault(row.attack.split()[0], []).append(row)
    best = []
    for group in groups.values():
        fair = [row for row in group if row.equal_quality]
        best.append(max(fair, key=lambda row: row.ratio) if fair else group[0])
    return best


def score(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    targets: Tensor | None,
    adv: Tensor,
    *,
    l0: bool = False,
) -> tuple[float, float]:
    """Success rate (target reached, or label left) and the median l2 (or l0: features changed
    by more than 1e-6) of the successful perturbations (NaN when none succeeded)."""
    with torch.no_grad():
        predicted = model(adv).argmax(dim=1)
    hit = reaches_goal(predicted, labels, targets)
    delta = (adv - images).flatten(1)
    sizes = (delta.abs() > 1e-6).sum(dim=1).float() if l0 else delta.norm(dim=1)
    sizes = sizes[hit]
    return float(hit.float().mean()), float(sizes.median()) if sizes.numel() else math.nan


def measure(
    crafts: dict[str, Craft],
    repeats: int,
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    targets: Tensor | None,
    *,
    l0: bool = False,
) -> dict[str, Outcome]:
    """Time every craft (:func:`time_crafts`) and score its last adversarial batch: per name,
    the median wall time with the success rate and median perturbation."""
    seconds, last = time_crafts(crafts, repeats, images.device)
    outcomes = {}
    for name in crafts:
        success, size = score(model, images, labels, targets, last[name], l0=l0)
        outcomes[name] = Outcome(statistics.median(seconds[name]), success, size)
    return outcomes


def time_crafts(
    crafts: dict[str, Callable[[], Result]], repeats: int, device: torch.device
) -> tuple[dict[str, list[float]], dict[str, Result]]:
    """Wall times of ``repeats`` interleaved rounds of every craft, and each craft's last result.

    An untimed first run of each craft takes one-time costs (caches, lazy set-up) out of the
    timings. Each round then runs every craft once; the order rotates from round to round, so
    that no craft always runs first (or right after the same other).
    """
    seconds: dict[str, list[float]] = {name: [] for name in crafts}
    last = {name: craft() for name, craft in crafts.items()}
    names = list(crafts)
    for round_ in range(repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            craft = crafts[name]
            _synchronise(device)
            start = time.perf_counter()
            last[name] = craft()
            _synchronise(device)
            seconds[name].append(time.perf_counter() - start)
            print(f"  {name}: {seconds[name][-1]:.3f} s", file=sys.stderr, flush=True)
    return seconds, last


def compare(
    ours: dict[str, Craft],
    references: dict[str, Craft],
    repeats: int,
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    targets: Tensor | None,
    *,
    l0: bool = False,
) -> list[Row]:
    """Time our crafts (by row name) and the references' interleaved; one row per ours, each
    against its chosen reference (see :func:`choose_reference`)."""
    outcomes = measure({**ours, **references}, repeats, model, images, labels, targets, l0=l0)
    theirs = {name: outcomes[name] for name in references}
    rows = []
    for name in ours:
        chosen = choose_reference(outcomes[name], theirs)
        rows.append(Row(name, outcomes[name], chosen, theirs[chosen]))
    return rows


def table(rows: Sequence[Row]) -> list[str]:
    """The benchmark table, one line per row, and the closing geometric-mean line: over the
    attacks, each at its fastest row of equal quality (:func:`fastest_per_attack`)."""
    header = (
        f"{'attack':<17} {'ours s':>8} {'reference':>22} {'ratio':>7} "
        f"{'success ours/ref':>17} {'median size ours/ref':>24} {'equal':>6}"
    )
    lines = [header]
    for row in rows:
        metric = "l0" if row.attack.startswith("JSMA") else "l2"
        reference = f"{row.reference_name} {row.reference.seconds:.3f}s"
        lines.append(
            f"{row.attack:<17} {row.ours.seconds:8.3f} {reference:>22} {row.ratio:6.2f}x "
            f"{row.ours.success:8.1%}/{row.reference.success:<8.1%} "
            f"{metric} {row.ours.size:9.3f}/{row.reference.size:<9.3f} "
            f"{'yes' if row.equal_quality else 'NO':>6}"
        )
    best = fastest_per_attack(rows)
    chosen = ", ".join(f"{row.attack} {row.ratio:.2f}x" for row in best)
    lines.append(f"per attack, fastest at equal quality: {chosen}")
    lines.append(f"geomean speedup: {geomean_speedup(best):.2f}")
    return lines


def _synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
