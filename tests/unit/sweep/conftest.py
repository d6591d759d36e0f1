"""The sweep tests' fixtures: the notebooks' cost models registered, as the CLI does, and a
folder holding the marker notebook the sweeps run."""

from __future__ import annotations

from pathlib import Path

import pytest

MARKER_PARAMETERS = """\
LABEL = "point"     # written to MARKER at every execution
GROUP = 0
MARKER = "marker.log"
SLEEP = 0.0
FAIL = False
OUT_DIR = "."
STORE = None
CACHE_DIR = None
"""

MARKER_BODY = """\
import os, time
from pathlib import Path
with open(MARKER, "a") as fh:
    fh.write(f"{LABEL} {os.getpid()}\\n")
time.sleep(SLEEP)
if FAIL:
    raise ValueError(f"impossible point {LABEL}")
Path(OUT_DIR, "result.txt").write_text(json.dumps({"STORE": STORE, "CACHE_DIR": CACHE_DIR}))
"""


@pytest.fixture(autouse=True)
def _registered_costs(notebook_costs: None) -> None:
    """Every sweep test runs with :func:`notebook_costs` (tests/conftest.py)."""


@pytest.fixture
def notebooks(tmp_path: Path, write_notebook) -> Path:
    """A folder holding ``marker.ipynb``: appends its LABEL to MARKER, sleeps, may fail."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    write_notebook(folder / "marker.ipynb", MARKER_PARAMETERS, "import json\n" + MARKER_BODY)
    return folder
