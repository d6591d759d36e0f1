"""The attack benchmark's suite: each specnb attack beside its torchattacks and Foolbox references.

Every attack runs with the same settings in every library (:data:`SETTINGS`): FGSM, BIM,
DeepFool and CW-l2 against torchattacks and Foolbox, JSMA against torchattacks (Foolbox has
none). Ours runs twice, in float32 and with the victim in bfloat16 autocast and channels-last
(``precision="bf16"``, :mod:`specnb.attacks.precision`; rows named ``"<attack> bf16"``),
interleaved with the references; success and sizes are always judged on the float32 victim.
CW is timed to equal quality: ours runs the fewest iterations of :data:`CW_ITERATIONS` that
reach every reference's success and median l2 (:func:`cw_iterations_to_quality`). Ours and
the references are adapted to one call signature, a
:data:`~specnb.bench.attack_comparison.Craft` (no arguments, returns the adversarial batch).
torchattacks' JSMA builds ``N x N`` pair saliency maps over the N features of an image, so it
is skipped above :data:`JSMA_FEATURE_LIMIT` features.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from specnb.attacks import BIM, CW, FGSM, JSMA, DeepFool
from specnb.attacks.precision import in_precision
from specnb.bench.attack_comparison import Craft, Outcome, Row, compare, equal_quality, score
from specnb.bench.attack_victim import NUM_CLASSES

JSMA_FEATURE_LIMIT = 3 * 64 * 64
CW_ITERATIONS = (10, 20, 30, 50, 70, 100)
"""Our CW's iteration counts tried, fewest first, for the first at the references' quality."""
EPS = 8 / 255
ALPHA = 2 / 255
STEPS = 10
SETTINGS = (
    f"FGSM: l-inf, eps 8/255. BIM: eps 8/255, alpha 2/255, {STEPS} steps (BIM-a: each "
    "sample stops once fooled; BIM-b and the references: every step). "
    "DeepFool: l2, overshoot 0.02, 50 steps, 10 classes. CW-l2: untargeted, c=1, "
    "kappa=0, lr=0.01, 1 search step, early abort (specnb: Carlini's rule per sample; "
    "torchattacks and Foolbox: a batch-level stop); the references run 100 iterations, "
    "specnb the fewest of 10, 20, 30, 50, 70, 100 that reach every reference's success and "
    "median l2 (time to equal quality). JSMA: targeted, theta=1, "
    "gamma=0.1 (specnb pair variant). Size: median over the successful samples (Foolbox's "
    "zero image for a sample CW never fooled counts as the clean image, a failure)."
)
"""The settings every library runs each attack with, as printed above the table."""


def unfound_as_clean(adversarial: Tensor, images: Tensor) -> Tensor:
    """Foolbox's minimisation output with each never-fooled sample back to its clean image.

    Foolbox's Carlini-Wagner returns an all-zero image for a sample it never fooled. That
    image is no perturbation the attack found, yet the victim may misclassify it, which
    would count as a success with a huge l2 distance. specnb and torchattacks return the
    clean image for such a sample; this makes Foolbox's output comparable.

    Parameters
    ----------
    adversarial : torch.Tensor, shape (B, ...)
        Foolbox's adversarial batch.
    images : torch.Tensor, same shape
        The clean batch.

    Returns
    -------
    torch.Tensor
        ``adversarial`` with its all-zero rows replaced by the rows of ``images``.

    Examples
    --------
    >>> clean = torch.full((2, 3), 0.5)
    >>> unfound_as_clean(torch.tensor([[0.0, 0.0, 0.0], [0.25, 0.0, 0.75]]), clean).tolist()
    [[0.5, 0.5, 0.5], [0.25, 0.0, 0.75]]
    """
    unfound = adversarial.flatten(1).abs().amax(dim=1) == 0
    return torch.where(unfound.view(-1, *[1] * (images.dim() - 1)), images, adversarial)


def reference_quality(
    model: nn.Module, images: Tensor, labels: Tensor, references: dict[str, Craft]
) -> dict[str, Outcome]:
    """Each reference's success and median l2 (one untimed run each; seconds left at 0)."""
    return {
        name: Outcome(0.0, *score(model, images, labels, None, craft()))
        for name, craft in references.items()
    }


def cw_iterations_to_quality(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    quality: dict[str, Outcome],
    precision: str = "fp32",
) -> int:
    """The fewest of :data:`CW_ITERATIONS` at which our CW-l2 (settings of :data:`SETTINGS`,
    the victim in ``precision``) is at equal quality with every reference's ``quality``
    (:func:`reference_quality`): success no lower, median l2 within
    :data:`~specnb.bench.attack_comparison.QUALITY_TOLERANCE` (the most when none is). Each
    count runs once, untimed; quality is judged on the float32 ``model``."""
    victim = in_precision(model, precision)
    for iterations in CW_ITERATIONS:
        adv = CW(victim, c=1.0, search_steps=1, max_iterations=iterations, lr=0.01)(images, labels)
        ours = Outcome(0.0, *score(model, images, labels, None, adv))
        if all(equal_quality(ours, reference) for reference in quality.values()):
            return iterations
    return CW_ITERATIONS[-1]


