"""The prediction log: writes, window reads, retention, erasure, and the batching sink's durability."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from modelport.foundation.clock import ManualClock
from modelport.foundation.errors import InvalidInputError
from modelport.foundation.settings import Settings
from modelport.monitoring.log import PredictionLog, as_utc
from modelport.monitoring.records import parse_window
from modelport.monitoring.service import Monitoring
from modelport.monitoring.sink import PredictionLogSink, next_wait
from modelport.storage.database import make_engine, upgrade

from .builders import START, record


def test_window_reads_inputs_outputs_and_metadata(any_db_monitoring: Monitoring) -> None:
    log = any_db_monitoring.log
    log.write([record(inputs={"x": float(i), "c": "a"}, outputs="yes", probabilities=[0.3, 0.7],
                      at=START - timedelta(minutes=i)) for i in range(1, 11)])
    log.write([record(at=START - timedelta(hours=3)), record(model="other"), record(route="shadow"),
               record(status="ValueError", error="boom", outputs=None)])
    window = log.window("m", timedelta(hours=1), classes=["no", "yes"])
    assert len(window) == 10
    assert sorted(window.inputs["x"]) == [float(i) for i in range(1, 11)]
    assert list(window.outputs.columns) == ["prediction", "proba_no", "proba_yes"]
    assert set(window.meta["route"]) == {"primary"}
    everything = log.window("m", timedelta(hours=1), route=None, ok_only=False)
    assert len(everything) == 12


def test_the_id_index_stores_each_row_as_given(any_db_monitoring: Monitoring) -> None:
    """The index insert goes as one JSON document: quotes, backslashes, unicode and nulls come back as they went."""
    from sqlalchemy import select

    from modelport.storage.schema import prediction_log

    odd = ['it\'s "quoted"', "back\\slash", "ünïcødé-✓", "x" * 64]
    at = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)
    versions = [None, 1, np.int64(2), 3.0]  # numpy and whole float versions come in as plain integers
    given = [record(prediction_id=pid, version=versions[i], outputs=None if i == 1 else [i, "y"], at=at)
             for i, pid in enumerate(odd)]
    assert any_db_monitoring.log.write(given) == 4
    table = prediction_log
    with any_db_monitoring.log.engine.connect() as conn:
        rows = {r.prediction_id: r for r in conn.execute(select(table)).all()}
    assert set(rows) == set(odd)
    assert [rows[p].version for p in odd] == [None, 1, 2, 3]
    assert [rows[p].outputs for p in odd] == ['[0,"y"]', None, '[2,"y"]', '[3,"y"]']
    assert {as_utc(rows[p].at) for p in odd} == {at}
    assert {rows[p].model for p in odd} == {"m"}


def test_serving_records_and_dicts_are_accepted(monitoring: Monitoring) -> None:
    from modelport.serving.predictions import PredictionRecord as ServingRecord

    served = ServingRecord("a1", "m", 2, "primary", START, {"x": 1}, 1, [0.1, 0.9], 3.0, "ok")
    as_dict = {"prediction_id": "a2", "model": "m", "version": 2, "route": "primary", "time": START, "inputs": {"x": 2},
               "outputs": 0, "probabilities": None, "latency_ms": 1.0, "status": "ok", "error": None}
    assert monitoring.log.write([served, as_dict]) == 2
    assert monitoring.log.count("m") == 2


def test_retention_by_age_and_by_count(monitoring: Monitoring, clock: ManualClock) -> None:
    monitoring.log.write([record(at=START - timedelta(days=d)) for d in range(10)])
    assert monitoring.log.retain(max_age=timedelta(days=7)) == 2  # 8 and 9 days old (7 is not older)
    assert monitoring.log.retain(max_rows=4) == 4
    assert monitoring.log.count() == 4
    with pytest.raises(InvalidInputError, match="max_rows"):
        monitoring.log.retain(max_rows=-1)


@pytest.mark.parametrize("keep", [0, 1, 7, 13, 29, 30, 100])
def test_retention_by_count_keeps_the_newest_rows_across_interleaved_writers(any_db_monitoring: Monitoring,
                                                                              keep: int) -> None:
    """Two writers' flushes overlap in time, times repeat, models differ: the cutoff is still the newest `keep`."""
    log = any_db_monitoring.log
    minutes = [(0, 9, 3, 12, 6), (1, 10, 4, 13, 7, 7), (2, 11, 5, 14, 8, 8, 20), (15, 16, 17, 18, 19, 25, 21, 22, 23, 24)]
    for flush, model in zip(minutes, ["m", "n", "m", "n"], strict=True):
        log.write([record(model, at=START + timedelta(minutes=m)) for m in flush])
    times = sorted(m for flush in minutes for m in flush)
    assert log.count() == len(times) == 28
    cutoff = times[-keep - 1] if keep < len(times) else None  # the newest row beyond the newest `keep`
    expected = [m for m in times if cutoff is None or m > cutoff]  # ties with the cutoff go with it
    assert log.retain(max_rows=keep) == len(times) - len(expected)
    assert log.count() == log.count("m") + log.count("n") == len(expected)
    kept = [log.window(model, timedelta(hours=2), end=START + timedelta(hours=1)).meta["at"] for model in "mn"]
    assert sorted(round((t - START).total_seconds() / 60) for part in kept for t in part) == expected
    with log.engine.connect() as conn:  # the id index went with its segments' rows
        from sqlalchemy import func, select

        from modelport.storage.schema import prediction_log
        assert conn.execute(select(func.count()).select_from(prediction_log)).scalar() == len(expected)


