"""Batch inputs: Parquet, CSV and JSON Lines files (paths, globs, fsspec URLs) and SQL queries, streamed.

Every source yields DataFrames of whatever size its format reads naturally;
`chunks` cuts that stream into chunks of exactly `chunk_rows` rows (the last may
be shorter), numbered from 0 in input order, so the same input and chunk size
always give the same chunks: that is what makes resuming exact.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from modelport.foundation.errors import InvalidInputError, ValidationError
from modelport.signatures.schema import Signature

FILE_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
SQL_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mariadb", "mssql", "oracle", "duckdb", "snowflake")


#: the key of `arrow_frame`'s NaN-free float columns in a frame's `attrs`
COMPLETE = "modelport.complete_columns"


@dataclass(frozen=True)
class Chunk:
    """`frame` holds rows `start` .. `start + len(frame)` of the whole input."""

    index: int
    start: int
    frame: pd.DataFrame


class Source(Protocol):
    """A stream of input rows."""

    def columns(self) -> list[str]:
        """The column names, read without reading the rows."""
        ...

    def frames(self, columns: Sequence[str], batch_rows: int = 65_536) -> Iterator[pd.DataFrame]:
        """The rows, in order, restricted to `columns`, in frames of about `batch_rows` rows."""
        ...

    def total_rows(self) -> int | None:
        """The number of rows when it is cheap to know, else None."""
        ...


def is_sql_url(uri: str) -> bool:
    """True when `uri` is a SQLAlchemy database URL rather than a file location."""
    scheme = uri.split("://", 1)[0] if "://" in uri else ""
    return scheme.split("+", 1)[0].lower() in SQL_SCHEMES


def open_source(
    uri: str, *, query: str | None = None, input_format: str | None = None, signature: Signature | None = None
) -> Source:
    """The source for a file location, glob or fsspec URL, or a database URL with a query."""
    if is_sql_url(uri):
        if not query:
            raise InvalidInputError(
                f"input {uri!r} is a database: give the rows to score as a SQL query (--query)", field="query"
            )
        return SqlSource(uri, query)
    if query:
        raise InvalidInputError("--query applies to a database input only (a SQLAlchemy URL)", field="query")
    paths, fs = _expand(uri)
    fmt = input_format or _format_of(paths[0])
    if fmt == "parquet":
        return ParquetSource(fs, paths)
    if fmt == "csv":
        return CsvSource(fs, paths, signature)
    if fmt == "jsonl":
        return JsonLinesSource(fs, paths)
    raise InvalidInputError(f"input format {fmt!r}: use parquet, csv or jsonl", field="input_format")


def _expand(uri: str) -> tuple[list[str], Any]:
    import fsspec

    fs, _, found = fsspec.core.get_fs_token_paths(uri)
    paths: list[str] = []
    for path in sorted(found):
        if fs.isdir(path):
            paths.extend(sorted(_data_files(fs, path)))
        elif len(found) > 1 or fs.exists(path):  # what a glob matched exists; a plain path is given as is
            paths.append(path)
    if not paths:
        raise InvalidInputError(f"input {uri!r} matches no file; check the path or glob", field="input")
    return paths, fs


def _data_files(fs: Any, directory: str) -> list[str]:
    # Skip the `_journal`, `_rejects`, `.tmp` files that this module's own outputs hold.
    names = fs.find(directory)
    return [p for p in names if not any(part.startswith(("_", ".")) for part in p[len(directory) :].split("/"))]


def _format_of(path: str) -> str:
    for suffix, fmt in FILE_FORMATS.items():
        if path.lower().endswith(suffix):
            return fmt
    raise InvalidInputError(
        f"cannot tell the format of {path!r} from its name: name it .parquet, .csv or .jsonl, or pass --input-format",
        field="input_format",
    )


class ParquetSource:
    """Parquet files read row group by row group; only the requested columns are decoded."""

    def __init__(self, fs: Any, paths: list[str]) -> None:
        self.fs = fs
        self.paths = paths
        self._local = is_local(fs)
        self._footers: dict[str, Any] = {}

    def metadata(self, path: str) -> Any:
        """The footer of one of the input's files, parsed once.

        Every split opens its file again; parsing a footer of 100 row groups of 30 columns each time
        was 8 % of a 2-thread job's samples (py-spy of bench/batch/jobs.py).
        """
        found = self._footers.get(path)
        if found is None:
            found = self._footers[path] = self.file(path).metadata
        return found

    def file(self, path: str) -> Any:
        """The Parquet reader of one of the input's files."""
        import pyarrow.parquet as pq

        # A local file is read by Arrow's own reader, which releases the GIL (a Python file object
        # takes it back for every read); not memory-mapped, as mapped pages would count in RSS.
        # pre_buffer would read ahead every row group of the file: memory would grow with the file.
        source = path if self._local else self.fs.open(path, "rb")
        return pq.ParquetFile(source, metadata=self._footers.get(path), pre_buffer=False)

    @contextmanager
    def mapped(self, path: str) -> Iterator[Any]:
        """The reader of one file for a bounded read, memory-mapped when local; unmapped on exit.

        Mapped, a local file's pages are decoded where the page cache holds them instead of first being
        copied out by `pread`: 3.5-4 ms less CPU per 100,000 rows of 30 float columns (bench/batch/stages.py).
        Mapped pages count in RSS while mapped, so only a split's read (a few chunks) holds a map. A file
        truncated while mapped ends the process with SIGBUS rather than an error, as it would for Polars
        or DuckDB, which map their inputs too: do not rewrite an input while a job reads it.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self._local:
            yield self.file(path)
            return
        footer = self.metadata(path)
        with pa.memory_map(path, "r") as mapping:
            yield pq.ParquetFile(mapping, metadata=footer, pre_buffer=False)

    def columns(self) -> list[str]:
        return list(self.file(self.paths[0]).schema_arrow.names)

    def total_rows(self) -> int | None:
        return sum(int(self.metadata(p).num_rows) for p in self.paths)

    def frames(self, columns: Sequence[str], batch_rows: int = 65_536) -> Iterator[pd.DataFrame]:
        for path in self.paths:
            handle = self.file(path)
            require_columns(columns, handle.schema_arrow.names, path)
            # One thread per file: the job's own workers keep the other cores busy predicting and writing.
            batches = handle.iter_batches(batch_size=batch_rows, columns=list(columns), use_threads=False)
            for batch in batches:
                yield arrow_frame(batch)


def arrow_frame(batch: Any) -> pd.DataFrame:
    """A DataFrame of an Arrow batch whose float columns are Arrow's own memory, the others as pandas makes them.

    The float columns are not copied: each is one pandas block over Arrow's
    buffer (null floats become NaN, as `to_pandas` makes them). A model whose
    arithmetic starts with a new array reads them where they lie (the linear
    fast path standardizes them straight into its own block, formats/linear.py);
    any other gets the frame's `to_numpy()`, one copy, as before. `attrs[COMPLETE]`
    names the float columns found free of NaN on the way (`complete_columns`).
    """
    import pyarrow as pa

    schema, float64 = batch.schema, pa.float64()  # each `schema.names` builds a new list: read it once
    every = schema.names
    floats = [i for i, t in enumerate(schema.types) if t == float64]
    if not floats or len(set(every)) < len(every):
        whole: pd.DataFrame = batch.to_pandas(split_blocks=True)
        return whole
    names = [every[i] for i in floats]
    columns, complete = [], []
    with np.errstate(all="ignore"):  # squares overflow to inf: no NaN, and no reason to warn
        for position, index in enumerate(floats):
            column = batch.column(index).to_numpy(zero_copy_only=False)  # a view; a null is NaN, as in pandas
            # The sum of squares is NaN exactly when a value is NaN (squares never cancel, as inf - inf would),
            # and BLAS's dot product is a fifth faster than numpy's sum and lets the other threads run.
            if not np.isnan(np.dot(column, column)):
                complete.append(names[position])
            columns.append(column)
    frame = _column_frame(columns, names, batch.num_rows)
    if len(floats) < batch.num_columns:
        rest: pd.DataFrame = batch.select([i for i in range(batch.num_columns) if i not in floats]).to_pandas(
            split_blocks=True
        )
        frame = pd.concat([frame, rest], axis=1)[every]
    frame.attrs[COMPLETE] = frozenset(complete)
    return frame


def _column_frame(columns: list[np.ndarray], names: list[str], rows: int) -> pd.DataFrame:
    """A frame of 1-D arrays, one block each, none copied.

    Labels as an object Index: pandas would otherwise infer an Arrow string Index, ~0.15 ms a chunk.
    """
    labels = pd.Index(names, dtype=object)
    try:  # pandas >= 3: 0.1 ms for 30 columns, against 0.35 ms for the constructor, with the GIL held
        from pandas.api.internals import create_dataframe_from_blocks
    except ImportError:
        return pd.DataFrame(dict(zip(names, columns, strict=True)), columns=labels, copy=False)
    blocks = [(column.reshape(1, -1), np.array([j])) for j, column in enumerate(columns)]
    frame: pd.DataFrame = create_dataframe_from_blocks(blocks, index=pd.RangeIndex(rows), columns=labels)
    return frame


def complete_columns(frame: pd.DataFrame) -> frozenset[str]:
    """The float columns `arrow_frame` found free of NaN (none for other frames).

    Carried in the frame's `attrs`, which pandas keeps through the slices and the concatenation of
    like frames that cut chunks, and drops when frames differ: a column is never claimed complete
    that was not checked.
    """
    found = frame.attrs.get(COMPLETE)
    return found if isinstance(found, frozenset) else frozenset()


def is_local(fs: Any) -> bool:
    """True for fsspec's local filesystem."""
    protocol = fs.protocol
    return "file" in ((protocol,) if isinstance(protocol, str) else tuple(protocol))


