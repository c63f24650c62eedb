"""The prediction log sink: serving appends each request's block to a queue; a thread writes batches every interval.

Durability: a graceful `close()` writes everything buffered. After kill -9, what was recorded in the
last flush interval (default 1 s) plus the batch being written may be lost -- never more, because a
batch is committed before the next interval starts. When the database is unreachable the sink holds
what it could not write, up to `max_buffer` rows, and drops the oldest beyond that, counting them in
`dropped`; the bound is applied at each flush, so between two flushes one interval's rows may come on top.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from modelport.monitoring.log import PredictionLog

log = logging.getLogger("modelport.monitoring.sink")

DEFAULT_FLUSH_INTERVAL = 1.0
DEFAULT_MAX_BUFFER = 200_000


class PredictionLogSink:
    """A `PredictionSink` (see modelport.serving.predictions) that batches rows into the prediction log.

    `intake` is the queue's own `append`: serving calls it once per request, a C-level call with no
    Python frame, no lock and no counting (the log's whole cost on the event loop, with building the
    block; bench/monitoring/log_instructions.py). Rows are counted, and bounded, by the flusher.
    """

    def __init__(self, log_store: PredictionLog, *, flush_interval: float = DEFAULT_FLUSH_INTERVAL,
                 max_buffer: int = DEFAULT_MAX_BUFFER, autostart: bool = True,
                 on_error: Callable[[BaseException], None] | None = None) -> None:
        self.log = log_store
        self.flush_interval = flush_interval
        self.dropped = 0
        self.written = 0
        self._queue: deque[Any] = deque()  # appended by serving, drained from the left by the flusher
        self.intake: Callable[[Any], None] = self._queue.append
        self._held: deque[Any] = deque()  # drained but not written (the database failed): retried first
        self._held_rows = 0
        self._max = max_buffer
        self._flushing = threading.Lock()
        self._stop = threading.Event()
        self._on_error = on_error
        self._thread: threading.Thread | None = None
        if autostart:
            self.start()

    def record(self, rows: Iterable[Any]) -> None:
        """Queue records or serving's blocks for the next flush; never blocks on I/O."""
        self._queue.extend(rows)

    @property
    def pending(self) -> int:
        """Rows waiting for the next flush (counted item by item: see `queued` for a cheap measure)."""
        return self._held_rows + sum(map(_size, list(self._queue)))

    @property
    def queued(self) -> int:
        """Items (blocks, records) queued since the last flush, in constant time."""
        return len(self._queue)

    def flush(self) -> int:
        """Write everything buffered now (in the caller's thread); returns rows written."""
        with self._flushing:
            batch = self._drain()
            if not batch:
                return 0
            try:
                written = self.log.write(batch)
            except Exception as exc:  # a broken database must never break serving: keep the rows, retry later
                self._hold(batch)
                log.warning("prediction log flush failed (%d rows kept for retry): %s", self._held_rows, exc)
                if self._on_error is not None:
                    self._on_error(exc)
                return 0
            self.written += written
            return written

    def _drain(self) -> list[Any]:
        """What failed to be written before, then what serving queued up to now (appends go on meanwhile)."""
        batch = list(self._held)
        self._held.clear()
        self._held_rows = 0
        take = self._queue.popleft
        batch.extend(take() for _ in range(len(self._queue)))
        return batch

    def _hold(self, batch: list[Any]) -> None:
        """Keep a batch that was not written for the next flush, dropping its oldest items beyond `max_buffer` rows."""
        sizes = list(map(_size, batch))
        rows, first = sum(sizes), 0
        while rows > self._max and first < len(batch):
            rows -= sizes[first]
            self.dropped += sizes[first]
            first += 1
        self._held.extend(batch[first:])
        self._held_rows = rows

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
