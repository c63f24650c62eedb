"""Serving's request blocks as whole columns: the log's write path without Python work per row.

A block (modelport.serving.predictions.PredictionBlock, read here by its attributes: monitoring does
not import serving) holds one request's ids, inputs, predictions and probabilities as arrays, with one
time, version, route and latency. The blocks of a flush that share a model, a signature and dtypes are
concatenated by numpy and handed to Arrow column by column; what they hold is the same, value for value
and type for type, as what the per-row records path (log.py `_columns`) stores for them.

Why: at concurrency 64 the per-row path (a record object per row, then lists per field, `strftime`
and JSON per row) cost 15 % of serving throughput, mostly Python holding the GIL in the serving
process (bench/monitoring/log_cost.py; docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import chain, repeat
from operator import attrgetter, floordiv, sub
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from modelport.monitoring.segments import INPUT_PREFIX

_DUMP = orjson.OPT_SERIALIZE_NUMPY
_TIME = pa.timestamp("us", tz="UTC")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)
_DIGITS = 10 ** np.arange(5, -1, -1)  # the place of each digit of a six-digit fraction of a second
# Which dtypes keep their values through numpy -> Arrow exactly as `tolist()` -> Arrow keeps them.
_WIDE = {"f": np.dtype(np.float64), "i": np.dtype(np.int64), "u": np.dtype(np.int64), "b": np.dtype(np.bool_)}
_KEY = tuple(map(attrgetter, ("model", "version", "route", "status")))  # a group's shared fields
_COLUMNS, _IDS, _WHEN, _LATENCY = (attrgetter(name) for name in ("columns", "prediction_ids", "time", "latency_ms"))
_INPUTS, _PREDICTIONS, _PROBABILITIES = (attrgetter(name) for name in ("inputs", "predictions", "probabilities"))
_DTYPE, _SHAPE, _NDIM, _TZINFO = (attrgetter(name) for name in ("dtype", "shape", "ndim", "tzinfo"))
_MATRIX = frozenset(map(np.dtype, ["f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "?"]))  # not u8: past int64


@dataclass(frozen=True)
class Columns:
    """One model's rows of a flush: the segment's Arrow columns and the id index's column lists."""

    model: str
    arrays: dict[str, pa.Array]
    ids: list[str]
    version: int | None
    outputs_json: list[str]

    def index_times(self) -> list[str]:
        """The `at` of every row as SQLAlchemy's SQLite text, the form the index insert takes (log.py)."""
        return sqlite_times(self.arrays["at"].to_numpy(zero_copy_only=False).astype("datetime64[us]").view(np.int64))


def sqlite_times(micros: np.ndarray) -> list[str]:
    """Microseconds since the epoch as SQLAlchemy's SQLite text (`2026-03-01 12:00:00.000001`).

    Each distinct second is formatted once (a flush spans a second or two) and the six digits of the
    fraction are spelled by numpy: 0.26 µs a row, against 0.44 for `np.datetime_as_string`, 1.6 for
    `pc.strftime` and 5.5 for `to_pylist` of zoned times.
    """
    seconds, fraction = np.divmod(micros, 1_000_000)  # floor division: times before 1970 too
    distinct, where = np.unique(seconds, return_inverse=True)
    heads = np.array([_second_text(int(second)) for second in distinct], dtype="S20").view(np.uint8)
    text = np.empty((len(micros), 26), dtype=np.uint8)
    text[:, :20] = heads.reshape(len(distinct), 20)[where]
    text[:, 20:] = fraction.reshape(-1, 1) // _DIGITS % 10 + ord("0")
    return text.view("S26").reshape(-1).astype("U26").tolist()  # type: ignore[no-any-return]


def _second_text(second: int) -> str:
    moment = _EPOCH + timedelta(seconds=second)
    return f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} {moment:%H:%M:%S}."


def is_block(item: Any) -> bool:
    """Whether `item` is a block (rather than a record or a dict)."""
    return hasattr(item, "records") and hasattr(item, "prediction_ids")