class CsvSource:
    """CSV files read in blocks; numbers are parsed per cell so one bad cell rejects one row, not a block."""

    def __init__(self, fs: Any, paths: list[str], signature: Signature | None) -> None:
        self.fs = fs
        self.paths = paths
        self.kinds = {c.name: c.dtype for c in signature.columns} if signature is not None else {}

    def columns(self) -> list[str]:
        with self.fs.open(self.paths[0], "rb") as handle:
            return [str(c) for c in pd.read_csv(handle, nrows=0).columns]

    def total_rows(self) -> int | None:
        return None

    def frames(self, columns: Sequence[str], batch_rows: int = 65_536) -> Iterator[pd.DataFrame]:
        wanted = set(columns)
        for path in self.paths:
            with self.fs.open(path, "rb") as handle:
                require_columns(columns, [str(c) for c in pd.read_csv(handle, nrows=0).columns], path)
            with self.fs.open(path, "rb") as handle:
                reader = pd.read_csv(handle, dtype=str, usecols=lambda name: name in wanted, chunksize=batch_rows)
                for block in reader:
                    yield pd.DataFrame({c: self._typed(c, block[c]) for c in columns})

    def _typed(self, name: str, text: pd.Series) -> pd.Series:
        kind = self.kinds.get(name, "")
        if kind.startswith(("float", "int")):
            return _numbers(text)
        if kind == "bool":
            lowered = text.str.lower()
            return text.where(~lowered.isin(["true", "false"]), lowered == "true").astype(object)
        return text.astype(object)


