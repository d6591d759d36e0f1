"""Shared fixtures: a per-session machine cache, the real ESC-50 copy, one-thread torch, the
notebooks' cost models, notebook paths, executed notebooks and their printed output, tiny data,
small notebooks written by tests, and a small classifier trained in seconds on pattern images
for the attack tests."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from specnb.bench.notebook_costs import register_notebook_costs
from specnb.data import AudioDataset, load_dataset
from specnb.sweep.cost_registry import clear_costs
from specnb.sweep.papermill_exec import NOTEBOOKS, notebook_path, run_notebook

REPO = Path(__file__).resolve().parents[1]
ESC50_ROOT = Path(os.environ.get("SPECNB_ESC50", REPO.parent / "shared" / "data" / "esc50"))


@pytest.fixture(scope="session", autouse=True)
def machine_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """specnb's per-machine cache (the measured training precisions) in a folder of this test
    session, never the user's; notebooks run by tests inherit it."""
    folder = tmp_path_factory.mktemp("machine-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SPECNB_CACHE_DIR", str(folder))
        yield folder


@pytest.fixture(scope="session")
def esc50_root() -> Path:
    """The real ESC-50 copy (original OGG release); tests using it skip where it is absent."""
    if not (ESC50_ROOT / "meta" / "esc50.csv").is_file():
        pytest.skip(
            f"real ESC-50 not found at {ESC50_ROOT} (set SPECNB_ESC50 or place ../shared beside "
            "the checkout)"
        )
    return ESC50_ROOT


@pytest.fixture(scope="module")
def one_thread() -> Iterator[None]:
    """Torch on one thread for a test module (the CPU is shared); the old count restored after."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def notebook_costs() -> Iterator[None]:
    """The notebooks' cost models registered with the sweep's estimate, as the CLI does."""
    register_notebook_costs()
    yield
    clear_costs()


@pytest.fixture(scope="session")
def notebook_paths() -> dict[str, Path]:
    """The chain's source notebooks by short name (``"training"`` -> ``notebooks/02_...``)."""
    return {name: notebook_path(name) for name in NOTEBOOKS}


@pytest.fixture(scope="session")
def notebook_stdout() -> Callable[[Path], str]:
    """A function ``(executed notebook) -> everything its code cells printed to stdout``."""

    def stdout(notebook: Path) -> str:
        nb = nbformat.read(notebook, as_version=4)
        return "".join(
            output.get("text", "")
            for cell in nb.cells
            if cell.cell_type == "code"
            for output in cell.get("outputs", [])
            if output.get("name") == "stdout"
        )

    return stdout


#: Source fragments of a notebook cell that draws a figure: a Matplotlib figure handed to
#: ``display`` (the way every notebook shows one, whatever the backend) or a PNG file shown.
FIGURE_CALLS = ("display(fig)", "Image(")


def _cells_missing_figures(notebook: Path) -> list[int]:
    nb = nbformat.read(notebook, as_version=4)
    missing = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not any(call in cell.source for call in FIGURE_CALLS):
            continue
        outputs = cell.get("outputs", [])
        if not any("image/png" in output.get("data", {}) for output in outputs):
            missing.append(index)
    return missing


@pytest.fixture(scope="session")
def cells_missing_figures() -> Callable[[Path], list[int]]:
    """A function ``(executed notebook) -> indices of the code cells that draw a figure
    (:data:`FIGURE_CALLS`) but hold no ``image/png`` output``: empty when every figure
    survived the execution."""
    return _cells_missing_figures


@pytest.fixture(scope="session")
def execute_notebook() -> Callable[..., Path]:
    """Run a numbered notebook under papermill, its kernel on one thread.

    Returns a function ``(name, out, parameters, timeout=300) -> executed notebook path``.
    """

    def execute(name: str, out: Path, parameters: dict[str, Any], timeout: int = 300) -> Path:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("OMP_NUM_THREADS", "1")
            return run_notebook(name, out, parameters, timeout=timeout)

    return execute


@pytest.fixture(scope="session")
def tiny_synthetic() -> AudioDataset:
    """The synthetic dataset with two clips per class: tiny data that needs no download."""
    return load_dataset("synthetic", n_per_class=2)


def _write_notebook(path: Path, parameters: str, body: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    cell = nbformat.v4.new_code_cell(parameters)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell(body)]
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="session")
def write_notebook() -> Callable[[Path, str, str], Path]:
    """``write_notebook(path, parameters, body)``: a Python 3 notebook of a ``parameters``
    cell and one body cell, written to ``path``."""
    return _write_notebook


PatternVictim = tuple[Tensor, Tensor, float]


def _train_on_patterns(
    model: nn.Module,
    *,
    size: int,
    steps: int,
    count: int,
    pool: int,
    seed: int = 0,
    test_seed: int = 1,
) -> PatternVictim:
    """Train ``model`` for ``steps`` Adam steps on batches of 64 ``size``-pixel pattern images
    (leaving it in eval mode); return the first ``count`` of ``pool`` held-out images that it
    classifies correctly, their labels and its accuracy on the pool."""
    from specnb.bench.attack_victim import pattern_images

    images, labels = pattern_images(64 * steps, size, seed=seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for step in range(steps):
        batch = slice(64 * step, 64 * (step + 1))
        loss = F.cross_entropy(model(images[batch]), labels[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    test_images, test_labels = pattern_images(pool, size, seed=test_seed)
    with torch.no_grad():
        correct = model(test_images).argmax(dim=1) == test_labels
    chosen = correct.nonzero().flatten()[:count]
    return test_images[chosen], test_labels[chosen], float(correct.float().mean())


@pytest.fixture(scope="session")
def train_on_patterns() -> Callable[..., PatternVictim]:
    """Train a small classifier on pattern images (see :func:`_train_on_patterns`)."""
    return _train_on_patterns
