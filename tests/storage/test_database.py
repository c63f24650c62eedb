"""Engines: SQLite's pragmas, PostgreSQL's planning per query, and a bad URL named as such."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from modelport.foundation.errors import InvalidInputError
from modelport.storage.database import make_engine
from tests.conftest import fresh_postgres_schema, postgres_url_or_skip


def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db' / 'm.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_plans_every_query_with_its_own_parameters() -> None:
    # A generic plan cached while a table was empty stays a sequential scan as the table grows.
    engine = make_engine(fresh_postgres_schema(postgres_url_or_skip()))
    try:
        for _ in range(2):  # a new connection and a pooled one both carry the setting
            with engine.connect() as conn:
                assert conn.execute(sa.text("SHOW plan_cache_mode")).scalar() == "force_custom_plan"
    finally:
        engine.dispose()


def test_a_bad_url_names_the_setting() -> None:
    with pytest.raises(InvalidInputError, match="invalid database URL") as caught:
        make_engine("not a url at all")
    assert caught.value.field == "MODELPORT_DB_URL"
