"""The prediction log: columnar segments in the database, read back by window, trimmed by age or count, erased on request.

Each write (one sink flush) is one transaction: a narrow `prediction_log` row per prediction (the id index
that feedback checks and joins) and one `prediction_segments` row per model holding the whole records as a
compressed Arrow table. Why not JSON rows, nor Parquet files queried with DuckDB: docs/monitoring.md
("Where the log lives"), measured with bench/monitoring/log_window.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from operator import attrgetter, itemgetter
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, Engine, and_, delete, func, insert, select, update

from modelport.foundation.clock import Clock, SystemClock
from modelport.foundation.errors import InvalidInputError
from modelport.monitoring import blocks, segments
from modelport.monitoring.outputs import output_frame
from modelport.monitoring.records import FIELDS, field_of
from modelport.storage.database import reader
from modelport.storage.schema import prediction_log, prediction_segments

_DUMP = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
_CHUNK = 5_000
_SCAN = 50  # segments decoded at once by erasure and retention
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy's DateTime stores times on SQLite (read back by it)
META = ["prediction_id", "version", "route", "at", "latency_ms", "status"]
#: the index insert of one flush as one statement over a JSON array of row arrays (see `_insert_index`)
_INDEX_INSERT = {
    "sqlite": "INSERT INTO prediction_log (prediction_id, model, version, at, outputs) "
              "SELECT json_extract(value, '$[0]'), ?, ?, json_extract(value, '$[1]'), json_extract(value, '$[2]') "
              "FROM json_each(?)",
    "postgresql": "INSERT INTO prediction_log (prediction_id, model, version, at, outputs) "
                  "SELECT r->>0, %s, %s::numeric::integer, (r->>1)::timestamp AT TIME ZONE 'UTC', r->>2 "
                  "FROM json_array_elements(%s::json) AS r",
}


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value, option=_DUMP, default=str).decode()


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


def _columns(rows: list[Any]) -> dict[str, list[Any]]:
    """Records (serving's, monitoring's or dicts) as lists per field, times in UTC, strings bounded."""
    columns = dict(zip(FIELDS, map(list, zip(*_field_tuples(rows), strict=True)), strict=True))
    columns["time"] = [as_utc(t) for t in columns["time"]]
    columns["prediction_id"] = [str(p) for p in columns["prediction_id"]]
    columns["route"] = [str(r or "primary")[:16] for r in columns["route"]]
    columns["status"] = [str(s or "ok")[:16] for s in columns["status"]]
    columns["inputs"] = [i or {} for i in columns["inputs"]]
    return columns


def _field_tuples(rows: list[Any]) -> list[tuple[Any, ...]]:
    # One C-level getter per row when the batch is uniform (the server's records); field by field otherwise.
    getter = itemgetter(*FIELDS) if isinstance(rows[0], dict) else attrgetter(*FIELDS)
    try:
        return list(map(getter, rows))
    except (KeyError, AttributeError, TypeError):
        return [tuple(field_of(r, name) for name in FIELDS) for r in rows]


def segment_rows(rows: list[Any]) -> list[dict[str, Any]]:
    """The `prediction_segments` rows (one per model) holding these records."""
    columns = _columns(rows)
    return _segment_rows(columns, [str(m) for m in columns["model"]])


def _segment_rows(columns: dict[str, list[Any]], models: list[str]) -> list[dict[str, Any]]:
    return [_segment(_pick(columns, positions), model) for model, positions in _by_model(models).items()]


def _segment(columns: dict[str, list[Any]], model: str) -> dict[str, Any]:
    """The `prediction_segments` row for one model's records."""
    meta = {name: columns[name] for name in ("prediction_id", "version", "route", "status", "latency_ms", "error")}
    payload = segments.encode({**meta, "at": columns["time"]}, columns["outputs"], columns["probabilities"],
                              columns["inputs"])
    return {"model": model, "first_at": min(columns["time"]), "last_at": max(columns["time"]),
            "rows": len(columns["time"]), "payload": payload}