def columnar(block: Any) -> tuple[tuple[Any, ...], Any] | None:
    """The group a block joins and its inputs (a matrix or a dict of columns), or None for the per-row path.

    Columnar: a successful request whose predictions are one number or string per row and whose inputs
    are a numeric matrix of the signature's columns (an array, or a list of rows that numpy reads as one,
    as the records path does) or a dict of numeric 1-D columns (V2's one tensor per column). Anything
    else (failures, frames, ragged or mixed rows, objects) goes through `block.records()`. Called once
    per request in the flusher: kept to a few comparisons.
    """
    inputs, predictions, ids = block.inputs, block.predictions, block.prediction_ids
    if type(predictions) is not np.ndarray or ids is None or block.status != "ok":
        return None
    count = len(ids)
    if not count or predictions.dtype.kind not in "biufU" or predictions.shape != (count,):
        return None
    if not isinstance(block.time, datetime) or block.time.tzinfo is None:
        return None
    if not _probabilities_fit(block.probabilities, count):
        return None
    # Blocks of one group share their version and route (stored once per group, not per row). A served
    # version hands every request the same list of column names: its identity stands for the names (a
    # 30-name tuple per block cost more than the rest of this check).
    common = (block.model, block.version, block.route, predictions.dtype.kind)
    if type(inputs) is dict:
        layout = _column_layout(inputs, count)
        return None if layout is None else ((*common, *layout), inputs)
    if type(inputs) is list:  # v1 / MLflow instances
        inputs = _numeric(inputs)
    if type(inputs) is not np.ndarray or inputs.dtype not in _MATRIX:
        return None
    shape, width = inputs.shape, len(block.columns)
    # With the signature's columns: one row per matrix row (a lone row may come flat). Without (a tensor
    # signature): each 2-D row is stored whole, as the list the records path makes of it.
    fits = shape == (count, width) or (count == 1 and shape == (width,)) if width else (
        len(shape) == 2 and shape[0] == count)
    if not fits or not shape[-1]:
        return None
    return (*common, id(block.columns), inputs.dtype.kind), inputs


def _probabilities_fit(probabilities: Any, count: int) -> bool:
    return probabilities is None or (type(probabilities) is np.ndarray and probabilities.ndim == 2
                                     and len(probabilities) == count and probabilities.dtype.kind in "iuf")


