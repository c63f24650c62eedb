"""Alerts: rules, k-of-m persistence, cool-down, fire and resolve, one evaluator per lease, and the sinks."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from modelport.foundation.clock import ManualClock
from modelport.foundation.errors import InvalidInputError, NotFoundError
from modelport.monitoring.alerts.evaluator import AlertEvaluator, AlertScheduler, Reading, read_signal
from modelport.monitoring.alerts.rules import AlertRule, default_rules, load_rules_file, rule_from_dict
from modelport.monitoring.alerts.sinks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    AlertEvent,
    LogSink,
    PrometheusSink,
    WebhookSink,
    verify,
)
from modelport.monitoring.alerts.store import AlertStore, Lease
from modelport.monitoring.service import Monitoring

from .builders import START, record


class Scripted:
    """A signal reader that returns queued readings (the evaluator's logic under test, not the signals)."""

    def __init__(self) -> None:
        self.queue: list[Reading] = []

    def __call__(self, monitoring: Monitoring, rule: AlertRule) -> Reading:
        return self.queue.pop(0)


@pytest.fixture
def store(monitoring: Monitoring, clock: ManualClock) -> AlertStore:
    return AlertStore(monitoring.log.engine, clock)


def rule(**overrides: Any) -> AlertRule:
    fields: dict[str, Any] = {"name": "errors", "model": "m", "signal": "health.error_rate", "op": ">", "threshold": 0.1,
                              "min_samples": 10, "k": 2, "m": 3, "cooldown": "1h"}
    return AlertRule(**{**fields, **overrides})


def test_k_of_m_persistence_fire_resolve_and_cooldown(monitoring: Monitoring, store: AlertStore, clock: ManualClock) -> None:
    script, sink = Scripted(), PrometheusSink()
    evaluator = AlertEvaluator(monitoring, store, [LogSink(), sink], read=script)
    the_rule = rule()
    kinds = []
    for value, samples in [(0.5, 100), (0.0, 100), (0.9, 5), (0.6, 100), (0.0, 100), (0.0, 100), (0.7, 100), (0.8, 100)]:
        script.queue.append(Reading(value, samples))
        event = evaluator.evaluate_rule(the_rule)
        kinds.append(event.kind if event else None)
        clock.advance(600)
    # breach, ok, (too few samples: ignored), breach -> 2 of 3: fire; ok, ok -> resolve; two breaches inside the
    # cool-down (fired 40 minutes before) stay quiet.
    assert kinds == [None, None, None, "fired", None, "resolved", None, None]
    clock.advance(3600)
    script.queue.append(Reading(0.9, 100))
    assert evaluator.evaluate_rule(the_rule).kind == "fired"  # type: ignore[union-attr]
    history = store.events("m")
    assert [e["kind"] for e in history] == ["fired", "resolved", "fired"]
    assert history[-1]["value"] == 0.6 and history[-1]["threshold"] == 0.1
    assert b'modelport_alert_firing{model="m",rule="errors"} 1.0' in sink.render()
    assert b'modelport_monitor_value{model="m",rule="errors"} 0.9' in sink.render()


def test_real_signal_from_the_log(monitoring: Monitoring, store: AlertStore) -> None:
    monitoring.log.write([record(status="ModelExecutionError", error="x") for _ in range(30)] + [record() for _ in range(70)])
    reading = read_signal(monitoring, rule(window="1h"))
    assert reading == Reading(pytest.approx(0.3), 100)  # type: ignore[arg-type]
    assert read_signal(monitoring, rule(signal="drift.dataset")) == Reading(None, 0)  # no reference: no reading
    evaluator = AlertEvaluator(monitoring, store, [])
    store.put_rule(rule(k=1, m=1))
    assert [e.kind for e in evaluator.evaluate()] == ["fired"]


def test_rules_are_validated() -> None:
    for bad, match in [({"signal": "cpu"}, "unknown signal"), ({"op": "=="}, "op must"), ({"k": 3, "m": 2}, "k <= m"),
                       ({"severity": "page"}, "severity"), ({"window": "soon"}, "window"), ({"name": "Bad Name"}, "rule name"),
                       ({"min_samples": -1}, "min_samples")]:
        with pytest.raises(InvalidInputError, match=match):
            rule(**bad)
    assert rule(signal="performance.roc_auc").signal == "performance.roc_auc"
    assert rule(signal="drift.feature:age").signal == "drift.feature:age"
    with pytest.raises(InvalidInputError, match="unknown fields"):
        rule_from_dict({"name": "x", "colour": "red"})
    with pytest.raises(InvalidInputError, match="missing field 'threshold'"):
        rule_from_dict({"name": "x", "signal": "drift.share", "op": ">"}, model="m")
    with pytest.raises(InvalidInputError, match="mapping"):
        rule_from_dict(["x"])  # type: ignore[arg-type]


def test_rules_from_files(tmp_path: Path) -> None:
    toml = tmp_path / "rules.toml"
    toml.write_text('[[rules]]\nname = "drift"\nmodel = "churn"\nsignal = "drift.share"\nop = ">"\nthreshold = 0.3\n')
    as_json = tmp_path / "rules.json"
    as_json.write_text(json.dumps({"rules": [{"name": "p99", "model": "churn", "signal": "health.latency_p99",
                                              "op": ">", "threshold": 250, "k": 3, "m": 5}]}))
    assert load_rules_file(toml)[0].threshold == 0.3
    assert load_rules_file(as_json)[0].k == 3
    (tmp_path / "bad.json").write_text('{"rules": 3}')
    with pytest.raises(InvalidInputError, match="list under 'rules'"):
        load_rules_file(tmp_path / "bad.json")
    (tmp_path / "broken.toml").write_text("[[rules]\n")
    with pytest.raises(InvalidInputError, match=r"broken\.toml"):
        load_rules_file(tmp_path / "broken.toml")


def test_default_rules_warn_on_drift_and_alert_on_performance() -> None:
    rules = {r.name: r for r in default_rules("churn", registered_metrics={"accuracy": 0.91})}
    assert rules["data-drift"].severity == "warning" and rules["data-drift"].cooldown == "1d"
    assert rules["accuracy-drop"].severity == "critical" and rules["accuracy-drop"].threshold == pytest.approx(0.86)
    assert "accuracy-drop" not in {r.name for r in default_rules("churn")}


def test_rule_store_round_trip(store: AlertStore) -> None:
    store.put_rules([rule(), rule(name="latency", signal="health.latency_p99", threshold=200)])
    store.put_rule(rule(threshold=0.2))
    assert [(r.name, r.threshold) for r in store.rules("m")] == [("errors", 0.2), ("latency", 200.0)]
    store.delete_rule("m", "latency")
    with pytest.raises(NotFoundError, match="latency"):
        store.delete_rule("m", "latency")


def test_one_evaluator_among_replicas(monitoring: Monitoring, store: AlertStore, clock: ManualClock) -> None:
    first = Lease(store.engine, "alerts", "replica-a", timedelta(minutes=3), clock)
    second = Lease(store.engine, "alerts", "replica-b", timedelta(minutes=3), clock)
    assert first.acquire() and not second.acquire() and first.acquire()
    clock.advance(181)
    assert second.acquire() and not first.acquire()
    second.release()
    assert first.acquire()
    a = AlertScheduler(AlertEvaluator(monitoring, store, []), interval=60, holder="a")
    b = AlertScheduler(AlertEvaluator(monitoring, store, []), interval=60, holder="b")
    assert a.run_once() == [] and b.run_once() is None


def test_every_replica_shows_the_evaluators_gauges(monitoring: Monitoring, store: AlertStore) -> None:
    store.put_rule(rule(k=1, m=1))
    script, holder_gauges, other_gauges = Scripted(), PrometheusSink(), PrometheusSink()
    a = AlertScheduler(AlertEvaluator(monitoring, store, [holder_gauges], read=script), interval=60, holder="a")
    b = AlertScheduler(AlertEvaluator(monitoring, store, [other_gauges], read=Scripted()), interval=60, holder="b")
    assert b"modelport_alert_firing{" not in other_gauges.render()
    script.queue.append(Reading(0.25, 100))
    assert [e.kind for e in a.run_once() or []] == ["fired"]
    assert b.run_once() is None  # b never evaluates (its scripted reader is empty) but mirrors a's result
    assert b'modelport_alert_firing{model="m",rule="errors"} 1.0' in other_gauges.render()
    assert b'modelport_monitor_value{model="m",rule="errors"} 0.25' in other_gauges.render()
    script.queue.append(Reading(0.0, 100))
    assert [e.kind for e in a.run_once() or []] == ["resolved"]
    b.run_once()
    assert b'modelport_alert_firing{model="m",rule="errors"} 0.0' in other_gauges.render()
    assert b'modelport_monitor_value{model="m",rule="errors"} 0.0' in other_gauges.render()


def test_an_unreadable_value_is_stored_as_unknown(monitoring: Monitoring, store: AlertStore) -> None:
    script = Scripted()
    evaluator = AlertEvaluator(monitoring, store, [], read=script)
    script.queue.append(Reading(float("nan"), 100))
    evaluator.evaluate_rule(rule())
    [(model, name, state)] = store.states()
    assert (model, name, state.value, state.firing) == ("m", "errors", None, False)


class Receiver(BaseHTTPRequestHandler):
    """A webhook endpoint that fails the first `failures` calls with 503."""

    received: list[tuple[dict[str, str], bytes]]
    failures: int

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        self.received.append((dict(self.headers.items()), body))
        status = 503 if len(self.received) <= self.failures else 204
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[Receiver]]]:
    handler = type("Handler", (Receiver,), {"received": [], "failures": 2})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    server.shutdown()
    server.server_close()


