"""Fixtures of the served-adapter tests."""

from __future__ import annotations

import pytest

from tests.hostile_esuite import HostileEsuite


@pytest.fixture(scope="module")
def hostile():
    """The hostile e-Suite (tests/hostile_esuite.py), one per test module."""
    with HostileEsuite() as server:
        yield server
