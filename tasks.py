#!/usr/bin/env python3
"""Set up specnb in a local virtual environment and run its main job or its tests.

Needs nothing but Python 3.11+; run from anywhere:

    python3 tasks.py main [--data PATH]   # set up, run the notebook chain, print the report path
    python3 tasks.py test [PYTEST ARGS]   # set up, run the test suite
    python3 tasks.py gpu-check [--out DIR]  # set up, check the CUDA paths in minutes (see below)
    python3 tasks.py setup                # only set up (.venv in the repository)

Set-up is idempotent: a stamp file records what was installed, so a second call starts at once.

gpu-check runs `specnb doctor --gpu`: on a machine with an NVIDIA GPU, the tests marked `cuda`
(CPU and CUDA side by side), the GPU's unit costs (written beside the CPU's), a slice of
sweeps/paper.yaml and the paper grid's GPU hours, each part time-limited, in about 8 minutes;
the summary is printed and written to DIR/gpu_check_summary.txt (default runs/gpu-check), the
GPU's unit costs also to DIR/gpu_unit_costs.json.
Without CUDA it says so and runs the CPU halves of those tests. Where set-up cannot install
(no network), it runs with this interpreter when that one has torch, and says so.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parent
VENV = Path(os.environ.get("SPECNB_VENV", REPO / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"

#: Installed before the package so that pip never resolves torch to a newer multi-GB build.
TORCH = ["torch==2.14.1", "torchvision==0.29.1"]
#: torchattacks pins requests~=2.25.1, which would downgrade JupyterLab; it imports only torch,
#: numpy and scipy, so it is installed without its dependency pins.
NO_DEPS = ["torchattacks==3.5.1"]


def _run(*cmd: str | Path, **kw) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, **kw)


def _stamp() -> str:
    h = hashlib.sha256()
    for part in (*TORCH, *NO_DEPS, (REPO / "pyproject.toml").read_text()):
        h.update(part.encode())
    return h.hexdigest()


def setup() -> None:
    """Create ``.venv`` and install specnb with its test extras (skipped when up to date)."""
    if sys.version_info < (3, 11):
        sys.exit(f"specnb needs Python >= 3.11, this is {sys.version.split()[0]}")
    stamp = VENV / ".specnb-installed"
    if stamp.is_file() and stamp.read_text() == _stamp():
        return
    if not PYTHON.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = [PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    _run(*pip, *TORCH)
    _run(*pip, "-e", f"{REPO}[test]")
    _run(*pip, "--no-deps", *NO_DEPS)
    stamp.write_text(_stamp())


def test(args: list[str]) -> int:
    """Run the test suite with the environment's pytest."""
    setup()
    env = {**os.environ, "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg"}
    return subprocess.call([str(PYTHON), "-m", "pytest", *args], cwd=REPO, env=env)


def main_job(args: list[str]) -> int:
    """Run the main job (the notebook chain on the embedded synthetic set by default)."""
    setup()
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.call([str(PYTHON), "-m", "specnb", "run", *args], cwd=REPO, env=env)


def gpu_check(args: list[str]) -> int:
    """Set up (or fall back to this interpreter), then run ``specnb doctor --gpu``."""
    python, env = str(PYTHON), {**os.environ, "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
    # an offline machine's time is short: pip gives up at once instead of retrying
    os.environ.setdefault("PIP_RETRIES", "0")
    os.environ.setdefault("PIP_TIMEOUT", "10")
    try:
        setup()
    except (OSError, subprocess.CalledProcessError) as error:
        try:
            import torch  # noqa: F401  (only whether this interpreter could run the check)
        except ImportError:
            print(f"gpu-check: set-up failed ({error}) and {sys.executable} has no torch")
            return 1
        print(f"gpu-check: set-up failed ({error}); running with {sys.executable}")
        python = sys.executable
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    command = [python, "-m", "specnb", "doctor", "--gpu", *args]
    return subprocess.call(command, cwd=REPO, env=env)


def cli(argv: list[str]) -> int:
    if not argv or argv[0] not in {"setup", "test", "main", "gpu-check"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "setup":
        setup()
        return 0
    if command == "test":
        return test(rest)
    if command == "gpu-check":
        return gpu_check(rest)
    return main_job(rest)


if __name__ == "__main__":
    sys.exit(cli(sys.argv[1:]))
