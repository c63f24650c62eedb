"""Fixtures for the serving services: an iris registry and an event loop backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from modelport.foundation.settings import Settings
from modelport.registry.service import Registry


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio."""
    return "asyncio"


@pytest.fixture(scope="session")
def iris_home(tmp_path_factory: pytest.TempPathFactory, iris, iris_pipeline) -> Path:  # type: ignore[no-untyped-def]
    """A registry built once: `iris` v1 (champion) and v2, the same pipeline."""
    home = tmp_path_factory.mktemp("iris-registry")
    registry = Registry.open(Settings.at(home))
    registry.register(iris_pipeline, name="iris", input_example=iris[0].head(3), alias="champion")
    registry.register(iris_pipeline, name="iris", input_example=iris[0].head(3))
    registry.close()
    return home


@pytest.fixture
def iris_registry(iris_home: Path, tmp_path: Path) -> Iterator[Registry]:
    """A private copy of the iris registry (tests move aliases)."""
    import shutil

    copy = tmp_path / "home"
    shutil.copytree(iris_home, copy)
    registry = Registry.open(Settings.at(copy))
    yield registry
    registry.close()
