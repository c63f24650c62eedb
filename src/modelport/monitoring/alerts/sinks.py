"""Where alert events go: the log, a signed webhook with retries, Prometheus gauges."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Protocol

import httpx
import orjson

log = logging.getLogger("modelport.monitoring.alerts")

SIGNATURE_HEADER = "X-Modelport-Signature"
TIMESTAMP_HEADER = "X-Modelport-Timestamp"


@dataclass(frozen=True)
class AlertEvent:
    """An alert fired or resolved, with the value that decided it."""

    model: str
    rule: str
    kind: str  # fired | resolved
    severity: str
    at: datetime
    value: float | None
    threshold: float
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return data


class AlertSink(Protocol):
    """Receives alert events and evaluated values."""

    def send(self, event: AlertEvent) -> None:
        """Deliver one event (may raise; the evaluator logs and carries on)."""
        ...

    def observe(self, model: str, rule: str, value: float | None, firing: bool) -> None:
        """See the latest value of a rule (for gauges)."""
        ...


class LogSink:
    """Writes events to the `modelport.monitoring.alerts` logger."""

    def send(self, event: AlertEvent) -> None:
        level = logging.WARNING if event.kind == "fired" else logging.INFO
        log.log(level, "alert %s %s/%s value=%s threshold=%s", event.kind, event.model, event.rule, event.value,
                event.threshold)

    def observe(self, model: str, rule: str, value: float | None, firing: bool) -> None:
        """Nothing to do: the log shows events only."""


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` HMAC of `timestamp.body`: receivers recompute it and compare in constant time."""
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(secret: bytes, timestamp: str, body: bytes, signature: str) -> bool:
    """Check a webhook signature (for receivers and tests)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookSink:
    """POSTs each event as JSON, signed with HMAC-SHA256, retrying 5xx and network errors with back-off."""

    def __init__(self, url: str, secret: str | bytes, *, attempts: int = 5, backoff: float = 0.5, timeout: float = 5.0,
                 client: httpx.Client | None = None, sleep: Callable[[float], None] = time.sleep,
                 now: Callable[[], float] = time.time) -> None:
        self.url = url
        self.secret = secret.encode() if isinstance(secret, str) else secret
        self.attempts = attempts
        self.backoff = backoff
        self.client = client or httpx.Client(timeout=timeout)
        self.sleep = sleep
        self.now = now

    def send(self, event: AlertEvent) -> None:
        body = orjson.dumps(event.to_dict())
        last: str = ""
        for attempt in range(self.attempts):
            stamp = str(int(self.now()))
            headers = {"content-type": "application/json", TIMESTAMP_HEADER: stamp,
                       SIGNATURE_HEADER: sign(self.secret, stamp, body)}
            try:
                response = self.client.post(self.url, content=body, headers=headers)
                if response.status_code < 500:
                    if response.status_code >= 400:
                        log.error("webhook %s refused alert (%d): not retried", self.url, response.status_code)
                    return
                last = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            if attempt + 1 < self.attempts:
                self.sleep(self.backoff * 2**attempt)
        raise ConnectionError(f"webhook {self.url}: alert not delivered after {self.attempts} attempts ({last})")

    def observe(self, model: str, rule: str, value: float | None, firing: bool) -> None:
        """Webhooks carry events only."""


class PrometheusSink:
    """Gauges `modelport_monitor_value` and `modelport_alert_firing` per model and rule, for Alertmanager."""

    def __init__(self, registry: Any = None) -> None:
        from prometheus_client import CollectorRegistry, Gauge

        self.registry = registry if registry is not None else CollectorRegistry()
        self.value = Gauge("modelport_monitor_value", "Latest evaluated value of an alert rule's signal",
                           ["model", "rule"], registry=self.registry)
        self.firing = Gauge("modelport_alert_firing", "1 while an alert rule is firing", ["model", "rule"],
                            registry=self.registry)

    def send(self, event: AlertEvent) -> None:
        self.firing.labels(event.model, event.rule).set(1.0 if event.kind == "fired" else 0.0)

    def observe(self, model: str, rule: str, value: float | None, firing: bool) -> None:
        if value is not None:
            self.value.labels(model, rule).set(value)
        self.firing.labels(model, rule).set(1.0 if firing else 0.0)

    def render(self) -> bytes:
        """The gauges in Prometheus text format."""
        from prometheus_client import generate_latest

        return bytes(generate_latest(self.registry))
