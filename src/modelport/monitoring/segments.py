"""Columnar segments of the prediction log: one Arrow IPC blob per model per flush, decoded in bulk.

Why: a million-row window stored as one JSON text per row spends most of its time decoding text into
Python objects (bench/monitoring/log_window.py; docs/monitoring.md "Where the log lives"). A segment
holds a batch column by column, so a window is a few hundred blobs concatenated by Arrow.

Columns: `prediction_id`, `version`, `route`, `at`, `status`, `latency_ms`, `error`, `outputs`,
`probabilities` and one `in/<field>` column per input field. A column whose values Arrow cannot type
(e.g. numbers and strings mixed) is stored as JSON text and named in the schema metadata.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

INPUT_PREFIX = "in/"
_JSON_KEY = b"modelport.json_columns"
_DUMP = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
# LZ4 over zstd: 5x cheaper to decode and 3x to encode (in the serving process) for 25 % more bytes,
# measured on the log_window benchmark's segments.
_COMPRESSION = "lz4"
_TYPES: dict[str, pa.DataType] = {"prediction_id": pa.string(), "version": pa.int64(), "route": pa.string(),
                                  "at": pa.timestamp("us", tz="UTC"), "status": pa.string(),
                                  "latency_ms": pa.float64(), "error": pa.string()}


def encode(meta: dict[str, list[Any]], outputs: list[Any], probabilities: list[Any],
           inputs: Sequence[dict[str, Any]]) -> bytes:
    """One segment from column lists (`meta` keyed like `_TYPES`, times already UTC) and per-row input dicts."""
    arrays: dict[str, pa.Array] = {name: pa.array(meta[name], type=kind) for name, kind in _TYPES.items()}
    json_columns: list[str] = []
    for name, values in [("outputs", outputs), ("probabilities", probabilities), *_input_columns(inputs)]:
        arrays[name], as_json = _column(values)
        if as_json:
            json_columns.append(name)
    return encode_arrays(arrays, json_columns)


def encode_arrays(arrays: dict[str, pa.Array], json_columns: Sequence[str] = ()) -> bytes:
    """One segment from its Arrow columns (named and typed as `encode` makes them)."""
    return reencode(pa.table(arrays).replace_schema_metadata({_JSON_KEY: orjson.dumps(list(json_columns))}))


def reencode(table: pa.Table) -> bytes:
    """The payload of a segment's table (after rows were removed from it)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=pa.ipc.IpcWriteOptions(compression=_COMPRESSION)) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def _input_columns(inputs: Sequence[dict[str, Any]]) -> list[tuple[str, list[Any]]]:
    uniform = _uniform_columns(inputs)
    if uniform is not None:
        return uniform
    names: dict[str, None] = {}
    for row in inputs:
        names.update(dict.fromkeys(row))
    return [(INPUT_PREFIX + str(name), [row.get(name) for row in inputs]) for name in names]


def _uniform_columns(inputs: Sequence[dict[str, Any]]) -> list[tuple[str, list[Any]]] | None:
    """Columns by one C-level transpose when every row has the first row's fields (the usual case), else None."""
    names = list(inputs[0]) if inputs else []
    if len(names) < 2 or any(len(row) != len(names) for row in inputs):
        return None
    try:
        values = list(map(itemgetter(*names), inputs))
    except KeyError:
        return None
    return [(INPUT_PREFIX + str(name), list(column)) for name, column in zip(names, zip(*values, strict=True), strict=True)]


def _column(values: list[Any]) -> tuple[pa.Array, bool]:
    """An Arrow array of `values`, or their JSON texts when Arrow cannot give them one type."""
    try:
        array = pa.array(values, from_pandas=False)
        if not pa.types.is_struct(array.type):  # dicts inside a field: keep them as written, in JSON
            return array, False
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        pass
    return pa.array([None if v is None else orjson.dumps(v, option=_DUMP, default=str).decode() for v in values],
                    type=pa.string()), True


def decode(payload: bytes) -> pa.Table:
    """The table of one segment."""
    with pa.ipc.open_stream(payload) as reader:
        return reader.read_all()


def json_columns(table: pa.Table) -> list[str]:
    """The columns of a segment stored as JSON text."""
    metadata = table.schema.metadata or {}
    return list(orjson.loads(metadata.get(_JSON_KEY, b"[]")))


def combine(tables: list[pa.Table]) -> tuple[pd.DataFrame, np.ndarray | None]:
    """Segments as one frame (JSON columns decoded, no `probabilities`) and the probability matrix, if whole.

    Arrow concatenates the segments unless their types disagree (e.g. a field that was an integer in one
    segment and a string in another); then each is converted on its own.
    """
    if not tables:
        return pd.DataFrame({name: pd.Series(dtype=_pandas_dtype(kind)) for name, kind in _TYPES.items()}), None
    if not any(json_columns(t) for t in tables):
        try:
            table = pa.concat_tables(tables, promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
        else:
            return _to_pandas(table.drop_columns(["probabilities"])), _matrix(table.column("probabilities"))
    frames = [_to_pandas(t.drop_columns(["probabilities"]), json_columns(t)) for t in tables]
    matrices = [_matrix(t.column("probabilities"), "probabilities" in json_columns(t)) for t in tables]
    whole = all(m is not None for m in matrices) and len({m.shape[1] for m in matrices if m is not None}) == 1
    return pd.concat(frames, ignore_index=True), np.vstack(matrices) if whole else None  # type: ignore[arg-type]


def _matrix(column: pa.ChunkedArray, as_json: bool = False) -> np.ndarray | None:
    """Per-row probability lists as an (n, k) matrix, or None when a row has none or the widths differ."""
    if column.null_count or not len(column):
        return None
    if as_json or not pa.types.is_list(column.type):
        rows = [orjson.loads(v) for v in column.to_pylist()] if as_json else column.to_pylist()
        try:
            return np.asarray(rows, dtype=np.float64).reshape(len(rows), -1) if rows else None
        except (TypeError, ValueError):
            return None
    array = column.combine_chunks()
    widths = pc.list_value_length(array)
    low, high = pc.min_max(widths).values()
    if low.as_py() != high.as_py():
        return None
    return np.asarray(pc.list_flatten(array).to_numpy(zero_copy_only=False), dtype=np.float64).reshape(len(array), -1)


def _to_pandas(table: pa.Table, as_json: Sequence[str] = ()) -> pd.DataFrame:
    decoded = {name: [None if v is None else orjson.loads(v) for v in table.column(name).to_pylist()]
               for name in as_json if name in table.column_names}
    frame = table.drop_columns(list(decoded)).to_pandas(split_blocks=True)
    for name, values in decoded.items():
        frame[name] = pd.Series(values, dtype=object)
    ordered: pd.DataFrame = frame[table.column_names]
    return ordered


def _pandas_dtype(kind: pa.DataType) -> Any:
    return "datetime64[ns, UTC]" if pa.types.is_timestamp(kind) else kind.to_pandas_dtype()
