"""``specnb bench attacks``: specnb's attacks against torchattacks on one model and one batch.

The victim is specnb's ResNet-18 (``build_model("resnet18", 10)``, torchvision's ResNet-18
when specnb's model zoo cannot be imported), trained for ``--train-steps`` Adam steps on
synthetic 10-class images (a smooth random colour pattern per class plus pixel noise) so
that success rates mean something. The bench batch holds held-out images the model
classifies correctly. Images are ``--size`` pixels square, 16 by default, which keeps a CPU
run near a minute: torchattacks' JSMA works image by image with one backward pass per class
and builds ``N x N`` pair saliency maps over the N = 3 * size**2 features (about 10 GB each
at 128x128, so it is skipped above ``JSMA_FEATURE_LIMIT`` features). Use ``--size 128`` on a
GPU for the paper's image size.

Each attack runs with the same settings in both libraries (printed), through
:func:`~specnb.attacks.counting.count_gradients` so both are counted by the same hook. CW
keeps each library's early stop (specnb: per sample; torchattacks: the whole batch returns
once the summed loss rises at a check, which cannot be switched off); a second, specnb-only
CW line shows the binary search. Per attack the bench prints seconds per batch, gradient
computations per second, success rate, the median l2 size of the successful perturbations
and the speed ratio (torchattacks seconds / specnb seconds); BIM-b also runs against a bare
gradient loop of the same steps (best of five, interleaved), with specnb's overhead in
percent. Wall times on a shared machine vary; the header prints the thread count and load
average (on an oversubscribed CPU, ``--threads 1`` avoids the thread-synchronisation stalls
that slow small per-image operations most). The last line is the geometric mean of the
speed ratios over JSMA, DeepFool, CW and BIM.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from specnb.attacks import BIM, CW, JSMA, Attack, DeepFool, count_gradients, random_targets
from specnb.metrics import fooled

NUM_CLASSES = 10
JSMA_FEATURE_LIMIT = 3 * 64 * 64
PATTERN_SEED = 1234
OVERHEAD_REPEATS = 5


@dataclass(frozen=True)
class Timing:
    """One attack run: wall time, gradient computations and success rate."""

    seconds: float
    grads: int
    success: float
    median_l2: float

    @property
    def grads_per_second(self) -> float:
        """Gradient computations per second."""
        return self.grads / self.seconds if self.seconds > 0 else math.inf


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


def victim_model(size: int, train_steps: int, device: torch.device, seed: int) -> nn.Module:
    """ResNet-18 for ``size``-pixel images, briefly trained on :func:`pattern_images`."""
    try:
        from specnb.models import build_model

        model: nn.Module = build_model("resnet18", NUM_CLASSES, seed=seed)
    except ImportError:
        from torchvision.models import resnet18

        torch.manual_seed(seed)
        model = resnet18(num_classes=NUM_CLASSES)
    model = model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    images, labels = pattern_images(64 * train_steps, size, seed)
    for step in range(train_steps):
        batch = slice(64 * step, 64 * (step + 1))
        loss = F.cross_entropy(model(images[batch].to(device)), labels[batch].to(device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


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


def run_timed(call: Callable[[], Tensor], model: nn.Module, images: Tensor, labels: Tensor,
              targets: Tensor | None, grads: Callable[[], int]) -> Timing:
    """Time one attack call; score its success (target reached, or label left) and the
    median l2 size of its successful perturbations."""
    _synchronise(labels.device)
    start = time.perf_counter()
    adv = call()
    _synchronise(labels.device)
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        predicted = model(adv).argmax(dim=1)
    hit = fooled(predicted, labels, targets)
    sizes = (adv - images).flatten(1).norm(dim=1)[hit]
    median = float(sizes.median()) if sizes.numel() else math.nan
    return Timing(seconds, grads(), float(hit.float().mean()), median)


def compare(title: str, model: nn.Module, images: Tensor, labels: Tensor,
            targets: Tensor | None, ours: Attack, theirs: Any | None) -> float | None:
    """Run specnb's attack and torchattacks' on the batch, print both, return the speed ratio."""
    counted_ours = count_gradients(ours, per_sample=False)
    args = (images, labels) if targets is None else (images, labels, targets)
    mine = run_timed(lambda: counted_ours(*args), model, images, labels, targets,
                     lambda: ours.total_grads)
    exact = "yes" if ours.total_grads == counted_ours.total_grads else "NO"
    print(f"{title}\n{_line('specnb', mine)}  hook count matches: {exact}")
    if theirs is None:
        return None
    counted = count_gradients(theirs, per_sample=False)
    other = run_timed(lambda: counted(images, labels), model, images, labels, targets,
                      lambda: counted.total_grads)
    ratio = other.seconds / mine.seconds
    print(f"{_line('torchattacks', other)}\n  speed ratio  {ratio:.2f}x")
    return ratio


def bare_bim(model: nn.Module, images: Tensor, labels: Tensor, eps: float, alpha: float,
             steps: int) -> Tensor:
    """The plain BIM loop, without bookkeeping: the reference for specnb's overhead."""
    lower, upper = (images - eps).clamp_min(0), (images + eps).clamp_max(1)
    adv = images.clone()
    for _ in range(steps):
        adv.requires_grad_(True)
        loss = F.cross_entropy(model(adv), labels, reduction="sum")
        (grad,) = torch.autograd.grad(loss, adv)
        adv = torch.minimum(torch.maximum(adv.detach() + alpha * grad.sign(), lower), upper)
    return adv


