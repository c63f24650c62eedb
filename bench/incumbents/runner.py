"""Measure one server: start it pinned, check its answers, warm it up, then wrk at each concurrency."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.common import wrk
from bench.common.models import CHECK_ROWS, SavedModel
from bench.common.procs import ServerProcess, free_port
from bench.common.results import Outcome, Point
from bench.incumbents.systems import Context, Launch, System


@dataclass(frozen=True)
class LoadPlan:
    """How hard and how long each server is loaded, and on which CPUs.

    `repeats` rounds each start every server afresh, in alternating order, so a figure's repetitions are
    spread over the whole run and no system is always measured when the shared machine is busiest.
    """

    concurrencies: Sequence[int] = (1, 16, 64)
    seconds: float = 3.0
    repeats: int = 3
    warmup_s: float = 2.0
    server_cpus: Sequence[int] = (1,)
    load_cpus: Sequence[int] = (0,)


def check_answers(base: str, launch: Launch, model: SavedModel) -> None:
    """Raise unless the server labels the check rows exactly as the in-process model does."""
    bodies = launch.wire.bodies(model.rows[:CHECK_ROWS])
    for index, body in enumerate(bodies):
        request = urllib.request.Request(base + launch.wire.path, data=body, method="POST",
                                         headers={"Content-Type": launch.wire.content_type})
        with urllib.request.urlopen(request, timeout=30) as answer:
            got = launch.wire.decode(json.loads(answer.read()))
        want = int(model.expected[index])
        if launch.checks_answers and [int(v) for v in got] != [want]:
            raise RuntimeError(f"wrong answer for check row {index}: got {got!r}, the model in process says {want}")


def settle(base: str, launch: Launch, model: SavedModel, timeout_s: float = 120.0) -> None:
    """Wait until the server answers again: requests wrk left queued must not eat into the next measurement."""
    body = launch.wire.bodies(model.rows[:1])[0]
    request = urllib.request.Request(base + launch.wire.path, data=body, method="POST",
                                     headers={"Content-Type": launch.wire.content_type})
    with urllib.request.urlopen(request, timeout=timeout_s) as answer:
        answer.read()


def measure(system: System, model: SavedModel, ctx: Context, plan: LoadPlan,
            log: Callable[[str], None] = print, repeat: int = 0) -> tuple[Outcome, list[Point]]:
    """One repetition of every concurrency of `system` serving `model` (a fresh server, warmed up), or the
    reason it failed (the run goes on either way)."""
    key = model.name if system.per_model else "*"
    server: ServerProcess | None = None
    try:
        port = free_port()
        launch = system.launch(model, port, ctx)
        server = ServerProcess(launch.command, log=ctx.work / "logs" / f"{system.key}-{key}.log",
                               cpus=plan.server_cpus, env=launch.env, cwd=launch.cwd)
        base = f"http://127.0.0.1:{port}"
        ready_s = server.wait_ready(base + launch.ready_path)
        check_answers(base, launch, model)
        points = _load(server, base, launch, system, key, model, ctx.work, plan, log, repeat)
    except Exception as exc:  # any failure is reported with its reason; the next system still runs
        reason = f"{type(exc).__name__}: {exc}"
        log(f"  {system.key} on {key}: FAILED: {reason[:300]}")
        return Outcome(system.key, key, False, reason[:2000]), []
    finally:
        if server is not None:
            server.stop()
    return Outcome(system.key, key, True, ready_s=round(ready_s, 2)), points


def _load(server: ServerProcess, base: str, launch: Launch, system: System, key: str, model: SavedModel,
          work: Path, plan: LoadPlan, log: Callable[[str], None], repeat: int) -> list[Point]:
    script, out = work / f"{launch.wire.name}-{key}.lua", work / "wrk-out.json"
    script.write_text(wrk.render_script(launch.wire, launch.wire.bodies(model.rows), out))
    url = base + launch.wire.path
    wrk.run(url, script, out, connections=max(plan.concurrencies), seconds=plan.warmup_s, cpus=plan.load_cpus)
    points = []
    for concurrency in plan.concurrencies:
        settle(base, launch, model)
        cpu0, t0 = server.cpu_seconds(), time.monotonic()
        result = wrk.run(url, script, out, connections=concurrency, seconds=plan.seconds, cpus=plan.load_cpus)
        cores = (server.cpu_seconds() - cpu0) / (time.monotonic() - t0)
        points.append(Point(system.key, key, concurrency, repeat, round(result.rps, 1), round(result.p50_ms, 3),
                            round(result.p99_ms, 3), result.errors, result.requests, round(cores, 3),
                            round(server.rss_mb(), 1)))
        log(f"  r{repeat} {system.key:18} {key:3} c={concurrency:<3} {result.rps:9.0f} req/s  "
            f"p99 {result.p99_ms:8.2f} ms  cpu {cores:4.2f}")
    return points
