"""The prediction log seam: every served row, good or failed, handed to a `PredictionSink` off the hot path."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

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


@runtime_checkable
class PredictionSink(Protocol):
    """Receives prediction records; `record` must not block (queue and return)."""

    def record(self, rows: list[PredictionRecord]) -> None:
        """Accept a group of records."""
        ...


class NullSink:
    """A sink that drops everything (the default until a prediction log is plugged in)."""

    def record(self, rows: list[PredictionRecord]) -> None:
        """Drop the records."""


class SinkFeeder:
    """Builds records in a background thread so the event loop only appends a closure to a deque."""

    def __init__(self, sink: PredictionSink, *, max_pending: int = 10_000) -> None:
        self.sink = sink
        self.enabled = not isinstance(sink, NullSink)
        self._pending: deque[Callable[[], list[PredictionRecord]]] = deque(maxlen=max_pending)
        self._wake = threading.Event()
        self._flushing = threading.Lock()  # a flush returns only once rows popped by another flush are handed over
        self._stop = False
        self._thread: threading.Thread | None = None

    def submit(self, build: Callable[[], list[PredictionRecord]]) -> None:
        """Queue a builder of records; a full queue drops the oldest (the log never slows serving)."""
        if not self.enabled:
            return
        self._pending.append(build)
        self._wake.set()

    def start(self) -> None:
        """Start the background thread (no-op for a NullSink)."""
        if self.enabled and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="modelport-prediction-log", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Flush what is pending and stop."""
        self._stop = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def flush(self) -> None:
        """Build and hand over everything pending, in the caller's thread."""
        with self._flushing:
            while self._pending:
                build = self._pending.popleft()
                try:
                    self.sink.record(build())
                except Exception:  # a broken log must never break serving
                    log.exception("prediction sink failed")

    def flush_through(self) -> None:
        """Hand over everything pending and make the sink write it (tests and graceful shutdown)."""
        self.flush()
        write = getattr(self.sink, "flush", None)
        if callable(write):
            write()

    def _run(self) -> None:
        while not self._stop:
            self._wake.wait(timeout=1.0)
            self._wake.clear()
            self.flush()
        self.flush()


def build_records(
    key: tuple[str, int], ids: list[str] | None, inputs: Any, columns: list[str], time: datetime, latency_ms: float,
    *, predictions: np.ndarray | None = None, probabilities: np.ndarray | None = None,
    error: BaseException | None = None, route: str = "primary", new_ids: Callable[[int], list[str]] | None = None,
) -> list[PredictionRecord]:
    """One record per row of a request (in the log thread: this is where the cost of the log is paid).

    Rows without `ids` (a failed request) get theirs from `new_ids`, the server's id source.
    """
    rows = _input_rows(inputs, columns)
    count = len(predictions) if predictions is not None else len(rows) or 1
    ids = ids or (new_ids or PredictionIds().new)(count)
    status = "ok" if error is None else type(error).__name__
    message = None if error is None else str(error)
    outputs = _plain_list(predictions) if predictions is not None else [None] * count
    probas = np.asarray(probabilities, dtype=np.float64).tolist() if probabilities is not None else [None] * count
    rows = rows + [{} for _ in range(count - len(rows))]
    return [PredictionRecord(ids[i], key[0], key[1], route, time, rows[i], outputs[i], probas[i], latency_ms, status,
                             message) for i in range(count)]


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
