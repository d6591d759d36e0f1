"""The error raised for impossible model requests."""

from __future__ import annotations

__all__ = ["ModelError"]


class ModelError(ValueError):
    """An unknown architecture, an impossible setting, or weights that do not fit a model."""
