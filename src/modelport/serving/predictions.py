"""The prediction log seam: every served row, good or failed, handed to a `PredictionSink` off the hot path."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np

from modelport.serving.ids import PredictionIds

log = logging.getLogger("modelport.serving.predictions")


@dataclass(frozen=True)
class PredictionRecord:
    """One served row: what came in, what went out, who answered and how long it took."""

    prediction_id: str
    model: str
    version: int | None
    route: str  # "primary" or "shadow"
    time: datetime
    inputs: dict[str, Any]
    outputs: Any
    probabilities: list[float] | None
    latency_ms: float
    status: str  # "ok" or the error kind
    error: str | None = None


class PredictionBlock(NamedTuple):
    """The rows of one served request (or shadow copy) as its arrays, handed to the log without per-row work.

    The request path only builds this object; the log turns blocks into columns in its flusher thread,
    many requests at once (monitoring/blocks.py), or into records with `records()` when it cannot.
    A failed request has no ids yet (`prediction_ids` None): `records()` takes them from `new_ids`.
    A named tuple because it is built once per request on the event loop: a frozen dataclass took about 2.5 µs.
    """

    model: str
    version: int | None
    route: str  # "primary" or "shadow"
    time: datetime
    latency_ms: float
    prediction_ids: list[str] | None
    inputs: Any  # the request's inputs as the protocol decoded them
    columns: list[str]  # the signature's column names
    predictions: np.ndarray | None = None
    probabilities: np.ndarray | None = None
    status: str = "ok"
    error: str | None = None
    new_ids: Callable[[int], list[str]] | None = None

    @property
    def rows(self) -> int:
        """How many rows the block holds (a failed request counts as one until `records()` reads its inputs)."""
        return len(self.prediction_ids) if self.prediction_ids is not None else 1

    def records(self) -> list[PredictionRecord]:
        """One record per row."""
        return build_records((self.model, self.version), self.prediction_ids, self.inputs,
                             self.columns, self.time, self.latency_ms, predictions=self.predictions,
                             probabilities=self.probabilities, status=self.status, error=self.error, route=self.route,
                             new_ids=self.new_ids)


def failure_block(model: str, version: int, route: str, time: datetime, latency_ms: float, inputs: Any,
                  columns: list[str], error: BaseException, new_ids: Callable[[int], list[str]],
                  prediction_ids: list[str] | None = None) -> PredictionBlock:
    """The block of a failed request: its error kind and message, no outputs."""
    return PredictionBlock(model, version, route, time, latency_ms, prediction_ids, inputs, columns,
                           status=type(error).__name__, error=str(error), new_ids=new_ids)


@runtime_checkable
class PredictionSink(Protocol):
    """Receives prediction blocks (and records); `record` must not block (queue and return).

    A sink may also offer `intake`, a callable taking one block that must not block either; serving then
    hands it each block directly (the prediction log's sink: its queue's own `append`).
    """

    def record(self, rows: list[PredictionBlock | PredictionRecord]) -> None:
        """Accept a group of blocks or records."""
        ...


class NullSink:
    """A sink that drops everything (the default until a prediction log is plugged in)."""

    def record(self, rows: list[PredictionBlock | PredictionRecord]) -> None:
        """Drop the records."""


class SinkFeeder:
    """Hands each request's block to the sink as it is served: a queue append, no thread.

    Why no thread: a block costs nothing to build, and waking a builder thread per request cost more in
    GIL hand-overs than the work it did (bench/monitoring/log_cost.py).
    """

    def __init__(self, sink: PredictionSink) -> None:
        self.sink = sink
        self.enabled = not isinstance(sink, NullSink)
        # A sink with an `intake` (the prediction log's: its queue's own `append`) takes each block by one
        # C-level call; any other sink gets a list through `record`, guarded so that it cannot break serving.
        intake = getattr(sink, "intake", None)
        self.put: Callable[[PredictionBlock], None] = intake if callable(intake) else self._record

    def _record(self, block: PredictionBlock) -> None:
        try:
            self.sink.record([block])
        except Exception:  # a broken log must never break serving
            log.exception("prediction sink failed")

    def flush_through(self) -> None:
        """Make the sink write what it holds (feedback right after a prediction, tests, graceful shutdown)."""
        write = getattr(self.sink, "flush", None)
        if callable(write):
            write()


#: A block from all of its fields in order, built in C: the request path's way (the named tuple's own
#: constructor is a Python function, a frame per request). Its defaults do not apply: give every field.
new_block: Callable[[tuple[Any, ...]], PredictionBlock] = partial(tuple.__new__, PredictionBlock)


def build_records(
    key: tuple[str, int | None], ids: list[str] | None, inputs: Any, columns: list[str], time: datetime, latency_ms: float,
    *, predictions: np.ndarray | None = None, probabilities: np.ndarray | None = None,
    status: str = "ok", error: str | None = None, route: str = "primary",
    new_ids: Callable[[int], list[str]] | None = None,
) -> list[PredictionRecord]:
    """One record per row of a request (in the log's flusher, for blocks it cannot turn into columns at once).

    Rows without `ids` (a failed request) get theirs from `new_ids`, the server's id source.
    """
    rows = _input_rows(inputs, columns)
    count = len(predictions) if predictions is not None else len(rows) or 1
    ids = ids or (new_ids or PredictionIds().new)(count)
    outputs = _plain_list(predictions) if predictions is not None else [None] * count
    probas = np.asarray(probabilities, dtype=np.float64).tolist() if probabilities is not None else [None] * count
    rows = rows + [{} for _ in range(count - len(rows))]
    return [PredictionRecord(ids[i], key[0], key[1], route, time, rows[i], outputs[i], probas[i], latency_ms, status,
                             error) for i in range(count)]


def _input_rows(inputs: Any, columns: list[str]) -> list[dict[str, Any]]:
    """The request's rows as dicts of plain values (numbers converted by numpy in C, not one by one)."""
    import pandas as pd

    try:
        if isinstance(inputs, pd.DataFrame):
            return _rows_of(list(map(str, inputs.columns)), inputs.to_numpy(dtype=object).tolist())
        if isinstance(inputs, dict):
            names = list(map(str, inputs))
            values = [np.asarray(v).reshape(-1).tolist() for v in inputs.values()]
            return _rows_of(names, [list(row) for row in zip(*values, strict=True)])
        array = np.asarray(inputs)
        if array.dtype.kind not in "biuf":  # strings or mixed rows: numpy would turn numbers into text
            array = np.asarray(inputs, dtype=object)
        if array.ndim == 1 and len(columns) == len(array):
            array = array.reshape(1, -1)
        if array.ndim == 2 and array.shape[1] == len(columns):
            return _rows_of(columns, array.tolist())
        return [{"input": _plain(row)} for row in array] if array.ndim >= 1 else []
    except (ValueError, TypeError):
        return []  # unreadable input (a rejected request): logged without its rows


_NATIVE = (float, int, str, bool, type(None))


def _rows_of(names: list[str], rows: list[list[Any]]) -> list[dict[str, Any]]:
    """Rows as dicts; values that `tolist()` left as numpy or pandas objects are made plain."""
    return [dict(zip(names, row if all(type(v) in _NATIVE for v in row) else map(_plain, row), strict=True))
            for row in rows]


def _plain_list(values: Any) -> list[Any]:
    """One plain value per row: numpy's own conversion for arrays, `_plain` for anything else."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "biufUS":
        return list(values.tolist())
    return [_plain(v) for v in values]


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value
