"""What does the prediction log cost in serving throughput? `modelport serve` with the log on and off under wrk.

One model (scaler + logistic regression on breast cancer, the serving benchmarks' fast model), V2 requests of
one row at concurrency 64. Runs alternate (on, off, then off, on, ...) so that load drift on a shared machine
hits both alike; each run starts a fresh server, warms it, then measures. Reported: requests/s and server
CPU ms per request per run, the median on/off throughput ratio, and the rows the log really holds.

Usage: .venv/bin/python -m bench.monitoring.log_cost [--rounds 3] [--seconds 10] [--connections 64] [--compare DIR]
       .venv/bin/python -m bench.monitoring.log_cost --interleave [--slices 12] [--seconds 3] [--compare DIR]

`--interleave` keeps one server with the log on and one with it off running side by side and loads them in
short turns (on, off, then off, on, ...), with a pause after each turn so that the last flush ends before the
other server's turn. This machine's speed drifts by 20-30 % within minutes; turns of a few seconds put both
sides of each pair in the same drift, so the median of the pairs' ratios moves far less from run to run than
with a fresh server per run. Reported: each pair's on/off ratio, their median, and the ratio of all requests.

`--compare DIR` also measures another version of the code in the same rounds, interleaved with this one
(DIR holds its `src`, e.g. `mkdir DIR && git archive REV src | tar -x -C DIR`): its servers run with
PYTHONPATH=DIR/src, on a registry that its own code made (its schema may be older than this tree's).
Reported: that version's on/off ratios and median beside this one's. With `--side-by-side` or
`--interleave`, `--compare` may be given more than once.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
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


def measure(
    home: Path, work: Path, script: Path, *, log_on: bool, seconds: int, connections: int, source: Path | None = None
) -> dict[str, Any]:
    """One fresh server, warmed for 2 s, then `seconds` of wrk; requests/s and server CPU per request."""
    server, url = start(home, work, log_on=log_on, source=source)
    try:
        wrk.run(url, script, work / "wrk.json", connections=connections, seconds=2)
        cpu = server.cpu_seconds()
        result = wrk.run(url, script, work / "wrk.json", connections=connections, seconds=seconds)
        cpu = server.cpu_seconds() - cpu
    finally:
        server.stop()
    return {
        "log": log_on,
        **({"source": str(source)} if source else {}),
        "rps": round(result.rps, 1),
        "p99_ms": round(result.p99_ms, 2),
        "errors": result.errors,
        "cpu_ms_per_request": round(1000 * cpu / max(1, result.requests), 3),
    }


def start(home: Path, work: Path, *, log_on: bool, source: Path | None = None) -> tuple[ServerProcess, str]:
    """A ready server with the log on or off, of this code or of `source`; returns it and its URL."""
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "modelport"),
        "serve",
        NAME,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-auth",
        "--prediction-log" if log_on else "--no-prediction-log",
    ]
    env = {"MODELPORT_HOME": str(home), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    if source is not None:
        env["PYTHONPATH"] = str(source / "src")
        env["MODELPORT_HOME"] = str(_home_of(source, work))
    label = f"{'on' if log_on else 'off'}-{source.name if source else 'this'}"
    server = ServerProcess(command, log=work / f"server-{label}.log", env=env)
    server.wait_ready(f"http://127.0.0.1:{port}/v2/health/ready")
    return server, f"http://127.0.0.1:{port}"


def _home_of(source: Path, work: Path) -> Path:
    """A registry of the fast model made by `source`'s own code: its schema may be older than this tree's."""
    home = work / f"home-{source.name}"
    if not home.exists():
        code = f"from pathlib import Path; from bench.monitoring.log_cost import register; register(Path({str(home)!r}))"
        env = {**os.environ, "PYTHONPATH": f"{source / 'src'}{os.pathsep}{Path(__file__).resolve().parents[2]}"}
        subprocess.run([sys.executable, "-c", code], env=env, check=True)
    return home


Key = tuple[Path | None, bool]  # (the code's source, None for this tree; the log on or off)


@contextmanager
def _servers(home: Path, work: Path, keys: list[Key]) -> Iterator[dict[Key, tuple[ServerProcess, str]]]:
    """A ready server for each key, all up at once, stopped on exit."""
    servers: dict[Key, tuple[ServerProcess, str]] = {}
    try:
        for key in keys:
            servers[key] = start(home, work, log_on=key[1], source=key[0])
        yield servers
    finally:
        for server, _ in servers.values():
            server.stop()


def _summaries(sources: list[Path | None], turns: dict[Key, list[float]]) -> list[dict[str, Any]]:
    """Per source: each pair's on/off ratio, their median, the ratio of all requests, and the raw requests/s."""
    results = []
    for source in sources:
        on, off = turns[(source, True)], turns[(source, False)]
        ratios = [a / b for a, b in zip(on, off, strict=True)]
        results.append(
            {
                **({"source": str(source)} if source else {}),
                "ratios": [round(r, 4) for r in ratios],
                "throughput_ratio_on_off_median": round(statistics.median(ratios), 4),
                "throughput_ratio_on_off_total": round(sum(on) / sum(off), 4),
                "rps_on": [round(r) for r in on],
                "rps_off": [round(r) for r in off],
            }
        )
    return results


