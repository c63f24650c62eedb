"""The serving run: every chosen system on every model, one server at a time, saved as one Run."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.common import machine, wrk
from bench.common.models import SavedModel
from bench.common.results import Outcome, Run
from bench.incumbents import prepare
from bench.incumbents.envs import REQUIREMENTS, Env
from bench.incumbents.runner import LoadPlan, measure
from bench.incumbents.systems import SYSTEMS, Context, System

WORK = Path(__file__).resolve().parent.parent / ".work" / "incumbents"
MAIN_PACKAGES = ["modelport", "scikit-learn", "numpy", "fastapi", "starlette", "uvicorn", "uvloop", "httptools",
                 "orjson"]
ENV_PACKAGES = {"mlflow": ["mlflow", "scikit-learn", "numpy", "uvicorn", "fastapi", "gunicorn", "flask"],
                "bentoml": ["bentoml", "scikit-learn", "numpy", "uvicorn", "starlette"],
                "mlserver": ["mlserver", "mlserver-sklearn", "scikit-learn", "numpy", "uvicorn", "fastapi"]}


def now() -> str:
    """UTC time, to the second, in ISO format."""
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def choose(keys: Sequence[str] | None) -> list[System]:
    """The systems named in `keys` (all by default), in report order."""
    if not keys:
        return list(SYSTEMS)
    known = {s.key for s in SYSTEMS}
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise SystemExit(f"unknown system(s) {', '.join(unknown)}; choose from {', '.join(sorted(known))}")
    return [s for s in SYSTEMS if s.key in keys]


def run_serving(systems: Sequence[System], model_names: Sequence[str], plan: LoadPlan, command: str,
                log: Callable[[str], None] = print) -> Run:
    """Measure `systems` on `model_names` and return the Run (not yet saved)."""
    wrk.ensure_wrk()
    WORK.mkdir(parents=True, exist_ok=True)
    run = Run(run_id=dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ"), started=now(), command=command)
    run.machine = {**machine.describe(), "server_cpus": list(plan.server_cpus), "load_cpus": list(plan.load_cpus)}
    run.settings = {"concurrencies": list(plan.concurrencies), "seconds": plan.seconds, "repeats": plan.repeats,
                    "warmup_s": plan.warmup_s, "wrk": machine.wrk_version()}
    log("training and saving the models; registering them with modelport")
    saved = {k: v for k, v in prepare.save_models(WORK).items() if k in model_names}
    prepare.register_models(WORK / "modelport-home", saved)
    envs = prepare.build_envs(systems, WORK, log)
    run.versions = _versions(envs)
    run.inprocess = prepare.inprocess_ceilings(saved, plan.server_cpus)
    ctx = Context(WORK, envs, WORK / "modelport-home")
    for name, env in envs.items():
        if env.error:
            run.outcomes += [_failed_env(s, m, env.error) for s in systems if s.env == name for m in saved]
    for repeat in range(plan.repeats):
        order = list(systems) if repeat % 2 == 0 else list(reversed(systems))
        log(f"round {repeat + 1} of {plan.repeats}")
        for system in (s for s in order if not s.per_model):
            _one(run, system, next(iter(saved.values())), ctx, plan, log, repeat)
        for model in saved.values():
            for system in (s for s in order if s.per_model):
                _one(run, system, model, ctx, plan, log, repeat)
    run.finished = now()
    return run


def _one(run: Run, system: System, model: SavedModel, ctx: Context, plan: LoadPlan, log: Callable[[str], None],
         repeat: int) -> None:
    """One round of `system` on `model`, unless it already failed: its first outcome is the one kept."""
    key = model.name if system.per_model else "*"
    earlier = [o for o in run.outcomes if o.system == system.key and o.model == key]
    if earlier and not earlier[0].ok:
        return
    outcome, points = measure(system, model, ctx, plan, log, repeat)
    run.points.extend(points)
    if not earlier:
        run.outcomes.append(outcome)
    elif not outcome.ok:  # a later round failed: report that, not the earlier success
        run.outcomes[run.outcomes.index(earlier[0])] = outcome


def _failed_env(system: System, model: str, error: str) -> Outcome:
    return Outcome(system.key, model, False, f"environment '{system.env}' could not be built: {error}")


def _versions(envs: dict[str, Env]) -> dict[str, dict[str, str]]:
    out = {"main": machine.package_versions(Path(sys.executable), MAIN_PACKAGES)}
    for name, env in envs.items():
        if env.python is not None:
            out[name] = machine.package_versions(env.python, ENV_PACKAGES.get(name, REQUIREMENTS[name]))
    return out
