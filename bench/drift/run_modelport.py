"""Time modelport's drift analysis: the profile built once, then the analysis of the current window.

Usage: .venv/bin/python bench/drift/run_modelport.py 100000 1000000
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from data import paths

from modelport.monitoring.drift import analyse_drift
from modelport.monitoring.profiles import build_profile

REPEATS = 5


def main(sizes: list[int]) -> None:
    for rows in sizes:
        ref_path, cur_path = paths(rows)
        reference, current = pd.read_parquet(ref_path), pd.read_parquet(cur_path)
        started = time.perf_counter()
        profile = build_profile(reference)
        profile_seconds = time.perf_counter() - started
        timings, cpu, report = [], [], None
        for _ in range(REPEATS):
            started, started_cpu = time.perf_counter(), time.process_time()
            report = analyse_drift(profile, current)
            timings.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        assert report is not None
        print(json.dumps({"tool": "modelport", "rows": rows, "profile_seconds": round(profile_seconds, 3),
                          "analysis_seconds_median": round(statistics.median(timings), 3),
                          "analysis_seconds_min": round(min(timings), 3), "cpu_seconds_min": round(min(cpu), 3),
                          "load_average": os.getloadavg()[0],
                          "dataset_drift": report.dataset_drift,
                          "drifted": sorted(f.name for f in report.features if f.drifted)}))


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100_000, 1_000_000])
