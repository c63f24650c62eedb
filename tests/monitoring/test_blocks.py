"""Serving's blocks in the prediction log: stored column by column, exactly as their per-row records would be."""

from __future__ import annotations

from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa

from modelport.foundation.errors import InvalidInputError
from modelport.monitoring import blocks, segments
from modelport.monitoring.log import PredictionLog
from modelport.monitoring.service import Monitoring
from modelport.monitoring.sink import PredictionLogSink
from modelport.serving.ids import PredictionIds
from modelport.serving.predictions import PredictionBlock, failure_block
from modelport.storage.database import make_engine, upgrade

from .builders import START, record

COLUMNS = ["a", "b", "c"]
IDS = PredictionIds(seed=b"blocks")
TENSOR: list[str] = []  # a tensor signature's columns: one list per served version, as in a server


def block(inputs: Any, predictions: Any, *, probabilities: Any = None, model: str = "m", version: int = 1,
          route: str = "primary", minutes: float = 1.0, columns: list[str] = COLUMNS) -> PredictionBlock:
    count = len(predictions) if predictions is not None else 1
    return PredictionBlock(model, version, route, START - timedelta(minutes=minutes), 2.5 * count, IDS.new(count),
                           inputs, columns, predictions, probabilities)


def varied() -> list[PredictionBlock]:
    """Blocks of every columnar shape, interleaved as a flush would see them."""
    proba = np.array([[0.25, 0.75], [0.5, 0.5]])
    return [
        block(np.array([[1.5, 2.0, -3.0], [4.0, np.nan, 6.0]]), np.array([0, 1]), probabilities=proba),
        block(np.array([7.0, 8.0, 9.0]), np.array([1]), minutes=0.5),  # one row sent as a flat vector
        block(np.array([[1, 2, 3]], dtype=np.int32), np.array(["yes"]), model="n"),
        block(np.array([[1.0, 2.0, 3.0]], dtype=np.float32), np.array([2.5]), model="r", version=2),
        block(np.array([[0.0, 0.0, 1.0]]), np.array([1]), route="shadow", probabilities=np.array([[0.1, 0.9]])),
        block(np.array([[True, False, True]]), np.array([True]), model="b"),
        block(np.array([[1.0, 2.0, 3.0]]), np.array([np.nan, 1e-7])[:1], model="r", version=2, minutes=3),
        block(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0, 1]), model="t", columns=[]),  # a tensor signature
        block(np.array([[5, 6]]), np.array([1]), model="u", columns=[], minutes=2),
        block([[1.0, 2, 3], [True, 5.5, 6.0]], np.array([0, 1])),  # v1 instances: read as numpy reads them
        block([[1, 2, 3]], np.array(["no"]), model="n"),
        block({"a": np.array([1.5, 2.0]), "b": np.array([3, 4], dtype=np.int16), "c": np.array([True, False])},
              np.array([0, 1]), model="d"),  # V2: one tensor per column
        block({"a": np.array([7.0], dtype=np.float32), "b": np.array([5]), "c": np.array([False])}, np.array([1]),
              model="d", probabilities=np.array([[0.5, 0.5]])),
    ]


def fresh_log(path: Path) -> PredictionLog:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    return PredictionLog(engine)


def stored(log: PredictionLog) -> tuple[list[Any], list[dict[str, Any]], dict[str, pa.DataType]]:
    """The id index's rows, the segments' rows and their column types, in id order."""
    with log.engine.connect() as conn:
        index = conn.execute(sa.text("SELECT prediction_id, model, version, at, outputs FROM prediction_log "
                                     "ORDER BY prediction_id")).all()
        payloads = conn.execute(sa.text("SELECT payload FROM prediction_segments")).scalars().all()
    tables = [segments.decode(p) for p in payloads]
    types: dict[str, pa.DataType] = {}
    for table in tables:
        types.update({name: table.schema.field(name).type for name in table.column_names if
                      not pa.types.is_null(table.schema.field(name).type)})
    rows = sorted(({k: _nan_free(v) for k, v in row.items()} for t in tables for row in t.to_pylist()),
                  key=lambda r: r["prediction_id"])
    return [tuple(r) for r in index], rows, types


def _nan_free(value: Any) -> Any:
    """NaN as a string, so that rows holding one can compare equal."""
    return "NaN" if isinstance(value, float) and value != value else value


