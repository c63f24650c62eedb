"""Splits: workers reading Parquet row groups themselves cut exactly the chunks one reader would."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelport.batch.sources import ParquetSource, chunks, open_source
from modelport.batch.splits import Split, SplitReader, plan_splits
from modelport.foundation.errors import ValidationError


def _write(path: Path, start: int, rows: int, row_group: int, columns: tuple[str, ...] = ("a", "b")) -> None:
    values = np.arange(start, start + rows, dtype=np.float64)
    table = pa.table({c: values * (i + 1) for i, c in enumerate(columns)})
    pq.write_table(table, path, row_group_size=row_group)


def _source(pattern: Path) -> ParquetSource:
    source = open_source(str(pattern))
    assert isinstance(source, ParquetSource)
    return source


def _cut(source: ParquetSource, chunk_rows: int) -> list[tuple[int, int, list[float]]]:
    splits = plan_splits(source, ["a", "b"], chunk_rows)
    assert splits is not None
    reader = SplitReader(source, ("a", "b"), chunk_rows)
    return [(c.index, c.start, c.frame["a"].tolist()) for s in splits for c in reader.chunks(s)]


def _one_reader(source: ParquetSource, chunk_rows: int) -> list[tuple[int, int, list[float]]]:
    return [(c.index, c.start, c.frame["a"].tolist()) for c in chunks(source.frames(["a", "b"]), chunk_rows)]


@pytest.mark.parametrize(("row_group", "chunk_rows"), [(10, 10), (5, 10), (10, 20), (4, 6)])
def test_splits_cut_the_same_chunks_as_one_reader_across_files(tmp_path: Path, row_group: int, chunk_rows: int) -> None:
    _write(tmp_path / "in-0.parquet", 0, 30, row_group)
    _write(tmp_path / "in-1.parquet", 30, 25, row_group)  # a short last group; the file ends mid-chunk
    source = _source(tmp_path / "in-*.parquet")
    assert _cut(source, chunk_rows) == _one_reader(source, chunk_rows)


def test_a_split_ends_on_a_chunk_boundary_and_holds_whole_row_groups(tmp_path: Path) -> None:
    _write(tmp_path / "in.parquet", 0, 45, 20)
    splits = plan_splits(_source(tmp_path / "in.parquet"), ["a"], 10)
    assert splits is not None
    assert [(s.first, s.start, s.rows, [g for _, g in s.pieces]) for s in splits] == [
        (0, 0, 20, [0]),  # a 20-row group holds two whole chunks
        (2, 20, 20, [1]),
        (4, 40, 5, [2]),  # the end of the input closes the last split
    ]
    assert list(splits[0].chunk_indexes(10)) == [0, 1]
    assert list(splits[2].chunk_indexes(10)) == [4]


@pytest.mark.parametrize("row_group", [100, 15])
def test_row_groups_that_do_not_line_up_with_chunks_leave_the_input_to_one_reader(
    tmp_path: Path, row_group: int
) -> None:
    # 100-row groups hold ten 10-row chunks; 15-row groups meet a chunk boundary only every 30 rows
    _write(tmp_path / "in.parquet", 0, 100, row_group)
    assert plan_splits(_source(tmp_path / "in.parquet"), ["a"], 10) is None


def test_committed_chunks_of_a_split_are_skipped(tmp_path: Path) -> None:
    _write(tmp_path / "in.parquet", 0, 30, 30)
    source = _source(tmp_path / "in.parquet")
    reader = SplitReader(source, ("a",), 10)
    split = Split(((str(tmp_path / "in.parquet"), 0),), 0, 0, 30, skip=frozenset({0, 2}))
    assert [(c.index, c.start, c.frame["a"].tolist()) for c in reader.chunks(split)] == [
        (1, 10, [float(v) for v in range(10, 20)])
    ]


def test_a_file_without_a_needed_column_fails_before_any_split_is_read(tmp_path: Path) -> None:
    _write(tmp_path / "in-0.parquet", 0, 10, 10)
    _write(tmp_path / "in-1.parquet", 10, 10, 10, columns=("a",))
    with pytest.raises(ValidationError, match=r"'b'.*missing column in .*in-1\.parquet"):
        plan_splits(_source(tmp_path / "in-*.parquet"), ["a", "b"], 10)


def test_empty_row_groups_and_files_are_passed_over(tmp_path: Path) -> None:
    empty = pa.table({"a": pa.array([], pa.float64()), "b": pa.array([], pa.float64())})
    pq.write_table(empty, tmp_path / "in-0.parquet")
    _write(tmp_path / "in-1.parquet", 0, 20, 10)
    source = _source(tmp_path / "in-*.parquet")
    assert _cut(source, 10) == _one_reader(source, 10)
    assert pd.concat([pd.DataFrame({"a": a}) for _, _, a in _cut(source, 10)])["a"].tolist() == list(range(20))


def test_a_local_split_is_read_through_a_memory_map_that_is_gone_once_the_split_is_read(tmp_path: Path) -> None:
    """Mapped pages count in RSS: only the split being read may hold a map of its file."""
    path = tmp_path / "mapped.parquet"
    _write(path, 0, 40, 10)
    source = _source(path)
    splits = plan_splits(source, ["a", "b"], 20)
    assert splits is not None and len(splits) == 2
    assert source.metadata(str(path)) is source.metadata(str(path))  # the footer is parsed once, not per split

    def mapped() -> bool:
        return str(path) in Path("/proc/self/maps").read_text()

    reader = SplitReader(source, ("a", "b"), 20)
    cut = reader.chunks(splits[0])
    first = next(cut)
    assert mapped()  # while the split is being read
    assert list(cut) == [] and not mapped()  # the split is read: its map is closed
    assert first.frame["a"].tolist() == [float(v) for v in range(20)]
    assert [c.frame["b"].tolist() for c in reader.chunks(splits[1])] == [[2.0 * v for v in range(20, 40)]]
    assert not mapped()
