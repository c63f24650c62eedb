"""Peak memory of the batch job in each parallel configuration, as the tree's summed RSS and summed PSS.

The summed RSS (what bench/batch/run.py has always reported) counts the pages that processes share once per
process; PSS splits them (bench/batch/measure.py). For one process the two agree; for the 2-process and Ray
engines the gap is what the processes share: libraries, and Ray's object store.

Usage: .venv/bin/python -m bench.batch.memory [ROUNDS]   (default 2; the fast model's plain-encoded 10M rows)
Needs the inputs and models `python -m bench.batch.run` leaves in bench/.work/batch. Prints one JSON line a run.
"""

from __future__ import annotations

import json
import os
import sys

from bench.batch.run import CONFIGS, ROOT, WORK, _modelport


def main(rounds: int) -> None:
    env = {**os.environ, "MODELPORT_HOME": str(WORK / "home"), "PYTHONPATH": str(ROOT)}
    env.pop("MODELPORT_DB_URL", None)
    parquet = WORK / "lr-10000000-plain.parquet"
    for number in range(rounds):
        for label, engine, workers, parallel in CONFIGS[1:]:  # the parallel ones
            done = _modelport(label, "lr", parquet, env, engine, workers, parallel)
            print(json.dumps({"round": number, "system": label, "ok": done["ok"],
                              "rows_per_second": done["rows_per_second"], "peak_rss_mib": done["peak_rss_mib"],
                              "peak_pss_mib": done["peak_pss_mib"]}), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