def _column_layout(columns: dict[Any, Any], count: int) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(names, dtype kinds) of a dict of numeric 1-D columns of `count` rows each, else None."""
    kinds = []
    for name, values in columns.items():
        if type(name) is not str or type(values) is not np.ndarray or values.dtype not in _MATRIX:
            return None
        if values.shape != (count,):
            return None
        kinds.append(values.dtype.kind)
    return (tuple(columns), tuple(kinds)) if kinds else None


def _numeric(rows: list[Any]) -> np.ndarray | None:
    """Rows as numpy reads them (what the records path stores), when that is a matrix of numbers."""
    try:
        array = np.asarray(rows)
    except (ValueError, TypeError):  # ragged
        return None
    return array if array.dtype in _MATRIX else None


def partition(items: Sequence[Any]) -> tuple[list[Columns], list[Any]]:
    """A flush's items as the columns of the blocks that go whole (one `Columns` per group) and the records of
    everything else (records and dicts as given, other blocks expanded by `records()`), in order per group."""
    kinds = set(map(type, items))
    blocky = {kind for kind in kinds if is_block(_example(items, kind))}
    found = [item for item in items if type(item) in blocky] if blocky else []
    records = [item for item in items if type(item) not in blocky] if len(found) < len(items) else []
    parts: list[Columns] = []
    for kind in blocky:
        members = [item for item in found if type(item) is kind] if len(blocky) > 1 else found
        for group in _groups(members):
            made = _whole(group)
            if made is not None:
                parts.append(made)
            else:
                _one_by_one(group, parts, records)
    return parts, records


def _example(items: Sequence[Any], kind: type) -> Any:
    """The first item of type `kind` (the very first, when a flush holds one type)."""
    return next(item for item in items if type(item) is kind)


def _groups(members: list[Any]) -> list[list[Any]]:
    """Blocks that share model, version, route, status and column list (one group in a one-model server)."""
    fields = [list(map(field, members)) for field in _KEY] + [list(map(id, map(_COLUMNS, members)))]
    if all(len(set(values)) == 1 for values in fields):
        return [members]
    grouped: dict[tuple[Any, ...], list[Any]] = {}
    for key, member in zip(zip(*fields, strict=True), members, strict=True):
        grouped.setdefault(key, []).append(member)
    return list(grouped.values())


def _whole(group: list[Any]) -> Columns | None:
    """The columns of a group of blocks checked all at once, field by field (C-level maps, no Python per block),
    or None when any block needs the per-block checks of `columnar`, which these checks mirror."""
    first = group[0]
    ids, predictions, times = list(map(_IDS, group)), list(map(_PREDICTIONS, group)), list(map(_WHEN, group))
    counts = _row_counts(ids, predictions) if first.status == "ok" and isinstance(first.route, str) else None
    if counts is None or set(map(type, times)) != {datetime} or None in set(map(_TZINFO, times)):
        return None
    probabilities = list(map(_PROBABILITIES, group))
    if set(map(type, probabilities)) != {type(None)} and not all(map(_probabilities_fit, probabilities, counts)):
        return None
    inputs = _stacked(list(map(_INPUTS, group)), counts, len(first.columns))
    if inputs is None:
        return None
    return _columns(first, ids, counts, times, list(map(_LATENCY, group)), _joined(predictions), probabilities,
                    inputs)


def _row_counts(ids: list[Any], predictions: list[Any]) -> list[int] | None:
    """Rows per block, when every block has id lists and one prediction per id of one numeric or string kind."""
    if set(map(type, ids)) != {list} or set(map(type, predictions)) != {np.ndarray}:
        return None
    counts = list(map(len, ids))
    kinds = {dtype.kind for dtype in set(map(_DTYPE, predictions))}
    if 0 in counts or len(kinds) != 1 or not kinds <= set("biufU") or set(map(_NDIM, predictions)) != {1}:
        return None
    return counts if list(map(len, predictions)) == counts else None


def _stacked(inputs: list[Any], counts: list[int], width: int) -> np.ndarray | None:
    """The groups' input matrices as one matrix (rows in order), when each is the matrix `columnar` accepts."""
    if set(map(type, inputs)) != {np.ndarray} or len(set(map(_DTYPE, inputs))) != 1 or inputs[0].dtype not in _MATRIX:
        return None
    shapes = list(map(_SHAPE, inputs))
    if width:  # the signature's columns: (rows, width), or a lone row sent flat
        if max(counts) == 1 and len(set(shapes)) == 1 and shapes[0] in {(1, width), (width,)}:
            return _joined(inputs).reshape(len(inputs), width)
        return _joined(inputs).reshape(-1, width) if shapes == [(count, width) for count in counts] else None
    if set(map(len, shapes)) != {2} or [shape[0] for shape in shapes] != counts or len({s[1] for s in shapes}) != 1:
        return None
    return _joined(inputs).reshape(-1, shapes[0][1]) if shapes[0][1] else None


def _joined(arrays: list[np.ndarray]) -> np.ndarray:
    """The arrays' values end to end (flat): one bytes join when all share a dtype and lie contiguous in memory.

    Why not `np.concatenate`: it cost 0.29 µs per one-row array of 30 floats against 0.09 for the join, and a
    flush joins thousands of them.
    """
    dtype = arrays[0].dtype
    if len(set(map(_DTYPE, arrays))) == 1 and not dtype.hasobject:
        try:
            return np.frombuffer(b"".join(arrays), dtype=dtype)  # type: ignore[arg-type]  # arrays are buffers
        except (BufferError, TypeError):  # a view that is not contiguous is no plain buffer
            pass
    return np.concatenate([array.reshape(-1) for array in arrays])


def _one_by_one(group: list[Any], parts: list[Columns], records: list[Any]) -> None:
    """The per-block path: each block's `columnar` check, the columnar ones grouped, the rest as records."""
    groups: dict[tuple[Any, ...], tuple[list[Any], list[Any]]] = {}
    for block in group:
        found = columnar(block)
        if found is None:
            records.extend(block.records())
        else:
            members, inputs = groups.setdefault(found[0], ([], []))
            members.append(block)
            inputs.append(found[1])
    parts.extend(columns(members, inputs) for members, inputs in groups.values())


def columns(blocks: Sequence[Any], inputs: Sequence[Any]) -> Columns:
    """The columns of blocks that share one `columnar` group, with the inputs it gave for each."""
    ids = [b.prediction_ids for b in blocks]
    first, counts = blocks[0], list(map(len, ids))
    if type(inputs[0]) is dict:
        stacked: Any = inputs
    else:
        width = len(first.columns)
        stacked = np.concatenate([m if m.ndim == 2 else m.reshape(1, width) for m in inputs])
    return _columns(first, ids, counts, [b.time for b in blocks], [b.latency_ms for b in blocks],
                    np.concatenate([b.predictions for b in blocks]), [b.probabilities for b in blocks], stacked)


