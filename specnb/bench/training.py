"""``specnb bench training``: our training loop against a plain PyTorch loop, and the CPU's peak.

For ResNet-18 and SB-CNN on 128×128 images, one epoch over the same tensors (random uint8
images, as the uint8 image cache holds them) is timed four ways, the four interleaved in
every repeat so that a change of machine load hits them alike:

- ``plain fp32``: the loop a PyTorch user writes (float32 batches, ``cross_entropy``,
  ``zero_grad``/``backward``/``step`` with AdamW);
- ``ours fp32``: :func:`specnb.training.epochs.train_epoch` with bfloat16 and channels-last
  off, so its ratio to ``plain fp32`` is the loop's own overhead;
- ``ours bf16+cl``: the same under bfloat16 autocast with channels-last batches;
- ``ours recipe``: the strong recipe's batch shifts, masks, mixup and per-batch learning rate
  in the precision a run resolves for the model here (measured once per machine and cached,
  :mod:`specnb.training.precision`; printed with its source), so that its ratio shows
  whether the resolution picked the faster precision.

The median images/s over the repeats is printed, with the achieved GFLOP/s (floating-point
operations of one training step counted by ``torch.utils.flop_counter``) and its share of
the peak, estimated as the best throughput of a large float32 matrix product or a large 3x3
convolution on the same threads (and of bfloat16 ones, for the bf16 rows): a measured peak,
not the data sheet's. Both are needed: on AMD CPUs the matrix product (MKL) runs far below
what the convolutions (oneDNN) reach, 89 against 225 GFLOP/s on one EPYC core.

Examples
--------
    specnb bench training --images 256 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Callable, Sequence, Union

import torch
import torch.nn.functional as F

from specnb.models import build_model
from specnb.training import precision
from specnb.training.epochs import Plan, batch_augment, make_optimizer, train_epoch
from specnb.training.recipe import recipe_config
from specnb.training.schedule import learning_rate

__all__ = [
    "VARIANTS",
    "conv_peak",
    "epoch_runner",
    "main",
    "matmul_peak",
    "measured_peak",
    "step_flops",
]

#: The timed loops, in the order of every interleaved repeat.
VARIANTS = ("plain fp32", "ours fp32", "ours bf16+cl", "ours recipe")

_NUM_CLASSES = 10


def _best_rate(operation: Callable[[], object], flops: float, repeats: int) -> float:
    """Best GFLOP/s of ``repeats`` timed calls of ``operation`` (``flops`` each), after an
    untimed one."""
    operation()
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        operation()
        best = max(best, flops / (time.perf_counter() - start) / 1e9)
    return best


def matmul_peak(dtype: torch.dtype = torch.float32, size: int = 2048, repeats: int = 5) -> float:
    """Best GFLOP/s of ``size``×``size`` matrix products in ``dtype`` on the current threads."""
    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    return _best_rate(lambda: torch.mm(a, b), 2 * size**3, repeats)


def conv_peak(
    dtype: torch.dtype = torch.float32, channels: int = 256, side: int = 32, repeats: int = 5
) -> float:
    """Best GFLOP/s of a channels-last 3×3 convolution of 8 images of ``channels`` × ``side``²
    onto ``channels`` maps, in ``dtype`` on the current threads."""
    last = torch.channels_last
    x = torch.randn(8, channels, side, side).to(dtype).contiguous(memory_format=last)
    w = torch.randn(channels, channels, 3, 3).to(dtype).contiguous(memory_format=last)
    flops = 2 * 8 * channels * channels * 9 * side * side
    return _best_rate(lambda: F.conv2d(x, w, padding=1), flops, repeats)


def measured_peak(dtype: torch.dtype = torch.float32) -> float:
    """The CPU's peak GFLOP/s in ``dtype`` as measured: the better of :func:`matmul_peak` and
    :func:`conv_peak`."""
    return max(matmul_peak(dtype), conv_peak(dtype))


def step_flops(model_name: str, batch: int) -> float:
    """Floating-point operations of one training step (forward and backward) per image."""
    from torch.utils.flop_counter import FlopCounterMode

    model = build_model(model_name, _NUM_CLASSES, seed=0)
    x = torch.rand(batch, 3, 128, 128)
    y = torch.randint(0, _NUM_CLASSES, (batch,))
    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(model(x), y).backward()
    return counter.get_total_flops() / batch


def _plain_epoch(model, optimizer, images, labels, batch_size: int) -> None:
    model.train()
    for start in range(0, len(images), batch_size):
        x = images[start : start + batch_size].float().div(255)
        y = labels[start : start + batch_size]
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def epoch_runner(
    variant: str, model_name: str, images: torch.Tensor, labels: torch.Tensor, batch: int
) -> Callable[[int], None]:
    """A function running one training epoch of ``variant`` of :data:`VARIANTS` on the CPU
    (its argument: the repeat number, which seeds the epoch's order).

    Parameters
    ----------
    variant : str
        One of :data:`VARIANTS`; ``"ours recipe"`` is the loop a strong-recipe run trains with.
    model_name : str
        An architecture of :data:`specnb.models.MODELS`, built with random weights.
    images : torch.Tensor, shape (n, 3, 128, 128), uint8
        The epoch's images, as the image cache holds them.
    labels : torch.Tensor, shape (n,)
        Their classes, below 10.
    batch : int
        Images per step.

    Returns
    -------
    callable
    """
    config = recipe_config("strong", model=model_name, batch_size=batch, device="cpu")
    if variant == "ours recipe":
        plan = Plan.for_config(config)
    else:
        fast = variant == "ours bf16+cl"
        plan = Plan(torch.device("cpu"), batch, config.lr, amp=fast, channels_last=fast)
    model = build_model(model_name, _NUM_CLASSES, seed=0).to(memory_format=plan.memory_format)
    optimizer = make_optimizer(model, config, plan)
    if variant == "plain fp32":
        optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr)
        return lambda repeat: _plain_epoch(model, optimizer, images, labels, batch)
    scaler = torch.amp.GradScaler("cuda", enabled=False)
    index = torch.arange(len(images))
    augment = batch_augment(config, _NUM_CLASSES) if variant == "ours recipe" else None

    def lr_at(fraction: float) -> float:
        return learning_rate(
            1 + fraction,
            peak=config.lr,
            epochs=config.epochs,
            warmup_epochs=config.warmup_epochs,
            schedule=config.schedule,
        )

    def run(repeat: int) -> None:
        order = torch.Generator().manual_seed(repeat)
        train_epoch(
            model,
            optimizer,
            scaler,
            images,
            labels,
            index,
            order,
            plan,
            augment=augment,
            lr_at=lr_at if augment is not None else None,
        )

    return run


def main(argv: Union[Sequence[str], None] = None) -> int:
    """Run the benchmark and print one line per (model, loop), then the peaks."""
    parser = argparse.ArgumentParser(
        prog="specnb bench training",
        description="Images/s of one training epoch: our loop vs a plain PyTorch loop.",
    )
    parser.add_argument("--images", type=int, default=256, help="images per epoch (256)")
    parser.add_argument("--batch-size", type=int, default=32, help="mini-batch (32)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats (3)")
    parser.add_argument("--models", nargs="+", default=["resnet18", "sbcnn"])
    args = parser.parse_args(argv)
    if min(args.images, args.batch_size, args.repeats) <= 0:
        parser.error("--images, --batch-size and --repeats must be positive")
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(
        0, 256, (args.images, 3, 128, 128), dtype=torch.uint8, generator=generator
    )
    labels = torch.randint(0, _NUM_CLASSES, (args.images,), generator=generator)
    load = os.getloadavg()
    peak32 = measured_peak(torch.float32)
    peak16 = measured_peak(torch.bfloat16)
    print(
        f"training benchmark: {args.images} images 3x128x128 per epoch, batch {args.batch_size}, "
        f"{torch.get_num_threads()} threads, {args.repeats} interleaved repeats (median); "
        f"load average {load[0]:.2f}",
        flush=True,
    )
    for model_name in args.models:
        flops = step_flops(model_name, args.batch_size)
        resolved = Plan.for_config(
            recipe_config("strong", model=model_name, batch_size=args.batch_size, device="cpu")
        )
        print(
            f"{model_name:<9} resolved precision {resolved.precision} "
            f"({resolved.precision_source}, {precision.machine_key()})",
            flush=True,
        )
        runners = {
            v: epoch_runner(v, model_name, images, labels, args.batch_size) for v in VARIANTS
        }
        for run in runners.values():
            run(0)  # warm-up: one-off allocations and kernel choices stay out of the timings
        seconds: dict[str, list[float]] = {v: [] for v in VARIANTS}
        for repeat in range(1, args.repeats + 1):
            for variant, run in runners.items():
                start = time.perf_counter()
                run(repeat)
                seconds[variant].append(time.perf_counter() - start)
        plain = args.images / statistics.median(seconds["plain fp32"])
        for variant in VARIANTS:
            rate = args.images / statistics.median(seconds[variant])
            gflops = rate * flops / 1e9
            bf16 = variant == "ours bf16+cl" or (variant == "ours recipe" and resolved.amp)
            peak = peak16 if bf16 else peak32
            print(
                f"{model_name:<9} {variant:<13} {rate:8.1f} images/s  x{rate / plain:5.2f} vs plain"
                f"  {gflops:7.1f} GFLOP/s = {100 * gflops / peak32:5.1f} % of the fp32 peak"
                + ("" if peak is peak32 else f", {100 * gflops / peak16:5.1f} % of the bf16 peak"),
                flush=True,
            )
    load = os.getloadavg()
    print(
        "peaks measured here (best 2048x2048 matrix product or 3x3 convolution): "
        f"fp32 {peak32:.1f} GFLOP/s, bf16 {peak16:.1f} GFLOP/s; "
        f"load average at the end {load[0]:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
