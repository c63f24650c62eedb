"""The adaptive batcher: no wait when idle, batches under load, exact rows back, isolation of failures."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from modelport.foundation.clock import ManualClock
from modelport.foundation.errors import DeadlineExceededError
from modelport.serving.batcher import AdaptiveBatcher

pytestmark = pytest.mark.anyio


class Model:
    """Doubles its input; can be held so requests pile up, and raises on negative values."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.gate = threading.Event()
        self.gate.set()

    def run(self, data: np.ndarray, want_proba: bool) -> tuple[np.ndarray, np.ndarray | None]:
        self.gate.wait(timeout=10)
        self.calls.append(len(data))
        if (data < 0).any():
            raise ValueError("negative")
        return data[:, 0] * 2, (np.column_stack([data[:, 0], -data[:, 0]]) if want_proba else None)


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(2)
    yield pool
    pool.shutdown(wait=True)


def batcher(model: Model, executor: ThreadPoolExecutor, **options: float) -> AdaptiveBatcher:
    return AdaptiveBatcher(model.run, lambda parts: np.concatenate(parts), executor=executor,
                           clock=ManualClock(), **options)  # type: ignore[arg-type]


def rows(*values: float) -> np.ndarray:
    return np.asarray(values, dtype=float).reshape(-1, 1)


async def test_a_lone_request_is_dispatched_at_once(executor) -> None:
    model = Model()
    b = batcher(model, executor, max_wait_s=5.0)
    answer = await asyncio.wait_for(b.submit(rows(1, 2), 2), 5)
    assert answer.predictions.tolist() == [2, 4] and answer.batch_rows == 2 and model.calls == [2]


async def test_concurrent_callers_get_exactly_their_rows(executor) -> None:
    model = Model()
    b = batcher(model, executor, max_batch_size=16)
    model.gate.clear()
    first = b.submit(rows(0), 1)  # occupies the model while the others queue
    others = [b.submit(rows(*range(i * 10, i * 10 + 1 + i % 3)), 1 + i % 3) for i in range(1, 40)]
    model.gate.set()
    answers = await asyncio.wait_for(asyncio.gather(first, *others), 10)
    for i, answer in enumerate(answers[1:], start=1):
        assert answer.predictions.tolist() == [2 * v for v in range(i * 10, i * 10 + 1 + i % 3)]
    assert max(model.calls) > 1 and max(model.calls) <= 16 and len(model.calls) < 40


async def test_a_request_larger_than_the_batch_passes_alone(executor) -> None:
    model = Model()
    b = batcher(model, executor, max_batch_size=4)
    answer = await asyncio.wait_for(b.submit(rows(*range(10)), 10), 5)
    assert len(answer.predictions) == 10 and model.calls == [10]


async def test_a_failing_caller_does_not_fail_its_batch_neighbours(executor) -> None:
    model = Model()
    b = batcher(model, executor)
    model.gate.clear()
    blocker = b.submit(rows(1), 1)
    good, bad, also_good = b.submit(rows(3), 1), b.submit(rows(-1), 1), b.submit(rows(5), 1)
    model.gate.set()
    results = await asyncio.wait_for(asyncio.gather(blocker, good, bad, also_good, return_exceptions=True), 5)
    assert results[1].predictions.tolist() == [6] and results[3].predictions.tolist() == [10]
    assert isinstance(results[2], ValueError)


async def test_requests_past_their_deadline_are_dropped_before_predict(executor) -> None:
    model = Model()
    clock = ManualClock()
    b = AdaptiveBatcher(model.run, lambda parts: np.concatenate(parts), executor=executor, clock=clock)
    model.gate.clear()
    blocker = b.submit(rows(1), 1)
    await asyncio.sleep(0)  # the idle model takes the blocker at the end of this loop iteration
    late = b.submit(rows(7), 1, deadline=clock.monotonic() + 0.01)
    with pytest.raises(DeadlineExceededError, match="deadline passed"):
        await asyncio.wait_for(late, 5)
    model.gate.set()
    await asyncio.wait_for(blocker, 5)
    assert model.calls == [1]  # the expired request never reached the model


async def test_probabilities_only_for_callers_that_ask(executor) -> None:
    model = Model()
    b = batcher(model, executor)
    answer = await asyncio.wait_for(b.submit(rows(3), 1, want_proba=True), 5)
    assert answer.probabilities is not None and answer.probabilities.tolist() == [[3, -3]]


async def test_under_load_a_batch_waits_for_company_until_full(executor) -> None:
    model = Model()
    permits = threading.Semaphore(0)
    model.run = _metered(model.run, permits)  # type: ignore[method-assign]
    b = batcher(model, executor, max_batch_size=3, max_wait_s=30.0)
    first = b.submit(rows(1), 1)
    await asyncio.sleep(0)  # the idle model takes `first` alone at the end of this loop iteration
    pair = [b.submit(rows(2), 1), b.submit(rows(3), 1)]
    permits.release()
    await asyncio.wait_for(first, 5)  # the pair now runs, with company: the model is under load
    fourth = b.submit(rows(4), 1)
    permits.release()
    await asyncio.wait_for(asyncio.gather(*pair), 5)
    assert not fourth.done() and b.depth == 1  # held back for company (not dispatched alone)
    rest = [b.submit(rows(5), 1), b.submit(rows(6), 1)]  # the batch is full: it goes at once
    permits.release()
    await asyncio.wait_for(asyncio.gather(fourth, *rest), 5)  # well under the 30 s wait
    assert model.calls == [1, 2, 3]


