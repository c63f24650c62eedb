"""Fixtures for rollout tests: a registry with good, flaky and bad iris versions, and live servers."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelport.foundation.clock import ManualClock
from modelport.foundation.settings import Settings
from modelport.registry.service import Registry


@pytest.fixture(scope="session")
def rollout_home(tmp_path_factory: pytest.TempPathFactory, iris, iris_pipeline) -> Path:  # type: ignore[no-untyped-def]
    """`iris`: v1 pipeline (champion), v2 rules (good), v3 tree (good), v4 flaky rules, v5 always setosa."""
    from sklearn.tree import DecisionTreeClassifier

    from .rollout_test_models import ConstantIris, FlakyIris, RuleIris

    home = tmp_path_factory.mktemp("rollout")
    x, y = iris
    registry = Registry.open(Settings.at(home))
    example = x.head(3)
    registry.register(iris_pipeline, name="iris", input_example=example, alias="champion")
    registry.register(RuleIris(), name="iris", input_example=example, trust=True, flavor="python")
    registry.register(DecisionTreeClassifier(max_depth=3, random_state=0).fit(x, y), name="iris",
                      input_example=example)
    registry.register(FlakyIris(), name="iris", input_example=example, trust=True, flavor="python")
    registry.register(ConstantIris(), name="iris", input_example=example, trust=True, flavor="python")
    registry.close()
    return home


@pytest.fixture
def rollout_settings(rollout_home: Path, tmp_path: Path) -> Settings:
    """Settings on a private copy of the rollout registry."""
    copy = tmp_path / "home"
    shutil.copytree(rollout_home, copy)
    return Settings.at(copy)


@pytest.fixture
def live_server(rollout_settings: Settings) -> Iterator[Any]:
    """A live server whose predictions go to the prediction log."""
    from .rollout_live import serving

    with serving(rollout_settings) as live:
        yield live


@pytest.fixture
def unlogged_server(rollout_settings: Settings) -> Iterator[Any]:
    """A live server without a prediction log (for tests that only count answers)."""
    from .rollout_live import serving

    with serving(rollout_settings, log=False) as live:
        yield live


@pytest.fixture
def clocked(settings: Settings, iris, iris_pipeline) -> Iterator[tuple[Registry, ManualClock]]:  # type: ignore[no-untyped-def]
    """A registry (SQLite and PostgreSQL) on a ManualClock with iris v1 (champion), v2 and v3."""
    from sklearn.tree import DecisionTreeClassifier

    clock = ManualClock()
    registry = Registry.open(settings, clock=clock)
    x, y = iris
    registry.register(iris_pipeline, name="iris", input_example=x.head(3), alias="champion")
    for depth in (3, 2):
        registry.register(DecisionTreeClassifier(max_depth=depth, random_state=0).fit(x, y), name="iris",
                          input_example=x.head(3))
    yield registry, clock
    registry.close()
