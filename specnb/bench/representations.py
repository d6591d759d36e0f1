"""``specnb bench representations``: the batched torch path against the librosa/PyWavelets one.

Both paths transform the same waveforms: the reference clip by clip, as a librosa or
PyWavelets user would, and the torch path in batches (best of ``--repeats`` runs); each path
is warmed up once first, so one-off set-up costs stay out of the timings. One line per
setting gives both throughputs and their ratio; the last line is the geometric mean of the
ratios (``geomean speedup: X``).

Examples
--------
    specnb bench representations --clips 16 --data esc50
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any, Callable, Sequence, Union

import numpy as np
import torch

from specnb.data import load_dataset
from specnb.data.clips import AudioDataset
from specnb.representations.compute import represent
from specnb.representations.settings import WAVELETS, Setting, make_setting

__all__ = ["BENCH_GRID", "bench_settings", "main"]

#: The real ESC-50 copy beside the checkout, used when present.
DEFAULT_ESC50 = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "esc50"

#: The settings timed: three grid points each of MFCC, STFT and Mel, and every mother wavelet
#: at 8 and 16 kHz, as (representation, fields that differ from the defaults).
BENCH_GRID: tuple[tuple[str, dict[str, Any]], ...] = (
    ("mfcc", {"sr": 22050, "n_mfcc": 13}),
    ("mfcc", {"sr": 16000, "n_mfcc": 20, "lifter": 20.0}),
    ("mfcc", {"sr": 8000, "n_mfcc": 40, "dct_norm": "none"}),
    ("stft", {"sr": 22050, "n_fft": 512}),
    ("stft", {"sr": 22050, "n_fft": 1024, "win_length": 512}),
    ("stft", {"sr": 22050, "n_fft": 2048, "hop_length": 512}),
    ("mel", {"sr": 22050, "n_fft": 512}),
    ("mel", {"sr": 22050, "n_fft": 1024, "win_length": 512}),
    ("mel", {"sr": 22050, "n_fft": 2048, "win_length": 410}),
    *(("wavelet", {"sr": sr, "wavelet": w}) for w in WAVELETS for sr in (8000, 16000)),
)


def bench_settings() -> list[tuple[str, Setting]]:
    """The timed settings of :data:`BENCH_GRID`, each with a label naming its chosen fields."""
    out = []
    for kind, fields in BENCH_GRID:
        label = f"{kind}({', '.join(f'{k}={v}' for k, v in fields.items())})"
        out.append((label, make_setting(kind, **fields)))
    return out


def _open_dataset(data: str, path: Union[Path, None]) -> tuple[AudioDataset, str]:
    if data == "synthetic":
        return load_dataset("synthetic"), "synthetic (embedded, procedurally generated)"
    root = path if path is not None else DEFAULT_ESC50
    if (root / "meta" / "esc50.csv").is_file():
        return load_dataset("esc50", root), f"esc50 (real clips from {root})"
    return load_dataset("synthetic"), f"synthetic (no ESC-50 copy at {root})"


def _spread(n_total: int, n: int) -> list[int]:
    """``n`` indices spread evenly over ``range(n_total)``."""
    n = min(n, n_total)
    return sorted({int(i) for i in np.linspace(0, n_total - 1, n)})


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _bench_one(
    waves: np.ndarray,
    setting: Setting,
    device: torch.device,
    batch_size: Union[int, None],
    repeats: int,
) -> tuple[float, float]:
    """Throughputs (reference, torch) in clips per second on ``waves`` of shape (N, samples)."""
    n = len(waves)
    represent(waves[0], setting, backend="reference")
    ref_s = _timed(lambda: [represent(y, setting, backend="reference") for y in waves])

    def run_torch() -> None:
        represent(waves, setting, backend="torch", device=device, batch_size=batch_size)
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    run_torch()
    torch_s = min(_timed(run_torch) for _ in range(repeats))
    return n / ref_s, n / torch_s


def main(argv: Union[Sequence[str], None] = None) -> int:
    """Run the benchmark; print one line per setting, then ``geomean speedup: X``."""
    parser = argparse.ArgumentParser(
        prog="specnb bench representations",
        description="Throughput of the torch representations against the reference ones.",
    )
    parser.add_argument("--clips", type=int, default=16, help="clips to transform (default 16)")
    parser.add_argument("--data", choices=["esc50", "synthetic"], default="esc50")
    parser.add_argument("--path", type=Path, default=None, help="ESC-50 folder")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="torch batch size (default: the automatic, cache-sized one of represent())",
    )
    parser.add_argument("--device", default=None, help="torch device (default: cuda if present)")
    parser.add_argument("--repeats", type=int, default=3, help="timed torch runs (best kept)")
    args = parser.parse_args(argv)
    if args.clips <= 0 or (args.batch_size or 1) <= 0 or args.repeats <= 0:
        parser.error("--clips, --batch-size and --repeats must be positive")
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))

    dataset, source = _open_dataset(args.data, args.path)
    clips = [dataset.clips[i] for i in _spread(len(dataset), args.clips)]
    settings = bench_settings()
    waves = {
        sr: np.stack([np.asarray(dataset.load(c, sr), dtype=np.float32) for c in clips])
        for sr in sorted({setting.sr for _, setting in settings})
    }
    print(
        f"representation benchmark: {len(clips)} clips of {dataset.duration:g} s from {source}; "
        f"torch on {device} ({torch.get_num_threads()} threads), batch {args.batch_size or 'auto'}",
        flush=True,
    )
    ratios = []
    for label, setting in settings:
        ref, fast = _bench_one(waves[setting.sr], setting, device, args.batch_size, args.repeats)
        ratios.append(fast / ref)
        print(
            f"{label:<50} reference {ref:8.1f} clips/s  torch {fast:8.1f} clips/s  "
            f"ratio {fast / ref:7.2f}",
            flush=True,
        )
    geomean = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    print(f"geomean speedup: {geomean:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
