"""Build what the serving run needs: saved models, modelport's registry, incumbent envs, in-process ceilings."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.common import models
from bench.common.models import SavedModel
from bench.incumbents import envs
from bench.incumbents.systems import System, modelport_name


def save_models(work: Path) -> dict[str, SavedModel]:
    """Train and save every benchmark model under `work/models`."""
    return models.save_all(work / "models")


def register_models(home: Path, saved: dict[str, SavedModel]) -> None:
    """A fresh modelport registry at `home` holding every benchmark model (the same fitted estimators)."""
    import joblib

    from modelport.foundation.settings import Settings
    from modelport.registry.service import Registry

    shutil.rmtree(home, ignore_errors=True)
    registry = Registry.open(Settings.at(home))
    try:
        for model in saved.values():
            registry.register(joblib.load(model.path), name=modelport_name(model), input_example=model.rows[:5])
    finally:
        registry.close()


def build_envs(systems: Sequence[System], work: Path, log: Callable[[str], None] = print) -> dict[str, envs.Env]:
    """Every incumbent environment the chosen systems need (created once, cached in bench/.envs/)."""
    built = {}
    for name in sorted({s.env for s in systems if s.env != "main"}):
        log(f"environment {name}: checking (first build takes minutes)")
        built[name] = envs.ensure(name, log=work / "logs" / f"env-{name}.log")
        if built[name].error:
            log(f"environment {name}: FAILED: {built[name].error[:300]}")
    return built


def inprocess_ceilings(saved: dict[str, SavedModel], cpus: Sequence[int]) -> dict[str, dict[str, float]]:
    """Each model's batched rows/s and one-row predict latency, measured in this process on the server CPUs."""
    import joblib

    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, set(cpus))
    try:
        out = {}
        for name, model in saved.items():
            estimator = joblib.load(model.path)
            out[name] = {"batched_rows_per_s": round(models.batched_rows_per_second(estimator, model.rows), 1),
                         "one_row_predict_us": round(models.single_row_latency_us(estimator, model.rows), 1)}
        return out
    finally:
        os.sched_setaffinity(0, before)
