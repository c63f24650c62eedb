"""Adaptive batching for one model version.

A request that finds the model idle is dispatched at the end of the current event-loop
iteration (so requests parsed in the same iteration go together, and a lone request waits
for nothing but that); requests that arrive while a predict runs queue up and go together in
the next call, up to `max_batch_size` rows. So batches grow with load and a lone request pays
nothing. With `max_wait_s > 0`, a batch formed under load may also wait that long to fill up.

Everything here runs on the event loop except `run`, which is called in `executor`, or, when
`inline_limit_s` is set (a model whose full batch was measured to predict within it at warm-up),
on the loop itself: handing a tiny predict to a thread costs more than the predict. Inline
batches that take more than four times the limit in CPU time, three times in a row, send the model
to the threads, so a misjudged model cannot keep holding the loop. There its batches stay timed:
after 1,000 in a row within the limit (2,000 after a second move, and so on) it comes back inline,
so that a burst (a busy neighbour, a cold cache, a long collection) does not cost a fast model its
inline predicts for the rest of the server's life.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from modelport.foundation.clock import Clock
from modelport.foundation.errors import DeadlineExceededError

log = logging.getLogger("modelport.serving.batcher")
_INLINE_SLACK = 4  # inline batches this many times over the limit, _INLINE_STRIKES in a row, move the model to threads
_INLINE_STRIKES = 3
_INLINE_RETURN = 1_000  # batches in the threads within the limit, in a row, that bring a moved model back inline

#: run(model_input, want_proba) -> (predictions, probabilities or None)
RunFn = Callable[[Any, bool], tuple[np.ndarray, np.ndarray | None]]
CombineFn = Callable[[Sequence[Any]], Any]
#: one job's predictions and probabilities, or the error its rows raised
Outcome = tuple[np.ndarray, np.ndarray | None] | BaseException


@dataclass
class Answer:
    """One caller's rows of a batch's output."""

    predictions: np.ndarray
    probabilities: np.ndarray | None
    batch_rows: int


@dataclass(eq=False)
class Job:
    """One caller's validated input waiting for a predict call."""

    data: Any
    rows: int
    want_proba: bool
    deadline: float | None
    future: asyncio.Future[Answer]
    timer: asyncio.TimerHandle | None = field(default=None, repr=False)


