"""JupyterLab 4 on a loopback port and Debian's Chromium driven by Playwright.

The end-to-end tests open the project's notebooks in a real JupyterLab, as a person does, so
that a broken widget stack (an ipywidgets / jupyterlab_widgets mismatch renders widgets as their
text repr) or a broken explorer shows up. Everything runs in an isolated, throw-away Jupyter
configuration, runtime, settings and workspace folder. The tests skip, saying why, where
Chromium or the ``playwright`` package is missing; no browser is ever downloaded.

Run them alone with ``pytest -m browser``, leave them out with ``-m "not browser"``; set
``SPECNB_CHROMIUM`` to use another Chromium build. Screenshots of every state a test checks go
to ``tests/output/e2e/<test>/`` (``failure.png`` too, when a test fails).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import pytest
from lab_driver import LabNotebook
from lab_launch import lab_command

if TYPE_CHECKING:
    from playwright.sync_api import Browser

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("SPECNB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SHOTS_ROOT = REPO / "tests" / "output" / "e2e"
SERVER_START_S = 90.0
VIEWPORT = {"width": 1440, "height": 1800}

#: JupyterLab user settings for the tests: no news or update checks (the machine is offline).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


@dataclass(frozen=True)
class LabServer:
    """A running JupyterLab: its base URL, token, root folder and log file."""

    url: str
    token: str
    root: Path
    log: Path

    def get(self, path: str, timeout: float = 5.0) -> dict:
        """GET ``path`` of the REST API with the token; the decoded JSON reply."""
        request = urllib.request.Request(
            f"{self.url}{path}", headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return json.loads(reply.read())

    def post(self, path: str, timeout: float = 5.0) -> None:
        """POST an empty body to ``path`` of the REST API with the token."""
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=b"",
            method="POST",
            headers={"Authorization": f"token {self.token}"},
        )
        urllib.request.urlopen(request, timeout=timeout).close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lab_environment(home: Path) -> dict[str, str]:
    """The server's environment: isolated Jupyter folders, the user's kernel and extensions.

    Kernel specs and lab extensions are found through the interpreter's prefix, which the
    isolated data folder leaves on Jupyter's search path. ``MPLBACKEND`` is dropped (the test
    runner sets Agg) so that the kernel starts with the inline backend a user's kernel has.
    """
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND" and not k.startswith("JPY_")}
    folders = {
        "JUPYTER_CONFIG_DIR": "config",
        "JUPYTER_DATA_DIR": "data",
        "JUPYTER_RUNTIME_DIR": "runtime",
        "JUPYTERLAB_SETTINGS_DIR": "settings",
        "JUPYTERLAB_WORKSPACES_DIR": "workspaces",
        "IPYTHONDIR": "ipython",
    }
    for variable, name in folders.items():
        (home / name).mkdir(parents=True, exist_ok=True)
        env[variable] = str(home / name)
    for name, values in LAB_SETTINGS.items():
        path = home / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    return env


def _wait_until_up(server: LabServer, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"JupyterLab exited with {process.returncode}; log:\n"
                f"{server.log.read_text()[-4000:]}"
            )
        try:
            if "started" in server.get("/api/status", timeout=2.0):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise TimeoutError(
        f"JupyterLab did not answer /api/status within {timeout:.0f} s; log:\n"
        f"{server.log.read_text()[-4000:]}"
    )


def _stop(server: LabServer, process: subprocess.Popen) -> None:
    """Ask the server to shut down (kernels included), then end its process group."""
    if process.poll() is None:
        try:
            server.post("/api/shutdown")
            process.wait(timeout=15)
        except (urllib.error.URLError, ConnectionError, TimeoutError, subprocess.TimeoutExpired):
            pass
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """Debian's Chromium and the ``playwright`` package, or a skip naming what is missing."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(
            f"Chromium not found at {CHROMIUM} (apt-get install chromium "
            "chromium-driver, or set SPECNB_CHROMIUM)"
        )
    pytest.importorskip(
        "playwright.sync_api",
        exc_type=ImportError,
        reason="the playwright Python package is not installed (pip install "
        "playwright; its browser download is not used)",
    )
    return CHROMIUM


@pytest.fixture(scope="session")
def lab_server(
    chromium_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LabServer]:
    """JupyterLab 4 on 127.0.0.1 with a random token, serving an empty temporary root."""
    home = tmp_path_factory.mktemp("jupyter")
    root = home / "root"
    root.mkdir()
    port = _free_port()
    server = LabServer(
        f"http://127.0.0.1:{port}", secrets.token_hex(24), root, home / "jupyterlab.log"
    )
    command, env = lab_command(port, root, server.token, _lab_environment(home))
    with server.log.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_until_up(server, process, SERVER_START_S)
        yield server
    finally:
        _stop(server, process)


@pytest.fixture(scope="session")
def browser(chromium_path: Path) -> Iterator[Browser]:
    """Headless Chromium launched by Playwright from the system's executable."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=CHROMIUM_FLAGS, timeout=60_000
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def shots_dir(request: pytest.FixtureRequest) -> Path:
    """``tests/output/e2e/<test name>``, emptied: where the test's screenshots go."""
    folder = SHOTS_ROOT / request.node.name.replace("[", "-").replace("]", "")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    """Keep each phase's report on the item, so that ``lab`` knows whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def lab(
    request: pytest.FixtureRequest, lab_server: LabServer, browser: Browser, shots_dir: Path
) -> Iterator[LabNotebook]:
    """A fresh browser page on the server, wrapped in the notebook driver.

    When the test fails, the whole page is saved as ``failure.png`` beside its screenshots.
    """
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    driver = LabNotebook(page, lab_server.url, lab_server.token, lab_server.root, shots_dir)
    try:
        yield driver
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            page.screenshot(path=str(shots_dir / "failure.png"), full_page=True)
        driver.shut_down_kernels()
        context.close()
