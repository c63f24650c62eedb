"""A short re-check of one model's floor and 2 threads (and 1 worker), round after round, with the median ratio.

Usage: .venv/bin/python -m bench.batch.quiet_check [MODEL] [ROUNDS] [--no-one-worker]
       (default: rf 3; plain-encoded input)
Needs the inputs and models `python -m bench.batch.run` leaves in bench/.work/batch. Prints one JSON line a round,
then one with the median of the rounds' 2-thread/floor ratios: on this shared machine a single round's ratio
moves by 0.2 from one minute to the next, so only the median of many paired rounds says much.
"""

from __future__ import annotations

import json
import os
import statistics
import sys

from bench.batch.run import ROOT, WORK, _floor, _modelport


def main(model: str, rounds: int, one_worker: bool = True) -> None:
    env = {**os.environ, "MODELPORT_HOME": str(WORK / "home"), "PYTHONPATH": str(ROOT)}
    env.pop("MODELPORT_DB_URL", None)
    rows = "10000000" if model == "lr" else "1000000"
    plain, dictionary = WORK / f"{model}-{rows}-plain.parquet", WORK / f"{model}-{rows}.parquet"
    ratios = []
    for number in range(rounds):
        floor = _floor(model, dictionary, env)
        one = _modelport("1 worker", model, plain, env, "local", 1, "threads") if one_worker else None
        two = _modelport("2 threads", model, plain, env, "local", 2, "threads")
        ratios.append(two["rows_per_second"] / floor["rows_per_second"])
        print(json.dumps({"round": number, "model": model, "load_average": round(os.getloadavg()[0], 2),
                          "floor_rows_per_s": floor["rows_per_second"],
                          **({"one_worker": one["rows_per_second"]} if one else {}),
                          "two_threads": two["rows_per_second"], "two_threads_of_floor": round(ratios[-1], 2),
                          "two_threads_peak_rss_mib": two["peak_rss_mib"]}), flush=True)
    print(json.dumps({"rounds": rounds, "median_two_threads_of_floor": round(statistics.median(ratios), 3),
                      "range": [round(min(ratios), 2), round(max(ratios), 2)]}))


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(args[0] if args else "rf", int(args[1]) if len(args) > 1 else 3, "--no-one-worker" not in sys.argv)