def _numbers(text: pd.Series) -> pd.Series:
    """Parse numbers; cells that are not numbers keep their text so validation names them."""
    parsed = pd.to_numeric(text, errors="coerce")
    bad = parsed.isna() & text.notna()
    if not bad.any():
        return parsed
    mixed = parsed.astype(object)
    mixed[bad] = text[bad]
    return mixed


class JsonLinesSource:
    """JSON Lines files read in blocks; values keep their JSON types so validation judges them."""

    def __init__(self, fs: Any, paths: list[str]) -> None:
        self.fs = fs
        self.paths = paths

    def columns(self) -> list[str]:
        import orjson

        with self.fs.open(self.paths[0], "rb") as handle:
            first = handle.readline()
        return list(orjson.loads(first)) if first.strip() else []

    def total_rows(self) -> int | None:
        return None

    def frames(self, columns: Sequence[str], batch_rows: int = 65_536) -> Iterator[pd.DataFrame]:
        for path in self.paths:
            with self.fs.open(path, "rb") as handle:
                reader = pd.read_json(handle, lines=True, chunksize=batch_rows, dtype=False)
                for block in reader:
                    require_columns(columns, [str(c) for c in block.columns], path)
                    yield block[list(columns)]


class SqlSource:
    """The rows of a SQL query, fetched in batches over a server-side cursor where the driver has one."""

    def __init__(self, url: str, query: str) -> None:
        self.url = url
        self.query = query.strip()

    def _statement(self) -> Any:
        import sqlalchemy as sa

        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", self.query):  # a bare table name
            return sa.select(sa.text("*")).select_from(sa.table(self.query))
        return sa.text(self.query)

    def _engine(self) -> Any:
        from modelport.storage.database import make_engine

        return make_engine(self.url)

    def columns(self) -> list[str]:
        import sqlalchemy as sa

        engine = self._engine()
        try:
            with engine.connect() as conn:
                # A server-side cursor: only the column names are fetched, not the rows.
                result = conn.execution_options(stream_results=True).execute(self._statement())
                keys = list(result.keys())
                result.close()
                return keys
        except sa.exc.SQLAlchemyError as exc:
            raise InvalidInputError(f"query {self.query!r} failed: {exc}", field="query") from exc
        finally:
            engine.dispose()

    def total_rows(self) -> int | None:
        return None

    def frames(self, columns: Sequence[str], batch_rows: int = 65_536) -> Iterator[pd.DataFrame]:
        engine = self._engine()
        try:
            with engine.connect() as conn:
                result = conn.execution_options(stream_results=True, yield_per=batch_rows).execute(self._statement())
                keys = list(result.keys())
                require_columns(columns, keys, "the query")
                for rows in result.partitions():
                    yield pd.DataFrame.from_records(rows, columns=keys)[list(columns)]
        finally:
            engine.dispose()


