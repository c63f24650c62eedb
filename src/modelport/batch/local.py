"""The local engine: chunks scored and committed on a pool of threads or of processes.

Threads suit models whose predict runs in native code that releases the GIL
(NumPy, scikit-learn's trees and linear models, ONNX Runtime, XGBoost); a model
that holds the GIL in Python code scales only across processes, each of which
loads the model once. A work item is a chunk already read, or a split of a
Parquet input (batch/splits.py) that the worker reads itself. At most two items
per worker are in flight, so memory is bounded by the chunk size and the worker
count, not by the input.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from modelport.batch.scoring import Layout, score_chunk
from modelport.batch.sinks import Sink, open_sink
from modelport.batch.sources import Chunk
from modelport.batch.spec import ChunkStats, JobSpec
from modelport.batch.splits import Split, SplitReader
from modelport.foundation.settings import Settings
from modelport.registry.loaded import LoadedModel

PARALLEL_MODES = ("auto", "threads", "processes")
#: flavors whose predict runs Python code under the GIL (custom Python models, the pure-Python PMML evaluator)
GIL_BOUND_FLAVORS = frozenset({"python", "pmml"})

#: what a worker is given: a chunk already read, or a split it reads itself
Item = Chunk | Split


def choose_parallel(parallel: str, flavor: str) -> str:
    """`auto` picks processes for flavors that hold the GIL while predicting, threads for the rest."""
    if parallel != "auto":
        return parallel
    return "processes" if flavor in GIL_BOUND_FLAVORS else "threads"


@dataclass(frozen=True)
class WorkerSetup:
    """What a worker process needs to load the model, read its splits and open the output itself."""

    settings: Settings
    pinned_ref: str
    spec: JobSpec
    layout: Layout
    reader: SplitReader | None = None


def score_and_commit(model: LoadedModel, layout: Layout, sink: Sink, chunk: Chunk) -> ChunkStats:
    """Score one chunk and commit it; the chunk's stats once it is durable."""
    scored = score_chunk(model, layout, chunk)
    sink.commit(scored)
    return scored.stats


def score_item(
    model: LoadedModel, layout: Layout, sink: Sink, reader: SplitReader | None, item: Chunk | Split
) -> list[ChunkStats]:
    """Score and commit a chunk, or every chunk of a split (read here, in the worker)."""
    if isinstance(item, Chunk):
        return [score_and_commit(model, layout, sink, item)]
    if reader is None:
        raise TypeError("a split needs a SplitReader to be read")  # a programming error, not bad input
    return [score_and_commit(model, layout, sink, chunk) for chunk in reader.chunks(item)]


def run_local(
    items: Iterator[Item],
    work: Callable[[Item], Sequence[ChunkStats]],
    on_done: Callable[[ChunkStats], None],
    *,
    workers: int,
    parallel: str,
    setup: WorkerSetup | None = None,
) -> None:
    """Run `work` over every item, `workers` at a time, calling `on_done` per chunk in commit order."""
    with single_threaded_natives(workers > 1):
        if workers <= 1:
            for item in items:
                _report(work(item), on_done)
            return
        pool, task = _pool(workers, parallel, setup, work)
        pending: deque[Future[Sequence[ChunkStats]]] = deque()
        try:
            for item in items:
                pending.append(pool.submit(task, item))
                if len(pending) >= 2 * workers:
                    _report(pending.popleft().result(), on_done)
            while pending:
                _report(pending.popleft().result(), on_done)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _report(stats: Sequence[ChunkStats], on_done: Callable[[ChunkStats], None]) -> None:
    for one in stats:
        on_done(one)


def single_threaded_natives(wanted: bool) -> AbstractContextManager[Any]:
    """BLAS and OpenMP pools held to one thread while the job's own workers fill the cores.

    An idle OpenBLAS thread spins for a while after each call; with every core
    already scoring a chunk, that spinning only takes CPU from the other workers
    (py-spy/perf showed its thread loop at ~12 % of a 2-thread job's CPU).
    """
    if not wanted:
        return nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # installed with scikit-learn; without it there is no pool to limit that we know of
        return nullcontext()
    limits: AbstractContextManager[Any] = threadpool_limits(limits=1)
    return limits


def _pool(
    workers: int, parallel: str, setup: WorkerSetup | None, work: Callable[[Item], Sequence[ChunkStats]]
) -> tuple[Executor, Callable[[Item], Sequence[ChunkStats]]]:
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

    single_threaded_natives(True).__enter__()  # for the worker process's whole life: it scores one item at a time
    registry = Registry.open(setup.settings)
    try:
        _worker["model"] = registry.load(setup.pinned_ref)
    finally:
        registry.close()
    _worker["sink"] = open_sink(setup.spec)
    _worker["sink"].attach(setup.spec)
    _worker["setup"] = setup


def _work_in_worker(item: Item) -> Sequence[ChunkStats]:
    setup: WorkerSetup = _worker["setup"]
    return score_item(_worker["model"], setup.layout, _worker["sink"], setup.reader, item)