def compare_with_references(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    targets: Tensor,
    repeats: int,
    seed: int,
) -> list[Row]:
    """Time each specnb attack, in float32 and in bf16, against its references on one batch.

    Parameters
    ----------
    model : torch.nn.Module
        The victim, in eval mode, on the batch's device.
    images : torch.Tensor, shape (B, 3, H, W)
        The bench batch, values in [0, 1].
    labels : torch.Tensor, shape (B,)
        Their true labels.
    targets : torch.Tensor, shape (B,)
        Target labels of the targeted attack (JSMA).
    repeats : int
        Timed runs per library and attack (see :func:`~specnb.bench.attack_comparison.measure`).
    seed : int
        Seed of our JSMA.

    Returns
    -------
    list of Row
        FGSM, BIM-b, BIM-a, DeepFool, CW-l2 and, when the images are small enough, JSMA, each
        in float32 and then ``bf16``; CW's rows name their iterations.
    """
    import foolbox
    import torchattacks

    fmodel = foolbox.PyTorchModel(model, bounds=(0, 1))
    fast = in_precision(model, "bf16")
    victims = {"": model, " bf16": fast}

    def foolbox_craft(attack: object, epsilon: float | None) -> Craft:
        return lambda: attack(fmodel, images, labels, epsilons=epsilon)[1]  # type: ignore

    def foolbox_minimal(attack: object) -> Craft:
        return lambda: unfound_as_clean(foolbox_craft(attack, None)(), images)

    def ours(attack: object, *extra: Tensor) -> Craft:
        return lambda: attack(images, labels, *extra)  # type: ignore

    def theirs(attack: object) -> Craft:
        return lambda: attack(images, labels)  # type: ignore

    batch = (model, images, labels)
    rows = compare(
        {f"FGSM{s}": ours(FGSM(m, eps=EPS)) for s, m in victims.items()},
        {
            "torchattacks": theirs(torchattacks.FGSM(model, eps=EPS)),
            "foolbox": foolbox_craft(
                foolbox.attacks.LinfFastGradientAttack(random_start=False), EPS
            ),
        },
        repeats,
        *batch,
        None,
    )
    rows += compare(
        {
            f"BIM-{v}{s}": ours(BIM(m, eps=EPS, alpha=ALPHA, steps=STEPS, variant=v))
            for v in "ba"
            for s, m in victims.items()
        },
        {
            "torchattacks": theirs(torchattacks.BIM(model, eps=EPS, alpha=ALPHA, steps=STEPS)),
            "foolbox": foolbox_craft(
                foolbox.attacks.LinfBasicIterativeAttack(
                    abs_stepsize=ALPHA, steps=STEPS, random_start=False
                ),
                EPS,
            ),
        },
        repeats,
        *batch,
        None,
    )
    rows += compare(
        {
            f"DeepFool{s}": ours(
                DeepFool(m, norm="l2", overshoot=0.02, max_iter=50, candidates=NUM_CLASSES)
            )
            for s, m in victims.items()
        },
        {
            "torchattacks": theirs(torchattacks.DeepFool(model, steps=50, overshoot=0.02)),
            "foolbox": foolbox_craft(
                foolbox.attacks.L2DeepFoolAttack(steps=50, candidates=NUM_CLASSES, overshoot=0.02),
                None,
            ),
        },
        repeats,
        *batch,
        None,
    )
    cw_references = {
        "torchattacks": theirs(torchattacks.CW(model, c=1.0, kappa=0.0, steps=100, lr=0.01)),
        "foolbox": foolbox_minimal(
            foolbox.attacks.L2CarliniWagnerAttack(
                binary_search_steps=1,
                steps=100,
                stepsize=0.01,
                confidence=0.0,
                initial_const=1.0,
                abort_early=True,
            )
        ),
    }
    cw_crafts = {}
    quality = reference_quality(model, images, labels, cw_references)
    for suffix, precision in (("", "fp32"), (" bf16", "bf16")):
        iterations = cw_iterations_to_quality(model, images, labels, quality, precision)
        cw = CW(victims[suffix], c=1.0, search_steps=1, max_iterations=iterations, lr=0.01)
        cw_crafts[f"CW-l2{suffix} {iterations} it"] = ours(cw)
    rows += compare(cw_crafts, cw_references, repeats, *batch, None)
    n_features = images[0].numel()
    if n_features <= JSMA_FEATURE_LIMIT:
        jsma = torchattacks.JSMA(model, theta=1.0, gamma=0.1)
        jsma.set_mode_targeted_by_function(lambda _images, _labels: targets, quiet=True)
        rows += compare(
            {
                f"JSMA{s}": ours(JSMA(m, theta=1.0, gamma=0.1, variant="pair", seed=seed), targets)
                for s, m in victims.items()
            },
            {"torchattacks": theirs(jsma)},
            repeats,
            *batch,
            targets,
            l0=True,
        )
    else:
        print(
            f"JSMA skipped: torchattacks' pair map over {n_features} features needs "
            f"{n_features**2 * 4 / 1e9:.0f} GB"
        )
    return rows
