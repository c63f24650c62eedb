"""Deployments and rollouts in the database: policies with history, rollouts advanced by compare-and-set.

Every change commits in one transaction with its history row and its audit entry. A rollout
decision is applied with `UPDATE rollouts ... WHERE id = :id AND seq = :seen AND state = 'running'`:
when two replicas judge the same step, exactly one update matches and the other one's whole
transaction (policy, alias move, event) is rolled back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update
from sqlalchemy.exc import IntegrityError as DBIntegrityError

from modelport.foundation.errors import ConflictError, NotFoundError
from modelport.registry.store import DEFAULT_ALIAS, RegistryStore
from modelport.rollout.policy import Policy
from modelport.storage.database import reader
from modelport.storage.schema import deployment_history, deployments, leases, rollout_events, rollouts

RUNNING = "running"
STATES = (RUNNING, "promoted", "rolled_back", "aborted")


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


@dataclass(frozen=True)
class Deployment:
    """A deployment's current policy and its revision."""

    name: str
    model: str
    policy: Policy
    revision: int
    updated_by: str
    updated_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "model": self.model, "policy": self.policy.to_dict(), "revision": self.revision,
                "updated_by": self.updated_by,
                "updated_at": self.updated_at.isoformat() if self.updated_at else None}


@dataclass(frozen=True)
class RolloutRecord:
    """One rollout: its spec, where it stands, and `seq`, the counter decisions compare and set."""

    id: int
    deployment: str
    strategy: str
    state: str
    step: int
    seq: int
    spec: dict[str, Any]
    status: dict[str, Any]
    reason: str
    started_by: str
    started_at: datetime
    step_started_at: datetime
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "deployment": self.deployment, "strategy": self.strategy, "state": self.state,
                "step": self.step, "spec": self.spec, "status": self.status, "reason": self.reason,
                "started_by": self.started_by, "started_at": self.started_at.isoformat(),
                "step_started_at": self.step_started_at.isoformat(), "updated_at": self.updated_at.isoformat()}


@dataclass(frozen=True)
class Change:
    """A decision to apply to a running rollout, with everything that commits with it."""

    decision: str
    reason: str
    actor: str
    state: str = RUNNING
    step: int | None = None
    policy: Policy | None = None
    promote: int | None = None  # the version `champion` moves to
    status: dict[str, Any] = field(default_factory=dict)
    analysis: dict[str, Any] = field(default_factory=dict)


