"""Evaluate alert rules: read each rule's signal, apply k-of-m persistence and cool-down, fire or resolve."""

from __future__ import annotations

import logging
import math
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from modelport.foundation.errors import ModelportError
from modelport.monitoring.alerts.rules import AlertRule
from modelport.monitoring.alerts.sinks import AlertEvent, AlertSink
from modelport.monitoring.alerts.store import AlertStore, Lease, RuleState
from modelport.monitoring.records import parse_window
from modelport.monitoring.service import Monitoring

log = logging.getLogger("modelport.monitoring.alerts")

LEASE_NAME = "alert-evaluator"


@dataclass(frozen=True)
class Reading:
    """A signal's value over a window and how many rows it rests on (None when it cannot be computed)."""

    value: float | None
    samples: int


def read_signal(monitoring: Monitoring, rule: AlertRule) -> Reading:
    """The current value of `rule.signal` for `rule.model` over `rule.window`."""
    family, _, name = rule.signal.partition(".")
    try:
        if family == "drift":
            return _drift(monitoring, rule, name)
        if family == "health":
            return _health(monitoring, rule, name)
        return _performance(monitoring, rule, name)
    except ModelportError as exc:  # no reference yet, no such model...: nothing to judge, not a crash
        log.info("alert rule %s/%s has no reading: %s", rule.model, rule.name, exc)
        return Reading(None, 0)


def _drift(monitoring: Monitoring, rule: AlertRule, name: str) -> Reading:
    report = monitoring.drift(rule.model, rule.window)
    if name.startswith("feature:"):
        feature = next((f for f in report.features if f.name == name[len("feature:"):] and f.role == "input"), None)
        return Reading(feature.score if feature else None, feature.current_rows if feature else 0)
    values = {"dataset": float(report.dataset_drift), "share": report.drift_share,
              "prediction": float(report.prediction_drift),
              "max_score": max((f.score or 0.0 for f in report.features), default=0.0)}
    return Reading(values[name], report.current_rows)


def _health(monitoring: Monitoring, rule: AlertRule, name: str) -> Reading:
    health = monitoring.health(rule.model, rule.window)
    values = {"error_rate": health["error_rate"], "requests": float(health["requests"]),
              "latency_p50": health["latency_ms"]["p50"], "latency_p95": health["latency_ms"]["p95"],
              "latency_p99": health["latency_ms"]["p99"]}
    return Reading(values[name], int(health["requests"]))


def _performance(monitoring: Monitoring, rule: AlertRule, name: str) -> Reading:
    report = monitoring.performance(rule.model, rule.window)
    if name == "estimated_accuracy":
        estimated = report["estimated"]
        return Reading(estimated.get("accuracy"), int(estimated.get("rows", 0)))
    return Reading(report["metrics"].get(name), int(report["labelled_rows"]))


class AlertEvaluator:
    """Runs rules and hands fired/resolved events to the sinks.

    A rule fires when at least k of its last m readings breach (and its cool-down since the last firing
    has passed); it resolves after k clear readings in a row. Readings under `min_samples` are ignored.
    """

    def __init__(self, monitoring: Monitoring, store: AlertStore, sinks: Sequence[AlertSink],
                 read: Callable[[Monitoring, AlertRule], Reading] = read_signal) -> None:
        self.monitoring = monitoring
        self.store = store
        self.sinks = list(sinks)
        self.read = read

    def evaluate(self, rules: Sequence[AlertRule] | None = None) -> list[AlertEvent]:
        """Evaluate `rules` (default: every stored rule) once; returns the events produced."""
        events = []
        for rule in self.store.rules() if rules is None else rules:
            event = self.evaluate_rule(rule)
            if event is not None:
                events.append(event)
        return events

    def evaluate_rule(self, rule: AlertRule) -> AlertEvent | None:
        reading = self.read(self.monitoring, rule)
        state = self.store.state(rule)
        usable = reading.value is not None and not math.isnan(reading.value) and reading.samples >= rule.min_samples
        if usable and reading.value is not None:
            state.history = [*state.history, rule.breached(reading.value)][-rule.m:]
        # NaN has no portable SQL form; a value that cannot be read is stored as unknown.
        state.value = reading.value if reading.value is not None and not math.isnan(reading.value) else None
        event = self._decide(rule, state, reading) if usable else None
        self.store.save(rule, state, event)
        for sink in self.sinks:
            self._deliver(sink, rule.model, rule.name, reading.value, state.firing, event)
        return event

    def mirror(self) -> int:
        """Show the evaluator's last values and firing flags, read from the database, in this replica's sinks.

        Only the lease holder evaluates, but Prometheus scrapes every replica: without this, the gauges of all
        replicas but one would stay empty and an Alertmanager rule would see a different answer per scrape.
        """
        states = self.store.states()
        for model, name, state in states:
            for sink in self.sinks:
                self._deliver(sink, model, name, state.value, state.firing, None)
        return len(states)

    def _decide(self, rule: AlertRule, state: RuleState, reading: Reading) -> AlertEvent | None:
        now = self.store.clock.now()
        persistent = sum(state.history) >= rule.k
        cooled = state.last_fired_at is None or now - state.last_fired_at >= parse_window(rule.cooldown)
        details: dict[str, Any] = {"signal": rule.signal, "op": rule.op, "window": rule.window,
                                   "samples": reading.samples, "history": list(state.history),
                                   "retrain": rule.retrain}
        if persistent and not state.firing and cooled:
            state.firing, state.last_fired_at = True, now
            return AlertEvent(rule.model, rule.name, "fired", rule.severity, now, reading.value, rule.threshold, details)
        # Hysteresis: resolve only after k clear windows in a row, so a flapping value does not fire and
        # resolve on alternate ticks.
        recovered = not any(state.history[-rule.k:])
        if state.firing and recovered:
            state.firing = False
            return AlertEvent(rule.model, rule.name, "resolved", rule.severity, now, reading.value, rule.threshold,
                              details)
        return None

    @staticmethod
    def _deliver(sink: AlertSink, model: str, rule: str, value: float | None, firing: bool,
                 event: AlertEvent | None) -> None:
        try:
            sink.observe(model, rule, value, firing)
            if event is not None:
                sink.send(event)
        except Exception:  # one broken sink must not stop the others or the schedule
            log.exception("alert sink %s failed", type(sink).__name__)


class AlertScheduler:
    """Evaluates all rules every `interval` seconds in a thread, only while holding the evaluator lease."""

    def __init__(self, evaluator: AlertEvaluator, *, interval: float = 60.0, holder: str | None = None) -> None:
        self.evaluator = evaluator
        self.interval = interval
        engine, clock = evaluator.store.engine, evaluator.store.clock
        self.lease = Lease(engine, LEASE_NAME, holder or uuid.uuid4().hex, timedelta(seconds=interval * 3), clock)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> list[AlertEvent] | None:
        """One tick: evaluate if this replica holds the lease; otherwise mirror the holder's values (None)."""
        if not self.lease.acquire():
            self.evaluator.mirror()
            return None
        return self.evaluator.evaluate()

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="modelport-alerts", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_once()
            except Exception:  # the schedule outlives a failed tick (the database may be briefly away)
                log.exception("alert evaluation failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.lease.release()
