"""Where should the prediction log live? Measure the database table against Parquet segments.

For each store: write N rows in 1-second-sized batches (what the sink does), then read one window of all
N rows back into the frames drift analysis uses. Parquet segments are read with pyarrow (a core
dependency); DuckDB would scan them at least as fast, so the read column is a lower bound for it.

Usage: .venv/bin/python bench/drift/log_storage.py 200000
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from modelport.monitoring.log import PredictionLog
from modelport.storage.database import make_engine, upgrade

BATCH = 2_000


def rows(count: int) -> list[dict[str, object]]:
    rng = np.random.default_rng(0)
    now = datetime.now(timezone.utc)
    features = rng.normal(size=(count, 20))
    return [{"prediction_id": uuid.uuid4().hex, "model": "bench", "version": 1, "route": "primary",
             "time": now - timedelta(seconds=i * 0.01), "inputs": {f"x{j}": float(features[i, j]) for j in range(20)},
             "outputs": int(i % 2), "probabilities": [0.3, 0.7], "latency_ms": 1.0, "status": "ok", "error": None}
            for i in range(count)]


def database(url: str, data: list[dict[str, object]]) -> dict[str, float]:
    engine = make_engine(url)
    upgrade(engine)
    log = PredictionLog(engine)
    started = time.perf_counter()
    for start in range(0, len(data), BATCH):
        log.write(data[start:start + BATCH])
    write = time.perf_counter() - started
    started = time.perf_counter()
    window = log.window("bench", timedelta(days=1))
    read = time.perf_counter() - started
    assert len(window) == len(data)
    return {"write_rows_per_second": len(data) / write, "window_read_seconds": read}


def parquet(folder: Path, data: list[dict[str, object]]) -> dict[str, float]:
    started = time.perf_counter()
    for index, start in enumerate(range(0, len(data), BATCH)):
        batch = data[start:start + BATCH]
        inputs = pd.DataFrame.from_records([r["inputs"] for r in batch])
        meta = pd.DataFrame({k: [r[k] for r in batch] for k in ("prediction_id", "version", "time", "outputs")})
        pq.write_table(pa.Table.from_pandas(pd.concat([meta, inputs], axis=1)), folder / f"segment-{index:06d}.parquet")
    write = time.perf_counter() - started
    started = time.perf_counter()
    table = pq.read_table(folder).to_pandas()
    read = time.perf_counter() - started
    assert len(table) == len(data)
    return {"write_rows_per_second": len(data) / write, "window_read_seconds": read}


def main(count: int) -> None:
    data = rows(count)
    with tempfile.TemporaryDirectory() as temp:
        result = {"rows": count, "load_average": os.getloadavg()[0],
                  "sqlite": database(f"sqlite:///{temp}/log.db", data)}
        postgres = os.environ.get("MODELPORT_TEST_POSTGRES_URL")
        if postgres:
            result["postgresql"] = database(postgres, data)
        segments = Path(temp) / "segments"
        segments.mkdir()
        result["parquet_segments"] = parquet(segments, data)
    print(json.dumps(result))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000)
