"""Fixtures for the HTTP tests: a registry with real models, an app built by create_app, clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelport.foundation.settings import Settings
from modelport.http.app import create_app
from modelport.registry.service import Registry
from modelport.serving.config import ServerConfig


@pytest.fixture(scope="session")
def cancer_models(cancer):  # type: ignore[no-untyped-def]
    """Two classifiers on breast cancer: scaler + logistic regression, and a small random forest."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = cancer
    fast = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, y)
    forest = RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0).fit(x, y)
    return fast, forest


@pytest.fixture(scope="session")
def served_home(tmp_path_factory: pytest.TempPathFactory, cancer, iris, iris_pipeline, cancer_models) -> Path:  # type: ignore[no-untyped-def]
    """A registry (built once) with `cancer` v1 (logistic, champion), v2 (forest) and `iris` v1."""
    home = tmp_path_factory.mktemp("served")
    registry = Registry.open(Settings.at(home))
    x, _ = cancer
    fast, forest = cancer_models
    registry.register(fast, name="cancer", input_example=x.head(3), alias="champion")
    registry.register(forest, name="cancer", input_example=x.head(3))
    registry.register(iris_pipeline, name="iris", input_example=iris[0].head(3))
    registry.close()
    return home


@pytest.fixture
def served_settings(served_home: Path, tmp_path: Path) -> Settings:
    """Settings on a private copy of the served registry (tests may move aliases)."""
    import shutil

    copy = tmp_path / "home"
    shutil.copytree(served_home, copy)
    return Settings.at(copy)


def make_client(app: Any) -> httpx.AsyncClient:
    """An in-process client (httpx ASGITransport)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost")


@asynccontextmanager
async def running(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan, wait for its models, and give an in-process client."""
    async with app.router.lifespan_context(app), make_client(app) as http:
        await app.state.dataplane.wait_ready()
        yield http


@pytest.fixture
def serve_app() -> Any:
    """`running(app)`: for tests that build their own app."""
    return running


@pytest.fixture
async def client(served_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of an app serving every registered model, all loaded."""
    async with running(create_app(served_settings, config=ServerConfig(access_log=False), watch=False, no_auth=True)) as http:
        yield http


@pytest.fixture
def rows(cancer) -> Iterator[list[list[float]]]:  # type: ignore[no-untyped-def]
    """The first 8 rows of breast cancer as plain lists."""
    yield cancer[0].head(8).to_numpy().tolist()


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio (uvloop in production)."""
    return "asyncio"


@pytest.fixture(scope="session")
def python_models_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry with `slow` (SlowDoubler) and `picky` (PickyDoubler), custom Python models."""
    import pandas as pd

    models = _module_beside("serving_test_models")
    PickyDoubler, SlowDoubler = models.PickyDoubler, models.SlowDoubler

    home = tmp_path_factory.mktemp("python-models")
    registry = Registry.open(Settings.at(home))
    example = pd.DataFrame({"x": [1.0, 2.0], "delay": [0.0, 0.0]})
    registry.register(SlowDoubler(), name="slow", input_example=example, trust=True, flavor="python")
    registry.register(PickyDoubler(), name="picky", input_example=example[["x"]], trust=True, flavor="python")
    registry.close()
    return home


def _module_beside(name: str) -> Any:
    """Import a module file next to this one, whether or not tests/ is a package."""
    import importlib.util
    import sys

    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # the python flavor packages the module's source by its name
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    """A port nothing listens on right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServerProcess:
    """`modelport serve` in a subprocess on a free loopback port."""

    def __init__(self, home: Path, args: list[str], env: dict[str, str] | None = None) -> None:
        import os
        import subprocess
        import sys

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {**os.environ, "MODELPORT_HOME": str(home), **(env or {})}
        environment.pop("MODELPORT_DB_URL", None)
        environment.pop("MODELPORT_ARTIFACTS", None)
        command = [sys.executable, "-c", "from modelport.cli.app import main; main()", "serve", *args,
                   "--port", str(self.port), "--no-auth"]
        self.log = home.parent / f"server-{self.port}.log"
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(command, env=environment, stdout=sink, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 180.0) -> None:
        """Poll readiness until 200 or the deadline (the server loads and warms its models first)."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited with {self.process.returncode}: {self.output()}")
            try:
                if httpx.get(f"{self.url}/v2/health/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"server not ready after {timeout}s")

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def stop(self) -> int:
        import signal
        import subprocess

        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return int(self.process.returncode)


@pytest.fixture
def start_server() -> Iterator[Any]:
    """Start servers (`start_server(home, args)`), all stopped at the end of the test."""
    started: list[ServerProcess] = []

    def start(home: Path, args: list[str], env: dict[str, str] | None = None) -> ServerProcess:
        server = ServerProcess(home, args, env)
        started.append(server)
        server.wait_ready()
        return server

    yield start
    for server in started:
        server.stop()