def interleaved(
    home: Path,
    work: Path,
    script: Path,
    *,
    slices: int,
    seconds: int,
    connections: int,
    sources: list[Path | None],
    pause: float = 1.5,
) -> list[dict[str, Any]]:
    """Turns on a log-on and a log-off server of each source, all up at once; on/off ratios per pair of turns."""
    keys = [(source, on) for source in sources for on in (True, False)]
    turns: dict[Key, list[float]] = {key: [] for key in keys}
    with _servers(home, work, keys) as servers:
        for key in keys:
            wrk.run(servers[key][1], script, work / "wrk.json", connections=connections, seconds=2)  # warm
            time.sleep(pause)
        for index in range(slices):
            for key in keys if index % 2 == 0 else keys[::-1]:
                turns[key].append(
                    wrk.run(servers[key][1], script, work / "wrk.json", connections=connections, seconds=seconds).rps
                )
                time.sleep(pause)  # a log-on server's last flush runs after its own turn, not in the next one
    return _summaries(sources, turns)


def side_by_side(
    home: Path,
    work: Path,
    scripts: dict[bool, Path],
    *,
    rounds: int,
    seconds: int,
    connections: int,
    sources: list[Path | None],
) -> list[dict[str, Any]]:
    """Both servers of a source loaded at once, each by its own wrk, round after round; on/off ratio per round."""
    keys = [(source, on) for source in sources for on in (True, False)]
    turns: dict[Key, list[float]] = {key: [] for key in keys}
    with _servers(home, work, keys) as servers, ThreadPoolExecutor(2) as pool:

        def load(key: Key, span: int) -> float:
            return wrk.run(
                servers[key][1], scripts[key[1]], work / f"wrk-{key[1]}.json", connections=connections, seconds=span
            ).rps

        for index in range(rounds + 1):  # the first round warms the servers and is not counted
            for source in sources if index % 2 == 0 else sources[::-1]:
                pair = [(source, True), (source, False)]
                span = seconds if index else 2
                done = list(pool.map(load, pair, [span, span]))
                if index:
                    for key, rps in zip(pair, done, strict=True):
                        turns[key].append(rps)
                time.sleep(1.5)  # the log-on server's last flush ends before the next round
    return _summaries(sources, turns)


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
    parser.add_argument("--compare", type=Path, action="append", default=[],
                        help="a folder holding another version's src (more than one with --side-by-side or --interleave)")
    parser.add_argument("--interleave", action="store_true", help="two live servers loaded in short turns")
    parser.add_argument("--slices", type=int, default=12, help="turns per server with --interleave")
    parser.add_argument("--side-by-side", action="store_true", help="the log-on and log-off servers loaded at once")
    args = parser.parse_args()
    wrk.ensure_wrk()
    work = Path(tempfile.mkdtemp(prefix="mp-logcost-"))
    home = work / "home"
    rows = register(home)
    script = work / "load.lua"
    script.write_text(wrk.render_script(wire.v2(NAME), wire.v2(NAME).bodies(rows), work / "wrk.json"))
    if args.interleave or args.side_by_side:
        return main_interleaved(args, home, work, script, rows)
    load_start = os.getloadavg()[0]
    runs: list[dict[str, Any]] = []
    compared: list[dict[str, Any]] = []
    for index in range(args.rounds):
        other = args.compare[0] if args.compare else None
        for source, into in [(None, runs), (other, compared)][:: 1 if index % 2 == 0 else -1]:
            if source is None and into is compared:
                continue
            for log_on in (True, False) if index % 2 == 0 else (False, True):
                into.append(
                    measure(
                        home,
                        work,
                        script,
                        log_on=log_on,
                        seconds=args.seconds,
                        connections=args.connections,
                        source=source,
                    )
                )
                print(json.dumps(into[-1]), file=sys.stderr, flush=True)
    ratios = on_off(runs)
    summary = {
        **_header(args, load_start, rounds=args.rounds),
        "throughput_ratio_on_off_median": round(statistics.median(ratios), 4),
        "ratios": [round(r, 4) for r in ratios],
        "logged_rows": logged_rows(home),
        "runs": runs,
    }
    if compared:
        summary["compared"] = {
            "source": str(args.compare[0]),
            "ratios": [round(r, 4) for r in on_off(compared)],
            "throughput_ratio_on_off_median": round(statistics.median(on_off(compared)), 4),
            "runs": compared,
        }
    _save(summary)


