"""A real `modelport serve` on loopback over a registry with two trained models, a canary, logged traffic and an alert."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelport.foundation.settings import Settings
from modelport.registry.service import Registry
from tests.http.conftest import ServerProcess, free_port

#: registry strings a reviewer would try in an MLflow-style stored XSS: each must show as text
XSS_DESCRIPTION = '<img src=x onerror="window.__xss = 1">churn <b>model</b>'
XSS_TAG = "<script>window.__xss = 2</script>"
XSS_PARAM = '"><svg onload="window.__xss = 3">'


@dataclass
class Dashboard:
    """A running server and what a test needs to drive it."""

    url: str
    tokens: dict[str, str] = field(default_factory=dict)

    def api(self, path: str, token: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answer = httpx.get(f"{self.url}/api/v1{path}", headers=headers, timeout=30)
        answer.raise_for_status()
        return answer.json()


class KeyedServer(ServerProcess):
    """`modelport serve` with API keys on (the shared ServerProcess always passes --no-auth)."""

    def __init__(self, home: Path, args: list[str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {**os.environ, "MODELPORT_HOME": str(home)}
        for name in ("MODELPORT_DB_URL", "MODELPORT_ARTIFACTS"):
            environment.pop(name, None)
        command = [sys.executable, "-c", "from modelport.cli.app import main; main()", "serve", *args,
                   "--port", str(self.port)]
        self.log = home.parent / f"server-{self.port}.log"
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(command, env=environment, stdout=sink, stderr=subprocess.STDOUT)


def build_home(home: Path, cancer: Any) -> None:
    """cancer v1 (logistic, champion) and v2 (forest), both with drift references; a canary of v2; an alert firing."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from modelport.client import register_into
    from modelport.rollout.service import start_canary

    x, y = cancer
    registry = Registry.open(Settings.at(home))
    try:
        for estimator, params in [(make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)), {"C": 1.0}),
                                  (RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0),
                                   {"trees": 10, "note": XSS_PARAM})]:
            estimator.fit(x, y)
            register_into(registry, estimator, name="cancer", input_example=x.head(3), reference_data=x,
                          metrics={"accuracy": round(float(estimator.score(x, y)), 4)}, params=params,
                          tags={"owner": XSS_TAG}, training_data=x)
        registry.set_alias("cancer", 1, "champion")
        registry.store.update_model("cancer", description=XSS_DESCRIPTION, tags={"team": XSS_TAG})
        # Steps so long and minimums so high that the controller never moves the canary during a test: with
        # 150 rows of traffic the forest canary can get 30 rows, and on a busy machine its latency guardrail
        # then rolled it back (seen in CI).
        start_canary(registry, "cancer", 2, steps=(10, 50, 100), step_duration_s=86_400, min_requests=10**9,
                     guardrails={"min_samples": 10**9, "min_labels": 10**9})
        _fire_alert(registry)
    finally:
        registry.close()


def _fire_alert(registry: Registry) -> None:
    from modelport.monitoring.alerts.rules import AlertRule
    from modelport.monitoring.alerts.sinks import AlertEvent
    from modelport.monitoring.alerts.store import AlertStore, RuleState

    now = datetime.now(timezone.utc)
    store = AlertStore(registry.store.engine)
    rule = AlertRule("error-spike", "cancer", "health.error_rate", ">", 0.05, severity="critical")
    store.put_rule(rule)
    store.save(rule, RuleState([True], True, now), AlertEvent("cancer", "error-spike", "fired", "critical", now, 0.25, 0.05))


def send_traffic(url: str, cancer: Any, rows: int = 150, batch: int = 10) -> int:
    """Predict `rows` rows over HTTP, `batch` rows a request, and send each row's true label as feedback."""
    x, y = cancer
    with httpx.Client(base_url=url, timeout=30) as http:
        for start in range(0, rows, batch):
            answer = http.post("/v1/models/cancer:predict", json={"instances": x.iloc[start:start + batch].to_numpy().tolist()})
            answer.raise_for_status()
            labels = [{"prediction_id": pid, "label": int(label)}
                      for pid, label in zip(answer.json()["prediction_ids"], y.iloc[start:start + batch], strict=True)]
            http.post("/v1/feedback", json={"feedback": labels}).raise_for_status()
    return rows


@pytest.fixture(scope="session")
def dashboard_home(tmp_path_factory: pytest.TempPathFactory, cancer: Any) -> Path:
    home = tmp_path_factory.mktemp("dashboard") / "home"
    home.mkdir()
    build_home(home, cancer)
    return home


def _copy(home: Path, tmp_path: Path) -> Path:
    import shutil

    copy = tmp_path / "home"
    shutil.copytree(home, copy)
    return copy


@pytest.fixture
def open_dashboard(dashboard_home: Path, tmp_path: Path, cancer: Any, start_server: Any) -> Iterator[Dashboard]:
    """A --no-auth server on a private copy of the registry, after 150 predictions with labels."""
    server = start_server(_copy(dashboard_home, tmp_path), ["cancer"])
    send_traffic(server.url, cancer)
    yield Dashboard(server.url)


@pytest.fixture
def keyed_dashboard(dashboard_home: Path, tmp_path: Path) -> Iterator[Dashboard]:
    """A server with keys on; tokens for `read` and `manage` keys."""
    from modelport.security.keys import KeyStore

    home = _copy(dashboard_home, tmp_path)
    registry = Registry.open(Settings.at(home))
    try:
        keys = KeyStore(registry.store.engine)
        tokens = {scope: keys.create([scope]).token for scope in ("read", "manage")}
    finally:
        registry.close()
    server = KeyedServer(home, ["cancer"])
    try:
        server.wait_ready()
        yield Dashboard(server.url, tokens)
    finally:
        server.stop()
