"""Batch output to a database table: created if missing, appended one transaction per chunk.

The scored rows, the rejected rows (table `<table>_rejects`) and the journal
entry of a chunk are written in one transaction, so a chunk is either wholly
in the database or not at all. The journal lives in the same database, in
`modelport_batch_jobs` and `modelport_batch_chunks`.
"""

from __future__ import annotations

import re
import threading
from typing import Any

import orjson
import pandas as pd
import sqlalchemy as sa

from modelport.batch.spec import ChunkStats, JobSpec, JobState, ScoredChunk
from modelport.foundation.errors import ConflictError, InvalidInputError
from modelport.storage.database import make_engine

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def _journal_tables(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table]:
    jobs = sa.Table(
        "modelport_batch_jobs",
        metadata,
        sa.Column("job_id", sa.String(32), primary_key=True),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("summary", sa.Text, nullable=True),
    )
    chunks = sa.Table(
        "modelport_batch_chunks",
        metadata,
        sa.Column("job_id", sa.String(32), primary_key=True),
        sa.Column("chunk", sa.Integer, primary_key=True),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("scored", sa.BigInteger, nullable=False),
        sa.Column("rejected", sa.BigInteger, nullable=False),
    )
    return jobs, chunks


class TableSink:
    """Rows appended to `table` in the database at `url`."""

    def __init__(self, url: str, table: str) -> None:
        if not _NAME.match(table):
            raise InvalidInputError(
                f"table name {table!r}: use letters, digits and underscores, starting with a letter", field="table"
            )
        self.url = url
        self.table = table
        self.engine = make_engine(url)
        self.metadata = sa.MetaData()
        self.jobs, self.chunks = _journal_tables(self.metadata)
        self._tables: dict[str, sa.Table] = {}
        self._lock = threading.Lock()
        self._job_id = ""
        # PostgreSQL through psycopg 3 takes the rows with COPY: several times faster than INSERTs.
        self._copy = self.engine.dialect.name == "postgresql" and self.engine.dialect.driver == "psycopg"

    def existing(self, spec: JobSpec) -> JobState | None:
        self._job_id = spec.job_id
        self._create(self.jobs, self.chunks)
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(self.jobs.c.version).where(self.jobs.c.job_id == spec.job_id)).first()
            if row is None:
                return None
            done = conn.execute(sa.select(self.chunks).where(self.chunks.c.job_id == spec.job_id)).all()
        stats = {r.chunk: ChunkStats(r.chunk, r.rows, r.scored, r.rejected) for r in done}
        return JobState(int(row.version), stats)

    def begin(self, spec: JobSpec, version: int) -> None:
        self._job_id = spec.job_id
        with self.engine.begin() as conn:
            conn.execute(
                sa.insert(self.jobs).values(
                    job_id=spec.job_id, spec=orjson.dumps(spec.to_dict()).decode(), version=version
                )
            )

    def attach(self, spec: JobSpec) -> None:
        self._job_id = spec.job_id

    def recover(self) -> None:
        return None  # a chunk's transaction either committed or left nothing

    def commit(self, scored: ScoredChunk) -> None:
        output = self._table(self.table, scored.output)
        rejects = self._table(f"{self.table}_rejects", scored.rejects) if len(scored.rejects) else None
        try:
            with self.engine.begin() as conn:
                # The journal row first: a chunk already committed fails here, before any row is sent.
                conn.execute(sa.insert(self.chunks).values(job_id=self._job_id, **_stats_row(scored.stats)))
                if len(scored.output):
                    self._append(conn, output, scored.output)
                if rejects is not None:
                    self._append(conn, rejects, scored.rejects)
        except sa.exc.IntegrityError as exc:
            raise ConflictError(
                f"chunk {scored.stats.index} of job {self._job_id} is already in {self.url}: "
                "another run of this job is writing to the same table"
            ) from exc
        except sa.exc.SQLAlchemyError as exc:
            raise InvalidInputError(
                f"writing to table {self.table!r} failed: {exc}; an existing table must have the columns of the output",
                field="table",
            ) from exc

    def _append(self, conn: sa.Connection, table: sa.Table, frame: pd.DataFrame) -> None:
        if self._copy:
            copy_rows(conn, table, frame)
        else:
            conn.execute(sa.insert(table), _records(frame))

    def finish(self, summary: dict[str, Any]) -> str:
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(self.jobs)
                .where(self.jobs.c.job_id == self._job_id)
                .values(summary=orjson.dumps(summary).decode())
            )
        return f"{self.jobs.name} (job_id {self._job_id})"

    def close(self) -> None:
        self.engine.dispose()

    def _create(self, *tables: sa.Table) -> None:
        try:
            self.metadata.create_all(self.engine, tables=list(tables), checkfirst=True)
        except sa.exc.SQLAlchemyError:
            # Another worker created it between the check and the CREATE: reflecting below is enough.
            if not all(sa.inspect(self.engine).has_table(t.name) for t in tables):
                raise

    def _table(self, name: str, frame: pd.DataFrame) -> sa.Table:
        with self._lock:
            if name not in self._tables:
                self._tables[name] = self._reflect_or_create(name, frame)
            return self._tables[name]

    def _reflect_or_create(self, name: str, frame: pd.DataFrame) -> sa.Table:
        if sa.inspect(self.engine).has_table(name):
            table = sa.Table(name, sa.MetaData(), autoload_with=self.engine)
            missing = [str(c) for c in frame.columns if str(c) not in table.c]
            if missing:
                raise InvalidInputError(
                    f"table {name!r} exists without the output's columns {', '.join(missing)}: "
                    "write to another table (--table) or add the columns",
                    field="table",
                )
            return table
        table = sa.Table(name, sa.MetaData(), *(sa.Column(str(c), _sql_type(frame[c])) for c in frame.columns))
        self._create(table)
        return table


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _stats_row(stats: ChunkStats) -> dict[str, int]:
    return {"chunk": stats.index, "rows": stats.rows, "scored": stats.scored, "rejected": stats.rejected}


def _sql_type(series: pd.Series) -> Any:
    kind = series.dtype.kind
    if kind == "b":
        return sa.Boolean()
    if kind in "iu":
        return sa.BigInteger()
    if kind == "f":
        return sa.Double()
    if kind == "M":
        return sa.DateTime()
    return sa.Text()


def copy_rows(conn: sa.Connection, table: sa.Table, frame: pd.DataFrame) -> None:
    """Append `frame` to `table` with PostgreSQL's COPY, inside the connection's open transaction."""
    import psycopg
    from psycopg import sql

    text = _csv(frame)
    if text is None:  # a column Arrow cannot type (mixed Python objects): psycopg adapts each value instead
        conn.execute(sa.insert(table), _records(frame))
        return
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(str(c)) for c in frame.columns)
    )
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(statement) as copy:
            copy.write(text)
    except psycopg.Error as exc:  # a raw cursor's errors are not wrapped by SQLAlchemy
        raise sa.exc.DBAPIError(statement.as_string(cursor), None, exc) from exc
    finally:
        cursor.close()


def _csv(frame: pd.DataFrame) -> bytes | None:
    """The rows as CSV, written by Arrow in C++; None when a column has no Arrow type."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    # COPY's CSV format reads an unquoted empty field as NULL and a quoted one ("") as an empty
    # string, which is how Arrow writes a null and an empty string.
    buffer = pa.BufferOutputStream()
    pcsv.write_csv(table, buffer, pcsv.WriteOptions(include_header=False))
    return bytes(buffer.getvalue())
