"""How long do window reads of the prediction log take at a million rows? SQLite and PostgreSQL.

Fills the log with N predictions of a 25-feature model (20 numeric, 5 categorical) spread over the
last N/300 seconds, written through `PredictionLog.write` in sink-sized batches, gives 10 % of them
feedback, then times: the 1 h window and the whole-log window read for drift (`PredictionLog.window`)
and for performance (`Monitoring.performance`, feedback joined by prediction id). Wall and CPU time.

Usage: .venv/bin/python bench/monitoring/log_window.py 1000000 [sqlite|postgresql ...]
PostgreSQL needs MODELPORT_TEST_POSTGRES_URL; the rows go to a fresh schema that is dropped afterwards.
The SQLite file is kept (its path is printed); `log_window.py reread sqlite:////tmp/.../log.db` times
the reads again, best of 3, without writing the million rows anew.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from modelport.foundation.settings import Settings
from modelport.monitoring.service import open_monitoring

BATCH = 2_000
RATE = 300  # predictions per second of simulated traffic: 1M rows span about 55 minutes
FEEDBACK_SHARE = 0.1
CATEGORIES = np.array([f"cat{i}" for i in range(12)])


def batches(count: int, now: datetime) -> Any:
    """Records in sink-sized batches (the newest last), with a fixed seed."""
    rng = np.random.default_rng(0)
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        numeric, cats = rng.normal(size=(size, 20)), CATEGORIES[rng.integers(0, 12, size=(size, 5))]
        proba = rng.uniform(size=size)
        yield [{"prediction_id": uuid.uuid4().hex, "model": "bench", "version": 1, "route": "primary",
                "time": now - timedelta(seconds=(count - start - i) / RATE),
                "inputs": {**{f"x{j}": float(numeric[i, j]) for j in range(20)},
                           **{f"c{j}": str(cats[i, j]) for j in range(5)}},
                "outputs": int(proba[i] > 0.5), "probabilities": [1 - float(proba[i]), float(proba[i])],
                "latency_ms": 1.0, "status": "ok", "error": None} for i in range(size)]


def timed(function: Callable[[], Any]) -> tuple[Any, dict[str, float]]:
    wall, cpu = time.perf_counter(), time.process_time()
    value = function()
    return value, {"wall_s": round(time.perf_counter() - wall, 3), "cpu_s": round(time.process_time() - cpu, 3)}


def run(url: str, count: int) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="mp-logbench-"))
    registry, monitoring = open_monitoring(Settings(home=home, db_url=url, artifacts_url=str(home / "artifacts")))
    try:
        now = datetime.now(timezone.utc)
        ids: list[str] = []
        _, write = timed(lambda: [_write(monitoring, batch, ids) for batch in batches(count, now)])
        _, feedback = timed(lambda: [monitoring.submit_feedback({"prediction_id": p, "label": 1} for p in ids[i:i + 10_000])
                                     for i in range(0, len(ids), 10_000)])
        result: dict[str, Any] = {"write": {**write, "rows_per_s": round(count / write["wall_s"])},
                                  "feedback": {**feedback, "items": len(ids)}}
        for name, span in (("1h", timedelta(hours=1)), ("all", timedelta(days=365))):
            window, result[f"drift_{name}"] = timed(lambda span=span: monitoring.log.window("bench", span, end=now))
            result[f"drift_{name}"]["rows"] = len(window)
            report, result[f"performance_{name}"] = timed(
                lambda span=span: monitoring.performance("bench", span, end=now))
            result[f"performance_{name}"]["labelled_rows"] = report["labelled_rows"]
        return result
    finally:
        registry.close()


def reread(url: str, repeats: int = 3) -> dict[str, Any]:
    """Best-of-`repeats` window reads of a log the full run left behind."""
    home = Path(tempfile.mkdtemp(prefix="mp-logbench-"))
    registry, monitoring = open_monitoring(Settings(home=home, db_url=url, artifacts_url=str(home / "artifacts")))
    try:
        with monitoring.log.engine.connect() as conn:
            newest = conn.execute(sa.text("SELECT max(at) FROM prediction_log WHERE model = 'bench'")).scalar()
        end = pd_utc(newest) + timedelta(microseconds=1)
        result: dict[str, Any] = {}
        for name, span in (("1h", timedelta(hours=1)), ("all", timedelta(days=365))):
            for kind, read in (("drift", lambda s=span: monitoring.log.window("bench", s, end=end)),
                               ("performance", lambda s=span: monitoring.performance("bench", s, end=end))):
                runs = [timed(read)[1] for _ in range(repeats)]
                result[f"{kind}_{name}"] = {"wall_s": min(r["wall_s"] for r in runs), "cpu_s": min(r["cpu_s"] for r in runs)}
        return result
    finally:
        registry.close()


def pd_utc(value: Any) -> datetime:
    """A database time (SQLite gives text or naive datetimes) as an aware UTC datetime."""
    import pandas as pd

    return pd.Timestamp(value).tz_localize("UTC").to_pydatetime() if pd.Timestamp(value).tzinfo is None else (
        pd.Timestamp(value).tz_convert("UTC").to_pydatetime())


def _write(monitoring: Any, batch: list[dict[str, Any]], ids: list[str]) -> None:
    monitoring.log.write(batch)
    ids.extend(str(row["prediction_id"]) for row in batch[:: int(1 / FEEDBACK_SHARE)])


def postgres_schema(base: str) -> tuple[str, Callable[[], None]]:
    """A fresh schema on the test server and a function that drops it."""
    schema = f"mp_logbench_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()

    return f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}", drop


def main(count: int, backends: list[str]) -> None:
    for backend in backends:
        started_load = os.getloadavg()[0]
        if backend == "sqlite":
            folder = tempfile.mkdtemp(prefix="mp-logbench-db-")
            result = {"path": f"{folder}/log.db", **run(f"sqlite:///{folder}/log.db", count)}
        else:
            url, drop = postgres_schema(os.environ["MODELPORT_TEST_POSTGRES_URL"])
            try:
                result = run(url, count)
            finally:
                drop()
        print(json.dumps({"bench": "log_window", "backend": backend, "rows": count, "load_average_start": started_load,
                          "load_average_end": os.getloadavg()[0], **result}), flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["reread"]:
        print(json.dumps({"bench": "log_window_reread", "url": sys.argv[2], "load_average_start": os.getloadavg()[0],
                          **reread(sys.argv[2]), "load_average_end": os.getloadavg()[0]}))
        sys.exit(0)
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000, sys.argv[2:] or ["sqlite", "postgresql"])
