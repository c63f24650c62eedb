"""What does the prediction log cost in serving throughput? `modelport serve` with the log on and off under wrk.

One model (scaler + logistic regression on breast cancer, the serving benchmarks' fast model), V2 requests of
one row at concurrency 64. Runs alternate (on, off, then off, on, ...) so that load drift on a shared machine
hits both alike; each run starts a fresh server, warms it, then measures. Reported: requests/s and server
CPU ms per request per run, the median on/off throughput ratio, and the rows the log really holds.

Usage: .venv/bin/python -m bench.monitoring.log_cost [--rounds 3] [--seconds 10] [--connections 64] [--compare DIR]

`--compare DIR` also measures another version of the code in the same rounds, interleaved with this one
(DIR holds its `src`, e.g. `mkdir DIR && git archive REV src | tar -x -C DIR`): its servers run with
PYTHONPATH=DIR/src. Reported: that version's on/off ratios and median beside this one's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import wire, wrk
from bench.common.models import LOAD_ROWS, build
from bench.common.procs import ServerProcess, free_port
from bench.common.results import RESULTS

NAME = "cancer-lr"


def register(home: Path) -> Any:
    """A fresh registry at `home` holding the fast model; returns the rows the load rotates through."""
    import numpy as np
    from sklearn.datasets import load_breast_cancer

    from modelport.foundation.settings import Settings
    from modelport.registry.service import Registry

    x, _ = load_breast_cancer(return_X_y=True)
    rows = np.ascontiguousarray(x[np.linspace(0, len(x) - 1, LOAD_ROWS).astype(int)], dtype=np.float64)
    registry = Registry.open(Settings.at(home))
    try:
        registry.register(build("lr"), name=NAME, input_example=rows[:5])
    finally:
        registry.close()
    return rows


def measure(home: Path, work: Path, script: Path, *, log_on: bool, seconds: int, connections: int,
            source: Path | None = None) -> dict[str, Any]:
    """One fresh server, warmed for 2 s, then `seconds` of wrk; requests/s and server CPU per request."""
    port = free_port()
    command = [str(Path(sys.executable).parent / "modelport"), "serve", NAME, "--host", "127.0.0.1", "--port",
               str(port), "--no-auth", "--prediction-log" if log_on else "--no-prediction-log"]
    env = {"MODELPORT_HOME": str(home), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    if source is not None:
        env["PYTHONPATH"] = str(source / "src")
    server = ServerProcess(command, log=work / f"server-{'on' if log_on else 'off'}.log", env=env)
    try:
        server.wait_ready(f"http://127.0.0.1:{port}/v2/health/ready")
        url = f"http://127.0.0.1:{port}"
        wrk.run(url, script, work / "wrk.json", connections=connections, seconds=2)
        cpu = server.cpu_seconds()
        result = wrk.run(url, script, work / "wrk.json", connections=connections, seconds=seconds)
        cpu = server.cpu_seconds() - cpu
    finally:
        server.stop()
    return {"log": log_on, **({"source": str(source)} if source else {}), "rps": round(result.rps, 1), "p99_ms": round(result.p99_ms, 2), "errors": result.errors,
            "cpu_ms_per_request": round(1000 * cpu / max(1, result.requests), 3)}


def on_off(runs: list[dict[str, Any]]) -> list[float]:
    """Each round's requests/s with the log over without (runs come in on/off or off/on pairs)."""
    pairs = zip(runs[0::2], runs[1::2], strict=True)
    return [a["rps"] / b["rps"] if a["log"] else b["rps"] / a["rps"] for a, b in pairs]


def logged_rows(home: Path) -> int:
    from modelport.foundation.settings import Settings
    from modelport.monitoring.service import open_monitoring

    registry, monitoring = open_monitoring(Settings.at(home))
    try:
        return monitoring.log.count(NAME)
    finally:
        registry.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--compare", type=Path, default=None, help="a folder holding another version's src")
    args = parser.parse_args()
    wrk.ensure_wrk()
    work = Path(tempfile.mkdtemp(prefix="mp-logcost-"))
    home = work / "home"
    rows = register(home)
    script = work / "load.lua"
    script.write_text(wrk.render_script(wire.v2(NAME), wire.v2(NAME).bodies(rows), work / "wrk.json"))
    load_start, runs, compared = os.getloadavg()[0], [], []
    for index in range(args.rounds):
        for source, into in [(None, runs), (args.compare, compared)][:: 1 if index % 2 == 0 else -1]:
            if source is None and into is compared:
                continue
            for log_on in ((True, False) if index % 2 == 0 else (False, True)):
                into.append(measure(home, work, script, log_on=log_on, seconds=args.seconds,
                                    connections=args.connections, source=source))
                print(json.dumps(into[-1]), file=sys.stderr, flush=True)
    ratios = on_off(runs)
    summary = {"bench": "log_cost", "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "connections": args.connections, "seconds": args.seconds, "rounds": args.rounds,
               "load_average_start": round(load_start, 2), "load_average_end": round(os.getloadavg()[0], 2),
               "throughput_ratio_on_off_median": round(statistics.median(ratios), 4),
               "ratios": [round(r, 4) for r in ratios], "logged_rows": logged_rows(home), "runs": runs}
    if compared:
        summary["compared"] = {"source": str(args.compare), "ratios": [round(r, 4) for r in on_off(compared)],
                               "throughput_ratio_on_off_median": round(statistics.median(on_off(compared)), 4),
                               "runs": compared}
    print(json.dumps(summary))
    with (RESULTS / "log-cost.jsonl").open("a") as out:
        out.write(json.dumps(summary) + "\n")


if __name__ == "__main__":
    main()
