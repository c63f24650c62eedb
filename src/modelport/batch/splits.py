"""Parquet inputs cut into splits that the workers read themselves.

A split is a run of whole row groups that holds whole chunks: it starts and
ends on a chunk boundary (or at the end of the input), so the chunks a worker
cuts from it are numbered exactly as one reader cutting the whole stream would
number them, and resuming stays exact. Reading in the workers spreads Parquet
decoding over every core instead of one reading thread, and a worker process
gets a few file offsets instead of the pickled rows of a chunk.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from modelport.batch.sources import Chunk, ParquetSource, arrow_frame, chunks, require_columns

#: a split may hold at most this many chunks' worth of rows: a worker holds a whole split in memory
MAX_CHUNKS_PER_SPLIT = 2


@dataclass(frozen=True)
class Split:
    """Row groups `pieces` (path, row group) holding rows `start` .. `start + rows`, chunks from `first`."""

    pieces: tuple[tuple[str, int], ...]
    first: int
    start: int
    rows: int
    skip: frozenset[int] = frozenset()  # chunks already committed (a resumed job)

    def chunk_indexes(self, chunk_rows: int) -> range:
        """The numbers of the chunks this split holds."""
        return range(self.first, self.first + -(-self.rows // chunk_rows))


@dataclass(frozen=True)
class SplitReader:
    """What a worker needs to read a split: the source (paths and filesystem), columns and chunk size."""

    source: ParquetSource
    columns: tuple[str, ...]
    chunk_rows: int

    def chunks(self, split: Split) -> Iterator[Chunk]:
        """The split's chunks not yet committed, numbered as in the whole input."""
        cut = chunks(self._frames(split), self.chunk_rows, first=split.first, start=split.start)
        return (chunk for chunk in cut if chunk.index not in split.skip)

    def _frames(self, split: Split) -> Iterator[Any]:
        for path, groups in _by_file(split.pieces):
            with self.source.mapped(path) as handle:
                # One thread per split: the other workers keep the other cores busy.
                batches = handle.iter_batches(
                    batch_size=self.chunk_rows, row_groups=groups, columns=list(self.columns), use_threads=False
                )
                for batch in batches:
                    yield arrow_frame(batch)


def plan_splits(source: ParquetSource, columns: Sequence[str], chunk_rows: int) -> list[Split] | None:
    """The input's splits, or None when its row groups do not line up with the chunks closely enough."""
    splits: list[Split] = []
    pieces: list[tuple[str, int]] = []
    start = held = 0
    for path in source.paths:
        metadata = source.metadata(path)
        require_columns(columns, metadata.schema.to_arrow_schema().names, path)
        for group in range(metadata.num_row_groups):
            rows = int(metadata.row_group(group).num_rows)
            if not rows:
                continue
            pieces.append((path, group))
            held += rows
            if held > MAX_CHUNKS_PER_SPLIT * chunk_rows:
                return None  # e.g. 1M-row groups cut into 100k-row chunks: one reader streams them instead
            if (start + held) % chunk_rows == 0:
                splits.append(Split(tuple(pieces), start // chunk_rows, start, held))
                pieces, start, held = [], start + held, 0
    if held:
        splits.append(Split(tuple(pieces), start // chunk_rows, start, held))
    return splits


def _by_file(pieces: Sequence[tuple[str, int]]) -> Iterator[tuple[str, list[int]]]:
    """Consecutive row groups of the same file, together (one reader per file and split)."""
    current: str | None = None
    groups: list[int] = []
    for path, group in pieces:
        if path != current and groups:
            yield str(current), groups
            groups = []
        current = path
        groups.append(group)
    if groups:
        yield str(current), groups