def require_columns(columns: Sequence[str], present: Sequence[str], where: str) -> None:
    """Fail on the first of `columns` missing from `present`, naming it and `where` it was looked for."""
    missing = [c for c in columns if c not in present]
    if missing:
        raise ValidationError(missing[0], f"missing column in {where} (it has: {', '.join(present)})")


def chunks(frames: Iterator[pd.DataFrame], chunk_rows: int, *, first: int = 0, start: int = 0) -> Iterator[Chunk]:
    """Cut a stream of frames into numbered chunks of exactly `chunk_rows` rows (the last may be shorter).

    `first` and `start` number a stream that begins mid-input (a split) at chunk `first`, row `start`.
    """
    pending: list[pd.DataFrame] = []
    held = 0
    index = first
    for frame in frames:
        pending.append(frame)
        held += len(frame)
        while held >= chunk_rows:
            block, pending = _take(pending, chunk_rows)
            yield Chunk(index, start, block)
            index, start, held = index + 1, start + chunk_rows, held - chunk_rows
    if held:
        yield Chunk(index, start, _concat(pending))


def _take(pending: list[pd.DataFrame], rows: int) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    if len(pending) == 1 and len(pending[0]) == rows:  # a row group of exactly one chunk: nothing to cut
        return pending[0].reset_index(drop=True), []
    whole = _concat(pending)
    return whole.iloc[:rows].reset_index(drop=True), [whole.iloc[rows:].reset_index(drop=True)]


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)] or frames[:1]
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    return pd.concat(frames, ignore_index=True)
