"""Marker for the slower WASM PVM tests (deselect with ``-m "not slow"``)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: a test that takes more than a second")