def main_interleaved(args: argparse.Namespace, home: Path, work: Path, script: Path, rows: Any) -> None:
    load_start = os.getloadavg()[0]
    sources: list[Path | None] = [None, *args.compare]
    if args.side_by_side:
        scripts = {True: script, False: work / "load-off.lua"}  # each wrk writes its own summary file
        for on, path in scripts.items():
            path.write_text(wrk.render_script(wire.v2(NAME), wire.v2(NAME).bodies(rows), work / f"wrk-{on}.json"))
        results = side_by_side(
            home, work, scripts, rounds=args.slices, seconds=args.seconds, connections=args.connections, sources=sources
        )
    else:
        results = interleaved(
            home, work, script, slices=args.slices, seconds=args.seconds, connections=args.connections, sources=sources
        )
    for result in results:
        print(json.dumps(result), file=sys.stderr, flush=True)
    method = "side by side" if args.side_by_side else "interleaved"
    summary = {**_header(args, load_start, method=method, slices=args.slices), **results[0],
               "logged_rows": logged_rows(home)}
    if args.compare:
        summary["compared"] = results[1]
    if len(args.compare) > 1:
        summary["also_compared"] = results[2:]
    _save(summary)


def _header(args: argparse.Namespace, load_start: float, **mode: Any) -> dict[str, Any]:
    """What every summary line starts with: the bench, its mode, when, the load and the machine's load."""
    return {
        "bench": "log_cost",
        **({"method": mode.pop("method")} if "method" in mode else {}),
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "connections": args.connections,
        "seconds": args.seconds,
        **mode,
        "load_average_start": round(load_start, 2),
        "load_average_end": round(os.getloadavg()[0], 2),
    }


def _save(summary: dict[str, Any]) -> None:
    """Print the summary and append it to bench/results/log-cost.jsonl."""
    print(json.dumps(summary))
    with (RESULTS / "log-cost.jsonl").open("a") as out:
        out.write(json.dumps(summary) + "\n")


if __name__ == "__main__":
    main()
