"""Reference data from a window of the log: service, CLI and HTTP, with the bad inputs each refuses."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from modelport.cli.app import main
from modelport.foundation.errors import InvalidInputError, NotFoundError
from modelport.foundation.settings import Settings
from modelport.http.app import create_app
from modelport.monitoring.service import Monitoring
from modelport.registry.service import Registry
from modelport.serving.config import ServerConfig

from .builders import record
from .test_cli_and_report import populate


@pytest.fixture
def logged(iris_settings: Settings, iris, iris_pipeline) -> Settings:  # type: ignore[no-untyped-def]
    """The iris registry with an hour of logged (shifted) traffic of v1."""
    populate(iris_settings, iris, iris_pipeline)
    return iris_settings


def with_monitoring(settings: Settings, work: Any) -> Any:
    registry = Registry.open(settings)
    try:
        return work(Monitoring(registry))
    finally:
        registry.close()


def test_a_window_of_traffic_becomes_the_reference(logged: Settings) -> None:
    before = with_monitoring(logged, lambda m: m.drift("iris", "1h"))
    assert before.dataset_drift  # the registered reference is the unshifted training data
    info = with_monitoring(logged, lambda m: m.reference_from_log("iris", "1h"))
    assert info.version == 1 and info.rows == 150 and info.source.startswith("log ")
    after = with_monitoring(logged, lambda m: m.drift("iris", "1h"))
    assert not after.dataset_drift and after.reference_rows == 150  # the window against itself


def test_start_and_end_choose_the_window(logged: Settings) -> None:
    now = datetime.now(timezone.utc)
    info = with_monitoring(logged, lambda m: m.reference_from_log(
        "iris", start=(now - timedelta(minutes=10, seconds=30)).isoformat(), end=now.isoformat(), version=1))
    assert info.rows == 30  # the rows of minutes 1..10 (every 50th minute slot holds 3 rows)


def test_only_the_versions_own_rows_count(logged: Settings) -> None:
    with_monitoring(logged, lambda m: m.log.write([record("iris", version=7, inputs={"x": 1.0})]))
    with pytest.raises(NotFoundError, match="no version 7"):
        with_monitoring(logged, lambda m: m.reference_from_log("iris", "1h", version=7))


@pytest.mark.parametrize(("arguments", "error", "message"), [
    ({"model": "iris", "window": "1m", "end": "2020-01-01T00:00:00Z"}, InvalidInputError, "no logged predictions of iris:1"),
    ({"model": "ghost", "window": "1h"}, NotFoundError, "not registered"),
    ({"model": "iris", "window": "1h", "version": 9}, NotFoundError, "no version 9"),
    ({"model": "iris", "window": "1y"}, InvalidInputError, "invalid window"),
    ({"model": "iris", "window": "1h", "start": "2026-01-01"}, InvalidInputError, "either window or start"),
    ({"model": "iris", "start": "2026-01-02", "end": "2026-01-01"}, InvalidInputError, "must be before end"),
    ({"model": "iris", "start": "yesterday"}, InvalidInputError, "not an ISO 8601 time"),
    ({"model": "Bad!", "window": "1h"}, InvalidInputError, "model name"),
])
def test_bad_reference_windows_are_refused(logged: Settings, arguments: dict[str, Any], error: type[Exception],
                                          message: str) -> None:
    model = arguments.pop("model")
    with pytest.raises(error, match=message):
        with_monitoring(logged, lambda m: m.reference_from_log(model, **arguments))


def test_cli(logged: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    main(["monitor", "reference", "iris", "--window", "1h", "--json"])
    assert json.loads(capsys.readouterr().out)["rows"] == 150
    main(["monitor", "reference", "iris", "--version", "1"])
    assert "150 rows from log" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exited:
        main(["monitor", "reference", "iris", "--start", "2026-01-02T00:00Z", "--end", "2026-01-01T00:00Z"])
    assert exited.value.code != 0 and "must be before end" in capsys.readouterr().err


@pytest.mark.anyio
async def test_http(logged: Settings) -> None:
    registry = Registry.open(logged)
    app = create_app(logged, registry=registry, config=ServerConfig(access_log=False, prediction_log=False),
                     watch=False, no_auth=True)
    try:
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://localhost") as http:
            made = await http.post("/api/v1/monitoring/iris/reference", params={"window": "1h"})
            assert made.status_code == 200 and made.json()["rows"] == 150
            shown = await http.get("/api/v1/monitoring/iris/reference")
            assert shown.json()["source"] == made.json()["source"]
            for params, status, message in [({"window": "1h", "version": "9"}, 404, "no version 9"),
                                            ({"window": "2h", "start": "2026-01-01"}, 400, "either window or start"),
                                            ({"window": "1m", "end": "2020-01-01T00:00:00Z"}, 400, "no logged")]:
                refused = await http.post("/api/v1/monitoring/iris/reference", params=params)
                assert refused.status_code == status and message in refused.text
            missing = await http.post("/api/v1/monitoring/ghost/reference", params={"window": "1h"})
            assert missing.status_code == 404
    finally:
        registry.close()


def test_the_route_needs_the_manage_scope() -> None:
    from modelport.http.policy import requirement

    assert requirement("POST", "/api/v1/monitoring/iris/reference").scopes == frozenset({"manage"})
    assert requirement("GET", "/api/v1/monitoring/iris/reference").scopes == frozenset({"read"})