def test_blocks_store_the_same_index_rows_values_and_types_as_their_records(tmp_path: Path) -> None:
    given = varied()
    assert all(blocks.columnar(b) is not None for b in given)
    columnar, per_row = fresh_log(tmp_path / "columnar.db"), fresh_log(tmp_path / "rows.db")
    assert columnar.write(given) == per_row.write([r for b in given for r in b.records()]) == 17
    assert stored(columnar) == stored(per_row)


def many() -> list[list[PredictionBlock]]:
    """Groups of many blocks as a busy server hands them over, each group taken whole by `partition`."""
    rng = np.random.default_rng(7)
    return [
        [block(rng.random((1, 3)), np.array([i % 2]), probabilities=rng.random((1, 2)), minutes=i / 60)
         for i in range(40)],
        [block(rng.integers(-9, 9, (2, 3)).astype(np.int32), np.array([1.5, -2.0]), model="r") for _ in range(20)],
        [block(rng.random(3), np.array(["yes"]), model="f", version=3) for _ in range(10)],  # one row sent flat
        [block(rng.random((3, 2)), np.array([0, 1, 1]), model="t", columns=TENSOR) for _ in range(5)],
        [block(rng.random((1, 6))[:, ::2], np.arange(4)[1::2][:1], model="v") for _ in range(3)],  # strided views
    ]


def test_groups_of_many_blocks_are_taken_whole_and_store_what_their_records_would(tmp_path: Path) -> None:
    groups = many()
    assert all(blocks._whole(group) is not None for group in groups)
    odd = block([[0.5, 0.25, 1.0]], np.array([1]), minutes=0.5)  # v1 instances: a list, read block by block
    given = [b for group in groups for b in group] + [odd]
    assert blocks._whole([*groups[0], odd]) is None  # so the group it joins (model m, version 1) goes block by block
    parts, records = blocks.partition(given)
    assert sorted(len(p.ids) for p in parts) == [3, 10, 15, 40, 41] and records == []
    columnar, per_row = fresh_log(tmp_path / "columnar.db"), fresh_log(tmp_path / "rows.db")
    assert columnar.write(given) == per_row.write([r for b in given for r in b.records()]) == 41 + 40 + 10 + 15 + 3
    assert stored(columnar) == stored(per_row)


def test_a_window_of_blocks_reads_like_a_window_of_records(tmp_path: Path) -> None:
    given = [b for b in varied() if b.model == "m"]
    columnar, per_row = fresh_log(tmp_path / "columnar.db"), fresh_log(tmp_path / "rows.db")
    columnar.write(given)
    per_row.write([r for b in given for r in b.records()])
    read = {name: log.window("m", timedelta(hours=1), end=START, route=None, classes=[0, 1])
            for name, log in (("columnar", columnar), ("rows", per_row))}
    assert len(read["columnar"]) == 6
    # The log keeps time order; rows that share a time may come in either order (a flush stores each
    # version and route of a model as its own segment), so both sides are put in one order first.
    for name, window in read.items():
        order = window.meta.sort_values(["at", "prediction_id"]).index
        read[name] = [getattr(window, part).loc[order].reset_index(drop=True) for part in ("inputs", "outputs", "meta")]
    for columnar_part, row_part in zip(read["columnar"], read["rows"], strict=True):
        pd.testing.assert_frame_equal(columnar_part, row_part)


def test_what_columns_cannot_hold_goes_row_by_row_in_the_same_write(monitoring: Monitoring) -> None:
    frame = pd.DataFrame({"a": [1.0], "b": ["x"], "c": [2]})
    failed = failure_block("m", 1, "primary", START - timedelta(minutes=1), 3.0, [[1.0, "bad", 3]], COLUMNS,
                           ValueError("not a number"), IDS.new)
    odd = [block(frame, np.array([1])), block({"a": np.array(["2.0"]), "b": np.array([2.0])}, np.array([0])),
           block(np.array([[1.0, 2.0]]), np.array([1])),
           block(np.array([[1.0, 2.0, 3.0]]), np.array([[1, 2]])), failed,
           block([[1.0, "x", 3.0]], np.array([1])), block([[1.0], [1.0, 2.0]], np.array([1, 0])),
           block({"a": np.array(["x"]), "b": np.array([1.0])}, np.array([1])),
           block({"a": np.array([[1.0]]), "b": np.array([1.0])}, np.array([1])),
           block({"a": np.array([1.0, 2.0]), "b": np.array([1.0])}, np.array([1])), block({}, np.array([1]))]
    assert [blocks.columnar(b) for b in odd] == [None] * 11
    assert monitoring.log.write([*odd, *varied(), record()]) == 12 + 17 + 1
    window = monitoring.log.window("m", timedelta(hours=1), end=START, ok_only=False, route=None)
    assert len(window) == 12 + 6 + 1 and window.meta["status"].tolist().count("ValueError") == 1
    assert {"2.0", "bad", "x"} <= set(window.inputs["b"].dropna().astype(str))  # mixed types: kept as JSON