def _metered(run, permits: threading.Semaphore):  # type: ignore[no-untyped-def]
    def metered(data, want_proba):  # type: ignore[no-untyped-def]
        assert permits.acquire(timeout=10)
        return run(data, want_proba)

    return metered


class ThreadRecorder(Model):
    """Records the thread each predict ran on; burns `cpu_s` of CPU per call."""

    def __init__(self, cpu_s: float = 0.0, *, schedule: list[float] | None = None) -> None:
        super().__init__()
        self.threads: list[str] = []
        self.cpu_s = cpu_s
        self.schedule = schedule  # the CPU seconds of each call in turn, when they differ

    def run(self, data: np.ndarray, want_proba: bool) -> tuple[np.ndarray, np.ndarray | None]:
        burn = self.schedule[len(self.threads)] if self.schedule else self.cpu_s
        self.threads.append(threading.current_thread().name)
        start = time.thread_time()
        while time.thread_time() - start < burn:
            pass
        return super().run(data, want_proba)


async def test_an_inline_batcher_predicts_on_the_loop_and_still_merges_one_iterations_callers(executor) -> None:
    model = ThreadRecorder()
    b = AdaptiveBatcher(model.run, lambda parts: np.concatenate(parts), executor=executor, clock=ManualClock(),
                        inline_limit_s=0.01)
    answers = await asyncio.wait_for(asyncio.gather(*[b.submit(rows(v), 1) for v in range(5)]), 5)
    assert [a.predictions.tolist() for a in answers] == [[0], [2], [4], [6], [8]]
    assert model.calls == [5] and model.threads == [threading.current_thread().name]


async def test_an_inline_model_that_keeps_overrunning_its_budget_moves_to_the_threads(executor) -> None:
    model = ThreadRecorder(cpu_s=0.005)  # 5 ms of CPU per call against a 0.1 ms budget
    b = AdaptiveBatcher(model.run, lambda parts: np.concatenate(parts), executor=executor, clock=ManualClock(),
                        inline_limit_s=0.0001)
    for value in range(4):
        await asyncio.wait_for(b.submit(rows(value), 1), 5)
    loop_thread = threading.current_thread().name
    assert model.threads[:3] == [loop_thread] * 3 and model.threads[3] != loop_thread
    assert b.inline_limit_s is None


async def test_slow_batches_now_and_then_do_not_add_up_to_moving_a_fast_model_to_the_threads(executor) -> None:
    """Three slow batches in a row move a model; the same three among fast ones (a pause, a cold cache) do not."""
    slow, fast = 0.005, 0.0
    model = ThreadRecorder(schedule=[slow, slow, fast, slow, fast, slow, slow, fast, slow, slow, slow, fast])
    b = AdaptiveBatcher(model.run, lambda parts: np.concatenate(parts), executor=executor, clock=ManualClock(),
                        inline_limit_s=0.0001)
    loop_thread = threading.current_thread().name
    for value in range(9):
        await asyncio.wait_for(b.submit(rows(value), 1), 5)
    assert model.threads == [loop_thread] * 9 and b.inline_limit_s == 0.0001  # six slow batches, never three in a row
    for value in range(3):
        await asyncio.wait_for(b.submit(rows(value), 1), 5)
    assert model.threads[9:11] == [loop_thread] * 2 and model.threads[11] != loop_thread and b.inline_limit_s is None


async def test_a_moved_model_whose_batches_keep_within_the_limit_in_the_threads_comes_back_inline(
        executor, monkeypatch: pytest.MonkeyPatch) -> None:
    """A burst moves a fast model to the threads; a run of fast batches there brings it back, and each later
    move asks for twice as long a run; a slow batch in the threads starts the run again."""
    import modelport.serving.batcher as batcher

    monkeypatch.setattr(batcher, "_INLINE_RETURN", 4)
    slow, fast = 0.005, 0.0
    schedule = [slow] * 3 + [fast] * 3 + [slow] + [fast] * 4 + [fast] + [slow] * 3 + [fast] * 8 + [fast]
    model = ThreadRecorder(schedule=schedule)
    b = AdaptiveBatcher(model.run, lambda parts: np.concatenate(parts), executor=executor, clock=ManualClock(),
                        inline_limit_s=0.001)
    loop_thread = threading.current_thread().name
    for value in range(len(schedule)):
        await asyncio.wait_for(b.submit(rows(value), 1), 5)
    on_loop = [thread == loop_thread for thread in model.threads]
    assert on_loop == ([True] * 3  # three slow batches in a row: moved
                       + [False] * 8  # 3 fast, 1 slow (the run starts again), then 4 fast: back
                       + [True] * 4  # inline again; three slow in a row: moved a second time
                       + [False] * 8  # twice as long a run this time
                       + [True])
    assert b.inline_limit_s == 0.001
