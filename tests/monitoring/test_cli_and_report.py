"""`modelport monitor ...` and the HTML report, opened in a real headless browser."""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from modelport.cli.app import main
from modelport.foundation.settings import Settings
from modelport.monitoring.alerts.rules import AlertRule
from modelport.monitoring.alerts.sinks import AlertEvent
from modelport.monitoring.alerts.store import AlertStore, RuleState
from modelport.monitoring.report import build_report, render_html
from modelport.monitoring.service import Monitoring
from modelport.registry.service import Registry

from .builders import record

CHROMIUM = "/usr/bin/chromium"


def populate(settings: Settings, iris, iris_pipeline) -> None:  # type: ignore[no-untyped-def]
    """Log the iris predictions of the last hour (petal length shifted), label them, record one alert."""
    x, y = iris
    shifted = x.assign(**{"petal length (cm)": x["petal length (cm)"] + 2.5})
    proba, predicted = iris_pipeline.predict_proba(shifted), iris_pipeline.predict(shifted)
    now = datetime.now(timezone.utc)
    registry = Registry.open(settings)
    try:
        monitoring = Monitoring(registry)
        rows = [record("iris", inputs=shifted.iloc[i].to_dict(), outputs=int(predicted[i]), probabilities=proba[i].tolist(),
                       at=now - timedelta(minutes=1 + i % 50)) for i in range(len(x))]
        monitoring.log.write(rows)
        monitoring.submit_feedback([{"prediction_id": r.prediction_id, "label": int(t)} for r, t in zip(rows, y, strict=True)])
        store = AlertStore(monitoring.log.engine)
        rule = AlertRule("data-drift", "iris", "drift.dataset", ">=", 1.0)
        store.save(rule, RuleState([True], True, now), AlertEvent("iris", "data-drift", "fired", "warning", now, 1.0, 1.0))
    finally:
        registry.close()


def test_monitor_commands(iris_settings: Settings, iris, iris_pipeline, capsys: pytest.CaptureFixture[str],
                          tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    populate(iris_settings, iris, iris_pipeline)
    main(["monitor", "drift", "iris", "--window", "1h", "--json"])
    drift = json.loads(capsys.readouterr().out)
    assert drift["dataset_drift"] and drift["current_rows"] == 150
    main(["monitor", "drift", "iris"])
    assert "dataset drift" in capsys.readouterr().out
    main(["monitor", "performance", "iris", "--window", "1h", "--json"])
    performance = json.loads(capsys.readouterr().out)
    assert performance["labelled_rows"] == 150 and "accuracy" in performance["estimated"]
    main(["monitor", "performance", "iris"])
    assert "accuracy" in capsys.readouterr().out
    target = tmp_path / "iris.html"
    main(["monitor", "report", "iris", "--window", "1h", "-o", str(target), "--json"])
    written = json.loads(capsys.readouterr().out)
    assert Path(written["html"]).read_text().startswith("<!doctype html>")
    assert json.loads(Path(written["json"]).read_text())["alerts"][0]["rule"] == "data-drift"


@pytest.mark.parametrize(("args", "message"), [
    (["monitor", "drift", "iris", "--window", "soon"], "invalid window"),
    (["monitor", "drift", "ghost"], "no reference data"),
    (["monitor", "performance", "Bad!"], "invalid model name"),
])
def test_monitor_errors_are_one_line(iris_settings: Settings, capsys: pytest.CaptureFixture[str], args: list[str],
                                     message: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code != 0
    assert message in capsys.readouterr().err


def chromium_or_skip() -> str:
    """Debian's chromium; skipped with a reason outside CI, a failure in CI."""
    if shutil.which(CHROMIUM) is None or not os.access(CHROMIUM, os.X_OK):
        reason = f"{CHROMIUM} is missing (apt-get install -y chromium) so the report cannot be opened in a browser"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    pytest.importorskip("playwright", reason="pip install playwright (part of the test extra)")
    return CHROMIUM


@pytest.mark.slow
def test_report_renders_in_a_headless_browser(iris_settings: Settings, iris, iris_pipeline, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    populate(iris_settings, iris, iris_pipeline)
    registry = Registry.open(iris_settings)
    try:
        content = build_report(Monitoring(registry), "iris", "1h")
    finally:
        registry.close()
    page_file = tmp_path / "report.html"
    page_file.write_text(render_html(content), encoding="utf-8")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=executable, args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            problems: list[str] = []
            page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
            page.on("requestfailed", lambda request: problems.append(request.url))
            page.goto(page_file.as_uri())
            assert page.title() == "modelport monitoring report: iris"
            for section in ("drift", "performance", "health", "alerts"):
                assert page.locator(f"section#{section}").is_visible()
            assert page.locator("#drift .card.feature svg").count() >= 4
            assert page.locator("#performance svg polyline").count() >= 1
            assert "drift detected" in page.locator("#drift").inner_text()
            assert "data-drift" in page.locator("#alerts").inner_text()
            box = page.locator("#drift .card.feature svg").first.bounding_box()
            assert box is not None and box["width"] > 100 and box["height"] > 50
            assert problems == []
        finally:
            browser.close()
