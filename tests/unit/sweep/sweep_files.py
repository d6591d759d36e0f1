"""What the sweep tests share beyond fixtures: the repository root and writing a sweep file."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