class PredictionLog:
    """Reads and writes of the prediction log (`prediction_log` index and `prediction_segments`)."""

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self._read = reader(engine)
        self.clock = clock or SystemClock()

    def write(self, rows: Iterable[Any]) -> int:
        """Insert records and serving's blocks in one transaction; returns how many rows were written."""
        items = list(rows)
        parts, records = blocks.partition(items) if items else ([], [])
        if not parts and not records:
            return 0
        index: dict[tuple[str, Any], list[tuple[Any, ...]]] = {}  # (id, time text, outputs JSON) per model version
        for part in parts:
            index.setdefault((part.model, part.version), []).extend(
                zip(part.ids, part.index_times(), part.outputs_json, strict=True))
        payloads = [_block_segment(part) for part in parts]
        if records:
            columns = _columns(records)
            models = [str(m) for m in columns["model"]]
            times = [t.strftime(_SQLITE_TIME) for t in columns["time"]]
            for pid, model, version, at, outputs in zip(columns["prediction_id"], models, columns["version"], times,
                                                        map(_json, columns["outputs"]), strict=True):
                index.setdefault((model, _plain(version)), []).append((pid, at, outputs))
            payloads += _segment_rows(columns, models)
        with self.engine.begin() as conn:
            for (model, version), rows in index.items():
                _insert_index(conn, model, version, rows)
            conn.execute(insert(prediction_segments), payloads)
        return sum(len(part.ids) for part in parts) + len(records)

    def window(self, model: str, window: timedelta, *, version: int | None = None, route: str | None = "primary",
               ok_only: bool = True, end: datetime | None = None, classes: list[Any] | None = None,
               inputs: bool = True) -> LogWindow:
        """The rows of `model` logged in the last `window` (ending at `end`, default now); `inputs=False` skips them."""
        stop = as_utc(end or self.clock.now())
        start = stop - window
        table = prediction_segments
        query = (select(table.c.payload)
                 .where(table.c.model == model, table.c.last_at > start, table.c.first_at <= stop).order_by(table.c.id))
        with self._read.connect() as conn:
            payloads = conn.execute(query).scalars().all()
        wanted = {"version": version, "route": route, "status": "ok" if ok_only else None}
        tables = [_filter(segments.decode(p), start, stop, wanted, inputs) for p in payloads]
        frame, matrix = segments.combine([t for t in tables if t.num_rows])
        return _to_window(frame, matrix, start, stop, classes)

    def count(self, model: str | None = None) -> int:
        """How many predictions are logged (for `model`, or in all): the segments' row counts, summed."""
        query = select(func.sum(prediction_segments.c.rows))
        if model is not None:
            query = query.where(prediction_segments.c.model == model)
        with self._read.connect() as conn:
            return int(conn.execute(query).scalar() or 0)

    def retain(self, *, max_age: timedelta | None = None, max_rows: int | None = None) -> int:
        """Delete rows older than `max_age` and, beyond `max_rows`, the oldest ones; returns rows deleted."""
        if max_rows is not None and max_rows < 0:
            raise InvalidInputError("max_rows must be zero or more", field="max_rows")
        removed = 0
        with self.engine.begin() as conn:
            if max_age is not None:
                removed += _trim(conn, self.clock.now() - max_age, inclusive=False)
            if max_rows is not None:
                cutoff = _count_cutoff(conn, max_rows)
                if cutoff is not None:
                    removed += _trim(conn, cutoff, inclusive=True)
        return removed

    def erase(self, field: str, value: Any, *, model: str | None = None) -> int:
        """Delete every row whose input `field` equals `value` (data-subject erasure); returns rows deleted."""
        if not field:
            raise InvalidInputError("erase needs the name of an input field", field="field")
        column = segments.INPUT_PREFIX + field
        removed = 0
        with self.engine.begin() as conn:
            for segment_id, table in _segments(conn, model):
                if column not in table.column_names:
                    continue
                as_json = column in segments.json_columns(table)
                cells = [orjson.loads(v) if as_json and v is not None else v for v in table.column(column).to_pylist()]
                doomed = np.fromiter((cell == value for cell in cells), dtype=bool, count=len(cells))
                removed += _drop_rows(conn, segment_id, table, doomed)
        return removed


