"""Time Evidently's data-drift preset on the same data (run with bench/.envs/evidently/bin/python).

Setup: python -m venv bench/.envs/evidently && bench/.envs/evidently/bin/pip install evidently
Usage: bench/.envs/evidently/bin/python bench/drift/run_evidently.py 100000 1000000
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from data import paths


def main(sizes: list[int], repeats: int) -> None:
    import evidently
    from evidently import Report
    from evidently.presets import DataDriftPreset

    for rows in sizes:
        ref_path, cur_path = paths(rows)
        reference, current = pd.read_parquet(ref_path), pd.read_parquet(cur_path)
        timings, cpu = [], []
        for _ in range(repeats):
            started, started_cpu = time.perf_counter(), time.process_time()
            snapshot = Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)
            snapshot.dict()  # make sure every metric is computed
            timings.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        print(json.dumps({"tool": f"evidently {evidently.__version__}", "rows": rows,
                          "analysis_seconds_min": round(min(timings), 3), "cpu_seconds_min": round(min(cpu), 3),
                          "load_average": os.getloadavg()[0], "runs": repeats}))


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100_000, 1_000_000], repeats=2)