def _columns(first: Any, ids: list[list[str]], counts: list[int], times: list[datetime], latencies: list[float],
             predictions: np.ndarray, probabilities: list[np.ndarray | None], inputs: Any) -> Columns:
    """One group's Arrow columns: per-block values (time, latency) repeated for each of the block's rows."""
    blocks, total = len(counts), sum(counts)
    # Times as integer microseconds: Arrow converting zoned datetimes took 1.6 µs each, this about 0.4.
    micros = np.fromiter(map(floordiv, map(sub, times, repeat(_EPOCH)), repeat(_MICROSECOND)), np.int64, blocks)
    latency = np.fromiter(latencies, dtype=np.float64, count=blocks)
    spread = np.asarray(counts)
    if total > blocks:  # one value per block, repeated for each of its rows
        micros, latency = np.repeat(micros, spread), np.repeat(latency, spread)
    predictions = _outputs(predictions)
    flat_ids = list(chain.from_iterable(ids))
    version = first.version
    arrays: dict[str, pa.Array] = {
        "prediction_id": pa.array(flat_ids, type=pa.string()),
        "version": pa.nulls(total, pa.int64()) if version is None else pa.array(np.full(total, version, np.int64)),
        "route": pa.array([str(first.route or "primary")[:16]] * total, type=pa.string()),
        "at": pa.array(micros, type=_TIME),
        "status": pa.array(["ok"] * total, type=pa.string()),
        "latency_ms": pa.array(latency),
        "error": pa.nulls(total, type=pa.string()),
        "outputs": pa.array(predictions),
        "probabilities": _probabilities(probabilities, spread),
        **_inputs(inputs, first.columns),
    }
    return Columns(str(first.model), arrays, flat_ids, version, _json_texts(predictions))


def _outputs(predictions: np.ndarray) -> np.ndarray:
    kind = predictions.dtype.kind
    return predictions.astype(_WIDE[kind], copy=False) if kind in _WIDE else predictions


def _json_texts(predictions: np.ndarray) -> list[str]:
    """Each prediction as the JSON text the index stores (what `orjson.dumps` gives for the plain value)."""
    if predictions.dtype.kind == "U":
        return [orjson.dumps(value).decode() for value in predictions.tolist()]
    # One dump of the whole array, split at its commas: numbers and booleans contain none.
    return orjson.dumps(predictions, option=_DUMP)[1:-1].decode().split(",")


def _probabilities(blocks: list[np.ndarray | None], counts: np.ndarray) -> pa.Array:
    """Per-row probability lists (null for the rows of blocks without them), as the records path types them."""
    total = int(counts.sum())
    present = [p for p in blocks if p is not None]
    if not present:
        return pa.nulls(total, type=pa.null())
    widths = np.repeat(np.fromiter((0 if p is None else p.shape[1] for p in blocks), np.int64, len(blocks)), counts)
    offsets = np.zeros(total + 1, dtype=np.int32)
    np.cumsum(widths, out=offsets[1:])
    values = np.concatenate([p.astype(np.float64, copy=False).reshape(-1) for p in present])
    missing = None if len(present) == len(blocks) else pa.array(widths == 0)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values), mask=missing)


def _inputs(inputs: Any, names: list[str]) -> dict[str, pa.Array]:
    """One Arrow column per input column: of the dicts' columns (a list of V2 per-column dicts), else of the
    stacked matrix's signature columns (or, for a tensor signature, one list column `input`)."""
    if type(inputs) is list:
        return {INPUT_PREFIX + name: pa.array(_widened(np.concatenate([part[name] for part in inputs])))
                for name in inputs[0]}
    stacked: np.ndarray = inputs
    wide = _WIDE[stacked.dtype.kind]
    if not names:
        count, size = stacked.shape
        offsets = pa.array(np.arange(0, count * size + 1, size, dtype=np.int32))
        return {INPUT_PREFIX + "input": pa.ListArray.from_arrays(offsets, pa.array(stacked.astype(wide).reshape(-1)))}
    by_column = np.ascontiguousarray(stacked.T, dtype=wide)
    return {INPUT_PREFIX + str(name): pa.array(by_column[j]) for j, name in enumerate(names)}


def _widened(values: np.ndarray) -> np.ndarray:
    return values.astype(_WIDE[values.dtype.kind], copy=False)
