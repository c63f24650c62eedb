"""The prediction log sink: `record` only appends to a buffer; a thread writes batches every interval.

Durability: a graceful `close()` writes everything buffered. After kill -9, what was recorded in the
last flush interval (default 1 s) plus the batch being written may be lost -- never more, because a
batch is committed before the next interval starts. When the database is unreachable the buffer holds
up to `max_buffer` rows and then drops the oldest, counting them in `dropped`.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from modelport.monitoring.log import PredictionLog

log = logging.getLogger("modelport.monitoring.sink")

DEFAULT_FLUSH_INTERVAL = 1.0
DEFAULT_MAX_BUFFER = 200_000


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
        self._rows = 0  # rows in the buffer (a block holds several)
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
        for item in rows:
            self.append(item, _size(item))

    def append(self, item: Any, rows: int) -> None:
        """Queue one record or block of `rows` rows (serving's way: it knows the count, so nothing is sized)."""
        with self._lock:
            self._buffer.append(item)
            self._rows += rows
            if self._rows > self._max:
                self._bound()

    def _bound(self) -> None:
        """Drop the oldest items while more than `max_buffer` rows wait (called holding the lock)."""
        while self._rows > self._max and self._buffer:
            size = _size(self._buffer.popleft())
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
                self._rows = 0
            if not batch:
                return 0
            try:
                written = self.log.write(batch)
            except Exception as exc:  # a broken database must never break serving: keep the rows, retry later
                self._requeue(batch)
                log.warning("prediction log flush failed (%d rows kept for retry): %s", len(batch), exc)
                if self._on_error is not None:
                    self._on_error(exc)
                return 0
            self.written += written
            return written

    def _requeue(self, batch: list[Any]) -> None:
        with self._lock:
            self._buffer.extendleft(reversed(batch))
            self._rows += sum(map(_size, batch))
            self._bound()

    def start(self) -> None:
        """Start the background flusher (idempotent)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="modelport-log-flusher", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.flush_interval):
            self.flush()

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