def bim_overhead(model: nn.Module, images: Tensor, labels: Tensor, eps: float, alpha: float,
                 steps: int, repeats: int) -> tuple[float, float]:
    """Best-of-``repeats`` seconds of the bare BIM loop and of specnb's BIM-b, interleaved."""
    ours = BIM(model, eps=eps, alpha=alpha, steps=steps, variant="b")
    bare_times, our_times = [], []
    for _ in range(repeats):
        bare_times.append(run_timed(lambda: bare_bim(model, images, labels, eps, alpha, steps),
                                    model, images, labels, None, lambda: 0).seconds)
        our_times.append(run_timed(lambda: ours(images, labels), model, images, labels, None,
                                   lambda: ours.total_grads).seconds)
    return min(bare_times), min(our_times)


def _synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _line(label: str, timing: Timing) -> str:
    return (
        f"  {label:<12} {timing.seconds:8.3f} s/batch {timing.grads_per_second:10.1f} grads/s "
        f"{timing.grads:7d} grads  success {timing.success:6.1%}  median l2 {timing.median_l2:.3f}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the attack benchmark and print one block per attack; see the module docstring.

    Parameters
    ----------
    argv : sequence of str, optional
        Command-line arguments (``--batch``, ``--device``, ``--size``, ``--train-steps``,
        ``--seed``, ``--threads``); ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        Exit status, 0 on success.
    """
    import torchattacks

    summary = (__doc__ or "").split("\n")[0]
    parser = argparse.ArgumentParser(prog="specnb bench attacks", description=summary)
    parser.add_argument("--batch", type=int, default=16, help="images per batch (default 16)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--size", type=int, default=16, help="image side in pixels (default 16)")
    parser.add_argument("--train-steps", type=int, default=40, help="Adam steps of the victim")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0,
                        help="CPU threads for torch (default: torch's choice)")
    args = parser.parse_args(argv)
    if args.batch < 1 or args.size < 8 or args.train_steps < 0 or args.threads < 0:
        parser.error("--batch must be >= 1, --size >= 8, --train-steps and --threads >= 0")
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)

    model = victim_model(args.size, args.train_steps, device, args.seed)
    images, labels, accuracy = bench_batch(model, args.batch, args.size, device, args.seed)
    targets = random_targets(labels, NUM_CLASSES, args.seed)
    print(
        f"victim: ResNet-18, {args.train_steps} training steps, held-out accuracy {accuracy:.1%}; "
        f"batch {images.shape[0]} x {tuple(images.shape[1:])} on {device}, "
        f"{torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.1f}"
    )

    ratios: dict[str, float | None] = {}
    batch = (model, images, labels)
    n_features = images[0].numel()
    jsma_theirs = None
    if n_features <= JSMA_FEATURE_LIMIT:
        jsma_theirs = torchattacks.JSMA(model, theta=1.0, gamma=0.1)
        jsma_theirs.set_mode_targeted_by_function(lambda _images, _labels: targets, quiet=True)
    else:
        print(f"torchattacks JSMA skipped: its pair map over {n_features} features needs "
              f"{n_features**2 * 4 / 1e9:.0f} GB")
    ratios["JSMA"] = compare(
        "JSMA (targeted, theta=1, gamma=0.1; specnb pair variant)", *batch, targets,
        JSMA(model, theta=1.0, gamma=0.1, variant="pair", seed=args.seed), jsma_theirs,
    )
    ratios["DeepFool"] = compare(
        "DeepFool (l2, overshoot 0.02, 50 steps, all 10 classes)", *batch, None,
        DeepFool(model, norm="l2", overshoot=0.02, max_iter=50, candidates=NUM_CLASSES),
        torchattacks.DeepFool(model, steps=50, overshoot=0.02),
    )
    ratios["CW"] = compare(
        "CW l2 (untargeted, c=1, kappa=0, lr=0.01, 100 iterations, 1 search step; early stop: "
        "specnb per sample, torchattacks per batch)", *batch, None,
        CW(model, c=1.0, search_steps=1, max_iterations=100, lr=0.01),
        torchattacks.CW(model, c=1.0, kappa=0.0, steps=100, lr=0.01),
    )
    compare("CW l2 (specnb only: 3 search steps x 100 iterations, per-sample early abort)",
            *batch, None, CW(model, c=1.0, search_steps=3, max_iterations=100, lr=0.01), None)
    eps, alpha, steps = 8 / 255, 2 / 255, 10
    ratios["BIM"] = compare(
        f"BIM-b (eps 8/255, alpha 2/255, {steps} steps)", *batch, None,
        BIM(model, eps=eps, alpha=alpha, steps=steps, variant="b"),
        torchattacks.BIM(model, eps=eps, alpha=alpha, steps=steps),
    )
    compare(f"BIM-a (eps 8/255, alpha 2/255, at most {steps} steps)", *batch, None,
            BIM(model, eps=eps, alpha=alpha, steps=steps, variant="a"), None)
    bare, mine = bim_overhead(model, images, labels, eps, alpha, steps, OVERHEAD_REPEATS)
    print(f"BIM-b vs bare gradient loop (best of {OVERHEAD_REPEATS}, interleaved): "
          f"{mine:.3f} s vs {bare:.3f} s, overhead {100 * (mine / bare - 1):+.1f} %")
    valid = [value for value in ratios.values() if value is not None]
    geomean = math.exp(sum(math.log(v) for v in valid) / len(valid))
    print(f"geomean speedup: {geomean:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
