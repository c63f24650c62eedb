"""Engines for SQLite (WAL) and PostgreSQL, and schema migration to the newest revision."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from modelport.foundation.errors import InvalidInputError

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and enforced foreign keys."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError with the URL inside
        raise InvalidInputError(f"invalid database URL: {exc}", field="MODELPORT_DB_URL") from exc
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database)
    engine = create_engine(url, pool_pre_ping=True, future=True)
    if parsed.get_backend_name() == "postgresql":
        event.listen(engine, "connect", _plan_each_query)
    return engine


def _plan_each_query(dbapi_connection: Any, _record: Any) -> None:
    """Plan every statement with its own parameters and the tables' current size.

    psycopg 3 prepares a statement on the server after five runs, and PostgreSQL may then keep one
    generic plan for it. A plan made while a table was empty (a new feedback or log table) is a
    sequential scan, and it stayed one as the table grew: 100,000 feedback items took 139 s instead of
    a few. Planning costs well under a millisecond; a wrong cached plan costs seconds per query.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("SET plan_cache_mode = force_custom_plan")
    cursor.close()
    dbapi_connection.commit()


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, future=True)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit mode for pysqlite; transactions are begun explicitly below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # Writers take the lock at the start so they queue instead of failing on upgrade;
        # readers (see `reader`) start a deferred transaction and never wait in WAL mode.
        readonly = connection.get_execution_options().get("modelport_readonly", False)
        connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return engine


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def reader(engine: Engine) -> Engine:
    """The same engine, marked so that its transactions do not take SQLite's write lock."""
    return engine.execution_options(modelport_readonly=True)