def test_a_block_with_a_time_that_is_not_a_datetime_is_refused(monitoring: Monitoring) -> None:
    bad = PredictionBlock("m", 1, "primary", "yesterday", 1.0, ["id1"], np.zeros((1, 3)), COLUMNS,  # type: ignore[arg-type]
                          np.array([1]))
    with pytest.raises(InvalidInputError, match="prediction time must be a datetime"):
        monitoring.log.write([bad])
    assert monitoring.log.count() == 0


def test_block_times_are_stored_in_utc_whatever_their_zone(monitoring: Monitoring) -> None:
    east = START.astimezone(timezone(timedelta(hours=5)))
    given = PredictionBlock("m", 1, "primary", east, 1.0, ["id1"], np.zeros((1, 3)), COLUMNS, np.array([1]))
    monitoring.log.write([given])
    assert monitoring.log.window("m", timedelta(minutes=1), end=START).meta["at"].tolist() == [pd.Timestamp(START)]


def test_feedback_finds_block_predictions_on_every_database(any_db_monitoring: Monitoring) -> None:
    given = [block(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), np.array([0, 1])),
             block(np.array([[1.0, 2.0, 3.0]]), np.array([2.5]), model="r")]
    any_db_monitoring.log.write(given)
    ids = [i for b in given for i in b.prediction_ids or []]
    result = any_db_monitoring.submit_feedback([{"prediction_id": ids[0], "label": 0}, {"prediction_id": ids[2], "label": 1}])
    assert [o.status for o in result.outcomes] == ["accepted", "type_mismatch"]  # 2.5 is a regression output
    assert len(any_db_monitoring.log.window("m", timedelta(hours=1), end=START)) == 2


def test_the_sink_bounds_what_it_holds_in_rows_not_blocks(tmp_path: Path) -> None:
    log = fresh_log(tmp_path / "log.db")
    real = log.engine
    log.engine = make_engine(f"sqlite:///{tmp_path / 'unmigrated.db'}")  # no tables: every write fails
    sink = PredictionLogSink(log, autostart=False, max_buffer=5)
    sink.record([block(np.zeros((3, 3)), np.zeros(3))])
    sink.intake(block(np.zeros((2, 3)), np.zeros(2)))  # serving's way: one block at a time
    sink.record([record()])
    assert (sink.pending, sink.dropped) == (6, 0)
    assert sink.flush() == 0 and (sink.pending, sink.dropped) == (3, 3)  # the oldest block went whole
    sink.intake(block(np.zeros((4, 3)), np.zeros(4)))
    # held rows are older than new ones: the 2-row block goes, the record and the new block stay
    assert sink.flush() == 0 and (sink.pending, sink.dropped) == (5, 5)
    log.engine = real
    assert sink.flush() == 5 and sink.written == 5 and sink.pending == 0


def test_index_times_are_sqlalchemys_sqlite_text_for_any_time() -> None:
    """Around the epoch, a leap day, the first and last microsecond of a second, the ends of the calendar."""
    from datetime import datetime

    epoch = datetime(1970, 1, 1)
    moments = [epoch, epoch - timedelta(microseconds=1), datetime(2000, 2, 29, 23, 59, 59, 999999),
               datetime(2026, 3, 1, 12, 0, 0, 1), datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59, 999999)]
    rng = np.random.default_rng(3)
    moments += [datetime(2026, 11, 22) + timedelta(microseconds=int(m)) for m in rng.integers(0, 10**10, 500)]
    micros = np.array([(m - epoch) // timedelta(microseconds=1) for m in moments], dtype=np.int64)
    expected = [f"{m.year:04d}-{m:%m-%d %H:%M:%S.%f}" for m in moments]
    assert blocks.sqlite_times(micros) == expected
    from sqlalchemy.dialects import sqlite

    dialect = sqlite.dialect()
    as_sqlalchemy = sa.DateTime().dialect_impl(dialect).bind_processor(dialect)
    assert as_sqlalchemy is not None and [as_sqlalchemy(m) for m in moments[:4]] == expected[:4]