class DeploymentStore:
    """Reads and writes of the deployment and rollout tables (SQLAlchemy Core)."""

    def __init__(self, registry_store: RegistryStore) -> None:
        self.registry = registry_store
        self.engine = registry_store.engine
        self.clock = registry_store.clock
        self._read = reader(self.engine)

    # --- deployments --------------------------------------------------------------------
    def get(self, name: str) -> Deployment | None:
        """The stored policy of deployment `name`, or None (it follows @champion)."""
        with self._read.connect() as conn:
            row = conn.execute(select(deployments).where(deployments.c.name == name)).first()
        return None if row is None else _deployment(row)

    def all(self) -> dict[str, Deployment]:
        """Every stored deployment by name (one query: the serving watcher reads it every poll)."""
        with self._read.connect() as conn:
            rows = conn.execute(select(deployments)).all()
        return {row.name: _deployment(row) for row in rows}

    def put(self, name: str, policy: Policy, *, actor: str, reason: str = "") -> Deployment:
        """Replace the policy of `name` atomically (revision + 1), keeping history and an audit entry."""
        with self.engine.begin() as conn:
            self._check_no_rollout(conn, name)
            revision = self._put(conn, name, policy, actor, reason)
        found = self.get(name)
        assert found is not None and found.revision == revision
        return found

    def _check_no_rollout(self, conn: Connection, name: str) -> None:
        running = conn.execute(select(rollouts.c.id).where(rollouts.c.deployment == name,
                                                           rollouts.c.state == RUNNING)).scalar()
        if running is not None:
            raise ConflictError(f"deployment {name!r} has rollout {running} running; "
                                f"run 'modelport rollout promote {name}' or 'modelport rollout abort {name}' first")

    def _put(self, conn: Connection, name: str, policy: Policy, actor: str, reason: str) -> int:
        now = self.clock.now()
        current = conn.execute(select(deployments.c.revision).where(deployments.c.name == name)).scalar()
        revision = (current or 0) + 1
        values = {"policy": policy.to_dict(), "revision": revision, "updated_by": actor, "updated_at": now}
        if current is None:
            conn.execute(insert(deployments).values(name=name, model=name, **values))
        else:
            conn.execute(update(deployments).where(deployments.c.name == name).values(**values))
        conn.execute(insert(deployment_history).values(name=name, revision=revision, policy=policy.to_dict(),
                                                       actor=actor, reason=reason, at=now))
        self.registry.audit_within(conn, actor, "deployment", name,
                                   {"revision": revision, "policy": policy.to_dict(), "reason": reason})
        return revision

    def history(self, name: str, limit: int = 50) -> list[dict[str, Any]]:
        """The latest policy changes of `name`, newest first."""
        table = deployment_history
        with self._read.connect() as conn:
            rows = conn.execute(select(table).where(table.c.name == name).order_by(table.c.id.desc()).limit(limit))
            return [{"revision": r.revision, "policy": r.policy, "actor": r.actor, "reason": r.reason,
                     "at": _utc(r.at).isoformat()} for r in rows]

    # --- rollouts -----------------------------------------------------------------------
    def start(self, name: str, strategy: str, spec: Mapping[str, Any], policy: Policy, *, actor: str,
              reason: str, promote: int | None = None, state: str = RUNNING) -> RolloutRecord:
        """Record a new rollout and set its first policy, in one transaction (refused while one runs)."""
        now = self.clock.now()
        with self.engine.begin() as conn:
            self._check_no_rollout(conn, name)
            self._put(conn, name, policy, actor, reason)
            if promote is not None:
                self.registry.set_alias_within(conn, name, DEFAULT_ALIAS, promote, actor)
            rollout_id = conn.execute(insert(rollouts).values(
                deployment=name, strategy=strategy, state=state, step=0, seq=0, spec=dict(spec), status={},
                reason=reason, started_by=actor, started_at=now, step_started_at=now, updated_at=now,
            ).returning(rollouts.c.id)).scalar_one()
            self._event(conn, rollout_id, 0, "start", reason, actor, {"spec": dict(spec), "policy": policy.to_dict()})
            self.registry.audit_within(conn, actor, "rollout.start", name,
                                       {"rollout": rollout_id, "strategy": strategy, "spec": dict(spec)})
        return self.rollout(rollout_id)

    def apply(self, record: RolloutRecord, change: Change) -> bool:
        """Apply `change` if nobody advanced `record` since it was read; False when another replica did."""
        now = self.clock.now()
        step = record.step if change.step is None else change.step
        with self.engine.begin() as conn:
            values: dict[str, Any] = {"state": change.state, "step": step, "seq": record.seq + 1,
                                      "reason": change.reason, "updated_at": now,
                                      "status": {**record.status, **change.status}}
            if step != record.step:
                values["step_started_at"] = now
            matched = conn.execute(update(rollouts).where(
                rollouts.c.id == record.id, rollouts.c.seq == record.seq, rollouts.c.state == RUNNING,
            ).values(**values)).rowcount
            if matched != 1:
                return False  # nothing written yet: the empty transaction commits harmlessly
            if change.policy is not None:
                self._put(conn, record.deployment, change.policy, change.actor, change.reason)
            if change.promote is not None:
                self.registry.set_alias_within(conn, record.deployment, DEFAULT_ALIAS, change.promote, change.actor)
            self._event(conn, record.id, step, change.decision, change.reason, change.actor, change.analysis)
            self.registry.audit_within(conn, change.actor, f"rollout.{change.decision}", record.deployment,
                                       {"rollout": record.id, "step": step, "state": change.state,
                                        "reason": change.reason, "analysis": change.analysis})
        return True

    def note(self, record: RolloutRecord, status: Mapping[str, Any]) -> None:
        """Keep the latest analysis of a step that is still waiting (no decision: `seq` unchanged)."""
        with self.engine.begin() as conn:
            conn.execute(update(rollouts).where(rollouts.c.id == record.id, rollouts.c.seq == record.seq)
                         .values(status={**record.status, **status}, updated_at=self.clock.now()))

    def _event(self, conn: Connection, rollout_id: int, step: int, decision: str, reason: str, actor: str,
               analysis: Mapping[str, Any]) -> None:
        conn.execute(insert(rollout_events).values(rollout_id=rollout_id, at=self.clock.now(), step=step,
                                                   decision=decision, reason=reason, actor=actor,
                                                   analysis=dict(analysis)))

    def rollout(self, rollout_id: int) -> RolloutRecord:
        with self._read.connect() as conn:
            row = conn.execute(select(rollouts).where(rollouts.c.id == rollout_id)).first()
        if row is None:
            raise NotFoundError(f"rollout {rollout_id} does not exist")
        return _rollout(row)

    def latest(self, name: str) -> RolloutRecord | None:
        """The most recent rollout of deployment `name`, or None."""
        with self._read.connect() as conn:
            row = conn.execute(select(rollouts).where(rollouts.c.deployment == name)
                               .order_by(rollouts.c.id.desc()).limit(1)).first()
        return None if row is None else _rollout(row)

    def candidates(self, name: str) -> set[int]:
        """Every version a rollout of deployment `name` has judged or is judging (its candidate)."""
        with self._read.connect() as conn:
            specs = conn.execute(select(rollouts.c.spec).where(rollouts.c.deployment == name)).scalars().all()
        return {int(spec["candidate"]) for spec in specs if isinstance(spec, dict) and spec.get("candidate") is not None}

    def running(self) -> list[RolloutRecord]:
        """Every rollout still running (what the controller judges on each tick)."""
        with self._read.connect() as conn:
            rows = conn.execute(select(rollouts).where(rollouts.c.state == RUNNING).order_by(rollouts.c.id)).all()
        return [_rollout(r) for r in rows]

    def events(self, rollout_id: int) -> list[dict[str, Any]]:
        """Every decision of a rollout with its numbers, oldest first."""
        table = rollout_events
        with self._read.connect() as conn:
            rows = conn.execute(select(table).where(table.c.rollout_id == rollout_id).order_by(table.c.id)).all()
        return [{"at": _utc(r.at).isoformat(), "step": r.step, "decision": r.decision, "reason": r.reason,
                 "actor": r.actor, "analysis": r.analysis} for r in rows]

    # --- one controller among replicas --------------------------------------------------
    def lease(self, name: str, holder: str, ttl: timedelta) -> bool:
        """Take or renew lease `name` for `ttl`; False while another holder's lease is live."""
        now = self.clock.now()
        try:
            with self.engine.begin() as conn:
                row = conn.execute(select(leases).where(leases.c.name == name)).first()
                if row is None:
                    conn.execute(insert(leases).values(name=name, holder=holder, expires_at=now + ttl))
                    return True
                if row.holder != holder and _utc(row.expires_at) > now:
                    return False
                conn.execute(update(leases).where(leases.c.name == name, leases.c.holder == row.holder)
                             .values(holder=holder, expires_at=now + ttl))
                return True
        except DBIntegrityError:  # another replica inserted the row first
            return False


def _deployment(row: Row[Any]) -> Deployment:
    return Deployment(row.name, row.model, Policy.from_dict(row.policy), row.revision, row.updated_by,
                      _utc(row.updated_at))


def _rollout(row: Row[Any]) -> RolloutRecord:
    return RolloutRecord(row.id, row.deployment, row.strategy, row.state, row.step, row.seq, dict(row.spec),
                         dict(row.status or {}), row.reason, row.started_by, _utc(row.started_at),
                         _utc(row.step_started_at), _utc(row.updated_at))
