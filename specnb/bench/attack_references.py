"""The attack benchmark's suite: each specnb attack beside its torchattacks and Foolbox references.

Every attack runs with the same settings in every library (:data:`SETTINGS`): FGSM, BIM,
DeepFool and CW-l2 against torchattacks and Foolbox, JSMA against torchattacks (Foolbox has
none). Ours and the references are adapted to one call signature, a
:data:`~specnb.bench.attack_comparison.Craft` (no arguments, returns the adversarial batch).
torchattacks' JSMA builds ``N x N`` pair saliency maps over the N features of an image, so it
is skipped above :data:`JSMA_FEATURE_LIMIT` features.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from specnb.attacks import BIM, CW, FGSM, JSMA, DeepFool
from specnb.bench.attack_comparison import Craft, Row, compare
from specnb.bench.attack_victim import NUM_CLASSES

JSMA_FEATURE_LIMIT = 3 * 64 * 64
EPS = 8 / 255
ALPHA = 2 / 255
STEPS = 10
SETTINGS = (
    f"FGSM: l-inf, eps 8/255. BIM: eps 8/255, alpha 2/255, {STEPS} steps (BIM-a: each "
    "sample stops once fooled; BIM-b and the references: every step). "
    "DeepFool: l2, overshoot 0.02, 50 steps, 10 classes. CW-l2: untargeted, c=1, "
    "kappa=0, lr=0.01, 100 iterations, 1 search step, early abort (specnb: Carlini's rule "
    "per sample; torchattacks and Foolbox: a batch-level stop). JSMA: targeted, theta=1, "
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


def compare_with_references(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    targets: Tensor,
    repeats: int,
    seed: int,
) -> list[Row]:
    """Time each specnb attack against its references on one batch; one row per our attack.

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
        FGSM, BIM-b, BIM-a, DeepFool, CW-l2 and, when the images are small enough, JSMA.
    """
    import foolbox
    import torchattacks

    fmodel = foolbox.PyTorchModel(model, bounds=(0, 1))

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
        {"FGSM": ours(FGSM(model, eps=EPS))},
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
            "BIM-b": ours(BIM(model, eps=EPS, alpha=ALPHA, steps=STEPS, variant="b")),
            "BIM-a": ours(BIM(model, eps=EPS, alpha=ALPHA, steps=STEPS, variant="a")),
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
        repeats,
        *batch,
        None,
    )
    rows += compare(
        {
            "CW-l2": ours(CW(model, c=1.0, search_steps=1, max_iterations=100, lr=0.01)),
        },
        {
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
        },
        repeats,
        *batch,
        None,
    )
    n_features = images[0].numel()
    if n_features <= JSMA_FEATURE_LIMIT:
        jsma = torchattacks.JSMA(model, theta=1.0, gamma=0.1)
        jsma.set_mode_targeted_by_function(lambda _images, _labels: targets, quiet=True)
        rows += compare(
            {
                "JSMA": ours(JSMA(model, theta=1.0, gamma=0.1, variant="pair", seed=seed), targets),
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
