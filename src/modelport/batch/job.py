"""`batch_score`: one job from a registered version, an input and an output, resumable."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from modelport.batch.local import (
    PARALLEL_MODES,
    Committer,
    Done,
    WorkerSetup,
    choose_parallel,
    commit_now,
    portable,
    run_local,
    score_item,
)
from modelport.batch.progress import Progress, make_progress
from modelport.batch.scoring import Layout, plan_layout
from modelport.batch.sinks import Sink, open_sink
from modelport.batch.sources import Chunk, ParquetSource, Source, chunks, open_source
from modelport.batch.spec import ChunkStats, JobSpec, JobState
from modelport.batch.splits import Split, SplitReader, plan_splits
from modelport.foundation.clock import Clock, SystemClock
from modelport.foundation.errors import ConflictError, InvalidInputError
from modelport.foundation.names import parse_ref
from modelport.foundation.settings import Settings
from modelport.registry.loaded import LoadedModel
from modelport.registry.service import Registry

ENGINES = ("local", "ray")


@dataclass
class BatchSummary:
    """What a job did: rows read, scored and rejected, time and speed (this run), and where things went."""

    job_id: str
    model: str
    version: int
    input: str
    output: str
    engine: str
    rows: int = 0
    rows_scored: int = 0
    rows_rejected: int = 0
    chunks: int = 0
    chunks_resumed: int = 0
    rows_this_run: int = 0
    seconds: float = 0.0
    rows_per_second: float = 0.0
    started_at: str = ""
    finished_at: str = ""
    summary_location: str = ""
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def batch_score(
    ref: str,
    *,
    input: str,
    output: str,
    engine: str = "local",
    ray_address: str | None = None,
    resume: bool = False,
    chunk_rows: int = 100_000,
    columns: Sequence[str] | None = None,
    id_column: str | None = None,
    with_proba: bool = False,
    query: str | None = None,
    input_format: str | None = None,
    output_format: str | None = None,
    table: str | None = None,
    workers: int | None = None,
    parallel: str = "auto",
    progress: bool | Progress | None = None,
    settings: Settings | None = None,
    clock: Clock | None = None,
) -> BatchSummary:
    """Score every row of `input` with the version `ref` names and write the results to `output`.

    `resume=True` finishes a job that stopped (or does nothing if it finished);
    without it, an output that already holds the job is refused. `progress`: None
    for a bar on a terminal and log lines elsewhere, False for silence, or any
    object with `advance(rows, rejected)` and `close()`.
    """
    spec = JobSpec(
        str(ref),
        str(input),
        str(output),
        query,
        input_format,
        output_format,
        table,
        _positive(chunk_rows, "chunk_rows"),
        tuple(columns) if columns else None,
        id_column,
        bool(with_proba),
    )
    _check_choices(engine, parallel)
    sink = open_sink(spec)
    registry = Registry.open(settings)
    try:
        state = sink.existing(spec)
        if state is not None and not resume:
            raise ConflictError(
                f"output {spec.output!r} already holds this job ({len(state.done)} chunks committed): "
                "pass --resume (resume=True) to finish it, or write to a new output"
            )
        # A resumed job keeps the version it started with, even if an alias has moved since.
        model = registry.load(f"{parse_ref(ref).name}:{state.version}" if state else ref)
        run = _Run(spec, model, sink, state, clock or SystemClock(), settings or Settings.from_env())
        mode = choose_parallel(parallel, model.record.flavor)
        return run.execute(engine, ray_address, workers or os.cpu_count() or 1, mode, progress)
    finally:
        registry.close()
        sink.close()


def _positive(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidInputError(f"{name} must be a whole number above 0, got {value!r}", field=name)
    return value


def _check_choices(engine: str, parallel: str) -> None:
    if engine not in ENGINES:
        raise InvalidInputError(f"engine {engine!r}: use local or ray", field="engine")
    if parallel not in PARALLEL_MODES:
        raise InvalidInputError(f"parallel {parallel!r}: use auto, threads or processes", field="parallel")


class _Run:
    """One execution of a job: checks first, then chunks scored and committed, then the summary."""

    def __init__(
        self, spec: JobSpec, model: LoadedModel, sink: Sink, state: JobState | None, clock: Clock, settings: Settings
    ) -> None:
        self.spec = spec
        self.model = model
        self.sink = sink
        self.done = dict(state.done) if state else {}
        self.resumed = state is not None
        self.clock = clock
        self.settings = settings
        self.source: Source = open_source(
            spec.input, query=spec.query, input_format=spec.input_format, signature=model.signature
        )
        # Before anything is scored: a missing column fails the whole job here.
        self.layout: Layout = plan_layout(model, self.source.columns(), spec.columns, spec.id_column, spec.with_proba)
        self.new: list[ChunkStats] = []

    def execute(
        self, engine: str, ray_address: str | None, workers: int, parallel: str, progress_mode: bool | Progress | None
    ) -> BatchSummary:
        if self.resumed:
            self.sink.recover()
        else:
            self.sink.begin(self.spec, self.model.version)
        started, t0 = self.clock.now(), self.clock.monotonic()
        progress = make_progress(progress_mode, self.source.total_rows(), clock=self.clock)
        try:
            if engine == "ray":
                self._run_ray(ray_address, workers, progress)
            else:
                self._run_local(workers, parallel, progress)
        finally:
            progress.close()
        return self._summary(engine, started.isoformat(), self.clock.monotonic() - t0, workers, parallel)

    def _todo(self) -> Iterator[Chunk]:
        for chunk in chunks(self.source.frames(self.layout.read_columns, self.spec.chunk_rows), self.spec.chunk_rows):
            if chunk.index not in self.done:
                yield chunk

    def _on_done(self, progress: Progress) -> Any:
        def record(stats: ChunkStats) -> None:
            self.new.append(stats)
            progress.advance(stats.rows, stats.rejected)

        return record

    def _run_local(self, workers: int, parallel: str, progress: Progress) -> None:
        reader, items = self._work_items()
        model = portable(self.model) if parallel == "processes" and workers > 1 else None
        setup = WorkerSetup(self.settings, self.model.record.ref, self.spec, self.layout, reader, model)
        # Worker threads hand their commits to background threads (process workers commit their own).
        committer = Committer(self.sink, workers, 2 * workers) if workers > 1 and parallel == "threads" else None
        commit = committer.commit if committer else commit_now(self.sink)

        def work(item: Chunk | Split) -> list[Done]:
            return score_item(self.model, self.layout, reader, item, commit)

        try:
            run_local(items, work, self._on_done(progress), workers=workers, parallel=parallel, setup=setup)
        finally:
            if committer:
                committer.close()

    def _work_items(self) -> tuple[SplitReader | None, Iterator[Chunk | Split]]:
        """Splits that the workers read themselves where the input allows, else chunks read here."""
        source = self.source
        splits = plan_splits(source, self.layout.read_columns, self.spec.chunk_rows) if isinstance(
            source, ParquetSource) else None
        if splits is None or not isinstance(source, ParquetSource):  # (the second test is for the type checker)
            return None, self._todo()
        reader = SplitReader(source, tuple(self.layout.read_columns), self.spec.chunk_rows)
        return reader, iter(self._splits_todo(splits))

    def _splits_todo(self, splits: list[Split]) -> list[Split]:
        todo = []
        for split in splits:
            indexes = split.chunk_indexes(self.spec.chunk_rows)
            done = frozenset(i for i in indexes if i in self.done)
            if len(done) < len(indexes):
                todo.append(replace(split, skip=done))
        return todo

    def _run_ray(self, address: str | None, workers: int, progress: Progress) -> None:
        from modelport.batch.ray_engine import RayJob, run_ray

        job = RayJob(self.settings, self.model.record.ref, self.spec, self.layout, self.model.signature)
        run_ray(job, self.sink, set(self.done), address=address, workers=workers, on_done=self._on_done(progress),
                model=portable(self.model))

    def _summary(self, engine: str, started: str, seconds: float, workers: int, parallel: str) -> BatchSummary:
        every = {**self.done, **{s.index: s for s in self.new}}
        this_run = sum(s.rows for s in self.new)
        summary = BatchSummary(
            job_id=self.spec.job_id,
            model=self.model.name,
            version=self.model.version,
            input=self.spec.input,
            output=self.spec.output,
            engine=engine,
            rows=sum(s.rows for s in every.values()),
            rows_scored=sum(s.scored for s in every.values()),
            rows_rejected=sum(s.rejected for s in every.values()),
            chunks=len(every),
            chunks_resumed=len(self.done),
            rows_this_run=this_run,
            seconds=round(seconds, 3),
            rows_per_second=round(this_run / seconds, 1) if seconds > 0 else 0.0,
            started_at=started,
            finished_at=self.clock.now().isoformat(),
            options={
                "chunk_rows": self.spec.chunk_rows,
                "workers": workers,
                "parallel": parallel,
                "with_proba": self.spec.with_proba,
                "id_column": self.spec.id_column,
            },
        )
        summary.summary_location = self.sink.finish(summary.to_dict())
        return summary
