"""What does the prediction log cost the serving process, counted in instructions rather than timed?

Throughput on this shared 2-core machine swings by 20-30 % within minutes (bench/monitoring/log_cost.py
needs dozens of pairs to see a few points). Instructions do not swing: this runs the app in-process
under valgrind's callgrind, one thread counted apart from another, and reports per request:

- the event loop's instructions (the main thread: decoding, validation, predict, encoding, and with the
  log on, building and queueing each request's block), log off and on;
- the other threads' instructions per request, log off and on: with the log on, the flusher (grouping
  blocks into columns, encoding the segment, the database's insert) and Arrow's pool threads that
  compress for it; the difference, divided by the rows written, is the log's cost per row off the event
  loop.

The load: 64 asyncio tasks send one-row V2 requests for the serving benchmarks' fast model (scaler +
logistic regression on breast cancer) straight to the ASGI app, with the server's collector tuning. The
flusher writes every 2,000 rows (about every 0.6 s at the served rate under wrk) instead of every second
of wall time, which under valgrind would be a few dozen rows. Counting starts after the warm-up (model
loaded, heap frozen, one flush done).

What it does not count: time (cache misses, waiting for the GIL, CPU stolen by other processes), the
socket layer, wrk. It says where the log's work is and whether a change removed some, repeatably.

Usage: .venv/bin/python -m bench.monitoring.log_instructions [--requests 6400] [--compare DIR]
(needs valgrind; about 8 minutes for the two runs, 2 at a time; `--compare DIR` adds a log-on run of the
code in DIR/src, on a registry made by that code).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.common.results import RESULTS

FLUSH_ROWS = 2_000
ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=6_400)
    parser.add_argument("--compare", type=Path, default=None, help="a folder holding another version's src")
    parser.add_argument("--run", nargs=3, metavar=("MODE", "HOME", "OUT"), help=argparse.SUPPRESS)  # the child
    args = parser.parse_args()
    if args.run:
        return asyncio.run(_serve(args.run[0] == "on", Path(args.run[1]), Path(args.run[2]), args.requests))
    work = Path(tempfile.mkdtemp(prefix="mp-loginstr-"))
    runs = [("off", None), ("on", None)] + ([("on", args.compare)] if args.compare else [])
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda run: _counted(work, *run, args.requests), runs))
    off = results[0]
    for result in results[1:]:
        added = result["event_loop_per_request"] - off["event_loop_per_request"]
        result["event_loop_added_per_request"] = round(added)
        result["event_loop_added_share"] = round(added / off["event_loop_per_request"], 4)
        others = result["other_threads_per_request"] - off["other_threads_per_request"]
        result["other_threads_added_per_row"] = round(others * result["requests"] / max(1, result["rows_written"]))
    summary = {"bench": "log_instructions", "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "requests": args.requests, "flush_rows": FLUSH_ROWS, "runs": results}
    print(json.dumps(summary))
    with (RESULTS / "log-instructions.jsonl").open("a") as out:
        out.write(json.dumps(summary) + "\n")


def _counted(work: Path, mode: str, source: Path | None, requests: int) -> dict[str, Any]:
    """One child under callgrind, a thread per output file; the main thread's and the flusher's counts."""
    label = f"{mode}-{source.name if source else 'this'}"
    home, out = work / f"home-{label}", work / f"{label}.json"
    src = source / "src" if source else ROOT / "src"
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{ROOT}", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-c", "from pathlib import Path; import numpy; from bench.monitoring.log_cost import "
                    f"register; home = Path({str(home)!r}); numpy.save(home / 'rows.npy', register(home))"],
                   env=env, check=True)
    prefix = work / f"{label}.callgrind"
    subprocess.run(["valgrind", "--tool=callgrind", "--separate-threads=yes", "--instr-atstart=no",
                    f"--callgrind-out-file={prefix}", sys.executable, "-m", "bench.monitoring.log_instructions",
                    "--requests", str(requests), "--run", mode, str(home), str(out)],
                   env=env, check=True, capture_output=True, cwd=ROOT)
    child = json.loads(out.read_text())
    threads = _thread_totals(prefix)
    return {"log": mode == "on", **({"source": str(source)} if source else {}), **child,
            "event_loop_per_request": round(threads.pop(1) / child["requests"]),
            "other_threads_per_request": round(sum(threads.values()) / child["requests"])}


def _thread_totals(prefix: Path) -> dict[int, int]:
    """Instructions per thread number (1 is the main thread) from callgrind's per-thread files."""
    totals = {}
    for path in prefix.parent.glob(f"{prefix.name}-*"):
        text = path.read_text()
        found = re.search(r"^totals: (\d+)", text, re.M)
        number = re.search(r"^thread: (\d+)", text, re.M)
        if found and number:
            totals[int(number.group(1))] = int(found.group(1))
    return totals


