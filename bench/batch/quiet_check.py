"""A short re-check of one model's floor, 1 worker and 2 threads, round after round (for a quiet moment).

Usage: .venv/bin/python -m bench.batch.quiet_check [MODEL] [ROUNDS]   (default: rf 3; plain-encoded input)
Needs the inputs and models `python -m bench.batch.run` leaves in bench/.work/batch. Prints one JSON line a round.
"""

from __future__ import annotations

import json
import os
import sys

from bench.batch.run import ROOT, WORK, _floor, _modelport


def main(model: str, rounds: int) -> None:
    env = {**os.environ, "MODELPORT_HOME": str(WORK / "home"), "PYTHONPATH": str(ROOT)}
    env.pop("MODELPORT_DB_URL", None)
    rows = "10000000" if model == "lr" else "1000000"
    plain, dictionary = WORK / f"{model}-{rows}-plain.parquet", WORK / f"{model}-{rows}.parquet"
    for number in range(rounds):
        floor = _floor(model, dictionary, env)
        one = _modelport("1 worker", model, plain, env, "local", 1, "threads")
        two = _modelport("2 threads", model, plain, env, "local", 2, "threads")
        print(json.dumps({"round": number, "model": model, "load_average": round(os.getloadavg()[0], 2),
                          "floor_rows_per_s": floor["rows_per_second"], "one_worker": one["rows_per_second"],
                          "two_threads": two["rows_per_second"],
                          "two_threads_of_floor": round(two["rows_per_second"] / floor["rows_per_second"], 2),
                          "two_threads_peak_rss_mib": two["peak_rss_mib"]}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "rf", int(sys.argv[2]) if len(sys.argv) > 2 else 3)
