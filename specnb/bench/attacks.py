"""``specnb bench attacks``: specnb's attacks against torchattacks and Foolbox at equal work.

The victim is specnb's ResNet-18 (``build_model("resnet18", 10)``, torchvision's ResNet-18
when specnb's model zoo cannot be imported), trained for ``--train-steps`` Adam steps on
synthetic 10-class images (a smooth random colour pattern per class plus pixel noise) so
that success rates mean something. The bench batch holds held-out images the model
classifies correctly. Images are ``--size`` pixels square, 16 by default, which keeps a CPU
run to a few minutes: torchattacks' JSMA works image by image with one backward pass per class
and builds ``N x N`` pair saliency maps over the N = 3 * size**2 features (about 10 GB each
at 128x128, so it is skipped above ``JSMA_FEATURE_LIMIT`` features). Use ``--size 128`` on a
GPU for the paper's image size.

Each attack runs with the same settings in every library (printed): FGSM, BIM, DeepFool and
CW-l2 against torchattacks 3.5.1 and Foolbox 3.3.4, JSMA against torchattacks (Foolbox has
none). Each timing is the median of ``--repeats`` runs (at least 3, after an untimed one) that
interleave ours with the references'. A speed ratio counts only at equal work: our success rate
no lower than the reference's and our median perturbation (l2; l0 for JSMA) of the successful
samples no more than ``QUALITY_TOLERANCE`` above it; a faster run that finds larger
perturbations is no speedup. Each attack is reported against the faster of the references at
equal quality (the faster of all when none is). CW runs with each library's early abort
(specnb: Carlini's rule per sample; torchattacks: the batch returns once its summed loss rises
at a check; Foolbox: Carlini's rule on the summed loss). The header prints the thread count and
load average (on an oversubscribed CPU, ``--threads 1`` avoids the thread-synchronisation
stalls that slow small per-image operations most). The table has one row per attack; the last
line is the geometric mean of the speed ratios at equal quality.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from specnb.attacks import BIM, CW, FGSM, JSMA, DeepFool, random_targets
from specnb.metrics import fooled

NUM_CLASSES = 10
JSMA_FEATURE_LIMIT = 3 * 64 * 64
PATTERN_SEED = 1234
QUALITY_TOLERANCE = 0.02
"""Largest relative excess of our median perturbation over the reference's at equal work."""
MIN_REPEATS = 3

Craft = Callable[[], Tensor]


@dataclass(frozen=True)
class Outcome:
    """One library's run of an attack: median seconds, success rate, median perturbation."""

    seconds: float
    success: float
    size: float


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


def geomean_speedup(rows: Sequence[Row]) -> float:
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
    hit = fooled(predicted, labels, targets)
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
    """Run every craft ``repeats`` times, interleaved, and score the last adversarial batch.

    An untimed first run of each craft takes one-time costs (caches, lazy set-up) out of the
    timings. Each round then runs every craft once; the order rotates from round to round, so
    that no craft always runs first (or right after the same other). Returns, per name, the
    median wall time with the success rate and median perturbation.
    """
    seconds: dict[str, list[float]] = {name: [] for name in crafts}
    last: dict[str, Tensor] = {name: craft() for name, craft in crafts.items()}
    names = list(crafts)
    for round_ in range(repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            craft = crafts[name]
            _synchronise(images.device)
            start = time.perf_counter()
            last[name] = craft()
            _synchronise(images.device)
            seconds[name].append(time.perf_counter() - start)
            print(f"  {name}: {seconds[name][-1]:.3f} s", file=sys.stderr, flush=True)
    outcomes = {}
    for name in crafts:
        success, size = score(model, images, labels, targets, last[name], l0=l0)
        outcomes[name] = Outcome(statistics.median(seconds[name]), success, size)
    return outcomes


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
    """The benchmark table, one line per attack, and the closing geometric-mean line."""
    header = (
        f"{'attack':<9} {'ours s':>8} {'reference':>22} {'ratio':>7} "
        f"{'success ours/ref':>17} {'median size ours/ref':>24} {'equal':>6}"
    )
    lines = [header]
    for row in rows:
        metric = "l0" if row.attack == "JSMA" else "l2"
        reference = f"{row.reference_name} {row.reference.seconds:.3f}s"
        lines.append(
            f"{row.attack:<9} {row.ours.seconds:8.3f} {reference:>22} {row.ratio:6.2f}x "
            f"{row.ours.success:8.1%}/{row.reference.success:<8.1%} "
            f"{metric} {row.ours.size:9.3f}/{row.reference.size:<9.3f} "
            f"{'yes' if row.equal_quality else 'NO':>6}"
        )
    lines.append(f"geomean speedup: {geomean_speedup(rows):.2f}")
    return lines


def pattern_images(
    count: int, size: int, seed: int, *, classes: int = NUM_CLASSES
) -> tuple[Tensor, Tensor]:
    """Synthetic labelled images: a fixed smooth colour pattern per class plus pixel noise.

    Parameters
    ----------
    count : int
        Number of images.
    size : int
        Height and width in pixels.
    seed : int
        Seed of the labels and the noise (the class patterns are fixed).
    classes : int
        Number of classes.

    Returns
    -------
    images : torch.Tensor, shape (count, 3, size, size)
        Values in [0, 1].
    labels : torch.Tensor, shape (count,)

    Examples
    --------
    >>> x, y = pattern_images(4, 16, seed=0)
    >>> x.shape, bool(((x >= 0) & (x <= 1)).all())
    (torch.Size([4, 3, 16, 16]), True)
    """
    patterns = torch.rand(classes, 3, 4, 4, generator=torch.Generator().manual_seed(PATTERN_SEED))
    patterns = F.interpolate(patterns * 2 - 1, size=(size, size), mode="bilinear")
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, classes, (count,), generator=generator)
    noise = torch.randn(count, 3, size, size, generator=generator)
    return (0.5 + 0.3 * patterns[labels] + 0.15 * noise).clamp(0, 1), labels


