"""What does one flush of the prediction log cost per row, in the serving process? Blocks against their records.

Builds flushes of one-row blocks shaped like bench/monitoring/log_cost.py's requests (30 float inputs, an
integer prediction; `--columns` gives them the signature's column names, else a tensor signature) and
writes them to a SQLite log, alternating: the blocks as serving hands them over (the columnar path), and
the same blocks expanded to per-row records first (`block.records()`, the path they replaced). Reported:
median CPU µs per row over the rounds (process time: the writing thread's Python and SQLite's work), and
the event loop's share, building a block and appending it to the sink. `--contended` adds the serving
process's situation: the blocks' write in a thread while another thread runs Python (as the event loop
does), reported as the write's rows per second of wall time; a write that gives the GIL away often waits
for a forced switch each time it takes it back.

Usage: .venv/bin/python -m bench.monitoring.log_write [--rounds 7] [--rows 4000] [--columns] [--contended]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from modelport.foundation.clock import SystemClock
from modelport.monitoring.log import PredictionLog
from modelport.monitoring.sink import PredictionLogSink
from modelport.serving.ids import PredictionIds
from modelport.serving.predictions import PredictionBlock, SinkFeeder
from modelport.storage.database import make_engine, upgrade

IDS = PredictionIds()


def blocks(count: int, columns: list[str]) -> list[PredictionBlock]:
    rng = np.random.default_rng(0)
    return [PredictionBlock("m", 1, "primary", datetime.now(timezone.utc), 1.3, IDS.new(1), rng.random((1, 30)),
                            columns, np.array([1]), None) for _ in range(count)]


def per_row(function: Callable[[], Any], rows: int) -> float:
    """CPU µs per row of one call."""
    start = time.process_time()
    function()
    return (time.process_time() - start) / rows * 1e6


def submit_cost(rows: int, columns: list[str]) -> float:
    """CPU µs the event loop spends per one-row request: build the block, hand it to the sink."""
    sink = PredictionLogSink(PredictionLog(make_engine("sqlite://")), autostart=False, max_buffer=10 * rows)
    feeder, clock = SinkFeeder(sink), SystemClock()
    inputs, predictions, ids = np.zeros((1, 30)), np.array([1]), ["id"]

    def submit() -> None:
        for _ in range(rows):
            feeder.submit(PredictionBlock("m", 1, "primary", clock.now(), 1.0, ids, inputs, columns, predictions))

    return per_row(submit, rows)


def contended(log: PredictionLog, given: list[PredictionBlock]) -> float:
    """Rows per second of wall time for one write in a thread while the calling thread spins in Python."""
    done = threading.Event()
    wall: list[float] = []

    def write() -> None:
        start = time.perf_counter()
        log.write(given)
        wall.append(time.perf_counter() - start)
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    while not done.is_set():  # Python bytecode holding the GIL, as a busy event loop does
        pass
    writer.join()
    return len(given) / wall[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--columns", action="store_true", help="give the blocks 30 signature column names")
    parser.add_argument("--contended", action="store_true", help="also time the write beside a busy Python thread")
    args = parser.parse_args()
    columns = [f"x{i}" for i in range(30)] if args.columns else []
    folder = Path(tempfile.mkdtemp(prefix="mp-logwrite-"))
    engine = make_engine(f"sqlite:///{folder / 'log.db'}")
    upgrade(engine)
    log = PredictionLog(engine)
    log.write(blocks(args.rows, columns))  # warm: imports, statement caches
    load, results = os.getloadavg()[0], {"blocks": [], "records": [], "submit": []}
    for index in range(args.rounds):
        order = ("blocks", "records") if index % 2 == 0 else ("records", "blocks")
        for kind in order:
            given = blocks(args.rows, columns)
            if kind == "blocks":
                results[kind].append(per_row(lambda g=given: log.write(g), args.rows))
            else:
                results[kind].append(per_row(lambda g=given: log.write([r for b in g for r in b.records()]),
                                             args.rows))
        results["submit"].append(submit_cost(args.rows, columns))
        if args.contended:
            results.setdefault("contended_rows_per_s", []).append(contended(log, blocks(args.rows, columns)))
    print(json.dumps({"bench": "log_write", "rows_per_flush": args.rows, "columns": len(columns),
                      "rounds": args.rounds, "load_average_start": round(load, 2),
                      "load_average_end": round(os.getloadavg()[0], 2),
                      **{f"{k}_cpu_us_per_row_median" if k != "contended_rows_per_s" else f"{k}_median":
                         round(statistics.median(v), 2) for k, v in results.items()},
                      "runs": {k: [round(x, 2) for x in v] for k, v in results.items()}}))


if __name__ == "__main__":
    main()
