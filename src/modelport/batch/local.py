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

import logging
import pickle
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from modelport.batch.scoring import Layout, score_chunk
from modelport.batch.sinks import Sink, open_sink
from modelport.batch.sources import Chunk
from modelport.batch.spec import ChunkStats, JobSpec, ScoredChunk
from modelport.batch.splits import Split, SplitReader
from modelport.foundation.settings import Settings
from modelport.registry.loaded import LoadedModel

log = logging.getLogger("modelport.batch.local")

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
    # The parent's loaded model, pickled, when it pickles (`portable`): a worker then starts without opening
    # the registry and loading the artifact again (skops' import alone scans every loaded module once per
    # NumPy ufunc type). Else None, and the worker loads `pinned_ref` itself.
    model: bytes | None = None


def portable(model: LoadedModel) -> bytes | None:
    """The loaded model pickled for worker processes and Ray actors, or None when it does not pickle (e.g. a
    native session).

    Only ever unpickled by the workers this job starts (`worker_model`): the artifact itself was loaded and
    its digest checked here, under the registry's trust rules.
    """
    try:
        return pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError, NotImplementedError):
        return None


#: a committed chunk's stats, or the promise of them from a background commit
Done = ChunkStats | Future[ChunkStats]


def commit_now(sink: Sink) -> Callable[[ScoredChunk], Done]:
    """Commit on the calling thread: the chunk's stats once it is durable."""

    def commit(scored: ScoredChunk) -> Done:
        sink.commit(scored)
        return scored.stats

    return commit


class Committer:
    """Commits on background threads, at most `depth` chunks waiting.

    A commit is mostly waiting for `fsync` (3-9 ms a file on the benchmark machine,
    two files a chunk); done by the worker itself, that wait leaves its core idle.
    Here the worker goes on to score its next chunk meanwhile.
    """

    def __init__(self, sink: Sink, threads: int, depth: int) -> None:
        self.sink = sink
        self.room = threading.BoundedSemaphore(depth)
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="modelport-commit")

    def commit(self, scored: ScoredChunk) -> Done:
        """Queue the chunk's commit (waiting while `depth` are queued); its stats once durable."""
        self.room.acquire()
        try:
            return self.pool.submit(self._commit, scored)
        except BaseException:
            self.room.release()
            raise

    def _commit(self, scored: ScoredChunk) -> ChunkStats:
        try:
            self.sink.commit(scored)
            return scored.stats
        finally:
            self.room.release()

    def close(self) -> None:
        """Wait for every queued commit."""
        self.pool.shutdown(wait=True)


def score_item(
    model: LoadedModel,
    layout: Layout,
    reader: SplitReader | None,
    item: Item,
    commit: Callable[[ScoredChunk], Done],
) -> list[Done]:
    """Score a chunk, or every chunk of a split (read here, in the worker), and commit each."""
    if isinstance(item, Chunk):
        return [commit(score_chunk(model, layout, item))]
    if reader is None:
        raise TypeError("a split needs a SplitReader to be read")  # a programming error, not bad input
    return [commit(score_chunk(model, layout, chunk)) for chunk in reader.chunks(item)]


def run_local(
    items: Iterator[Item],
    work: Callable[[Item], Sequence[Done]],
    on_done: Callable[[ChunkStats], None],
    *,
    workers: int,
    parallel: str,
    setup: WorkerSetup | None = None,
) -> None:
    """Run `work` over every item, `workers` at a time, calling `on_done` per chunk in commit order."""
    with single_threaded_natives(workers > 1), arrow_pool_that_keeps_pages():
        if workers <= 1:
            for item in items:
                _report(work(item), on_done)
            return
        pool, task = _pool(workers, parallel, setup, work)
        pending: deque[Future[Sequence[Done]]] = deque()
        try:
            for item in items:
                pending.append(pool.submit(task, item))
                if len(pending) >= 2 * workers:
                    _report(pending.popleft().result(), on_done)
            while pending:
                _report(pending.popleft().result(), on_done)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _report(stats: Sequence[Done], on_done: Callable[[ChunkStats], None]) -> None:
    for one in stats:
        on_done(one.result() if isinstance(one, Future) else one)


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


@contextmanager
def arrow_pool_that_keeps_pages() -> Iterator[None]:
    """Arrow's jemalloc pool as the default while the job runs, where this pyarrow has it; the old one after.

    Each chunk allocates and frees some 100 MB of Arrow buffers. Arrow's default pool
    (mimalloc) hands freed pages back to the system at once, so the next chunk's
    buffers fault them in and the kernel zeroes them again: on the benchmark it
    doubled the job's system CPU. jemalloc keeps freed pages for reuse a while.
    A/B on 2M rows, 4 rounds: 82-100 ms of CPU a chunk with mimalloc, 56-64 with jemalloc.
    """
    import pyarrow as pa

    if "jemalloc" not in pa.supported_memory_backends():
        yield
        return
    before = pa.default_memory_pool()
    pa.set_memory_pool(pa.jemalloc_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(before)


def _pool(
    workers: int, parallel: str, setup: WorkerSetup | None, work: Callable[[Item], Sequence[Done]]
) -> tuple[Executor, Callable[[Item], Sequence[Done]]]:
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
    _worker["model"] = worker_model(setup.model, setup.settings, setup.pinned_ref)
    # For the worker process's whole life: it scores one item at a time, and Arrow's buffers come and go.
    # After loading, so that the BLAS libraries the model's own imports brought are held to one thread too.
    single_threaded_natives(True).__enter__()
    arrow_pool_that_keeps_pages().__enter__()
    _worker["sink"] = open_sink(setup.spec)
    _worker["sink"].attach(setup.spec)
    _worker["setup"] = setup


def worker_model(pickled: bytes | None, settings: Settings, pinned_ref: str) -> LoadedModel:
    """A worker's model (a process's or a Ray actor's): the parent's, unpickled, else loaded from the registry.

    A model that pickles may still not unpickle elsewhere: a python-flavor model's classes live in a module
    the parent imported from the artifact (formats/python.py), which a new process has not; such a worker
    loads the version from the registry, as every worker did before models were handed over.
    """
    if pickled is not None:
        try:
            loaded: LoadedModel = pickle.loads(pickled)  # noqa: S301 - pickled by this job's parent (`portable`)
            return loaded
        except Exception as exc:  # any failure here has the same remedy: load it afresh
            log.info("batch worker loads %s from the registry: the parent's model did not unpickle (%s: %s)",
                     pinned_ref, type(exc).__name__, exc)
    from modelport.registry.service import Registry

    registry = Registry.open(settings)
    try:
        return registry.load(pinned_ref)
    finally:
        registry.close()


def _work_in_worker(item: Item) -> Sequence[Done]:
    setup: WorkerSetup = _worker["setup"]
    return score_item(_worker["model"], setup.layout, setup.reader, item, commit_now(_worker["sink"]))
