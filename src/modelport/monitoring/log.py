"""The prediction log: rows in the database, read back by window, trimmed by age or count, erased on request.

Why the database and not Parquet segments queried with DuckDB: see docs/monitoring.md ("Where the log
lives"); in short, feedback must join it transactionally (a 2xx means committed), several workers and
replicas write it without coordinating file names, erasure is one DELETE, and the measured window
reads (bench/drift/log_storage.py) stay within seconds at a million rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson
import pandas as pd
from sqlalchemy import Engine, and_, delete, func, insert, select

from modelport.foundation.clock import Clock, SystemClock
from modelport.foundation.errors import InvalidInputError
from modelport.monitoring.outputs import output_frame
from modelport.monitoring.records import field_of
from modelport.storage.database import reader
from modelport.storage.schema import prediction_log

_DUMP = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
_ERASE_CHUNK = 5_000


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value, option=_DUMP, default=str).decode()


def row_values(row: Any) -> dict[str, Any]:
    """A record (serving's, monitoring's or a dict) as a row of the `prediction_log` table."""
    return {
        "prediction_id": str(field_of(row, "prediction_id")), "model": str(field_of(row, "model")),
        "version": field_of(row, "version"), "route": str(field_of(row, "route") or "primary")[:16],
        "at": as_utc(field_of(row, "time")), "inputs": _json(field_of(row, "inputs") or {}) or "{}",
        "outputs": _json(field_of(row, "outputs")), "probabilities": _json(field_of(row, "probabilities")),
        "latency_ms": field_of(row, "latency_ms"), "status": str(field_of(row, "status") or "ok")[:16],
        "error": field_of(row, "error"),
    }


def as_utc(value: Any) -> datetime:
    """A timezone-aware UTC datetime (naive values are taken as UTC, which is what SQLite hands back)."""
    if not isinstance(value, datetime):
        raise InvalidInputError(f"prediction time must be a datetime, got {type(value).__name__}", field="time")
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def utc_series(values: list[Any]) -> pd.Series:
    """Database datetimes as a UTC-aware pandas series."""
    return pd.Series(pd.to_datetime(values, utc=True), dtype="datetime64[ns, UTC]")


@dataclass(frozen=True)
class LogWindow:
    """The rows of one window: inputs as a frame, outputs as a frame, and the per-row metadata."""

    inputs: pd.DataFrame
    outputs: pd.DataFrame
    meta: pd.DataFrame
    start: datetime
    end: datetime

    def __len__(self) -> int:
        return len(self.meta)


class PredictionLog:
    """Reads and writes of the `prediction_log` table."""

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self._read = reader(engine)
        self.clock = clock or SystemClock()

    def write(self, rows: Iterable[Any]) -> int:
        """Insert records in one transaction; returns how many were written."""
        values = [row_values(r) for r in rows]
        if values:
            with self.engine.begin() as conn:
                conn.execute(insert(prediction_log), values)
        return len(values)

    def window(self, model: str, window: timedelta, *, version: int | None = None, route: str | None = "primary",
               ok_only: bool = True, end: datetime | None = None, classes: list[Any] | None = None) -> LogWindow:
        """The rows of `model` logged in the last `window` (ending at `end`, default now)."""
        stop = end or self.clock.now()
        start = stop - window
        table = prediction_log
        where = [table.c.model == model, table.c.at > start, table.c.at <= stop]
        if version is not None:
            where.append(table.c.version == version)
        if route is not None:
            where.append(table.c.route == route)
        if ok_only:
            where.append(table.c.status == "ok")
        query = select(table.c.prediction_id, table.c.version, table.c.route, table.c.at, table.c.inputs,
                       table.c.outputs, table.c.probabilities, table.c.latency_ms, table.c.status).where(and_(*where))
        with self._read.connect() as conn:
            rows = list(conn.execute(query.order_by(table.c.at)).all())
        return _to_window(rows, start, stop, classes)

    def count(self, model: str | None = None) -> int:
        query = select(func.count()).select_from(prediction_log)
        if model is not None:
            query = query.where(prediction_log.c.model == model)
        with self._read.connect() as conn:
            return int(conn.execute(query).scalar() or 0)

    def retain(self, *, max_age: timedelta | None = None, max_rows: int | None = None) -> int:
        """Delete rows older than `max_age` and, beyond `max_rows`, the oldest ones; returns rows deleted."""
        removed = 0
        table = prediction_log
        with self.engine.begin() as conn:
            if max_age is not None:
                removed += conn.execute(delete(table).where(table.c.at < self.clock.now() - max_age)).rowcount or 0
            if max_rows is not None:
                if max_rows < 0:
                    raise InvalidInputError("max_rows must be zero or more", field="max_rows")
                cutoff = conn.execute(select(table.c.at).order_by(table.c.at.desc()).offset(max_rows).limit(1)).scalar()
                if cutoff is not None:
                    removed += conn.execute(delete(table).where(table.c.at <= cutoff)).rowcount or 0
        return removed

    def erase(self, field: str, value: Any, *, model: str | None = None) -> int:
        """Delete every row whose input `field` equals `value` (data-subject erasure); returns rows deleted."""
        if not field:
            raise InvalidInputError("erase needs the name of an input field", field="field")
        table = prediction_log
        query = select(table.c.prediction_id, table.c.inputs)
        if model is not None:
            query = query.where(table.c.model == model)
        # Matching in Python keeps one behaviour on SQLite and PostgreSQL (their JSON operators differ).
        with self._read.connect() as conn:
            doomed = [pid for pid, text in conn.execute(query) if orjson.loads(text).get(field) == value]
        with self.engine.begin() as conn:
            for start in range(0, len(doomed), _ERASE_CHUNK):
                conn.execute(delete(table).where(table.c.prediction_id.in_(doomed[start:start + _ERASE_CHUNK])))
        return len(doomed)


def _to_window(rows: list[Any], start: datetime, end: datetime, classes: list[Any] | None) -> LogWindow:
    loads = orjson.loads
    inputs = pd.DataFrame.from_records([loads(r.inputs) for r in rows]) if rows else pd.DataFrame()
    predictions = [loads(r.outputs) if r.outputs is not None else None for r in rows]
    probabilities = [loads(r.probabilities) if r.probabilities is not None else None for r in rows]
    has_proba = bool(rows) and all(p is not None for p in probabilities)
    outputs = output_frame(predictions, probabilities if has_proba else None, classes)
    meta = pd.DataFrame({"prediction_id": [r.prediction_id for r in rows], "version": [r.version for r in rows],
                         "route": [r.route for r in rows], "at": utc_series([r.at for r in rows]),
                         "latency_ms": [r.latency_ms for r in rows], "status": [r.status for r in rows]})
    return LogWindow(inputs, outputs, meta, start, end)
