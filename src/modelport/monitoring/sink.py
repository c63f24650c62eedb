"""The prediction log sink: serving appends each request's block to a queue; a thread writes batches every interval.

Durability: a graceful `close()` writes everything buffered. After kill -9, what was recorded in the
last flush interval (default 1 s) plus the batch being written may be lost -- never more, because a
batch is committed before the next interval starts. When the database is unreachable the sink holds
what it could not write, up to `max_buffer` rows, and drops the oldest beyond that, counting them in
`dropped`. The bound is applied when a write fails and, while a write hangs or the flusher waits to try
again, every interval by a guard thread: one interval's rows may come on top, never more. After a failed
write the flusher waits twice as long each time, up to `MAX_RETRY_INTERVAL` (30 s), then the interval again.
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
#: the longest wait between two tries while writes fail (each failed try doubles the wait from the interval)
MAX_RETRY_INTERVAL = 30.0


def next_wait(interval: float, waited: float, failed: bool) -> float:
    """How long the flusher waits before its next write: the interval, or twice the last wait after a failure.

    Why back off: a try re-groups and re-encodes every held row before the database refuses it, up to
    `max_buffer` rows (1.1 to 2.5 s of CPU at 200,000 rows, most of it holding the GIL the event loop
    needs), so retrying every interval through an outage would cost serving much of its throughput.
    """
    return min(max(waited, interval) * 2, max(MAX_RETRY_INTERVAL, interval)) if failed else interval


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
        self._holding = threading.Lock()  # guards what is held: the flusher and the guard both touch it
        self._flushing = threading.Lock()  # one write at a time
        self._stop = threading.Event()
        self._on_error = on_error
        self._thread: threading.Thread | None = None
        self._guard: threading.Thread | None = None
        self._failing = False  # the last write failed: the flusher backs off, the guard bounds the queue
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
            with self._holding:
                batch = [*self._held, *self._queued_items()]
                self._held.clear()
                self._held_rows = 0
            if not batch:
                return 0
            try:
                written = self.log.write(batch)
            except Exception as exc:  # a broken database must never break serving: keep the rows, retry later
                self._failing = True
                self._keep(batch, in_front=True)
                log.warning("prediction log flush failed (%d rows kept for retry): %s", self._held_rows, exc)
                if self._on_error is not None:
                    self._on_error(exc)
                return 0
            self._failing = False
            self.written += written
            return written

    def _keep(self, items: list[Any], *, in_front: bool) -> None:
        """Hold `items` for the next flush (a failed batch in front: it is older), then apply `max_buffer`."""
        with self._holding:
            if in_front:
                self._held.extendleft(reversed(items))
            else:
                self._held.extend(items)
            self._held_rows += sum(map(_size, items))
            while self._held_rows > self._max and self._held:  # the oldest go first, counted
                size = _size(self._held.popleft())
                self._held_rows -= size
                self.dropped += size

    def _queued_items(self) -> list[Any]:
        """Take what serving has queued so far, oldest first (appends go on meanwhile: they wait their turn)."""
        take = self._queue.popleft
        return [take() for _ in range(len(self._queue))]

    def _take_in(self) -> None:
        """Move what serving queued behind what is held, within `max_buffer` (while a write hangs)."""
        self._keep(self._queued_items(), in_front=False)

    def start(self) -> None:
        """Start the background flusher and its guard (idempotent)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="modelport-log-flusher", daemon=True)
            self._guard = threading.Thread(target=self._watch, name="modelport-log-guard", daemon=True)
            self._thread.start()
            self._guard.start()

    def _run(self) -> None:
        wait = self.flush_interval
        while not self._stop.wait(wait):
            self.flush()
            wait = next_wait(self.flush_interval, wait, self._failing)

    def _watch(self) -> None:
        # A write that hangs (a database that neither answers nor refuses) holds the flusher: meanwhile the
        # guard bounds what serving queues, every interval, so memory stays bounded without a check per request.
        # Half an interval out of step with the flusher, so that it rarely finds an ordinary write under way.
        if self._stop.wait(self.flush_interval / 2):
            return
        while not self._stop.wait(self.flush_interval):
            if self._flushing.locked() or self._failing:  # a write under way, or a wait between tries
                self._take_in()

    def close(self) -> None:
        """Stop the flusher and write what is buffered (graceful shutdown loses nothing)."""
        self._stop.set()
        for thread in (self._thread, self._guard):
            if thread is not None:
                thread.join(timeout=30)
        self._thread = self._guard = None
        self.flush()


def _size(item: Any) -> int:
    """Rows in a buffered item: a block's `rows`, one for a record or a dict."""
    return 1 if isinstance(item, dict) else getattr(item, "rows", 1)