def test_erasure_by_input_field_value(any_db_monitoring: Monitoring) -> None:
    log = any_db_monitoring.log
    log.write([record(inputs={"customer": "c-17", "x": 1.0}) for _ in range(3)])
    log.write([record(inputs={"customer": "c-18", "x": 1.0}), record(model="n", inputs={"customer": "c-17"})])
    assert log.erase("customer", "c-17", model="m") == 3
    assert log.count("m") == 1 and log.count("n") == 1
    assert log.erase("customer", "c-17") == 1
    with pytest.raises(InvalidInputError, match="input field"):
        log.erase("", "x")


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("15m", 900), ("1h", 3600), ("7d", 604800), ("2w", 1209600)])
def test_windows(text: str, seconds: int) -> None:
    assert parse_window(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "1", "h", "0h", "-1h", "1y", "1.5h", "1h; drop"])
def test_bad_windows(text: str) -> None:
    with pytest.raises(InvalidInputError, match="window"):
        parse_window(text)


def test_sink_record_never_writes_and_close_flushes_everything(monitoring: Monitoring) -> None:
    sink = PredictionLogSink(monitoring.log, flush_interval=3600)
    sink.record([record() for _ in range(500)])
    assert monitoring.log.count() == 0 and sink.pending == sink.queued == 500
    sink.close()
    assert monitoring.log.count() == 500 and sink.pending == sink.queued == 0 and sink.written == 500


def test_sink_keeps_rows_while_the_database_fails_then_bounds_the_buffer(tmp_path: Path) -> None:
    broken = PredictionLog(make_engine(f"sqlite:///{tmp_path / 'unmigrated.db'}"))
    errors: list[BaseException] = []
    sink = PredictionLogSink(broken, autostart=False, max_buffer=50, on_error=errors.append)
    sink.record([record() for _ in range(40)])
    assert sink.flush() == 0 and sink.pending == 40 and errors
    sink.record([record() for _ in range(30)])
    assert sink.pending == 70 and sink.dropped == 0  # the bound applies at each flush
    assert sink.flush() == 0 and sink.pending == 50 and sink.dropped == 20
    upgrade(broken.engine)
    assert sink.flush() == 50 and broken.count() == 50


class HangingLog:
    """A log whose first write hangs until released, as on a database that neither answers nor refuses."""

    def __init__(self) -> None:
        self.entered, self.release = threading.Event(), threading.Event()
        self.batches: list[int] = []

    def write(self, rows: list[object]) -> int:
        if not self.batches:
            self.entered.set()
            self.release.wait(30)
        self.batches.append(len(rows))
        return len(rows)


def test_a_hanging_write_does_not_let_the_queue_grow_past_the_bound() -> None:
    hanging = HangingLog()
    sink = PredictionLogSink(hanging, flush_interval=0.02, max_buffer=5)  # type: ignore[arg-type]
    try:
        sink.record([record()])
        assert hanging.entered.wait(10)  # the flusher is stuck in its first write
        sink.record([record() for _ in range(20)])
        deadline = time.monotonic() + 10
        while sink.dropped < 15 and time.monotonic() < deadline:  # the guard bounds within an interval or two
            time.sleep(0.01)
        assert (sink.dropped, sink.pending) == (15, 5)
    finally:
        hanging.release.set()
        sink.close()
    assert hanging.batches[0] == 1 and sum(hanging.batches) == 6 and sink.written == 6


