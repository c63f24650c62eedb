"""Serving's everyday blocks copied into column buffers: stored exactly as the blocks themselves would be."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from modelport.monitoring import blocks, segments
from modelport.monitoring.sink import PredictionLogSink
from modelport.monitoring.streams import Streams
from modelport.serving.predictions import PredictionBlock, failure_block

from .builders import START, record
from .test_blocks import COLUMNS, IDS, block, fresh_log, many, stored, varied


def streamed(given: list[PredictionBlock]) -> tuple[list[Any], list[PredictionBlock]]:
    """The sealed streams of the blocks a `Streams` takes, and the blocks it leaves to be queued whole."""
    streams, left = Streams(), []
    for item in given:
        if not streams.add(item, item.rows):
            left.append(item)
    return streams.seal(), left


def arrays(columns: blocks.Columns) -> dict[str, Any]:
    """A group's columns as Python values with their Arrow types (NaN spelled out so that rows compare)."""
    return {name: ([("NaN" if v != v else v) if isinstance(v, float) else v for v in array.to_pylist()], array.type)
            for name, array in columns.arrays.items()}


def test_streamed_groups_are_the_columns_partition_makes_of_the_same_blocks() -> None:
    groups = [group for group in many() if group[0].model not in {"t", "v"}]  # tensor signature, strided views
    for group in groups:
        sealed, left = streamed(group)
        assert left == [] and len(sealed) == 1
        whole = blocks._whole(group)
        assert whole is not None
        made = sealed[0].columns()
        assert arrays(made) == arrays(whole)
        assert (made.model, made.version, made.ids, made.outputs_json) == (
            whole.model, whole.version, whole.ids, whole.outputs_json)


def test_streamed_blocks_store_what_their_records_would(tmp_path: Path) -> None:
    given = [b for group in many() for b in group] + varied()
    sealed, left = streamed(given)
    # queued whole: the tensor signatures' blocks, the strided views, v1 lists and V2 columns
    assert sorted({b.model for b in left}) == ["d", "m", "n", "t", "u", "v"]
    assert sum(s.rows for s in sealed) + sum(b.rows for b in left) == 108 + 17
    streams_log, per_row = fresh_log(tmp_path / "streams.db"), fresh_log(tmp_path / "rows.db")
    assert streams_log.write([*sealed, *left]) == per_row.write([r for b in given for r in b.records()]) == 125
    assert stored(streams_log) == stored(per_row)


def test_a_window_of_streamed_rows_reads_like_a_window_of_records(tmp_path: Path) -> None:
    given = [b for b in varied() if b.model == "m" and not isinstance(b.inputs, list)]
    sealed, left = streamed(given)
    assert left == [] and sum(s.rows for s in sealed) == 4
    streams_log, per_row = fresh_log(tmp_path / "streams.db"), fresh_log(tmp_path / "rows.db")
    streams_log.write(sealed)
    per_row.write([r for b in given for r in b.records()])
    read = [log.window("m", timedelta(hours=1), end=START, route=None, classes=[0, 1]) for log in (streams_log, per_row)]
    for log_window in read:
        log_window.meta.sort_values(["at", "prediction_id"])
    for part in ("inputs", "outputs", "meta"):
        ours, theirs = (getattr(w, part).loc[w.meta.index].reset_index(drop=True) for w in read)
        pd.testing.assert_frame_equal(ours, theirs)


