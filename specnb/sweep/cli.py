"""``specnb sweep FILE``: run a sweep file from the command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .runner import run_sweep
from .spec import SweepError

__all__ = ["main"]


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="specnb sweep",
        description="Execute one notebook per grid point of a sweep file on Dask, resumably.",
    )
    parser.add_argument("file", type=Path, help="sweep file (YAML)")
    parser.add_argument(
        "--dry-run", action="store_true",
        help="list every point with its status and the projected cost; execute nothing",
    )
    parser.add_argument(
        "--workers", type=_positive, default=None, metavar="N",
        help="workers of the local cluster (default: one per GPU, else 1)",
    )
    parser.add_argument(
        "--scheduler", default=None, metavar="ADDRESS",
        help="run on an existing Dask scheduler (tcp://host:8786) instead of a local cluster",
    )
    parser.add_argument("--retry-failed", action="store_true", help="rerun failed points")
    parser.add_argument(
        "--out", type=Path, default=None, metavar="DIR",
        help="output folder (default: runs/sweeps/<sweep name>)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``specnb sweep`` with the arguments ``argv`` (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 when every point is done (or for a dry run), 1 when some failed, were skipped or
        are still held by another process, 2 for an invalid sweep file or an unreachable
        scheduler.
    """
    args = _parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    try:
        summary = run_sweep(
            args.file, out=args.out, workers=args.workers, scheduler=args.scheduler,
            retry_failed=args.retry_failed, dry_run=args.dry_run,
            progress=not args.no_progress,
        )
    except (SweepError, ConnectionError) as error:
        print(f"specnb sweep: error: {error}", file=sys.stderr)
        return 2
    print(summary.report())
    return 0 if summary.dry_run or summary.ok else 1
