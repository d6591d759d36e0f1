"""The sweep tests estimate with the notebooks' cost models registered, as the CLI does."""

import pytest


@pytest.fixture(autouse=True)
def _registered_costs(notebook_costs: None) -> None:
    """Every sweep test runs with :func:`notebook_costs` (tests/conftest.py)."""
