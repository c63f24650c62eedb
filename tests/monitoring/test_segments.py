"""The prediction log's columnar segments: types Arrow cannot unify, partial rewrites, legacy rows migrated."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import orjson
import sqlalchemy as sa

from modelport.monitoring.log import PredictionLog
from modelport.monitoring.service import Monitoring
from modelport.storage.database import make_engine, upgrade

from .builders import START, record


def test_fields_of_mixed_types_read_back_as_written(monitoring: Monitoring) -> None:
    log = monitoring.log
    log.write([record(inputs={"x": 1.0, "code": 7}), record(inputs={"x": 2.0, "code": "B7"}),
               record(inputs={"x": 3.0, "nested": {"a": [1, 2]}})])
    log.write([record(inputs={"x": 4.0, "code": 8})])
    window = log.window("m", timedelta(hours=1))
    assert window.inputs["x"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert window.inputs["code"].tolist()[:2] == [7, "B7"] and window.inputs["code"].tolist()[3] == 8
    assert window.inputs["nested"].tolist()[2] == {"a": [1, 2]}


def test_integer_and_string_segments_of_one_field_combine(monitoring: Monitoring) -> None:
    monitoring.log.write([record(inputs={"zip": 1234}, at=START - timedelta(minutes=2))])
    monitoring.log.write([record(inputs={"zip": "AB-1"}, at=START - timedelta(minutes=1))])
    assert monitoring.log.window("m", timedelta(hours=1)).inputs["zip"].tolist() == [1234, "AB-1"]


def test_rows_of_interleaved_writers_come_back_in_time_order(monitoring: Monitoring) -> None:
    minutes = [5, 1, 4, 2, 3]
    for minute in minutes:
        monitoring.log.write([record(inputs={"x": float(minute)}, probabilities=[minute / 10, 1 - minute / 10],
                                     at=START - timedelta(minutes=minute))])
    window = monitoring.log.window("m", timedelta(hours=1), classes=[0, 1])
    assert window.inputs["x"].tolist() == [5.0, 4.0, 3.0, 2.0, 1.0]
    assert np.allclose(window.outputs["proba_0"], [0.5, 0.4, 0.3, 0.2, 0.1])
    assert window.meta["at"].is_monotonic_increasing


def test_probabilities_missing_on_some_rows_give_no_probability_columns(monitoring: Monitoring) -> None:
    monitoring.log.write([record(probabilities=[0.2, 0.8]), record(probabilities=None)])
    assert list(monitoring.log.window("m", timedelta(hours=1)).outputs.columns) == ["prediction"]


def test_window_without_inputs_keeps_outputs_and_metadata(monitoring: Monitoring) -> None:
    monitoring.log.write([record(inputs={"x": 1.0}, outputs=1, probabilities=[0.4, 0.6])])
    window = monitoring.log.window("m", timedelta(hours=1), inputs=False)
    assert window.inputs.empty and window.outputs["prediction"].tolist() == [1] and len(window.meta) == 1


def test_erasure_rewrites_a_segment_keeping_its_other_rows(monitoring: Monitoring) -> None:
    log = monitoring.log
    log.write([record(inputs={"customer": c, "x": float(i)}) for i, c in enumerate(["a", "b", "a", "c"])])
    assert log.erase("customer", "a") == 2
    window = log.window("m", timedelta(hours=1))
    assert sorted(window.inputs["customer"]) == ["b", "c"] and log.count() == 2
    assert log.erase("customer", "zzz") == 0 and log.erase("absent_field", "a") == 0


def test_retention_trims_inside_a_segment(monitoring: Monitoring) -> None:
    log = monitoring.log
    log.write([record(inputs={"x": float(h)}, at=START - timedelta(hours=h)) for h in range(6)])
    assert log.retain(max_age=timedelta(hours=3, minutes=30)) == 2
    assert sorted(log.window("m", timedelta(days=1)).inputs["x"]) == [0.0, 1.0, 2.0, 3.0]
    assert log.retain(max_rows=1) == 3
    assert log.window("m", timedelta(days=1)).inputs["x"].tolist() == [0.0]


def test_rows_logged_before_segments_are_migrated(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    from modelport.storage.database import MIGRATIONS

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0004")
        conn.execute(sa.text("INSERT INTO prediction_log VALUES (:id, 'm', 1, 'primary', :at, :inputs, '1', "
                             "'[0.25, 0.75]', 2.5, 'ok', NULL)"),
                     [{"id": f"p{i}", "at": f"2026-03-01 11:5{9 - i}:00.000000", "inputs": orjson.dumps({"x": i}).decode()}
                      for i in range(1, 4)])
    upgrade(engine)
    window = PredictionLog(engine).window("m", timedelta(hours=1), end=START, classes=[0, 1])
    assert window.inputs["x"].tolist() == [3, 2, 1] and window.meta["latency_ms"].tolist() == [2.5] * 3
    assert window.outputs["proba_1"].tolist() == [0.75] * 3 and PredictionLog(engine).count("m") == 3
