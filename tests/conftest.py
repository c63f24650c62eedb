"""Shared fixtures: an isolated MODELPORT_HOME, registries on SQLite and PostgreSQL, real small models."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelport.foundation.settings import Settings
from modelport.registry.service import Registry

POSTGRES_ENV = "MODELPORT_TEST_POSTGRES_URL"
REQUIRE_POSTGRES_ENV = "MODELPORT_REQUIRE_POSTGRES"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh MODELPORT_HOME for this test, also set in the environment (for CLI and API calls)."""
    root = tmp_path / "mp-home"
    monkeypatch.setenv("MODELPORT_HOME", str(root))
    monkeypatch.delenv("MODELPORT_DB_URL", raising=False)
    monkeypatch.delenv("MODELPORT_ARTIFACTS", raising=False)
    return root


def postgres_url_or_skip() -> str:
    """The PostgreSQL URL for tests; skip (or fail in CI) when there is none."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if os.environ.get(REQUIRE_POSTGRES_ENV) == "1":
            pytest.fail(f"{REQUIRE_POSTGRES_ENV}=1 but {POSTGRES_ENV} is not set")
        pytest.skip(f"set {POSTGRES_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to run PostgreSQL tests")
    return url


def fresh_postgres_schema(base_url: str) -> str:
    """Create an empty schema and return a URL whose connections use it (isolation per test)."""
    import sqlalchemy as sa

    schema = f"mp_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(base_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        if os.environ.get(REQUIRE_POSTGRES_ENV) == "1":
            pytest.fail(f"PostgreSQL at {base_url} is required but unreachable: {exc}")
        pytest.skip(f"PostgreSQL at {base_url} is unreachable: {exc}")
    finally:
        engine.dispose()
    separator = "&" if "?" in base_url else "?"
    return f"{base_url}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL: SQLite in tmp_path, or a fresh schema in the test PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.db'}"
    return fresh_postgres_schema(postgres_url_or_skip())


@pytest.fixture
def settings(home: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings on both databases (the test runs once per database)."""
    monkeypatch.setenv("MODELPORT_DB_URL", db_url)
    return Settings(home=home, db_url=db_url, artifacts_url=str(home / "artifacts"))


@pytest.fixture
def registry(settings: Settings) -> Iterator[Registry]:
    """A migrated registry on each database."""
    reg = Registry.open(settings)
    yield reg
    reg.close()


@pytest.fixture
def sqlite_registry(home: Path) -> Iterator[Registry]:
    """A registry on SQLite only, for tests whose subject is not the database."""
    reg = Registry.open(Settings.at(home))
    yield reg
    reg.close()


@pytest.fixture(scope="session")
def iris():  # type: ignore[no-untyped-def]
    """Iris as a DataFrame and its target."""
    from sklearn.datasets import load_iris

    return load_iris(return_X_y=True, as_frame=True)


@pytest.fixture(scope="session")
def iris_pipeline(iris):  # type: ignore[no-untyped-def]
    """A scaler + logistic regression trained on iris (with column names)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = iris
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(x, y)


@pytest.fixture(scope="session")
def cancer():  # type: ignore[no-untyped-def]
    """Breast cancer data as a DataFrame and its target."""
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(return_X_y=True, as_frame=True)