def train_on_patterns(
    model: nn.Module, steps: int, size: int, seed: int, *, lr: float = 1e-3
) -> nn.Module:
    """Train ``model`` for ``steps`` Adam steps of 64 :func:`pattern_images`; return it in eval.

    Parameters
    ----------
    model : torch.nn.Module
        Classifier of (B, 3, size, size) images into :data:`NUM_CLASSES` classes.
    steps : int
        Adam steps.
    size : int
        Image side in pixels.
    seed : int
        Seed of the training images.
    lr : float
        Adam learning rate.

    Returns
    -------
    torch.nn.Module
        ``model``, trained in place, in eval mode.
    """
    device = next(model.parameters()).device
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    images, labels = pattern_images(64 * steps, size, seed)
    for step in range(steps):
        batch = slice(64 * step, 64 * (step + 1))
        loss = F.cross_entropy(model(images[batch].to(device)), labels[batch].to(device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def victim_model(size: int, train_steps: int, device: torch.device, seed: int) -> nn.Module:
    """ResNet-18 for ``size``-pixel images, briefly trained on :func:`pattern_images`."""
    try:
        from specnb.models import build_model

        model: nn.Module = build_model("resnet18", NUM_CLASSES, seed=seed)
    except ImportError:
        from torchvision.models import resnet18

        torch.manual_seed(seed)
        model = resnet18(num_classes=NUM_CLASSES)
    return train_on_patterns(model.to(device), train_steps, size, seed)


def bench_batch(
    model: nn.Module, batch: int, size: int, device: torch.device, seed: int
) -> tuple[Tensor, Tensor, float]:
    """Held-out images the model classifies correctly (all of them if too few), and accuracy."""
    images, labels = pattern_images(8 * batch, size, seed + 1)
    images, labels = images.to(device), labels.to(device)
    with torch.no_grad():
        correct = model(images).argmax(dim=1) == labels
    accuracy = float(correct.float().mean())
    chosen = correct.nonzero().flatten()[:batch]
    if chosen.numel() < batch:
        chosen = torch.arange(batch, device=device)
    return images[chosen], labels[chosen], accuracy


def _synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the attack benchmark and print its table; see the module docstring.

    Parameters
    ----------
    argv : sequence of str, optional
        Command-line arguments (``--batch``, ``--device``, ``--size``, ``--train-steps``,
        ``--seed``, ``--threads``, ``--repeats``); ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        Exit status, 0 on success.
    """
    import foolbox
    import torchattacks

    summary = (__doc__ or "").split("\n")[0]
    parser = argparse.ArgumentParser(prog="specnb bench attacks", description=summary)
    parser.add_argument("--batch", type=int, default=16, help="images per batch (default 16)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--size", type=int, default=16, help="image side in pixels (default 16)")
    parser.add_argument("--train-steps", type=int, default=40, help="Adam steps of the victim")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--threads", type=int, default=0, help="CPU threads for torch (default: torch's choice)"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=MIN_REPEATS,
        help=f"timed runs per library and attack, >= {MIN_REPEATS}",
    )
    args = parser.parse_args(argv)
    if args.batch < 1 or args.size < 8 or args.train_steps < 0 or args.threads < 0:
        parser.error("--batch must be >= 1, --size >= 8, --train-steps and --threads >= 0")
    if args.repeats < MIN_REPEATS:
        parser.error(f"--repeats must be >= {MIN_REPEATS}, got {args.repeats}")
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)

    model = victim_model(args.size, args.train_steps, device, args.seed)
    images, labels, accuracy = bench_batch(model, args.batch, args.size, device, args.seed)
    targets = random_targets(labels, NUM_CLASSES, args.seed)
    fmodel = foolbox.PyTorchModel(model, bounds=(0, 1))
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"victim: ResNet-18, {args.train_steps} training steps, held-out accuracy {accuracy:.1%}; "
        f"batch {images.shape[0]} x {tuple(images.shape[1:])} on {device}; "
        f"{torch.get_num_threads()} threads, load average {load}; "
        f"median of {args.repeats} interleaved runs after an untimed one; references "
        f"torchattacks {torchattacks.__version__}, Foolbox {foolbox.__version__}"
    )
    eps, alpha, steps = 8 / 255, 2 / 255, 10
    print(
        f"FGSM: l-inf, eps 8/255. BIM: eps 8/255, alpha 2/255, {steps} steps (BIM-a: each "
        "sample stops once fooled; BIM-b and the references: every step). "
        "DeepFool: l2, overshoot 0.02, 50 steps, 10 classes. CW-l2: untargeted, c=1, "
        "kappa=0, lr=0.01, 100 iterations, 1 search step, early abort (specnb: Carlini's rule "
        "per sample; torchattacks and Foolbox: a batch-level stop). JSMA: targeted, theta=1, "
        "gamma=0.1 (specnb pair variant). Size: median over the successful samples."
    )

    def foolbox_craft(attack: object, epsilon: float | None) -> Craft:
        return lambda: attack(fmodel, images, labels, epsilons=epsilon)[1]  # type: ignore

    def ours(attack: object, *extra: Tensor) -> Craft:
        return lambda: attack(images, labels, *extra)  # type: ignore

    def theirs(attack: object) -> Craft:
        return lambda: attack(images, labels)  # type: ignore

    batch = (model, images, labels)
    rows = compare(
        {"FGSM": ours(FGSM(model, eps=eps))},
        {
            "torchattacks": theirs(torchattacks.FGSM(model, eps=eps)),
            "foolbox": foolbox_craft(
                foolbox.attacks.LinfFastGradientAttack(random_start=False), eps
            ),
        },
        args.repeats,
        *batch,
        None,
    )
    rows += compare(
        {
            "BIM-b": ours(BIM(model, eps=eps, alpha=alpha, steps=steps, variant="b")),
            "BIM-a": ours(BIM(model, eps=eps, alpha=alpha, steps=steps, variant="a")),
        },
        {
            "torchattacks": theirs(torchattacks.BIM(model, eps=eps, alpha=alpha, steps=steps)),
            "foolbox": foolbox_craft(
                foolbox.attacks.LinfBasicIterativeAttack(
                    abs_stepsize=alpha, steps=steps, random_start=False
                ),
                eps,
            ),
        },
        args.repeats,
        *batch,
        None,
    )
    rows += compare(
        {
            "DeepFool": ours(
                DeepFool(model, norm="l2", overshoot=0.02, max_iter=50, candidates=NUM_CLASSES)
            ),
        },
        {
            "torchattacks": theirs(torchattacks.DeepFool(model, steps=50, overshoot=0.02)),
            "foolbox": foolbox_craft(
                foolbox.attacks.L2DeepFoolAttack(steps=50, candidates=NUM_CLASSES, overshoot=0.02),
                None,
            ),
        },
        args.repeats,
        *batch,
        None,
    )
    rows += compare(
        {
            "CW-l2": ours(CW(model, c=1.0, search_steps=1, max_iterations=100, lr=0.01)),
        },
        {
            "torchattacks": theirs(torchattacks.CW(model, c=1.0, kappa=0.0, steps=100, lr=0.01)),
            "foolbox": foolbox_craft(
                foolbox.attacks.L2CarliniWagnerAttack(
                    binary_search_steps=1,
                    steps=100,
                    stepsize=0.01,
                    confidence=0.0,
                    initial_const=1.0,
                    abort_early=True,
                ),
                None,
            ),
        },
        args.repeats,
        *batch,
        None,
    )
    n_features = images[0].numel()
    if n_features <= JSMA_FEATURE_LIMIT:
        jsma = torchattacks.JSMA(model, theta=1.0, gamma=0.1)
        jsma.set_mode_targeted_by_function(lambda _images, _labels: targets, quiet=True)
        rows += compare(
            {
                "JSMA": ours(
                    JSMA(model, theta=1.0, gamma=0.1, variant="pair", seed=args.seed), targets
                ),
            },
            {"torchattacks": theirs(jsma)},
            args.repeats,
            *batch,
            targets,
            l0=True,
        )
    else:
        print(
            f"JSMA skipped: torchattacks' pair map over {n_features} features needs "
            f"{n_features**2 * 4 / 1e9:.0f} GB"
        )
    print("\n".join(table(rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