def _block_segment(part: blocks.Columns) -> dict[str, Any]:
    """The `prediction_segments` row of one model's columnar rows."""
    low, high = pc.min_max(part.arrays["at"]).values()
    return {"model": part.model, "first_at": low.as_py(), "last_at": high.as_py(), "rows": len(part.ids),
            "payload": segments.encode_arrays(part.arrays)}


def _insert_index(conn: Connection, model: str, version: Any, rows: list[tuple[Any, ...]]) -> None:
    """One `prediction_log` row of `model` and `version` per (id, time as SQLite text, outputs JSON) tuple.

    In one statement over a JSON array of the rows: the database parses and inserts them all while the
    serving process's event loop keeps the GIL. The driver's executemany bound each row in Python and gave
    the GIL away and back once per row (sqlite3 releases it around every step), so under load a flush of
    8,000 rows crawled at a few hundred rows a second and cost the serving thread a switch per row
    (bench/monitoring/log_write.py). The model and version are bound once: reading them from each row's
    JSON cost SQLite about a quarter more. Other databases get the driver's executemany.
    """
    statement = _INDEX_INSERT.get(conn.dialect.name)
    if statement is not None:
        conn.exec_driver_sql(statement, (model, version, orjson.dumps(rows, option=_DUMP).decode()))
        return
    marks = ", ".join(["%s" if conn.dialect.paramstyle != "qmark" else "?"] * 5)  # placeholders only
    sql = f"INSERT INTO prediction_log (prediction_id, model, version, at, outputs) VALUES ({marks})"  # noqa: S608
    conn.exec_driver_sql(sql, [(pid, model, version, at, outputs) for pid, at, outputs in rows])


def _plain(version: Any) -> Any:
    """A version as the driver binds it: numpy's integers as Python's, whole floats as integers."""
    if isinstance(version, np.generic):
        version = version.item()
    return int(version) if isinstance(version, float) and version.is_integer() else version


