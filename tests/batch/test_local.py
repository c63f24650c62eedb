"""The local engine's plumbing: background commits, their bound, and failures reported where stats are read."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from modelport.batch.local import Committer, run_local
from modelport.batch.sources import Chunk
from modelport.batch.spec import ChunkStats, ScoredChunk


class _Sink:
    """Records what it commits; refuses the chunk numbered `bad`."""

    def __init__(self, bad: int | None = None) -> None:
        self.bad = bad
        self.committed: list[int] = []

    def commit(self, scored: ScoredChunk) -> None:
        if scored.stats.index == self.bad:
            raise OSError(f"disk full writing chunk {self.bad}")
        self.committed.append(scored.stats.index)


def _scored(index: int) -> ScoredChunk:
    return ScoredChunk(ChunkStats(index, 10, 10, 0), pd.DataFrame({"row": range(10)}))


def test_background_commits_give_each_chunks_stats_once_it_is_committed() -> None:
    sink = _Sink()
    committer = Committer(sink, threads=2, depth=2)  # type: ignore[arg-type]
    done = [committer.commit(_scored(i)) for i in range(6)]
    committer.close()
    assert [d.result().index for d in done] == list(range(6))  # type: ignore[union-attr]
    assert sorted(sink.committed) == list(range(6))


def test_a_failed_commit_frees_its_place_and_raises_where_its_stats_are_read() -> None:
    sink = _Sink(bad=1)
    # depth 1: each commit waits for the one before to free its place, failed or not (a leak would hang here)
    committer = Committer(sink, threads=1, depth=1)  # type: ignore[arg-type]
    done = [committer.commit(_scored(i)) for i in range(3)]
    committer.close()
    with pytest.raises(OSError, match="disk full writing chunk 1"):
        done[1].result()  # type: ignore[union-attr]
    assert sink.committed == [0, 2]


@pytest.mark.parametrize("workers", [1, 2])
def test_run_local_raises_a_failed_background_commit_and_reports_the_chunks_before_it(workers: int) -> None:
    sink = _Sink(bad=2)
    committer = Committer(sink, threads=1, depth=2)  # type: ignore[arg-type]
    reported: list[int] = []

    def work(item: Any) -> list[Any]:
        return [committer.commit(_scored(item.index))]

    items = iter([Chunk(i, 10 * i, pd.DataFrame()) for i in range(5)])
    try:
        with pytest.raises(OSError, match="chunk 2"):
            run_local(items, work, lambda s: reported.append(s.index), workers=workers, parallel="threads")
    finally:
        committer.close()
    assert reported == [0, 1]  # in order, up to the failed one


def test_the_job_pool_is_arrows_jemalloc_while_it_runs_and_the_old_one_after_even_on_failure() -> None:
    import pyarrow as pa

    from modelport.batch.local import arrow_pool_that_keeps_pages

    before = pa.default_memory_pool().backend_name
    with pytest.raises(RuntimeError, match="model failed"), arrow_pool_that_keeps_pages():
        if "jemalloc" in pa.supported_memory_backends():
            assert pa.default_memory_pool().backend_name == "jemalloc"
        raise RuntimeError("model failed")
    assert pa.default_memory_pool().backend_name == before
