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
at a check; Foolbox: Carlini's rule on the summed loss); in the per-run table ours is timed to
the references' quality: the fewest iterations at which it reaches every reference's success
and median l2. Each of our attacks also runs with the victim in bfloat16 autocast and
channels-last (rows ``"<attack> bf16"``, :mod:`specnb.attacks.precision`), and each attack
counts at its faster row of equal quality. The header prints the thread count and
load average (on an oversubscribed CPU, ``--threads 1`` avoids the thread-synchronisation
stalls that slow small per-image operations most). A first table times the whole quick-grid
budget curve of FGSM, DeepFool, CW-l2 and JSMA: ours from one run per nested group of budgets,
as :mod:`specnb.attack_eval` runs it, the references once per budget point, at equal quality
at every point (:mod:`specnb.bench.attack_curves`); it ends with its own line
``geomean speedup, whole curves: Y``. The per-run table follows, two rows per attack
(float32, bf16); then the row each attack counts at, and the geometric mean of their speed
ratios at equal quality.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

import torch

from specnb.attacks import random_targets
from specnb.bench.attack_comparison import table
from specnb.bench.attack_curves import compare_curves_with_references, curve_table
from specnb.bench.attack_references import SETTINGS, compare_with_references
from specnb.bench.attack_victim import NUM_CLASSES, bench_batch, victim_model

MIN_REPEATS = 3


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
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"victim: ResNet-18, {args.train_steps} training steps, held-out accuracy {accuracy:.1%}; "
        f"batch {images.shape[0]} x {tuple(images.shape[1:])} on {device}; "
        f"{torch.get_num_threads()} threads, load average {load}; "
        f"median of {args.repeats} interleaved runs after an untimed one; references "
        f"torchattacks {torchattacks.__version__}, Foolbox {foolbox.__version__}"
    )
    print(SETTINGS)
    curves = compare_curves_with_references(model, images, labels, targets, args.repeats, args.seed)
    rows = compare_with_references(model, images, labels, targets, args.repeats, args.seed)
    print("\n".join(curve_table(curves)))
    print("\n".join(table(rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