def test_blocks_a_stream_cannot_hold_are_left_whole_and_leave_it_as_it_was() -> None:
    good = block(np.array([[1.0, 2.0, 3.0]]), np.array([1]))
    strided_inputs = block(np.arange(6.0).reshape(1, 6)[:, ::2], np.array([1]))
    strided_predictions = block(np.array([[4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]), np.arange(4)[::2])  # inputs go in, then out again
    odd = [
        strided_inputs, strided_predictions,
        block(np.array([[1.0, 2.0, 3.0]]), np.array([1]))._replace(latency_ms="slow"),  # not a number
        block(np.array([[1.0, 2.0, 3.0]]), np.array([1]))._replace(time="yesterday"),
        block([[1.0, 2.0, 3.0]], np.array([1])),  # v1 rows: a list
        block({"a": np.array([1.0]), "b": np.array([2.0]), "c": np.array([3.0])}, np.array([1])),  # V2 columns
        block(np.array([[1.0, 2.0]]), np.array([1])),  # not the signature's width
        block(np.array([[1.0, 2.0, 3.0]]), np.array([1, 0])[:1].reshape(1, 1)),  # 2-D predictions
        block(np.array([[1.0, 2.0, 3.0]]), np.array([1]), probabilities=np.array([0.5, 0.5])),  # 1-D probabilities
        block(np.array([["x", "y", "z"]]), np.array([1])),  # strings
        block(np.array([[1.0, 2.0, 3.0]]), np.array([{"a": 1}], dtype=object)),  # objects
        failure_block("m", 1, "primary", START, 1.0, np.array([[1.0, 2.0, 3.0]]), COLUMNS, ValueError("bad"), IDS.new),
    ]
    streams = Streams()
    assert streams.add(good, 1)
    assert [streams.add(b, b.rows) for b in odd] == [False] * len(odd)
    assert not streams.add(record(), 1) and not streams.add({"prediction_id": "x"}, 1)
    sealed = streams.seal()
    assert len(sealed) == 1 and sealed[0].rows == 1
    made = sealed[0].columns()
    assert made.ids == good.prediction_ids and made.arrays["outputs"].to_pylist() == [1]
    assert [made.arrays[segments.INPUT_PREFIX + name].to_pylist() for name in COLUMNS] == [[1.0], [2.0], [3.0]]
    assert made.arrays["latency_ms"].to_pylist() == [2.5]


def test_streams_part_by_dtype_and_probabilities_and_leave_the_rest_whole() -> None:
    streams = Streams()
    kinds = [np.array([1]), np.array([1.5]), np.array(["yes"]), np.array([True])]
    assert all(streams.add(block(np.zeros((1, 3)), outputs), 1) for outputs in kinds)
    assert not streams.add(block(np.zeros((1, 3)), np.array([1], dtype=np.int8)), 1)  # a fifth kind goes whole
    assert streams.add(block(np.zeros((1, 3)), np.array([1], dtype=np.int8), model="other"), 1)
    assert sorted(s.rows for s in streams.seal()) == [1, 1, 1, 1, 1]
    assert streams.seal() == []  # nothing since: no empty columns are written
    # an idle stream is closed at the seal, so a new kind of output finds room again
    assert streams.add(block(np.zeros((1, 3)), np.array([1], dtype=np.int8)), 1)


def test_naive_and_zoned_times_are_stored_in_utc(tmp_path: Path) -> None:
    east = START.astimezone(pd.Timestamp(START).tz_convert("Asia/Tokyo").tzinfo)
    given = [block(np.zeros((1, 3)), np.array([1]))._replace(time=START.replace(tzinfo=None)),
             block(np.zeros((1, 3)), np.array([1]))._replace(time=east)]
    sealed, left = streamed(given)
    assert left == []
    log = fresh_log(tmp_path / "log.db")
    log.write(sealed)
    at = log.window("m", timedelta(minutes=1), end=START).meta["at"].tolist()
    assert at == [pd.Timestamp(START)] * 2


def test_the_sink_writes_streamed_rows_and_keeps_them_while_the_database_is_down(tmp_path: Path) -> None:
    log = fresh_log(tmp_path / "log.db")
    failures: list[BaseException] = []
    sink = PredictionLogSink(log, autostart=False, on_error=failures.append)
    given = [block(np.full((1, 3), float(i)), np.array([i % 2]), probabilities=np.array([[0.5, 0.5]]))
             for i in range(50)]
    for item in given:
        sink.append(item, 1)
    sink.record([record()])  # a record beside them, queued whole
    assert sink.pending == 51
    real = log.engine
    log.engine = _broken_engine()
    assert sink.flush() == 0 and len(failures) == 1 and sink.pending == 51  # kept for the retry
    log.engine = real
    assert sink.flush() == 51 and sink.pending == 0
    window = log.window("m", timedelta(hours=1), end=START, classes=[0, 1])
    streamed_ids = {i for b in given for i in b.prediction_ids or []}
    assert streamed_ids <= set(window.meta["prediction_id"])
    assert sorted(window.inputs.loc[window.meta["prediction_id"].isin(streamed_ids), "a"]) == [float(i) for i in range(50)]


def _broken_engine() -> Any:
    from sqlalchemy import create_engine

    return create_engine("sqlite:////nonexistent/dir/log.db")


def test_sealed_columns_hold_arrow_types_the_segments_read() -> None:
    sealed, _ = streamed([block(np.array([[1, 2, 3]], dtype=np.int16), np.array([2.5], dtype=np.float32),
                                probabilities=np.array([[0.2, 0.8]], dtype=np.float32))])
    made = sealed[0].columns()
    assert made.arrays[segments.INPUT_PREFIX + "a"].type == pa.int64() and made.arrays["outputs"].type == pa.float64()
    assert made.arrays["probabilities"].type == pa.list_(pa.float64())
    assert made.arrays["probabilities"].to_pylist() == [[pytest.approx(0.2), pytest.approx(0.8)]]
