"""Drive a notebook in JupyterLab 4 as a person does: open it, run all, use its widgets.

One :class:`LabNotebook` wraps a Playwright page on a running JupyterLab. Its steps are the
ones a notebook's end-to-end test strings together: copy the notebook (with smaller
parameters) into the server's root, open it, *Run > Run All Cells*, find the widget output,
pick a toggle button, a dropdown option or a slider value, wait for what it redraws and save a
screenshot of each state.
"""

from __future__ import annotations

import copy
import json
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # playwright is imported by the fixtures, which skip where it is missing
    from playwright.sync_api import Locator, Page

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
OPEN_TIMEOUT_MS = 60_000
#: The notebook in the active tab (``?reset`` opens only that one, but be explicit).
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
STEP_TIMEOUT_MS = 30_000

#: What a widget's text repr looks like when the front end cannot render it.
WIDGET_TEXT_REPR = re.compile(
    r"\b(VBox|HBox|Box|Dropdown|ToggleButtons|Checkbox|IntSlider|FloatSlider|SelectionSlider|"
    r"Output|Audio|HTML|Image)\((children|value|options|layout|description)="
    r"|<Figure size \d+x\d+ with \d+ Axes>"
)


class LabNotebook:
    """A browser page on JupyterLab, driven one user step at a time.

    Parameters
    ----------
    page : playwright.sync_api.Page
        A fresh page of a headless browser.
    url, token : str
        The server's base URL and its authentication token.
    root : Path
        The server's root folder (notebooks are copied there before they are opened).
    shots : Path
        Folder for the screenshots; :attr:`screenshots` lists them in the order taken.
    """

    def __init__(self, page: Page, url: str, token: str, root: Path, shots: Path) -> None:
        self.page = page
        self.url = url
        self.token = token
        self.root = root
        self.shots = shots
        self.screenshots: list[Path] = []
        self.page_errors: list[str] = []
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        page.set_default_timeout(STEP_TIMEOUT_MS)

    def copy_notebook(self, name: str, parameters: dict[str, Any] | None = None) -> str:
        """Copy ``notebooks/<name>`` into the root, outputs cleared, ``parameters`` injected.

        The overrides go into a cell tagged ``injected-parameters`` right after the cell tagged
        ``parameters``, as papermill does, so the notebook's own defaults stay visible.
        """
        notebook = json.loads((NOTEBOOKS / name).read_text())
        cells = []
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                cell = {**cell, "outputs": [], "execution_count": None}
            cells.append(cell)
            if parameters and "parameters" in cell.get("metadata", {}).get("tags", []):
                source = "".join(f"{key} = {value!r}\n" for key, value in parameters.items())
                injected = copy.deepcopy(cell)
                injected.update(source=source, metadata={"tags": ["injected-parameters"]})
                if "id" in injected:
                    injected["id"] = "injected-parameters"
                cells.append(injected)
        (self.root / name).write_text(json.dumps({**notebook, "cells": cells}, indent=1))
        return name

    def open(self, name: str) -> None:
        """Open ``name`` in JupyterLab and wait until its kernel has started and is idle.

        Where JupyterLab asks which kernel to start, the preselected one (the notebook's own)
        is accepted, as a person would.
        """
        self.page.goto(
            f"{self.url}/lab/tree/{name}?reset&token={self.token}", timeout=OPEN_TIMEOUT_MS
        )
        self.page.locator(f"{PANEL} .jp-Cell").first.wait_for(timeout=OPEN_TIMEOUT_MS)
        select = (
            self.page.locator(".jp-Dialog")
            .filter(has_text="Select Kernel")
            .get_by_role("button", name="Select Kernel")
        )
        deadline = time.monotonic() + OPEN_TIMEOUT_MS / 1000
        while self.kernel_state(name) != "idle":
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the kernel of {name} did not start: {self.kernel_state(name)}"
                )
            if select.is_visible():
                select.click()
            self.page.wait_for_timeout(250)

    def kernel_state(self, name: str) -> str | None:
        """Execution state of the kernel of notebook ``name`` (None: no kernel yet)."""
        sessions = self.page.request.get(f"{self.url}/api/sessions", headers=self._auth())
        for session in sessions.json():
            if session["path"] == name and session.get("kernel"):
                return session["kernel"]["execution_state"]
        return None

    def run_all(self, timeout_s: float = 120.0) -> float:
        """*Run > Run All Cells* from the menu; seconds until every code cell has run.

        Raises AssertionError with the error output if a cell fails.
        """
        from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        start = time.monotonic()
        try:
            state = self.page.wait_for_function(
                """panel => {
                    const nb = document.querySelector(panel);
                    const err = nb && nb.querySelector(
                        "[data-mime-type='application/vnd.jupyter.stderr'] pre");
                    if (err && /Traceback/.test(err.textContent)) return "error";
                    const prompts = nb ? [...nb.querySelectorAll(".jp-CodeCell .jp-InputPrompt")]
                                       : [];
                    const done = prompts.length
                        && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
                    const idle = nb && nb.querySelector(
                        ".jp-Notebook-ExecutionIndicator[data-status='idle']");
                    return done && idle ? "done" : false;
                }""",
                arg=PANEL,
                timeout=timeout_s * 1000,
                polling=250,
            ).json_value()
        except PlaywrightTimeoutError:
            self.page.screenshot(path=str(self.shots / "run_all_timeout.png"))
            panel = self.page.locator(PANEL)
            prompts = panel.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
            status = panel.locator(".jp-Notebook-ExecutionIndicator").get_attribute("data-status")
            raise AssertionError(
                f"Run All did not finish in {timeout_s:.0f} s: prompts {prompts}, kernel {status}"
            ) from None
        elapsed = time.monotonic() - start
        if state == "error":
            errors = self.page.locator(
                f"{PANEL} [data-mime-type='application/vnd.jupyter.stderr']"
            ).all_inner_texts()
            raise AssertionError("a cell failed:\n" + "\n".join(errors))
        return elapsed

    def open_and_run(
        self,
        notebook: str,
        parameters: dict[str, Any] | None,
        widget: str,
        timeout_s: float = 120.0,
    ) -> tuple[Locator, float]:
        """Copy ``notebook`` with ``parameters``, open it and run all its cells.

        Returns the output holding ``widget`` (a CSS selector) and the run's seconds. Fails if
        an output shows a widget's text repr instead of the widget.
        """
        self.open(self.copy_notebook(notebook, parameters))
        seconds = self.run_all(timeout_s)
        output = self.widget_output(widget)
        assert self.text_reprs() == [], f"widgets shown as text: {self.text_reprs()}"
        return output, seconds

    def redraw(
        self, root: Locator, image: str, action: Callable[[], None], shot: str
    ) -> tuple[float, str]:
        """Do ``action``, wait for the image ``image`` under ``root`` to change, screenshot.

        Returns the seconds from the action to the new image and the new image's digest.
        """
        before_src = self.read(root, image, "src")
        before = self.image_digest(root, image)
        start = time.monotonic()
        action()
        self.wait_for_change(root, image, before_src, "src")
        seconds = time.monotonic() - start
        after = self.image_digest(root, image)
        assert after != before, f"{image!r} was redrawn unchanged after {shot}"
        self.screenshot(root, shot)
        return seconds, after

    def widget_output(self, has: str) -> Locator:
        """The output area holding the widget view that contains ``has`` (a CSS selector)."""
        output = (
            self.page.locator(f"{PANEL} .jp-OutputArea-output")
            .filter(has=self.page.locator(has))
            .first
        )
        output.wait_for(state="visible", timeout=STEP_TIMEOUT_MS)
        return output

    def text_reprs(self) -> list[str]:
        """Outputs that show a widget's text repr instead of the widget."""
        texts = self.page.locator(f"{PANEL} .jp-OutputArea-output").all_inner_texts()
        return [t[:200] for t in texts if WIDGET_TEXT_REPR.search(t)]

    def screenshot(self, target: Locator, name: str) -> Path:
        """Save a PNG of ``target`` (scrolled into view) as ``<shots>/<NN>_<name>.png``."""
        path = self.shots / f"{len(self.screenshots) + 1:02d}_{name}.png"
        target.scroll_into_view_if_needed()
        target.screenshot(path=str(path), animations="disabled")
        self.screenshots.append(path)
        return path

    @staticmethod
    def toggle(root: Locator, option: str) -> None:
        """Press the first visible toggle button labelled ``option`` under ``root``."""
        root.locator(
            ".widget-toggle-buttons:visible button", has_text=re.compile(rf"^{re.escape(option)}$")
        ).first.click()

    @staticmethod
    def dropdown(root: Locator, label: str) -> Locator:
        """The first visible ``<select>`` of the dropdown described ``label`` under ``root``."""
        widget = root.locator(".widget-dropdown:visible").filter(
            has=root.page.locator("label", has_text=re.compile(rf"^{re.escape(label)}$"))
        )
        return widget.first.locator("select")

    def choose(self, root: Locator, label: str, option: str) -> None:
        """Pick ``option`` (its text) in the dropdown described ``label``."""
        self.dropdown(root, label).select_option(label=option)

    @staticmethod
    def slider(root: Locator, label: str) -> Locator:
        """The first visible slider widget described ``label`` under ``root``."""
        return (
            root.locator(".widget-slider:visible")
            .filter(has=root.page.locator("label", has_text=re.compile(rf"^{re.escape(label)}$")))
            .first
        )

    def set_slider(self, root: Locator, label: str, value: str) -> None:
        """Type ``value`` into the slider's readout and press Enter, as a user may."""
        readout = self.slider(root, label).locator(".widget-readout")
        readout.click()
        readout.press("ControlOrMeta+a")
        readout.press_sequentially(value)
        readout.press("Enter")

    @staticmethod
    def nudge_slider(root: Locator, label: str, steps: int) -> None:
        """Move the slider's handle ``steps`` steps with the arrow keys (negative: left)."""
        handle = LabNotebook.slider(root, label).locator(".noUi-handle")
        handle.focus()
        for _ in range(abs(steps)):
            handle.press("ArrowRight" if steps > 0 else "ArrowLeft")

    @staticmethod
    def read(root: Locator, selector: str, prop: str = "innerHTML") -> str:
        """DOM property ``prop`` of the first element matching ``selector`` under ``root``."""
        return root.evaluate(
            "(el, [sel, prop]) => { const e = el.querySelector(sel);"
            " return e ? String(e[prop] ?? '') : ''; }",
            [selector, prop],
        )

    @staticmethod
    def image_digest(root: Locator, selector: str) -> str:
        """SHA-256 of the bytes behind the first ``<img>`` matching ``selector`` under ``root``.

        Raises AssertionError if the image is missing or the browser could not decode it.
        """
        digest = root.evaluate(
            """async (el, sel) => {
                const img = el.querySelector(sel);
                if (!img || !img.src) return "";
                await img.decode().catch(() => null);
                if (!img.naturalWidth) return "";
                const bytes = await (await fetch(img.src)).arrayBuffer();
                const hash = await crypto.subtle.digest("SHA-256", bytes);
                const hex = b => b.toString(16).padStart(2, "0");
                return [...new Uint8Array(hash)].map(hex).join("");
            }""",
            selector,
        )
        assert digest, f"no decodable image at {selector!r}"
        return digest

    @staticmethod
    def clipped(root: Locator) -> list[str]:
        """Widgets under ``root`` drawn past its right edge, and labels cut short."""
        return root.evaluate(
            """el => {
                const right = el.getBoundingClientRect().right + 1, found = [];
                for (const w of el.querySelectorAll(".jupyter-widgets")) {
                    const box = w.getBoundingClientRect();
                    if (box.width && box.right > right) found.push("past edge: " + w.className
                        + " " + (w.textContent || "").slice(0, 40));
                }
                const labels = ".widget-label, .widget-label-basic, .widget-label-basic span";
                for (const t of el.querySelectorAll(labels)) {
                    if (t.offsetWidth && t.scrollWidth > t.clientWidth + 1)
                        found.push("cut short: " + t.textContent);
                }
                return found;
            }"""
        )

    def wait_for_change(
        self,
        root: Locator,
        selector: str,
        before: str,
        prop: str = "innerHTML",
        timeout_ms: int = STEP_TIMEOUT_MS,
    ) -> float:
        """Seconds until ``selector``'s ``prop`` under ``root`` is set and differs from ``before``.

        The element may be replaced meanwhile (an Output widget redrawing its figure). Waits
        through the page, so it works for properties that no attribute mirrors.
        """
        start = time.monotonic()
        root.page.wait_for_function(
            "([el, sel, prop, before]) => { const e = el.querySelector(sel);"
            " return !!e && !!e[prop] && String(e[prop]) !== before; }",
            arg=[root.element_handle(), selector, prop, before],
            timeout=timeout_ms,
            polling=50,
        )
        return time.monotonic() - start

    def shut_down_kernels(self) -> None:
        """Shut down every kernel of the server (through the page's session)."""
        for kernel in self.page.request.get(f"{self.url}/api/kernels", headers=self._auth()).json():
            self.page.request.delete(f"{self.url}/api/kernels/{kernel['id']}", headers=self._auth())

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}