def test_the_flusher_backs_off_while_writes_fail_and_comes_back_to_its_interval() -> None:
    waits, wait = [], 1.0
    for failed in [True] * 7 + [False, True]:
        wait = next_wait(1.0, wait, failed)
        waits.append(wait)
    assert waits == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 1.0, 2.0]
    assert next_wait(3600.0, 3600.0, True) == 3600.0  # never shorter than the interval itself
    assert next_wait(0.5, 0.5, False) == 0.5


def test_while_writes_fail_what_serving_queues_stays_within_the_bound(tmp_path: Path) -> None:
    broken = PredictionLog(make_engine(f"sqlite:///{tmp_path / 'unmigrated.db'}"))
    errors: list[BaseException] = []
    sink = PredictionLogSink(broken, flush_interval=0.02, max_buffer=5, on_error=errors.append)
    try:
        sink.record([record() for _ in range(3)])
        deadline = time.monotonic() + 10
        while not errors and time.monotonic() < deadline:
            time.sleep(0.01)
        assert errors and sink.written == 0
        sink.record([record() for _ in range(20)])
        while sink.dropped < 18 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert (sink.dropped, sink.pending) == (18, 5)
        upgrade(broken.engine)
    finally:
        sink.close()
    assert sink.written == 5 and broken.count() == 5


def test_background_flusher_writes_within_the_interval(monitoring: Monitoring) -> None:
    sink = PredictionLogSink(monitoring.log, flush_interval=0.05)
    try:
        sink.record([record() for _ in range(10)])
        deadline = time.monotonic() + 10
        while monitoring.log.count() < 10 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert monitoring.log.count() == 10
    finally:
        sink.close()


CHILD = textwrap.dedent("""
    import sys, time, uuid
    from datetime import datetime, timezone
    from modelport.monitoring.log import PredictionLog
    from modelport.monitoring.sink import PredictionLogSink, next_wait
    from modelport.storage.database import make_engine
    sink = PredictionLogSink(PredictionLog(make_engine(sys.argv[1])), flush_interval=float(sys.argv[2]))
    i = 0
    while True:
        if sys.argv[3] == "block":  # what the server hands over: one block per request
            import numpy as np
            from modelport.serving.predictions import PredictionBlock
            sink.record([PredictionBlock("m", 1, "primary", datetime.now(timezone.utc), 1.0, [uuid.uuid4().hex],
                                         np.array([[i]]), ["seq"], np.array([0]))])
        else:
            sink.record([{"prediction_id": uuid.uuid4().hex, "model": "m", "version": 1, "route": "primary",
                          "time": datetime.now(timezone.utc), "inputs": {"seq": i}, "outputs": 0,
                          "probabilities": None, "latency_ms": 1.0, "status": "ok", "error": None}])
        i += 1
        time.sleep(0.002)
""")


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["record", "block"])
def test_kill_9_loses_at_most_the_last_flush_interval(tmp_path: Path, kind: str) -> None:
    interval = 0.5
    url = f"sqlite:///{tmp_path / 'log.db'}"
    upgrade(make_engine(url))
    log = PredictionLog(make_engine(url))
    child = subprocess.Popen([sys.executable, "-c", CHILD, url, str(interval), kind], env={**os.environ})
    try:
        deadline = time.monotonic() + 60
        while log.count() < 300 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert log.count() >= 300, "the child never flushed"
        killed_at = datetime.now(timezone.utc)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    window = log.window("m", timedelta(days=1), end=killed_at + timedelta(seconds=1))
    seqs = sorted(window.inputs["seq"])
    assert seqs == list(range(len(seqs))), "rows were lost before the last flush"
    newest = max(window.meta["at"])
    newest = newest if newest.tzinfo else newest.replace(tzinfo=timezone.utc)
    # Lost: only rows recorded after the last committed batch, i.e. within one interval (+ one write).
    assert (killed_at - newest).total_seconds() <= interval + 0.5


def test_settings_based_sink_is_reachable_from_the_facade(home: Path) -> None:
    from modelport.monitoring.service import open_monitoring

    registry, monitoring = open_monitoring(Settings.at(home))
    try:
        sink = monitoring.sink(flush_interval=3600)
        sink.record([record()])
        sink.close()
        assert monitoring.log.count() == 1
    finally:
        registry.close()
