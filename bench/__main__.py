"""`python -m bench`: every benchmark in one run on this machine, then docs/benchmarks.md.

    python -m bench                      # serving vs incumbents, drift, batch, report (under 30 min on 2 cores)
    python -m bench --only serving       # one part: serving | drift | batch | report
    python -m bench --full               # drift and batch at their full sizes too (longer)
    python -m bench --systems modelport-best,floor-bare --models lr --seconds 2 --repeats 1   # a quick look
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("serving", "drift", "batch", "report")
ENVS = ROOT / "bench" / ".envs"


def parse(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", choices=PARTS, help="run only these parts (repeatable)")
    parser.add_argument("--systems", help="comma-separated serving systems (default: all)")
    parser.add_argument("--models", default="lr,rf", help="comma-separated models: lr, rf")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per wrk repetition")
    parser.add_argument("--repeats", type=int, default=3, help="wrk repetitions per point (the median is reported)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up load per server")
    parser.add_argument("--concurrency", default="1,16,64", help="comma-separated connection counts")
    parser.add_argument("--server-cpus", default="1", help="CPU set every server is pinned to")
    parser.add_argument("--load-cpus", default="0", help="CPU set wrk is pinned to")
    parser.add_argument("--profile", action="store_true", help="also profile modelport with py-spy under load")
    parser.add_argument("--full", action="store_true",
                        help="drift at 100k and 1M rows and batch at its full sizes (longer than 30 min here)")
    return parser.parse_args(argv)


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part.strip())


def serving(args: argparse.Namespace, command: str) -> None:
    """Serving against the incumbents: measure, save the run, optionally profile."""
    from bench.incumbents.run import choose, run_serving
    from bench.incumbents.runner import LoadPlan

    plan = LoadPlan(concurrencies=_ints(args.concurrency), seconds=args.seconds, repeats=args.repeats,
                    warmup_s=args.warmup, server_cpus=_ints(args.server_cpus), load_cpus=_ints(args.load_cpus))
    systems = choose(args.systems.split(",") if args.systems else None)
    run = run_serving(systems, args.models.split(","), plan, command)
    print(f"saved {run.save()}")
    if args.profile:
        from bench.incumbents.profile import profile_all

        print(f"profiles: {', '.join(str(p) for p in profile_all(args.models.split(','), plan))}")


def other_commands(part: str, full: bool) -> list[list[str]]:
    """The commands of another engineer's benchmark as it exists in this checkout (empty when absent)."""
    bench = ROOT / "bench" / part
    if (bench / "__main__.py").exists():
        return [[sys.executable, "-m", f"bench.{part}"]]
    if part == "batch" and (bench / "run.py").exists():
        return [[sys.executable, "-m", "bench.batch.run", *([] if full else ["--quick"])]]
    if part == "drift" and (bench / "run_modelport.py").exists():
        sizes = ["100000", "1000000"] if full else ["100000"]
        commands = [[sys.executable, str(bench / "run_modelport.py"), *sizes]]
        if (bench / "run_evidently.py").exists():
            from bench.incumbents.envs import ensure

            evidently = ensure("evidently", log=ENVS / "evidently-install.log")
            if evidently.python is not None:  # else the drift section says Evidently did not run
                commands.append([str(evidently.python), str(bench / "run_evidently.py"), *sizes])
            else:
                print(f"Evidently could not be installed: {evidently.error}", file=sys.stderr)
        return commands
    return []


def other(part: str, full: bool) -> str:
    """Run the drift or batch benchmark its engineer wrote, when present; say so when it is not."""
    commands = other_commands(part, full)
    if not commands:
        return f"{part}: no benchmark under bench/{part}/ in this checkout; skipped"
    codes = []
    for command in commands:
        print("$ " + shlex.join(command), flush=True)
        codes.append(subprocess.run(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}).returncode)
    state = "ok" if not any(codes) else f"FAILED (exit codes {codes})"
    return f"{part}: {len(commands)} command(s) {state}"


def report() -> None:
    """Regenerate the top matter and the Incumbents section of docs/benchmarks.md from saved runs."""
    from bench.common.results import load_runs
    from bench.incumbents import report as incumbents

    incumbents.write(load_runs())
    print("wrote docs/benchmarks.md and docs/img/incumbents-*.png")


def main(argv: list[str] | None = None) -> int:
    """Run the chosen parts in order; a part that fails is reported and the others still run."""
    args = parse(sys.argv[1:] if argv is None else argv)
    command = shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)])
    parts = args.only or list(PARTS)
    notes, start = [], time.monotonic()
    for part in PARTS:
        if part not in parts:
            continue
        print(f"== {part}", flush=True)
        try:
            if part == "serving":
                serving(args, command)
            elif part == "report":
                report()
            else:
                notes.append(other(part, args.full))
        except Exception as exc:  # one broken part must not hide the others' results
            notes.append(f"{part}: FAILED: {type(exc).__name__}: {exc}")
    for note in notes:
        print(note)
    print(f"done in {(time.monotonic() - start) / 60:.1f} min")
    return 1 if any("FAILED" in n for n in notes) else 0


if __name__ == "__main__":
    sys.exit(main())