# --- the child: the app in-process, counted between the two callgrind_control calls ---------------------
async def _serve(log_on: bool, home: Path, out: Path, requests: int) -> None:
    import gc

    import numpy as np

    from bench.common import wire
    from bench.monitoring.log_cost import NAME
    from modelport.foundation.settings import Settings
    from modelport.http.app import create_app
    from modelport.serving.config import ServerConfig

    rows = np.load(home / "rows.npy")
    bodies = wire.v2(NAME).bodies(rows)
    app = create_app(Settings.at(home), refs=[NAME], config=ServerConfig(prediction_log=log_on, tune_gc=True,
                                                                        access_log=False), no_auth=True)
    path = wire.v2(NAME).path
    async with app.router.lifespan_context(app):
        while await _post(app, path, bodies[0]) != 200:
            await asyncio.sleep(0.2)
        await _load(app, path, bodies, 64 * 5)
        while gc.get_freeze_count() == 0:  # the collector tuning (serving/collector.py) has settled
            await asyncio.sleep(0.2)
        sink = app.state.dataplane.sink.sink if log_on else None
        stop = _flush_by_rows(sink) if sink is not None else None
        written = sink.written if sink is not None else 0
        _callgrind("on")
        statuses = await _load(app, path, bodies, requests)
        _callgrind("off")
        if stop is not None:
            stop()
        if set(statuses) != {200}:
            raise RuntimeError(f"requests failed: {sorted(set(statuses))}")
        out.write_text(json.dumps({"requests": len(statuses),
                                   "rows_written": (sink.written - written) if sink is not None else 0}))


def _flush_by_rows(sink: Any) -> Any:
    """Replace the sink's timed flusher by one that writes every FLUSH_ROWS rows; returns its stop."""
    sink.close()  # stops the timed flusher and writes what it holds
    done = threading.Event()

    # One-row requests: items queued are rows. `queued` is constant-time; older sinks only have `pending`.
    waiting = (lambda: sink.queued) if hasattr(sink, "queued") else (lambda: sink.pending)

    def _flusher() -> None:
        while not done.is_set():
            if waiting() >= FLUSH_ROWS:
                sink.flush()
            time.sleep(0.01)

    thread = threading.Thread(target=_flusher, daemon=True)
    thread.start()

    def stop() -> None:
        done.set()
        thread.join()

    return stop


def _callgrind(state: str) -> None:
    subprocess.run(["callgrind_control", "-i", state, str(os.getpid())], check=False, capture_output=True)


async def _load(app: Any, path: str, bodies: list[bytes], requests: int) -> list[int]:
    statuses: list[int] = []

    async def task(index: int) -> None:
        for i in range(requests // 64):
            statuses.append(await _post(app, path, bodies[(index * 7 + i) % len(bodies)]))

    await asyncio.gather(*(task(i) for i in range(64)))
    return statuses


async def _post(app: Any, path: str, body: bytes) -> int:
    """One request through the ASGI app; its status."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                         (b"content-length", str(len(body)).encode())],
             "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000)}
    received, status = False, 0

    async def receive() -> dict[str, Any]:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # no disconnect while the app answers
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


if __name__ == "__main__":
    main()
