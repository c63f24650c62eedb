"""Monitoring fixtures: a Monitoring facade over a fresh registry with a manual clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from modelport.foundation.clock import ManualClock
from modelport.monitoring.service import Monitoring
from modelport.registry.service import Registry

from .builders import START


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def monitoring(sqlite_registry: Registry, clock: ManualClock) -> Monitoring:
    return Monitoring(sqlite_registry, clock=clock)


@pytest.fixture
def any_db_monitoring(registry: Registry, clock: ManualClock) -> Iterator[Monitoring]:
    """Monitoring on SQLite and on PostgreSQL (when MODELPORT_TEST_POSTGRES_URL is set)."""
    yield Monitoring(registry, clock=clock)
