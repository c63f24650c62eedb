"""Alert rules, per-rule state and event history in the database, and the lease that elects one evaluator."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, exc, insert, or_, select, update

from modelport.foundation.clock import Clock, SystemClock
from modelport.foundation.errors import NotFoundError
from modelport.monitoring.alerts.rules import AlertRule, rule_from_dict
from modelport.monitoring.alerts.sinks import AlertEvent
from modelport.monitoring.log import as_utc
from modelport.storage.schema import alert_events, alert_rules, alert_state, leases


@dataclass
class RuleState:
    """The persistence window and firing flag of one rule."""

    history: list[bool]
    firing: bool
    last_fired_at: datetime | None
    value: float | None = None  # of the last evaluation


class AlertStore:
    """Rules, states and events of alerts."""

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()

    def put_rule(self, rule: AlertRule) -> None:
        """Create or replace a rule (keyed by model and name)."""
        table = alert_rules
        with self.engine.begin() as conn:
            conn.execute(delete(table).where(table.c.model == rule.model, table.c.name == rule.name))
            conn.execute(insert(table).values(model=rule.model, name=rule.name, spec=rule.to_dict(),
                                              updated_at=self.clock.now()))

    def put_rules(self, rules: Sequence[AlertRule]) -> None:
        for rule in rules:
            self.put_rule(rule)

    def rules(self, model: str | None = None) -> list[AlertRule]:
        query = select(alert_rules.c.spec).order_by(alert_rules.c.model, alert_rules.c.name)
        if model is not None:
            query = query.where(alert_rules.c.model == model)
        with self.engine.connect() as conn:
            return [rule_from_dict(spec) for spec in conn.execute(query).scalars()]

    def delete_rule(self, model: str, name: str) -> None:
        table = alert_rules
        with self.engine.begin() as conn:
            gone = conn.execute(delete(table).where(table.c.model == model, table.c.name == name)).rowcount
            conn.execute(delete(alert_state).where(alert_state.c.model == model, alert_state.c.name == name))
        if not gone:
            raise NotFoundError(f"alert rule {name!r} of model {model!r} does not exist (see: GET /api/v1/alerts/{model})")

    def state(self, rule: AlertRule) -> RuleState:
        table = alert_state
        with self.engine.connect() as conn:
            row = conn.execute(select(table).where(table.c.model == rule.model, table.c.name == rule.name)).mappings().first()
        return _state(row) if row is not None else RuleState([], False, None)

    def states(self) -> list[tuple[str, str, RuleState]]:
        """(model, rule name, state) of every evaluated rule: what a replica that is not the evaluator shows."""
        table = alert_state
        with self.engine.connect() as conn:
            rows = conn.execute(select(table).order_by(table.c.model, table.c.name)).mappings().all()
        return [(row["model"], row["name"], _state(row)) for row in rows]

    def save(self, rule: AlertRule, state: RuleState, event: AlertEvent | None) -> None:
        """Write a rule's new state and, in the same transaction, the event it produced."""
        table = alert_state
        values = {"history": state.history, "firing": state.firing, "last_fired_at": state.last_fired_at,
                  "last_evaluated_at": self.clock.now(), "last_value": state.value}
        with self.engine.begin() as conn:
            done = conn.execute(update(table).where(table.c.model == rule.model, table.c.name == rule.name)
                                .values(**values)).rowcount
            if not done:
                conn.execute(insert(table).values(model=rule.model, name=rule.name, **values))
            if event is not None:
                conn.execute(insert(alert_events).values(
                    model=event.model, name=event.rule, kind=event.kind, severity=event.severity, at=event.at,
                    value=event.value, threshold=event.threshold, details=event.details))

    def events(self, model: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Alert history, newest first."""
        table = alert_events
        query = select(table).order_by(table.c.at.desc(), table.c.id.desc()).limit(limit)
        if model is not None:
            query = query.where(table.c.model == model)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [{"model": r["model"], "rule": r["name"], "kind": r["kind"], "severity": r["severity"],
                 "at": as_utc(r["at"]).isoformat(), "value": r["value"], "threshold": r["threshold"],
                 "details": r["details"]} for r in rows]


def _state(row: Any) -> RuleState:
    fired = as_utc(row["last_fired_at"]) if row["last_fired_at"] is not None else None
    return RuleState(list(row["history"]), bool(row["firing"]), fired, row["last_value"])


class Lease:
    """A named lease row: whoever holds it unexpired is the one evaluator among all replicas."""

    def __init__(self, engine: Engine, name: str, holder: str, ttl: timedelta, clock: Clock | None = None) -> None:
        self.engine = engine
        self.name = name
        self.holder = holder
        self.ttl = ttl
        self.clock = clock or SystemClock()

    def acquire(self) -> bool:
        """Take or renew the lease; False while another holder's lease is unexpired."""
        now = self.clock.now()
        table = leases
        # One conditional UPDATE is atomic on SQLite and PostgreSQL alike: no read-then-write race.
        with self.engine.begin() as conn:
            taken = conn.execute(update(table).where(table.c.name == self.name,
                                                     or_(table.c.holder == self.holder, table.c.expires_at < now))
                                 .values(holder=self.holder, expires_at=now + self.ttl)).rowcount
        if taken:
            return True
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(table).values(name=self.name, holder=self.holder, expires_at=now + self.ttl))
        except exc.IntegrityError:
            return False
        return True

    def release(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(leases).where(leases.c.name == self.name, leases.c.holder == self.holder))