def test_webhook_is_signed_retried_with_backoff_and_received(receiver: tuple[str, type[Receiver]]) -> None:
    url, handler = receiver
    pauses: list[float] = []
    sink = WebhookSink(url, "s3cret", backoff=0.5, sleep=pauses.append)
    event = AlertEvent("m", "errors", "fired", "critical", START, 0.3, 0.1, {"samples": 100})
    sink.send(event)
    assert len(handler.received) == 3 and pauses == [0.5, 1.0]
    headers, body = handler.received[-1]
    assert verify(b"s3cret", headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
    assert not verify(b"wrong", headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
    assert json.loads(body) == {**event.to_dict()}


def test_webhook_gives_up_after_its_attempts(receiver: tuple[str, type[Receiver]]) -> None:
    url, handler = receiver
    handler.failures = 10
    with pytest.raises(ConnectionError, match="not delivered after 2 attempts"):
        WebhookSink(url, "k", attempts=2, sleep=lambda _: None).send(
            AlertEvent("m", "r", "fired", "warning", START, 1.0, 0.5))
    with pytest.raises(ConnectionError, match="ConnectError"):
        WebhookSink("http://127.0.0.1:9/none", "k", attempts=1).send(AlertEvent("m", "r", "fired", "warning", START, 1.0, 0.5))


def test_fired_and_resolved_alert_reach_a_real_webhook(monitoring: Monitoring, store: AlertStore, clock: ManualClock,
                                                       receiver: tuple[str, type[Receiver]]) -> None:
    url, handler = receiver
    handler.failures = 0
    evaluator = AlertEvaluator(monitoring, store, [WebhookSink(url, "k", sleep=lambda _: None)])
    store.put_rule(rule(k=1, m=1, window="1h"))
    monitoring.log.write([record(status="Boom", at=START - timedelta(minutes=5)) for _ in range(20)])
    assert [e.kind for e in evaluator.evaluate()] == ["fired"]
    clock.advance(7200)  # the errors age out of the window; healthy traffic follows
    monitoring.log.write([record(at=clock.now() - timedelta(minutes=1)) for _ in range(20)])
    assert [e.kind for e in evaluator.evaluate()] == ["resolved"]
    kinds = [json.loads(body)["kind"] for _, body in handler.received]
    assert kinds == ["fired", "resolved"]
