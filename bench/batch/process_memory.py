"""Peak memory and wall time of the process engine, this tree against another version's `src`, alternating.

Usage: .venv/bin/python -m bench.batch.process_memory OTHER_SRC [--rounds 2] [--rows 2000000]
(e.g. `mkdir /tmp/old && git archive REV src | tar -x -C /tmp/old`, then OTHER_SRC=/tmp/old/src).
Needs the inputs and models `python -m bench.batch.run` leaves in bench/.work/batch.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from bench.batch.measure import run
from bench.batch.run import WORK


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other_src")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--rows", type=int, default=2_000_000)
    args = parser.parse_args()
    source = WORK / f"lr-{args.rows}.parquet"
    if not source.exists():
        sys.exit(f"{source} is missing: run python -m bench.batch.run first")
    results: dict[str, list[dict[str, float]]] = {"this": [], "other": []}
    for number in range(args.rounds):
        for label in ("this", "other") if number % 2 == 0 else ("other", "this"):
            out = WORK / f"process-memory-{label}"
            shutil.rmtree(out, ignore_errors=True)
            env = {**os.environ, "MODELPORT_HOME": str(WORK / "home")}
            if label == "other":
                env["PYTHONPATH"] = args.other_src
            measured = run([str(Path(sys.executable).parent / "modelport"), "batch", "bench-lr", "--input", str(source),
                            "--output", str(out), "--workers", "2", "--parallel", "processes", "--json"],
                           env=env, log=WORK / "logs" / f"process-memory-{label}.log")
            results[label].append({"seconds": round(measured.seconds, 2), "peak_rss_mib": round(measured.peak_rss_mib)})
            print(label, results[label][-1], flush=True)
    print(json.dumps({"bench": "batch_process_memory", "rows": args.rows, "other_src": args.other_src,
                      "load_average": os.getloadavg()[0], **results}))


if __name__ == "__main__":
    main()
