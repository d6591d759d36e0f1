"""``specnb sweep FILE``: run a sweep file from the command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from specnb.store import StoreError

from .cluster import tls_security
from .runner import run_sweep
from .spec import SweepError

__all__ = ["main"]


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="specnb sweep",
        description="Execute one notebook per grid point of a sweep file on Dask, resumably.",
    )
    parser.add_argument("file", type=Path, help="sweep file (YAML)")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="list every point with its status and the projected cost; execute nothing",
    )
    parser.add_argument(
        "--workers",
        type=_positive,
        default=None,
        metavar="N",
        help="local cluster workers (default: one per GPU, else one per CPU core, at most 4)",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run on an existing Dask scheduler (tls://host:8786) instead of a local cluster",
    )
    tls = parser.add_argument_group(
        "TLS for --scheduler (default: Dask's configuration, distributed.comm.tls.*)"
    )
    tls.add_argument(
        "--tls-ca-file",
        type=Path,
        default=None,
        metavar="FILE",
        help="PEM certificate of the authority that signed the cluster's",
    )
    tls.add_argument(
        "--tls-cert", type=Path, default=None, metavar="FILE", help="PEM certificate of this client"
    )
    tls.add_argument(
        "--tls-key", type=Path, default=None, metavar="FILE", help="PEM private key of this client"
    )
    parser.add_argument(
        "--point-stores",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="each point writes a store of its own that this process alone merges into the "
        "sweep's (default: on with --scheduler, off on the local cluster)",
    )
    parser.add_argument(
        "--dashboard",
        type=_port,
        nargs="?",
        const=8787,
        default=None,
        metavar="PORT",
        help="serve the local cluster's Dask dashboard on 127.0.0.1:PORT (default port "
        "8787; default: no dashboard)",
    )
    parser.add_argument("--retry-failed", action="store_true", help="rerun failed points")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="output folder (default: runs/sweeps/<sweep name>)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--device",
        choices=["auto", "cpu", "cuda"],
        default=None,
        help="dry run: project for this device (default: the sweep's DEVICE; auto: CUDA if "
        "present)",
    )
    parser.add_argument(
        "--unit-costs",
        type=Path,
        default=None,
        metavar="FILE",
        help="dry run: project from this unit costs file",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``specnb sweep`` with the arguments ``argv`` (default: ``sys.argv[1:]``).

    The projections of ``--dry-run`` come from the cost models registered in
    :mod:`specnb.sweep.cost_registry`; the ``specnb`` command line (:mod:`specnb.cli`) registers
    the notebooks' before it calls this function. Without a registration a dry run projects
    from measured timings only.

    Returns
    -------
    int
        0 when every point is done (or for a dry run), 1 when some failed, were skipped or
        are still held by another process, 2 for an invalid sweep file, missing TLS files,
        an unreachable scheduler or an error of the file system (an output folder that cannot
        be written).
    """
    args = _parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    if args.scheduler is not None and args.scheduler.startswith("tcp://"):
        print(
            f"specnb sweep: warning: {args.scheduler} is plain tcp://: whoever reaches it "
            "can run code on its workers; see sweeps/README.md for TLS",
            file=sys.stderr,
        )
    try:
        security = tls_security(args.tls_ca_file, args.tls_cert, args.tls_key)
    except ValueError as error:
        print(f"specnb sweep: error: {error}", file=sys.stderr)
        return 2
    try:
        summary = run_sweep(
            args.file,
            out=args.out,
            workers=args.workers,
            scheduler=args.scheduler,
            retry_failed=args.retry_failed,
            dry_run=args.dry_run,
            progress=not args.no_progress,
            point_stores=args.point_stores,
            security=security,
            dashboard=args.dashboard,
            device=args.device,
            unit_costs=args.unit_costs,
        )
    except (SweepError, StoreError, OSError) as error:
        print(f"specnb sweep: error: {error}", file=sys.stderr)
        return 2
    print(summary.report())
    return 0 if summary.dry_run or summary.ok else 1
