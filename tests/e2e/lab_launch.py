"""The command line and environment that start the tests' JupyterLab.

The token goes through the environment (``JUPYTER_TOKEN``), never the command line, where any
local user could read it in the process list.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Mapping


def lab_command(
    port: int, root: Path, token: str, env: Mapping[str, str]
) -> tuple[list[str], dict[str, str]]:
    """The argument list and environment of a JupyterLab on ``127.0.0.1:port`` serving ``root``.

    Parameters
    ----------
    port : int
        Loopback port to listen on.
    root : Path
        Folder the server serves.
    token : str
        The server's token; it is put in the returned environment only.
    env : mapping
        The environment to start from (isolated Jupyter folders and the like).

    Returns
    -------
    command : list of str
    environment : dict
        ``env`` with ``JUPYTER_TOKEN`` set.
    """
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers run as root
        command.append("--ServerApp.allow_root=True")
    return command, {**env, "JUPYTER_TOKEN": token}
