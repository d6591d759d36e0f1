"""The ``specnb`` command line: features of one clip, benchmarks, downloads, the demo model and
the main job."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

__all__ = ["main"]


def _features(args: argparse.Namespace) -> int:
    from specnb.data.audio import load_audio
    from specnb.representations import parse_assignments
    from specnb.representations.cache import save_npy_atomic
    from specnb.representations.compute import represent
    from specnb.representations.images import setting_image

    setting = parse_assignments(args.repr, args.set)
    y = load_audio(args.audio, setting.sr)
    raw = represent(y, setting, backend=args.backend)
    out = raw if args.raw else setting_image(raw, setting).cpu().numpy()
    save_npy_atomic(args.out, np.asarray(out, dtype=np.float32))
    print(f"{args.out}: {setting.label()} {'raw' if args.raw else 'image'} {out.shape}")
    return 0


def _bench(args: argparse.Namespace, rest: list[str]) -> int:
    if args.what == "representations":
        from specnb.bench.representations import main as bench_main
    elif args.what == "sweep":
        from specnb.bench.sweep_costs import main as bench_main
    elif args.what == "training":
        from specnb.bench.training import main as bench_main
    elif args.what == "victims":
        from specnb.bench.victim_gradients import main as bench_main
    else:
        from specnb.bench.attacks import main as bench_main
    return int(bench_main(rest) or 0)


def _download(args: argparse.Namespace) -> int:
    from specnb.data import default_path, fetch_dataset

    root = args.path if args.path is not None else default_path(args.name)
    print(fetch_dataset(args.name, root, progress=True))
    return 0


def _register_costs() -> None:
    """Put the notebooks' cost models in the sweep's cost registry: the sweep engine knows no
    notebook, so the command line wires them in before it runs a sweep."""
    from specnb.bench.notebook_costs import register_notebook_costs

    register_notebook_costs()


def _sweep(rest: list[str]) -> int:
    from specnb.sweep import main as sweep_main

    _register_costs()
    return sweep_main(rest)


def _run(args: argparse.Namespace) -> int:
    from specnb.sweep import SweepError
    from specnb.sweep.main_job import run_main_job

    _register_costs()
    try:
        report = run_main_job(data=args.data, out=args.out, workers=args.workers)
    except SweepError as exc:
        print(f"specnb: error: {exc}", file=sys.stderr)
        return 1
    print(f"report: {report}")
    return 0


def _findings(args: argparse.Namespace) -> int:
    from specnb.report.findings import publish_findings

    report = publish_findings(args.store, args.out or Path(args.store).parent, args.readme)
    decided = sum(v.decided for v in report.verdicts)
    print(f"{args.store}: {len(report.results.runs)} runs, {decided} claims decided")
    return 0


def _demo_model(args: argparse.Namespace) -> int:
    from specnb.runs.demo_model import train_demo_model

    print(f"demo model: {train_demo_model(args.out)}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="specnb", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    feat = sub.add_parser("features", help="write the representation of one clip to .npy")
    feat.add_argument("audio", type=Path, help="audio file (any rate/channels libsndfile reads)")
    feat.add_argument("--repr", required=True, choices=["mfcc", "stft", "mel", "wavelet"])
    feat.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting field, e.g. --set n_fft=1024 (repeatable)",
    )
    feat.add_argument("--backend", choices=["reference", "torch"], default="torch")
    feat.add_argument("--raw", action="store_true", help="the 2D array before image scaling")
    feat.add_argument("--out", type=Path, required=True, help="output .npy file")

    bench = sub.add_parser(
        "bench",
        help="benchmarks: torch vs reference, ours vs torchattacks, sweep unit costs, "
        "our training loop vs a plain one, attack gradients counted on a store's victims",
    )
    bench.add_argument(
        "what", choices=["representations", "attacks", "sweep", "training", "victims"]
    )

    down = sub.add_parser("download", help="download a dataset from its official source")
    down.add_argument("name", choices=["esc50", "urbansound8k"])
    down.add_argument("--path", type=Path, default=None, help="destination folder")

    sub.add_parser(
        "doctor",
        add_help=False,
        help="check the CUDA paths against the CPU and measure the GPU's unit costs (--gpu)",
    )
    sub.add_parser(
        "sweep",
        add_help=False,
        help="run a sweep file: one notebook execution per grid point, on Dask",
    )

    demo = sub.add_parser(
        "demo-model", help="retrain the demo model of notebook 03's ε explorer (seeded, ~15 s)"
    )
    demo.add_argument("--out", type=Path, required=True, help="checkpoint file to write (.pt)")

    findings = sub.add_parser(
        "findings",
        help="render a study from its store (no training): report.html, findings.md, and the "
        "findings in README.md",
    )
    findings.add_argument(
        "store",
        type=Path,
        nargs="?",
        default=Path("results/esc10/results.sqlite"),
        help="the study's results store (default: results/esc10/results.sqlite)",
    )
    findings.add_argument(
        "--out", type=Path, default=None, help="folder of report.html (default: the store's)"
    )
    findings.add_argument(
        "--readme",
        type=Path,
        default=None,
        help="a Markdown file whose findings markers receive the tables (e.g. README.md)",
    )

    run = sub.add_parser("run", help="the main job: the notebook chain, then the report")
    run.add_argument(
        "--data",
        "--path",
        type=Path,
        default=None,
        dest="data",
        help="folder of a real ESC-50 copy: run sweeps/esc10_cpu.yaml on its ESC-10 subset "
        "(default: sweeps/quick.yaml on the synthetic set)",
    )
    run.add_argument(
        "--out",
        type=Path,
        default=None,
        help="run folder (default: runs/main, with --data runs/esc10_cpu)",
    )
    run.add_argument(
        "--workers",
        type=int,
        default=None,
        help="Dask workers (default: one per GPU, else one per CPU core, at most 4)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``specnb`` console script."""
    from specnb.data import AudioError, DatasetError, DownloadError, SplitError
    from specnb.errors import ParameterError, UnitCostsError
    from specnb.representations import SettingError

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    if args.command == "sweep":
        return _sweep(rest)
    if args.command == "doctor":
        from specnb.bench.gpu_check import main as doctor_main

        return doctor_main(rest)
    if rest and args.command != "bench":
        parser.error(f"unrecognised arguments: {' '.join(rest)}")
    try:
        if args.command == "features":
            return _features(args)
        if args.command == "bench":
            return _bench(args, rest)
        if args.command == "download":
            return _download(args)
        if args.command == "demo-model":
            return _demo_model(args)
        if args.command == "findings":
            return _findings(args)
        return _run(args)
    except (
        SettingError,
        ParameterError,
        AudioError,
        DatasetError,
        DownloadError,
        SplitError,
        UnitCostsError,
        OSError,
    ) as exc:
        print(f"specnb: error: {exc}", file=sys.stderr)
        return 2