def _by_model(models: list[str]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for position, model in enumerate(models):
        groups.setdefault(model, []).append(position)
    return groups


def _pick(columns: dict[str, list[Any]], positions: list[int]) -> dict[str, list[Any]]:
    if len(positions) == len(columns["time"]):
        return columns
    return {name: [values[p] for p in positions] for name, values in columns.items()}


def _filter(table: pa.Table, start: datetime, stop: datetime, wanted: dict[str, Any], inputs: bool) -> pa.Table:
    """The rows of one segment inside (start, stop] that match `wanted` (None matches all)."""
    at = table.column("at")
    mask = pc.and_(pc.greater(at, pa.scalar(start, at.type)), pc.less_equal(at, pa.scalar(stop, at.type)))
    for name, value in wanted.items():
        if value is not None:
            mask = pc.and_(mask, pc.equal(table.column(name), pa.scalar(value, table.schema.field(name).type)))
    if not inputs:
        table = table.select([n for n in table.column_names if not n.startswith(segments.INPUT_PREFIX)])
    # Most segments of a window lie wholly inside it: keep them as they are instead of copying every column.
    return table if pc.all(mask).as_py() else table.filter(mask)


def _to_window(frame: pd.DataFrame, matrix: np.ndarray | None, start: datetime, end: datetime,
               classes: list[Any] | None) -> LogWindow:
    if len(frame) and not frame["at"].is_monotonic_increasing:  # segments of several writers interleave in time
        order = np.argsort(frame["at"].to_numpy(), kind="stable")
        frame = frame.iloc[order].reset_index(drop=True)
        matrix = matrix[order] if matrix is not None else None
    inputs = frame[[c for c in frame.columns if c.startswith(segments.INPUT_PREFIX)]]
    inputs = inputs.rename(columns=lambda c: c[len(segments.INPUT_PREFIX):])
    outputs = output_frame(frame["outputs"].to_numpy() if "outputs" in frame else [], matrix, classes)
    meta = frame[META].copy() if len(frame) else pd.DataFrame({c: frame.get(c, []) for c in META})
    meta["at"] = meta["at"].astype("datetime64[ns, UTC]")
    return LogWindow(inputs, outputs, meta, start, end)


def _segments(conn: Connection, model: str | None, where: Any = None) -> Iterator[tuple[int, pa.Table]]:
    """(id, table) of every segment (of `model`, matching `where`), a few at a time."""
    table = prediction_segments
    query = select(table.c.id).order_by(table.c.id)
    if model is not None:
        query = query.where(table.c.model == model)
    if where is not None:
        query = query.where(where)
    ids = list(conn.execute(query).scalars())
    for first in range(0, len(ids), _SCAN):
        chunk = ids[first:first + _SCAN]
        for segment_id, payload in conn.execute(select(table.c.id, table.c.payload).where(table.c.id.in_(chunk))):
            yield segment_id, segments.decode(payload)


def _count_cutoff(conn: Connection, max_rows: int) -> datetime | None:
    """The time of the newest row beyond the newest `max_rows` (None when no more are logged).

    Read from the segments: the oldest ones, by their last time, until they hold the rows in excess. Every
    row up to that bound lies in a segment that starts by it, so the cutoff is among those segments' times,
    and only they are decoded.
    """
    seg = prediction_segments
    spans = conn.execute(select(seg.c.last_at, seg.c.rows).order_by(seg.c.last_at)).all()
    excess = sum(span.rows for span in spans) - max_rows
    if excess <= 0:
        return None
    held, bound = 0, spans[-1].last_at
    for span in spans:
        held += span.rows
        if held >= excess:
            bound = span.last_at
            break
    times = [table.column("at").to_numpy() for _, table in _segments(conn, None, seg.c.first_at <= bound)]
    oldest = np.partition(np.concatenate(times), excess - 1)[excess - 1]
    return as_utc(oldest.astype("datetime64[us]").astype(datetime))


def _trim(conn: Connection, cutoff: datetime, *, inclusive: bool) -> int:
    """Delete predictions made before `cutoff` (or at it, when inclusive); returns how many."""
    seg, log = prediction_segments, prediction_log
    older = log.c.at <= cutoff if inclusive else log.c.at < cutoff
    removed = int(conn.execute(delete(log).where(older)).rowcount or 0)
    whole = seg.c.last_at <= cutoff if inclusive else seg.c.last_at < cutoff
    conn.execute(delete(seg).where(whole))
    straddling = and_(seg.c.first_at <= cutoff if inclusive else seg.c.first_at < cutoff, ~whole)
    for segment_id, table in _segments(conn, None, straddling):
        at = table.column("at")
        bound = pa.scalar(cutoff, at.type)
        doomed = (pc.less_equal(at, bound) if inclusive else pc.less(at, bound)).to_numpy(zero_copy_only=False)
        _rewrite(conn, segment_id, table, doomed)
    return removed


def _drop_rows(conn: Connection, segment_id: int, table: pa.Table, doomed: np.ndarray) -> int:
    """Delete the `doomed` rows of one segment from it and from the id index; returns how many."""
    if not doomed.any():
        return 0
    ids = [p for p, gone in zip(table.column("prediction_id").to_pylist(), doomed, strict=True) if gone]
    for first in range(0, len(ids), _CHUNK):
        conn.execute(delete(prediction_log).where(prediction_log.c.prediction_id.in_(ids[first:first + _CHUNK])))
    _rewrite(conn, segment_id, table, doomed)
    return len(ids)


def _rewrite(conn: Connection, segment_id: int, table: pa.Table, doomed: np.ndarray) -> None:
    """Store a segment without its `doomed` rows (or delete it when none remain)."""
    seg = prediction_segments
    kept = table.filter(pa.array(~doomed))
    if not kept.num_rows:
        conn.execute(delete(seg).where(seg.c.id == segment_id))
        return
    at = kept.column("at")
    low, high = pc.min_max(at).values()
    conn.execute(update(seg).where(seg.c.id == segment_id).values(
        payload=segments.reencode(kept), rows=kept.num_rows, first_at=low.as_py(), last_at=high.as_py()))
