"""Fixtures for the participatory-budget tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.budget.counting.realdata import pabulib_dir


@pytest.fixture
def require_data() -> Path:
    """The real-election directory; skips the test when it is absent."""
    directory = pabulib_dir()
    if not (directory / "expected.json").is_file():
        pytest.skip(f"Pabulib test data not found in {directory} (set WIJKBOT_PABULIB_DIR)")
    return directory


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: long-running budget test (city-wide election)")
