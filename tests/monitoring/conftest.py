"""Monitoring fixtures: a Monitoring facade over a fresh registry with a manual clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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


@pytest.fixture(scope="session")
def iris_home(tmp_path_factory: pytest.TempPathFactory, iris, iris_pipeline) -> Path:  # type: ignore[no-untyped-def]
    """A registry (built once) with `iris` v1 and its reference profile (the training data)."""
    from modelport.foundation.settings import Settings
    from modelport.monitoring.references import attach_reference

    home = tmp_path_factory.mktemp("monitored")
    registry = Registry.open(Settings.at(home))
    x, _ = iris
    record = registry.register(iris_pipeline, name="iris", input_example=x.head(3))
    attach_reference(registry, record, x)
    registry.close()
    return home


@pytest.fixture
def iris_settings(iris_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Settings on a private copy of the iris registry, also set in the environment (for the CLI)."""
    import shutil

    from modelport.foundation.settings import Settings

    copy = tmp_path / "home"
    shutil.copytree(iris_home, copy)
    monkeypatch.setenv("MODELPORT_HOME", str(copy))
    monkeypatch.delenv("MODELPORT_DB_URL", raising=False)
    monkeypatch.delenv("MODELPORT_ARTIFACTS", raising=False)
    return Settings.at(copy)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
