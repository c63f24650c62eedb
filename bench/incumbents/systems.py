"""The systems under test: how each is prepared, started, probed for readiness and spoken to."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.common import wire
from bench.common.models import SavedModel
from bench.common.wire import WireFormat
from bench.incumbents.envs import Env

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


@dataclass(frozen=True)
class Launch:
    """A command that serves one model on `port`, where it is ready, and how to talk to it."""

    command: list[str]
    ready_path: str
    wire: WireFormat
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    checks_answers: bool = True  # the constant floor answers 0 whatever it is asked


@dataclass(frozen=True)
class Context:
    """What launchers share: the work folder, the environments and the registry home."""

    work: Path
    envs: dict[str, Env]
    modelport_home: Path


Launcher = Callable[[SavedModel, int, Context], Launch]


@dataclass(frozen=True)
class System:
    """One row of the report: a server in one configuration."""

    key: str
    label: str
    env: str  # "main" or an incumbent's environment name
    launch: Launcher
    per_model: bool = True  # False: one measurement stands for every model (the constant floor)
    notes: str = ""


def modelport_name(model: SavedModel) -> str:
    """The registered name of a benchmark model."""
    return f"cancer-{model.name}"


def _main_env() -> dict[str, str]:
    return {"PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def modelport_default(model: SavedModel, port: int, ctx: Context) -> Launch:
    name = modelport_name(model)
    command = [str(Path(sys.executable).parent / "modelport"), "serve", name, "--host", "127.0.0.1",
               "--port", str(port), "--no-auth"]
    return Launch(command, "/v2/health/ready", wire.v2(name), {"MODELPORT_HOME": str(ctx.modelport_home)})


def modelport_best(model: SavedModel, port: int, ctx: Context) -> Launch:
    name = modelport_name(model)
    command = [sys.executable, "-m", "bench.incumbents.modelport_best", name, str(port)]
    return Launch(command, "/v2/health/ready", wire.v2(name),
                  {"MODELPORT_HOME": str(ctx.modelport_home), **_main_env()}, cwd=ROOT)


def _floor(model: SavedModel | None, port: int) -> Launch:
    command = [sys.executable, "-m", "uvicorn", "bench.common.floor_app:create", "--factory", "--host", "127.0.0.1",
               "--port", str(port), "--loop", "uvloop", "--http", "httptools", "--no-access-log",
               "--log-level", "warning"]
    env = {**_main_env(), "BENCH_MODEL_PATH": str(model.path) if model else ""}
    return Launch(command, "/ready", wire.instances(), env, cwd=ROOT, checks_answers=model is not None)


def floor_bare(model: SavedModel, port: int, ctx: Context) -> Launch:
    return _floor(model, port)


def floor_constant(model: SavedModel, port: int, ctx: Context) -> Launch:
    return _floor(None, port)


def mlflow(model: SavedModel, port: int, ctx: Context) -> Launch:
    env = ctx.envs["mlflow"]
    folder = ctx.work / "mlflow" / model.name
    if not (folder / "MLmodel").exists():
        rows = ctx.work / f"{model.name}-rows.npy"
        np.save(rows, model.rows)
        subprocess.run([env.bin("python"), str(HERE / "mlflow_save.py"), str(model.path), str(rows), str(folder)],
                       check=True, capture_output=True, timeout=300)
    command = [env.bin("mlflow"), "models", "serve", "-m", str(folder), "-h", "127.0.0.1", "-p", str(port),
               "--env-manager", "local"]
    return Launch(command, "/ping", wire.mlflow_inputs(), _incumbent_env(env, ctx))


def _bentoml(service: str) -> Launcher:
    def launch(model: SavedModel, port: int, ctx: Context) -> Launch:
        env = ctx.envs["bentoml"]
        command = [env.bin("bentoml"), "serve", f"bentoml_service:{service}", "--host", "127.0.0.1",
                   "--port", str(port), "--working-dir", str(HERE)]
        extra = {"BENCH_MODEL_PATH": str(model.path), "BENTOML_HOME": str(ctx.work / "bentoml-home"),
                 "BENTOML_DO_NOT_TRACK": "True"}
        return Launch(command, "/readyz", wire.bentoml(), {**_incumbent_env(env, ctx), **extra})

    return launch


def _mlserver(batching: bool) -> Launcher:
    def launch(model: SavedModel, port: int, ctx: Context) -> Launch:
        env = ctx.envs["mlserver"]
        folder = ctx.work / "mlserver" / f"{model.name}-{'batched' if batching else 'plain'}"
        (folder / model.name).mkdir(parents=True, exist_ok=True)
        from bench.common.procs import free_port

        settings = {"host": "127.0.0.1", "http_port": port, "grpc_port": free_port(), "metrics_port": free_port()}
        model_settings: dict[str, object] = {"name": model.name, "implementation": "mlserver_sklearn.SKLearnModel",
                                             "parameters": {"uri": str(model.path)}}
        if batching:
            model_settings.update(max_batch_size=64, max_batch_time=0.002)
        (folder / "settings.json").write_text(json.dumps(settings))
        (folder / model.name / "model-settings.json").write_text(json.dumps(model_settings))
        return Launch([env.bin("mlserver"), "start", str(folder)], f"/v2/models/{model.name}/ready",
                      wire.v2(model.name), _incumbent_env(env, ctx), cwd=folder)

    return launch


def _incumbent_env(env: Env, ctx: Context) -> dict[str, str]:
    import os

    path = f"{Path(env.bin('python')).parent}:{os.environ.get('PATH', '')}"
    return {"PATH": path, "VIRTUAL_ENV": str(Path(env.bin("python")).parent.parent), "PYTHONPATH": "",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


SYSTEMS: list[System] = [
    System("modelport-default", "modelport (defaults)", "main", modelport_default,
           notes="`modelport serve REF --no-auth`: adaptive batching on, access log on"),
    System("modelport-best", "modelport (best)", "main", modelport_best,
           notes="bench/incumbents/modelport_best.py: access and prediction logs off, WARNING log level"),
    System("mlflow", "MLflow scoring server", "mlflow", mlflow, notes="`mlflow models serve --env-manager local`"),
    System("bentoml", "BentoML", "bentoml", _bentoml("Plain"), notes="one predict per request"),
    System("bentoml-batching", "BentoML (batching)", "bentoml", _bentoml("Batched"),
           notes="`@bentoml.api(batchable=True, max_batch_size=64)`"),
    System("mlserver", "MLServer", "mlserver", _mlserver(False), notes="mlserver-sklearn, default settings"),
    System("mlserver-batching", "MLServer (batching)", "mlserver", _mlserver(True),
           notes="max_batch_size 64, max_batch_time 2 ms"),
    System("floor-bare", "floor: bare ASGI app", "main", floor_bare,
           notes="bench/common/floor_app.py: uvicorn + orjson + predict(), nothing else"),
    System("floor-constant", "floor: constant (HTTP limit)", "main", floor_constant, per_model=False,
           notes="the same app answering a constant: the machine's HTTP limit"),
]
INCUMBENTS = ("mlflow", "bentoml", "bentoml-batching", "mlserver", "mlserver-batching")
