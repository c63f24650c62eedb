"""The retraining trigger: an alert rule with `retrain = true` asks for a new model when it fires.

modelport does not train models; the user's pipeline does. When such a rule fires, the
trigger runs the configured command (no shell; the event in the environment and as JSON
on stdin) or posts the event, signed, to a webhook (an Airflow, Prefect or CI endpoint).
The pipeline registers its result with the alias `challenger`, and a server started with
`--auto-rollout canary` judges it against the champion (rollout/challenger.py): the loop
monitor -> retrain -> register -> judge -> roll out closes without a person.
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from modelport.foundation.errors import InvalidInputError
from modelport.monitoring.alerts.sinks import AlertEvent, WebhookSink

log = logging.getLogger("modelport.monitoring.alerts")

Audit = Callable[[str, str, str, dict[str, Any]], None]  # actor, action, target, details


def parse_command(text: str) -> list[str]:
    """A command line split as a POSIX shell would, but never run by one."""
    try:
        argv = shlex.split(text)
    except ValueError as exc:
        raise InvalidInputError(f"MODELPORT_RETRAIN_COMMAND {text!r}: {exc}", field="MODELPORT_RETRAIN_COMMAND") from None
    if not argv:
        raise InvalidInputError("MODELPORT_RETRAIN_COMMAND is empty", field="MODELPORT_RETRAIN_COMMAND")
    return argv


def event_environment(event: AlertEvent) -> dict[str, str]:
    """What a retraining command learns from its environment."""
    return {"MODELPORT_MODEL": event.model, "MODELPORT_RULE": event.rule, "MODELPORT_SIGNAL": str(
        event.details.get("signal", "")), "MODELPORT_VALUE": "" if event.value is None else repr(event.value),
        "MODELPORT_THRESHOLD": repr(event.threshold), "MODELPORT_FIRED_AT": event.at.isoformat()}


class RetrainTrigger:
    """An alert sink that starts a retraining when a rule marked `retrain` fires."""

    def __init__(self, *, command: Sequence[str] | None = None, webhook: WebhookSink | None = None,
                 audit: Audit | None = None, timeout_s: float = 3600.0,
                 environ: Mapping[str, str] | None = None) -> None:
        if command is None and webhook is None:
            raise InvalidInputError("a retraining trigger needs a command or a webhook", field="retrain")
        self.command = list(command) if command else None
        self.webhook = webhook
        self.audit = audit
        self.timeout_s = timeout_s
        self.environ = dict(os.environ if environ is None else environ)
        self.runs: list[threading.Thread] = []

    def send(self, event: AlertEvent) -> None:
        """Start a retraining for a fired rule that asks for one; ignore every other event."""
        if event.kind != "fired" or not event.details.get("retrain"):
            return
        payload = {**event.to_dict(), "action": "retrain"}
        if self.audit is not None:
            self.audit("alerts", "retrain.requested", event.model, {"rule": event.rule, "value": event.value})
        if self.webhook is not None:
            self.webhook.send(_as_request(event))
        if self.command is not None:
            run = threading.Thread(target=self._run, args=(event, orjson.dumps(payload)), daemon=True,
                                   name=f"modelport-retrain-{event.model}")
            self.runs = [t for t in self.runs if t.is_alive()] + [run]
            run.start()

    def observe(self, model: str, rule: str, value: float | None, firing: bool) -> None:
        """Nothing to do: only firings matter here."""

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the commands started so far (for shutdown and tests)."""
        for run in self.runs:
            run.join(timeout)

    def _run(self, event: AlertEvent, payload: bytes) -> None:
        assert self.command is not None
        try:
            done = subprocess.run(self.command, input=payload, env={**self.environ, **event_environment(event)},
                                  capture_output=True, timeout=self.timeout_s, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.error("retraining for %s (rule %s) did not run to the end: %s", event.model, event.rule, exc)
            return
        tail = done.stderr.decode(errors="replace")[-500:].strip()
        if done.returncode != 0:
            log.error("retraining for %s (rule %s) exited with %d: %s", event.model, event.rule, done.returncode, tail)
        else:
            log.info("retraining for %s (rule %s) finished", event.model, event.rule)


def _as_request(event: AlertEvent) -> AlertEvent:
    """The fired event, marked as a retraining request for the webhook's receiver."""
    return AlertEvent(event.model, event.rule, "retrain", event.severity, event.at, event.value, event.threshold,
                      event.details)
