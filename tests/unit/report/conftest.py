"""The report tests' results stores, written by one builder (:mod:`store_builder`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from store_builder import StoreBuilder


@pytest.fixture
def new_store(tmp_path: Path) -> Callable[..., StoreBuilder]:
    """Builders of stores: ``new_store()`` writes ``tmp_path/results.sqlite``,
    ``new_store(folder)`` the ``results.sqlite`` in another folder."""

    def make(folder: Path = tmp_path, seed: int = 0) -> StoreBuilder:
        return StoreBuilder(Path(folder) / "results.sqlite", seed)

    return make