class AdaptiveBatcher:
    """Merges concurrent requests for one model version into few predict calls."""

    def __init__(
        self,
        run: RunFn,
        combine: CombineFn,
        *,
        executor: Executor,
        clock: Clock,
        max_batch_size: int = 64,
        max_wait_s: float = 0.0,
        on_batch: Callable[[int], None] | None = None,
        inline_limit_s: float | None = None,
    ) -> None:
        self._run = run
        self._combine = combine
        self._executor = executor
        self._clock = clock
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_s
        self._on_batch = on_batch
        #: None: predicts run in `executor`; else they run on the loop while they stay this fast
        self.inline_limit_s = inline_limit_s
        self._slow_inline = 0
        self._moved: float | None = None  # the inline limit of a model moved to the threads, while it is there
        self._moves = 0
        self._fast_in_threads = 0
        self._pending: deque[Job] = deque()
        self._pending_rows = 0
        self._running = False
        self._timer: asyncio.Handle | None = None
        self._last_jobs = 0

    @property
    def depth(self) -> int:
        """Requests waiting (not counting the batch that runs)."""
        return len(self._pending)

    @property
    def busy(self) -> bool:
        return self._running or bool(self._pending)

    def submit(self, data: Any, rows: int, *, want_proba: bool = False, deadline: float | None = None) -> asyncio.Future[Answer]:
        """Queue one caller's validated input; the future resolves to exactly its rows."""
        loop = asyncio.get_running_loop()
        job = Job(data, rows, want_proba, deadline, loop.create_future())
        if deadline is not None:
            job.timer = loop.call_later(max(deadline - self._clock.monotonic(), 0.0), _expire, job)
        self._pending.append(job)
        self._pending_rows += rows
        if self._timer is not None and self._pending_rows >= self.max_batch_size:
            self._timer.cancel()
            self._timer = None
            self._launch()
        elif not self._running and self._timer is None:
            self._timer = loop.call_soon(self._launch)
        return job.future

    def _take(self) -> list[Job]:
        """The next batch: live jobs in arrival order, at least one, at most max_batch_size rows."""
        now = self._clock.monotonic()
        jobs: list[Job] = []
        rows = 0
        while self._pending:
            job = self._pending[0]
            if job.future.done() or (job.deadline is not None and job.deadline <= now):
                self._pending.popleft()
                self._pending_rows -= job.rows
                _expire(job)
                continue
            if jobs and rows + job.rows > self.max_batch_size:
                break
            self._pending.popleft()
            self._pending_rows -= job.rows
            jobs.append(job)
            rows += job.rows
        return jobs

    def _launch(self) -> None:
        self._timer = None
        jobs = self._take()
        if not jobs:
            self._running = False
            return
        self._running = True
        self._last_jobs = len(jobs)
        if self._on_batch is not None:
            self._on_batch(sum(j.rows for j in jobs))
        parts = [(j.data, j.want_proba) for j in jobs]
        if self.inline_limit_s is not None:
            self._finish(jobs, self._work_inline(parts, self.inline_limit_s))
            return
        if self._moved is not None:
            timed = asyncio.wrap_future(self._executor.submit(self._work_timed, parts))
            timed.add_done_callback(lambda fut: self._finish_timed(jobs, fut))
            return
        done = asyncio.wrap_future(self._executor.submit(self._work, parts))
        done.add_done_callback(lambda fut: self._finish(jobs, _outcomes(fut, len(jobs))))

    def _work_inline(self, parts: list[tuple[Any, bool]], limit_s: float) -> list[Outcome]:
        start = time.thread_time()  # CPU time: being descheduled on a busy machine is not the model's cost
        outcomes = self._work(parts)
        elapsed = time.thread_time() - start
        # Only a run of slow batches says the model is slow: a collection, page faults or a cold cache now
        # and then must not add up, over a server's life, to moving a fast model to the threads for good.
        self._slow_inline = self._slow_inline + 1 if elapsed > limit_s * _INLINE_SLACK else 0
        if self._slow_inline >= _INLINE_STRIKES:
            self.inline_limit_s, self._moved, self._slow_inline = None, limit_s, 0
            self._moves += 1
            log.warning("a batch of %d rows took %.1f ms of CPU on the event loop (limit %.3f ms), again: predicts run "
                        "in threads until %d batches in a row keep within the limit", sum(_rows(p[0]) for p in parts),
                        elapsed * 1000, limit_s * 1000, self._returns_after())
        return outcomes

    def _returns_after(self) -> int:
        return _INLINE_RETURN << max(0, self._moves - 1)  # doubled at each move: a model that flaps waits longer

    def _work_timed(self, parts: list[tuple[Any, bool]]) -> tuple[list[Outcome], float]:
        """In the executor, for a model moved there: `_work` and the CPU time it took."""
        start = time.thread_time()
        outcomes = self._work(parts)
        return outcomes, time.thread_time() - start

    def _finish_timed(self, jobs: list[Job], done: asyncio.Future[tuple[list[Outcome], float]]) -> None:
        """On the loop: a moved model's batch answered, and counted towards its way back inline."""
        error = asyncio.CancelledError() if done.cancelled() else done.exception()
        if error is not None:
            self._finish(jobs, [error] * len(jobs))
            return
        outcomes, elapsed = done.result()
        limit = self._moved
        if limit is not None:
            self._fast_in_threads = self._fast_in_threads + 1 if elapsed <= limit else 0
            if self._fast_in_threads >= self._returns_after():
                self.inline_limit_s, self._moved, self._fast_in_threads = limit, None, 0
                log.info("%d batches in a row took at most %.3f ms of CPU: predicts run on the event loop again",
                         self._returns_after(), limit * 1000)
        self._finish(jobs, outcomes)

    def _work(self, parts: list[tuple[Any, bool]]) -> list[Outcome]:
        """In the executor: one predict over all parts; if it fails, each part alone (to find the culprit)."""
        want_proba = any(p[1] for p in parts)
        try:
            predictions, probabilities = self._run(self._combine([p[0] for p in parts]), want_proba)
        except Exception as exc:
            if len(parts) == 1:
                return [exc]
            return [self._alone(data, proba) for data, proba in parts]
        sizes = [_rows(p[0]) for p in parts]
        preds = _split(predictions, sizes)
        probas = _split(probabilities, sizes) if probabilities is not None else [None] * len(parts)
        return [(p, q) for p, q in zip(preds, probas, strict=True)]

    def _alone(self, data: Any, want_proba: bool) -> Outcome:
        try:
            return self._run(self._combine([data]), want_proba)
        except Exception as exc:
            return exc

    def _finish(self, jobs: list[Job], outcomes: list[Outcome]) -> None:
        batch_rows = sum(j.rows for j in jobs)
        for job, outcome in zip(jobs, outcomes, strict=True):
            if job.timer is not None:
                job.timer.cancel()
            if job.future.done():
                continue
            if isinstance(outcome, BaseException):
                job.future.set_exception(outcome)
            else:
                job.future.set_result(Answer(outcome[0], outcome[1], batch_rows))
        self._next()

    def _next(self) -> None:
        """Start the next batch, after a short wait for company only if the model is under load."""
        if not self._pending:
            self._running = False
            return
        if self.max_wait_s > 0 and self._last_jobs > 1 and self._pending_rows < self.max_batch_size:
            self._running = False
            self._timer = asyncio.get_running_loop().call_later(self.max_wait_s, self._launch)
            return
        if self.inline_limit_s is not None:  # let the loop serve its sockets between two inline batches
            self._timer = asyncio.get_running_loop().call_soon(self._launch)
            return
        self._launch()


def _outcomes(done: asyncio.Future[list[Outcome]], count: int) -> list[Outcome]:
    """Each job's outcome from a threaded batch (the same error for all if the batch itself failed)."""
    error = done.exception()
    return [error] * count if error is not None else done.result()


def _expire(job: Job) -> None:
    if not job.future.done():
        job.future.set_exception(DeadlineExceededError("the request's deadline passed before the model answered"))


def _rows(data: Any) -> int:
    return len(data)


def _split(values: np.ndarray, sizes: list[int]) -> list[np.ndarray]:
    out = []
    start = 0
    for size in sizes:
        out.append(values[start:start + size])
        start += size
    return out
