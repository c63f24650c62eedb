"""The local engine: chunks scored and committed on a pool of threads or of processes.

Threads suit models whose predict runs in native code that releases the GIL
(NumPy, scikit-learn's trees and linear models, ONNX Runtime, XGBoost); a model
that holds the GIL in Python code scales only across processes, each of which
loads the model once. At most two chunks per worker are in flight, so memory is
bounded by the chunk size and the worker count, not by the input.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from modelport.batch.scoring import Layout, score_chunk
from modelport.batch.sinks import Sink, open_sink
from modelport.batch.sources import Chunk
from modelport.batch.spec import ChunkStats, JobSpec
from modelport.foundation.settings import Settings
from modelport.registry.loaded import LoadedModel

PARALLEL_MODES = ("auto", "threads", "processes")
#: flavors whose predict runs Python code under the GIL (custom Python models, the pure-Python PMML evaluator)
GIL_BOUND_FLAVORS = frozenset({"python", "pmml"})


def choose_parallel(parallel: str, flavor: str) -> str:
    """`auto` picks processes for flavors that hold the GIL while predicting, threads for the rest."""
    if parallel != "auto":
        return parallel
    return "processes" if flavor in GIL_BOUND_FLAVORS else "threads"


@dataclass(frozen=True)
class WorkerSetup:
    """What a worker process needs to load the model and open the output itself."""

    settings: Settings
    pinned_ref: str
    spec: JobSpec
    layout: Layout


def score_and_commit(model: LoadedModel, layout: Layout, sink: Sink, chunk: Chunk) -> ChunkStats:
    """Score one chunk and commit it; the chunk's stats once it is durable."""
    scored = score_chunk(model, layout, chunk)
    sink.commit(scored)
    return scored.stats


def run_local(
    chunks: Iterator[Chunk],
    work: Callable[[Chunk], ChunkStats],
    on_done: Callable[[ChunkStats], None],
    *,
    workers: int,
    parallel: str,
    setup: WorkerSetup | None = None,
) -> None:
    """Run `work` over every chunk, `workers` at a time, calling `on_done` in commit order."""
    if workers <= 1:
        for chunk in chunks:
            on_done(work(chunk))
        return
    pool, task = _pool(workers, parallel, setup, work)
    pending: deque[Future[ChunkStats]] = deque()
    try:
        for chunk in chunks:
            pending.append(pool.submit(task, chunk))
            if len(pending) >= 2 * workers:
                on_done(pending.popleft().result())
        while pending:
            on_done(pending.popleft().result())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _pool(
    workers: int, parallel: str, setup: WorkerSetup | None, work: Callable[[Chunk], ChunkStats]
) -> tuple[Executor, Callable[[Chunk], ChunkStats]]:
    if parallel == "threads" or setup is None:
        return ThreadPoolExecutor(workers, thread_name_prefix="modelport-batch"), work
    import multiprocessing

    # spawn, not fork: the parent may hold threads (database pools, BLAS) that fork would copy mid-state.
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(setup,)
    ), _work_in_worker


# One model and one sink per worker *process*, set by the pool's initializer: a process
# pool offers no other place to keep what each worker loads once. Never set in the parent.
_worker: dict[str, Any] = {}


def _start_worker(setup: WorkerSetup) -> None:
    from modelport.registry.service import Registry

    registry = Registry.open(setup.settings)
    try:
        _worker["model"] = registry.load(setup.pinned_ref)
    finally:
        registry.close()
    _worker["sink"] = open_sink(setup.spec)
    _worker["sink"].attach(setup.spec)
    _worker["layout"] = setup.layout


def _work_in_worker(chunk: Chunk) -> ChunkStats:
    return score_and_commit(_worker["model"], _worker["layout"], _worker["sink"], chunk)
