"""The prediction log sink: `record` only appends to a buffer; a thread writes batches every interval.

Between writes the thread prepares what was recorded every `PREPARE_INTERVAL` (blocks turned into columns,
log.py `prepare`), so that a request's block lives for milliseconds, not up to the whole interval: keeping
a second's blocks alive cost the serving thread about 3 % of its throughput at 64 connections
(bench/monitoring/log_cost.py, docs/benchmarks.md). Prepared rows count as buffered until written.

Durability: a graceful `close()` writes everything buffered. After kill -9, what was recorded in the
last flush interval (default 1 s) plus the batch being written may be lost -- never more, because a
batch is committed before the next interval starts. When the database is unreachable the buffer holds
up to `max_buffer` rows and then drops the oldest, counting them in `dropped`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from modelport.monitoring.log import PredictionLog, Prepared, prepare

log = logging.getLogger("modelport.monitoring.sink")

DEFAULT_FLUSH_INTERVAL = 1.0
DEFAULT_MAX_BUFFER = 200_000
#: seconds between two preparations of what was recorded (at most the flush interval)
PREPARE_INTERVAL = 0.05


class PredictionLogSink:
    """A `PredictionSink` (see modelport.serving.predictions) that batches rows into the prediction log."""

    def __init__(self, log_store: PredictionLog, *, flush_interval: float = DEFAULT_FLUSH_INTERVAL,
                 max_buffer: int = DEFAULT_MAX_BUFFER, autostart: bool = True,
                 on_error: Callable[[BaseException], None] | None = None) -> None:
        self.log = log_store
        self.flush_interval = flush_interval
        self.dropped = 0
        self.written = 0
        self._buffer: deque[Any] = deque()
        self._ready: deque[Prepared] = deque()  # prepared, not yet written: older than what `_buffer` holds
        self._rows = 0  # rows in both (a block holds several)
        self._max = max_buffer
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._stop = threading.Event()
        self._on_error = on_error
        self._thread: threading.Thread | None = None
        if autostart:
            self.start()

    def record(self, rows: list[Any]) -> None:
        """Queue records or serving's blocks for the next flush; never blocks on I/O."""
        size = sum(map(_size, rows)) if len(rows) > 1 else _size(rows[0]) if rows else 0
        with self._lock:
            self._buffer.extend(rows)
            self._rows += size
            if self._rows > self._max:
                self._bound()

    def _bound(self) -> None:
        """Drop the oldest items while more than `max_buffer` rows wait (called holding the lock)."""
        while self._rows > self._max and (self._ready or self._buffer):
            size = self._ready.popleft().rows if self._ready else _size(self._buffer.popleft())
            self._rows -= size
            self.dropped += size

    @property
    def pending(self) -> int:
        """Rows waiting for the next flush."""
        return self._rows

    def flush(self) -> int:
        """Write everything buffered now (in the caller's thread); returns rows written."""
        with self._flushing:
            with self._lock:
                batch = list(self._buffer)
                self._buffer.clear()
                ready = list(self._ready)
                self._ready.clear()
                self._rows = 0
            if not batch and not ready:
                return 0
            try:
                if batch:
                    ready.append(prepare(batch))
                    batch = []
                written = self.log.write_prepared(ready)
            except Exception as exc:  # a broken database must never break serving: keep the rows, retry later
                self._requeue(ready, batch)
                log.warning("prediction log flush failed (%d rows kept for retry): %s",
                            sum(r.rows for r in ready) + sum(map(_size, batch)), exc)
                if self._on_error is not None:
                    self._on_error(exc)
                return 0
            self.written += written
            return written

    def prepare(self) -> None:
        """Turn what was recorded into columns now, to be written at the next flush."""
        with self._flushing:
            with self._lock:
                batch = list(self._buffer)
                self._buffer.clear()
            if not batch:
                return
            try:
                ready = prepare(batch)
            except Exception as exc:  # kept as it came: the flush tries again and reports it
                self._requeue([], batch)
                log.warning("prediction log rows could not be prepared (%d kept): %s", len(batch), exc)
                return
            with self._lock:
                self._ready.append(ready)

    def _requeue(self, ready: list[Prepared], batch: list[Any]) -> None:
        with self._lock:
            self._ready.extendleft(reversed(ready))
            self._buffer.extendleft(reversed(batch))
            self._rows += sum(r.rows for r in ready) + sum(map(_size, batch))
            self._bound()

    def start(self) -> None:
        """Start the background flusher (idempotent)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="modelport-log-flusher", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        step = min(PREPARE_INTERVAL, self.flush_interval)
        due = time.monotonic() + self.flush_interval
        while not self._stop.wait(step):
            if time.monotonic() >= due:
                self.flush()
                due = time.monotonic() + self.flush_interval
            else:
                self.prepare()

    def close(self) -> None:
        """Stop the flusher and write what is buffered (graceful shutdown loses nothing)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.flush()


def _size(item: Any) -> int:
    """Rows in a buffered item: a block's `rows`, one for a record or a dict."""
    return 1 if isinstance(item, dict) else getattr(item, "rows", 1)
