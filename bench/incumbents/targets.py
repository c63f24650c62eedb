"""issue 7's targets, judged within one run: modelport (best settings) against the incumbents and floors."""

from __future__ import annotations

from dataclasses import dataclass

from bench.common.results import Run
from bench.incumbents.systems import INCUMBENTS

BEST, DEFAULT = "modelport-best", "modelport-default"
BARE, HTTP = "floor-bare", "floor-constant"


@dataclass(frozen=True)
class Verdict:
    """One target: what it asks, what was measured (best and default settings), met or not."""

    target: str
    measured: str
    measured_default: str
    met: bool | None  # None: could not be judged (a system did not run)


def _rps(run: Run, system: str, model: str, c: int) -> float | None:
    found = run.summary(system, "*" if system == HTTP else model, c)
    return found.rps if found else None


def _lat(run: Run, system: str, model: str, c: int, which: str) -> float | None:
    found = run.summary(system, "*" if system == HTTP else model, c)
    return getattr(found, which) if found else None


def best_incumbent(run: Run, model: str, c: int) -> tuple[str, float] | None:
    """The incumbent with the highest requests/s at concurrency `c`."""
    scored = [(s, v) for s in INCUMBENTS if (v := _rps(run, s, model, c)) is not None]
    return max(scored, key=lambda item: item[1]) if scored else None


def throughput_3x(run: Run, model: str) -> Verdict:
    best = best_incumbent(run, model, 64)
    ours, default = _rps(run, BEST, model, 64), _rps(run, DEFAULT, model, 64)
    if best is None or ours is None or best[1] <= 0:
        return Verdict(f"{model}: req/s at c=64 >= 3x best incumbent", "not measured", "-", None)
    name, value = best
    return Verdict(f"{model}: req/s at c=64 >= 3x best incumbent ({name}, {value:,.0f})",
                   f"{ours:,.0f} = {ours / value:.2f}x", f"{(default or 0) / value:.2f}x", ours >= 3 * value)


def p99_lowest(run: Run, model: str) -> Verdict:
    theirs = [(s, v) for s in INCUMBENTS if (v := _lat(run, s, model, 16, "p99_ms")) is not None]
    ours, default = _lat(run, BEST, model, 16, "p99_ms"), _lat(run, DEFAULT, model, 16, "p99_ms")
    if not theirs or ours is None:
        return Verdict(f"{model}: p99 at c=16 below every incumbent", "not measured", "-", None)
    name, lowest = min(theirs, key=lambda item: item[1])
    return Verdict(f"{model}: p99 at c=16 below every incumbent (lowest: {name}, {lowest:.1f} ms)",
                   f"{ours:.1f} ms", f"{default:.1f} ms" if default is not None else "-", ours < lowest)


def heavy_half_limit(run: Run, model: str = "rf") -> Verdict:
    http = _rps(run, HTTP, model, 64)
    rows = run.inprocess.get(model, {}).get("batched_rows_per_s")
    ours, default = _rps(run, BEST, model, 64), _rps(run, DEFAULT, model, 64)
    if http is None or rows is None or ours is None:
        return Verdict(f"{model}: req/s at c=64 >= half the machine's limit", "not measured", "-", None)
    limit = min(http, rows)
    return Verdict(f"{model}: req/s at c=64 >= half the machine's limit (min(HTTP {http:,.0f}, in-process "
                   f"batched {rows:,.0f} rows/s) / 2 = {limit / 2:,.0f})",
                   f"{ours:,.0f} = {ours / limit:.2f} of the limit", f"{(default or 0) / limit:.2f}",
                   ours >= limit / 2)


def fast_p50(run: Run, model: str = "lr") -> Verdict:
    bare = _lat(run, BARE, model, 1, "p50_ms")
    ours, default = _lat(run, BEST, model, 1, "p50_ms"), _lat(run, DEFAULT, model, 1, "p50_ms")
    if bare is None or ours is None or bare <= 0:
        return Verdict(f"{model}: p50 at c=1 within 1.3x the bare app", "not measured", "-", None)
    return Verdict(f"{model}: p50 at c=1 within 1.3x the bare app ({bare:.2f} ms)",
                   f"{ours:.2f} ms = {ours / bare:.2f}x", f"{(default or 0) / bare:.2f}x", ours <= 1.3 * bare)


def judge(run: Run) -> list[Verdict]:
    """Every target of issue 7 for this run."""
    models = sorted({p.model for p in run.points if p.model != "*"})
    verdicts = [throughput_3x(run, m) for m in models] + [p99_lowest(run, m) for m in models]
    if "rf" in models:
        verdicts.append(heavy_half_limit(run))
    if "lr" in models:
        verdicts.append(fast_p50(run))
    return verdicts
