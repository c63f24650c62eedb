"""The Ray engine: the same job on Ray Data, reading and scoring spread over a cluster.

Files (one task each) and a SQL query (one task) are read by Ray tasks with
the local engine's own readers (so values are parsed identically), scored by a
pool of actors that each load the model once, and streamed back in input order; the driver cuts the stream into the same
numbered chunks as the local engine and commits them through the same sink and
journal. The output is therefore the local engine's, row for row, and resuming
works the same way (committed chunks are not written again, though they are
read and scored again). Ray is imported here only, when this engine runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd

from modelport.batch.scoring import Layout, score_rows, split_chunk
from modelport.batch.sinks import Sink
from modelport.batch.sources import is_sql_url, open_source
from modelport.batch.spec import ChunkStats, JobSpec
from modelport.foundation.errors import InvalidInputError
from modelport.foundation.settings import Settings
from modelport.signatures.schema import Signature


@dataclass(frozen=True)
class RayJob:
    """What Ray tasks and actors need, all of it picklable."""

    settings: Settings
    pinned_ref: str
    spec: JobSpec
    layout: Layout
    signature: Signature | None


def run_ray(
    job: RayJob,
    sink: Sink,
    done: set[int],
    *,
    address: str | None,
    workers: int,
    on_done: Callable[[ChunkStats], None],
    model: bytes | None = None,
) -> None:
    """Score the job on Ray (an existing cluster at `address`, else a local Ray) and commit every chunk.

    `model` is the driver's loaded model, pickled (batch/local.py `portable`): the actors then need neither
    the registry nor the artifact store, and skip loading the artifact again. Without it each actor loads
    the model from the registry.
    """
    ray = _ray()
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
    try:
        for index, start, rows in _scored_chunks(ray, job, workers, model):
            if index in done:
                continue
            scored = split_chunk(rows, job.layout, index, start, _version(job.pinned_ref))
            sink.commit(scored)
            on_done(scored.stats)
    finally:
        if started_here:
            ray.shutdown()


def _ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise InvalidInputError("the ray engine needs Ray Data: pip install 'modelport[ray]'", field="engine") from exc
    return ray


def _version(pinned_ref: str) -> int:
    return int(pinned_ref.rsplit(":", 1)[1])


def _scored_chunks(
    ray: Any, job: RayJob, workers: int, model: bytes | None
) -> Iterator[tuple[int, int, pd.DataFrame]]:
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True  # chunks are numbered by input position
    context.enable_progress_bars = False  # the job shows its own progress
    context.print_on_execution_start = False
    dataset = (
        ray.data.from_items([{"path": p} for p in _units(job)], override_num_blocks=max(1, len(_units(job))))
        .map_batches(_read_unit, batch_size=1, batch_format="pandas", fn_kwargs={"job": job})
        .map_batches(
            _Scorer,
            batch_size=job.spec.chunk_rows,
            batch_format="pandas",
            concurrency=(1, workers),
            fn_constructor_kwargs={"job": job, "model": model},
            num_cpus=1,
        )
    )
    start = 0
    batches = dataset.iter_batches(batch_size=job.spec.chunk_rows, batch_format="pandas", prefetch_batches=1)
    for index, rows in enumerate(batches):
        yield index, start, rows.reset_index(drop=True)
        start += len(rows)


def _units(job: RayJob) -> list[str]:
    """What one Ray read task reads: a file each, or the whole query of a SQL input."""
    if is_sql_url(job.spec.input):
        # One task streams the query (in the order its ORDER BY gives); the actors spread the scoring.
        return [job.spec.input]
    source = open_source(job.spec.input, input_format=job.spec.input_format, signature=job.signature)
    paths: list[str] = getattr(source, "paths", [])
    return paths


def _read_unit(batch: pd.DataFrame, job: RayJob) -> Iterator[pd.DataFrame]:
    """A Ray task: one input file, or a SQL query, read with the local engine's reader."""
    for path in batch["path"]:
        query = job.spec.query if is_sql_url(str(path)) else None
        source = open_source(str(path), query=query, input_format=job.spec.input_format, signature=job.signature)
        yield from source.frames(job.layout.read_columns)


class _Scorer:
    """A Ray actor: loads the model once, then scores every batch it is given."""

    def __init__(self, job: RayJob, model: bytes | None = None) -> None:
        from modelport.batch.local import worker_model

        self.model = worker_model(model, job.settings, job.pinned_ref)
        self.layout = job.layout

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        return score_rows(self.model, self.layout, batch)
