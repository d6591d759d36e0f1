"""Shared fixtures: where the real ESC-50 copy lives, and a scratch folder per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ESC50_ROOT = Path(os.environ.get("SPECNB_ESC50", REPO.parent / "shared" / "data" / "esc50"))


@pytest.fixture(scope="session")
def esc50_root() -> Path:
    """The real ESC-50 copy (original OGG release); tests using it skip where it is absent."""
    if not (ESC50_ROOT / "meta" / "esc50.csv").is_file():
        pytest.skip(
            f"real ESC-50 not found at {ESC50_ROOT} (set SPECNB_ESC50 or place ../shared beside "
            "the checkout)"
        )
    return ESC50_ROOT
