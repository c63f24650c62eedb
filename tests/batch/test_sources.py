"""Readers and chunking: every format streams, numbered chunks are exact, bad cells survive to validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from modelport.batch.sources import chunks, is_sql_url, open_source
from modelport.foundation.errors import InvalidInputError, ValidationError
from modelport.signatures.schema import ColumnSpec, Signature

SIGNATURE = Signature(columns=(ColumnSpec("a", "float64"), ColumnSpec("b", "int64"), ColumnSpec("s", "string")))


def _frame(n: int, offset: int = 0) -> pd.DataFrame:
    values = np.arange(offset, offset + n)
    return pd.DataFrame({"a": values * 0.5, "b": values, "s": [f"x{v}" for v in values]})


def _read(source, columns=("a", "b", "s")) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return pd.concat(list(source.frames(list(columns))), ignore_index=True)


def test_chunks_are_exact_and_numbered_across_uneven_frames() -> None:
    frames = [_frame(7), _frame(0), _frame(5, 7), _frame(12, 12)]
    cut = list(chunks(iter(frames), 10))
    assert [(c.index, c.start, len(c.frame)) for c in cut] == [(0, 0, 10), (1, 10, 10), (2, 20, 4)]
    assert pd.concat([c.frame for c in cut], ignore_index=True)["b"].tolist() == list(range(24))


def test_a_frame_of_exactly_one_chunk_is_passed_on_whole_and_numbered_from_zero() -> None:
    frame = _frame(10, 5)
    frame.index = pd.RangeIndex(40, 50)  # as a slice of a larger frame would be labelled
    cut = list(chunks(iter([frame, _frame(10, 15)]), 10, first=3, start=30))
    assert [(c.index, c.start, len(c.frame)) for c in cut] == [(3, 30, 10), (4, 40, 10)]
    assert cut[0].frame.index.tolist() == list(range(10)) and cut[0].frame["b"].tolist() == list(range(5, 15))


def test_chunks_of_an_empty_stream_are_none() -> None:
    assert list(chunks(iter([]), 10)) == []


@pytest.mark.parametrize("suffix", ["parquet", "csv", "jsonl"])
def test_each_file_format_reads_a_glob_in_name_order(tmp_path: Path, suffix: str) -> None:
    for i in (1, 0):
        part = _frame(3, offset=3 * i)
        path = tmp_path / f"in-{i}.{suffix}"
        if suffix == "parquet":
            part.to_parquet(path)
        elif suffix == "csv":
            part.to_csv(path, index=False)
        else:
            part.to_json(path, orient="records", lines=True)
    source = open_source(str(tmp_path / f"in-*.{suffix}"), signature=SIGNATURE)
    assert source.columns() == ["a", "b", "s"]
    frame = _read(source)
    assert frame["b"].tolist() == list(range(6))
    assert frame["a"].tolist() == pytest.approx([v * 0.5 for v in range(6)])


def test_parquet_knows_its_row_count_and_reads_only_asked_columns(tmp_path: Path) -> None:
    _frame(10).to_parquet(tmp_path / "x.parquet")
    source = open_source(str(tmp_path / "x.parquet"))
    assert source.total_rows() == 10
    assert list(_read(source, ["b"]).columns) == ["b"]


def test_a_folder_input_skips_journal_and_hidden_files(tmp_path: Path) -> None:
    _frame(4).to_parquet(tmp_path / "part-0.parquet")
    (tmp_path / "_journal").mkdir()
    (tmp_path / "_journal" / "chunk-0.json").write_text("{}")
    (tmp_path / ".part-1.parquet.tmp").write_text("junk")
    assert len(_read(open_source(str(tmp_path), input_format="parquet"))) == 4


def test_csv_keeps_a_bad_number_as_text_so_only_its_row_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("a,b,s\n1.5,1,u\nnot-a-number,2,v\n,3,w\n")
    frame = _read(open_source(str(tmp_path / "x.csv"), signature=SIGNATURE))
    assert frame["a"].tolist()[:2] == [1.5, "not-a-number"]
    assert np.isnan(frame["a"].tolist()[2])
    assert frame["b"].tolist() == [1, 2, 3]


def test_a_missing_column_in_a_later_file_names_the_column_and_file(tmp_path: Path) -> None:
    _frame(2).to_parquet(tmp_path / "a.parquet")
    _frame(2).drop(columns=["s"]).to_parquet(tmp_path / "b.parquet")
    with pytest.raises(ValidationError, match=r"input 's': missing column in .*b\.parquet"):
        _read(open_source(str(tmp_path / "*.parquet")))


def test_sql_source_streams_a_query_or_a_table(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'in.db'}"
    engine = sa.create_engine(url)
    _frame(25).to_sql("features", engine, index=False)
    engine.dispose()
    assert is_sql_url(url) and is_sql_url("postgresql+psycopg://h/db") and not is_sql_url("s3://b/x.parquet")
    table = open_source(url, query="features")
    assert table.columns() == ["a", "b", "s"]
    assert _read(table)["b"].tolist() == list(range(25))
    query = open_source(url, query="SELECT b, a FROM features WHERE b >= 20 ORDER BY b")
    assert _read(query, ["a", "b"])["b"].tolist() == [20, 21, 22, 23, 24]


@pytest.mark.parametrize(
    ("uri", "options", "message"),
    [
        ("sqlite:///x.db", {}, r"give the rows to score as a SQL query"),
        ("{tmp}/x.parquet", {"query": "SELECT 1"}, r"--query applies to a database input only"),
        ("{tmp}/nothing-*.parquet", {}, r"matches no file"),
        ("{tmp}/missing.parquet", {}, r"input '.*missing\.parquet' matches no file"),
        ("{tmp}/data.txt", {}, r"cannot tell the format of .*data\.txt"),
        ("{tmp}/data.txt", {"input_format": "xml"}, r"input format 'xml': use parquet, csv or jsonl"),
    ],
)
def test_bad_inputs_are_refused_with_the_fix(tmp_path: Path, uri: str, options: dict[str, str], message: str) -> None:
    (tmp_path / "data.txt").write_text("a\n1\n")
    _frame(1).to_parquet(tmp_path / "x.parquet")
    with pytest.raises(InvalidInputError, match=message):
        open_source(uri.format(tmp=tmp_path), **options)


def test_a_failing_query_names_itself(tmp_path: Path) -> None:
    source = open_source(f"sqlite:///{tmp_path / 'empty.db'}", query="SELECT * FROM nowhere")
    with pytest.raises(InvalidInputError, match=r"query 'SELECT \* FROM nowhere' failed"):
        source.columns()


def test_parquet_floats_come_in_the_asked_order_as_arrows_own_read_only_memory(tmp_path: Path) -> None:
    pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [4.0, 5.0, 6.0]}).to_parquet(tmp_path / "x.parquet")
    frame = _read(open_source(str(tmp_path / "x.parquet")), ["y", "x"])
    assert frame.to_numpy().tolist() == [[4.0, 1.0], [5.0, 2.0], [6.0, 3.0]]
    # not copied out of Arrow (a copy would be writable); what a model is given is a copy-on-write view of it
    assert not frame["y"].to_numpy().flags.writeable
    given = frame.copy(deep=False)  # as validation hands the frame on (signatures/validate.py)
    given.loc[0, "y"] = -1.0
    assert given["y"].tolist() == [-1.0, 5.0, 6.0] and frame["y"].tolist() == [4.0, 5.0, 6.0]


def test_parquet_mixed_columns_keep_their_order_types_and_nulls(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {"s": ["u", "v", None], "a": [0.5, None, 2.5], "b": [1, 2, 3], "f": pa.array([1, 2, 3], pa.float32())}
    )
    pq.write_table(table, tmp_path / "x.parquet")
    frame = _read(open_source(str(tmp_path / "x.parquet")), ["s", "a", "b", "f"])
    assert list(frame.columns) == ["s", "a", "b", "f"]
    assert [str(frame[c].dtype) for c in ("a", "b", "f")] == ["float64", "int64", "float32"]
    assert frame["a"].isna().tolist() == [False, True, False]  # a null float is NaN, as validation expects
    assert frame["s"].tolist()[:2] == ["u", "v"]


def test_an_arrow_batch_becomes_a_frame_whose_floats_are_arrows_own_memory() -> None:
    import pyarrow as pa

    from modelport.batch.sources import arrow_frame

    batch = pa.record_batch({
        "a": pa.array([1.5, None, 3.0]), "id": pa.array(["x", "y", "z"]), "b": pa.array([4.0, 5.0, float("nan")]),
        "n": pa.array([1, 2, 3]), "c": pa.array([None, None, 7.25]),
    })
    frame = arrow_frame(batch)
    pd.testing.assert_frame_equal(frame, batch.to_pandas(), check_dtype=False)
    assert list(frame.columns) == ["a", "id", "b", "n", "c"]
    assert frame[["a", "b", "c"]].dtypes.eq(np.float64).all() and frame["n"].dtype == np.int64
    floats = arrow_frame(batch.select(["a", "b", "c"]))
    block = floats.to_numpy()
    assert np.isnan(block[1, 0]) and np.isnan(block[2, 1]) and block[2, 2] == 7.25
    # A column without nulls is Arrow's buffer itself, not a copy; a column with nulls is a copy with NaN.
    b = floats["b"].to_numpy()
    assert np.shares_memory(b, batch.column(2).to_numpy()) and not b.flags.writeable
    assert not np.shares_memory(floats["a"].to_numpy(), batch.column(0).to_numpy(zero_copy_only=False))
    given = floats.copy(deep=False)  # copy-on-write: a model may change what it is given; Arrow's memory is not
    given.loc[0, "b"] = 9.0
    assert batch.column(2).to_numpy()[0] == 4.0 and given.loc[0, "b"] == 9.0


def test_a_batch_with_a_repeated_column_name_keeps_both_columns() -> None:
    import pyarrow as pa

    from modelport.batch.sources import arrow_frame, complete_columns

    batch = pa.RecordBatch.from_arrays([pa.array([1.0, 2.0]), pa.array([3.0, 4.0])], names=["a", "a"])
    frame = arrow_frame(batch)
    assert list(frame.columns) == ["a", "a"] and frame.to_numpy().tolist() == [[1.0, 3.0], [2.0, 4.0]]
    assert complete_columns(frame) == frozenset()  # unchecked: validation checks them itself


def test_the_float_columns_found_free_of_nan_are_named_and_only_while_chunks_keep_them() -> None:
    import pyarrow as pa

    from modelport.batch.sources import arrow_frame, complete_columns

    clean = pa.record_batch({"a": [1.0, 2.0], "b": [float("nan"), 1.0], "c": pa.array([None, 2.0]),
                             "d": [float("inf"), float("-inf")], "e": [1e300, -1e300], "s": ["x", "y"]})
    frame = arrow_frame(clean)
    # NaN and null are left to validation; infinities and squares that overflow are no NaN
    assert complete_columns(frame) == {"a", "d", "e"}
    assert complete_columns(frame[["a", "b"]]) == {"a", "d", "e"}  # a selection keeps the claims; "b" is not one
    other = arrow_frame(pa.record_batch({"a": [float("nan"), 1.0], "b": [1.0, 2.0], "c": [1.0, 1.0],
                                         "d": [0.0, 0.0], "e": [0.0, 0.0], "s": ["z", "w"]}))
    cut = list(chunks(iter([frame, other]), 3))  # a chunk made of both frames claims neither's columns
    assert [len(c.frame) for c in cut] == [3, 1] and complete_columns(cut[0].frame) == frozenset()
    assert complete_columns(pd.DataFrame({"a": [1.0]})) == frozenset()


def test_without_pandas_block_api_the_float_columns_still_come_uncopied(monkeypatch: pytest.MonkeyPatch) -> None:
    """pandas < 3 has no `create_dataframe_from_blocks`: the DataFrame constructor, uncopied, stands in."""
    import sys

    import pyarrow as pa

    from modelport.batch.sources import arrow_frame, complete_columns

    monkeypatch.setitem(sys.modules, "pandas.api.internals", None)  # importing it now raises ImportError
    batch = pa.record_batch({"a": [1.0, 2.0], "b": [3.0, float("nan")]})
    frame = arrow_frame(batch)
    assert frame.to_numpy().tolist()[0] == [1.0, 3.0] and complete_columns(frame) == {"a"}
    assert np.shares_memory(frame["a"].to_numpy(), batch.column(0).to_numpy()) and frame.columns.dtype == object
