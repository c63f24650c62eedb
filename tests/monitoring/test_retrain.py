"""The retraining trigger: a firing rule with `retrain = true` runs the user's command or calls a webhook."""

from __future__ import annotations

import json
import logging
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelport.foundation.clock import ManualClock
from modelport.foundation.errors import InvalidInputError
from modelport.monitoring.alerts.evaluator import AlertEvaluator
from modelport.monitoring.alerts.retrain import RetrainTrigger, parse_command
from modelport.monitoring.alerts.rules import AlertRule, load_rules_file, rule_from_dict
from modelport.monitoring.alerts.sinks import SIGNATURE_HEADER, TIMESTAMP_HEADER, AlertEvent, WebhookSink, verify
from modelport.monitoring.alerts.store import AlertStore
from modelport.monitoring.service import Monitoring

from .builders import START, record

RECORDER = "import json, os, sys; json.dump({'env': {k: v for k, v in os.environ.items() if k.startswith('MODELPORT_')}, 'stdin': json.load(sys.stdin)}, open(sys.argv[1], 'w'))"


def _rule(**overrides: Any) -> AlertRule:
    fields: dict[str, Any] = {"name": "errors", "model": "m", "signal": "health.error_rate", "op": ">",
                              "threshold": 0.1, "min_samples": 10, "k": 1, "m": 1, "retrain": True}
    return AlertRule(**{**fields, **overrides})


def _fire_errors(monitoring: Monitoring) -> None:
    monitoring.log.write([record(status="Boom", at=START - timedelta(minutes=5)) for _ in range(20)])


def test_a_firing_retrain_rule_runs_the_command_with_the_event(monitoring: Monitoring, clock: ManualClock,
                                                                  tmp_path: Path) -> None:
    out = tmp_path / "seen.json"
    audits: list[tuple[Any, ...]] = []
    trigger = RetrainTrigger(command=[sys.executable, "-c", RECORDER, str(out)],
                             audit=lambda *entry: audits.append(entry))
    store = AlertStore(monitoring.log.engine, clock)
    store.put_rules([_rule(), _rule(name="quiet-errors", retrain=False)])
    _fire_errors(monitoring)
    events = AlertEvaluator(monitoring, store, [trigger]).evaluate()
    trigger.wait(timeout=60)
    assert sorted(e.rule for e in events if e.kind == "fired") == ["errors", "quiet-errors"]
    seen = json.loads(out.read_text())
    assert seen["env"]["MODELPORT_MODEL"] == "m" and seen["env"]["MODELPORT_RULE"] == "errors"
    assert seen["env"]["MODELPORT_SIGNAL"] == "health.error_rate" and float(seen["env"]["MODELPORT_VALUE"]) == 1.0
    assert seen["stdin"]["action"] == "retrain" and seen["stdin"]["kind"] == "fired"
    assert audits == [("alerts", "retrain.requested", "m", {"rule": "errors", "value": 1.0})]  # once: not quiet-errors


def test_resolved_events_and_rules_without_retrain_start_nothing(tmp_path: Path) -> None:
    out = tmp_path / "seen.json"
    trigger = RetrainTrigger(command=[sys.executable, "-c", RECORDER, str(out)])
    trigger.send(AlertEvent("m", "errors", "resolved", "critical", START, 0.0, 0.1, {"retrain": True}))
    trigger.send(AlertEvent("m", "errors", "fired", "critical", START, 0.5, 0.1, {"retrain": False}))
    trigger.wait(timeout=60)
    assert trigger.runs == [] and not out.exists()


def test_a_failing_command_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    trigger = RetrainTrigger(command=[sys.executable, "-c", "import sys; sys.stderr.write('no data'); sys.exit(3)"])
    with caplog.at_level(logging.ERROR, logger="modelport.monitoring.alerts"):
        trigger.send(AlertEvent("m", "errors", "fired", "critical", START, 0.5, 0.1, {"retrain": True}))
        trigger.wait(timeout=60)
    assert "exited with 3: no data" in caplog.text
    with caplog.at_level(logging.ERROR, logger="modelport.monitoring.alerts"):
        missing = RetrainTrigger(command=["/nonexistent/retrain-job"])
        missing.send(AlertEvent("m", "errors", "fired", "critical", START, 0.5, 0.1, {"retrain": True}))
        missing.wait(timeout=60)
    assert "did not run to the end" in caplog.text


def test_the_webhook_gets_a_signed_retrain_request() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202)

    client = httpx.Client(transport=httpx.MockTransport(answer))
    trigger = RetrainTrigger(webhook=WebhookSink("https://ci.example/hooks/retrain", "s3cret", client=client))
    trigger.send(AlertEvent("m", "accuracy-drop", "fired", "critical", START, 0.71, 0.8, {"retrain": True}))
    (request,) = seen
    body = request.read()
    assert json.loads(body)["kind"] == "retrain" and json.loads(body)["rule"] == "accuracy-drop"
    assert verify(b"s3cret", request.headers[TIMESTAMP_HEADER], body, request.headers[SIGNATURE_HEADER])


@pytest.mark.parametrize(("text", "reason"), [("", "is empty"), ("   ", "is empty"), ("retrain 'unclosed", "quotation")])
def test_bad_commands(text: str, reason: str) -> None:
    with pytest.raises(InvalidInputError, match=reason):
        parse_command(text)


def test_commands_are_split_never_given_to_a_shell() -> None:
    assert parse_command("python train.py --model 'churn v2'; rm -rf /") == [
        "python", "train.py", "--model", "churn v2;", "rm", "-rf", "/"]


def test_a_trigger_needs_a_command_or_a_webhook() -> None:
    with pytest.raises(InvalidInputError, match="needs a command or a webhook"):
        RetrainTrigger()


def test_rules_say_retrain_with_a_boolean(tmp_path: Path) -> None:
    assert rule_from_dict({"name": "a", "model": "m", "signal": "drift.dataset", "op": ">=", "threshold": 1,
                           "retrain": True}).retrain
    with pytest.raises(InvalidInputError, match="retrain must be true or false"):
        rule_from_dict({"name": "a", "model": "m", "signal": "drift.dataset", "op": ">=", "threshold": 1,
                        "retrain": "yes"})
    path = tmp_path / "rules.toml"
    path.write_text('[[rules]]\nname = "acc"\nmodel = "m"\nsignal = "performance.accuracy"\nop = "<"\n'
                    'threshold = 0.8\nretrain = true\n')
    assert [r.retrain for r in load_rules_file(path)] == [True]


def test_the_server_builds_the_trigger_from_its_environment(monitoring: Monitoring) -> None:
    from modelport.http.app import _retrain_trigger

    assert _retrain_trigger(monitoring, {}) is None
    built = _retrain_trigger(monitoring, {"MODELPORT_RETRAIN_COMMAND": "make retrain"})
    assert built is not None and built.command == ["make", "retrain"] and built.webhook is None
    with pytest.raises(InvalidInputError, match="MODELPORT_RETRAIN_WEBHOOK_SECRET"):
        _retrain_trigger(monitoring, {"MODELPORT_RETRAIN_WEBHOOK_URL": "https://ci.example/hook"})
    hooked = _retrain_trigger(monitoring, {"MODELPORT_RETRAIN_WEBHOOK_URL": "https://ci.example/hook",
                                           "MODELPORT_ALERT_WEBHOOK_SECRET": "k"})
    assert hooked is not None and hooked.webhook is not None and hooked.command is None
