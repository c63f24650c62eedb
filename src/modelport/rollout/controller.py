"""The rollout controller: looks at every running rollout on a schedule and applies what the judge decides.

It keeps no state of its own: everything is read from the registry on each tick, so a server
restarted in the middle of a rollout resumes it where the database says it stands. Decisions are
applied with compare-and-set (see store.py), and a lease keeps one controller active among
replicas, so two replicas never both advance a step. Tests call `tick()` with a ManualClock.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from modelport.foundation.clock import Clock
from modelport.foundation.errors import NotFoundError
from modelport.registry.service import Registry
from modelport.registry.store import DEFAULT_ALIAS
from modelport.rollout.evidence import Evidence
from modelport.rollout.spec import RolloutSpec
from modelport.rollout.store import Change, DeploymentStore, RolloutRecord
from modelport.rollout.strategies import judge

log = logging.getLogger("modelport.rollout.controller")
LEASE = "rollout-controller"


class RolloutController:
    """Judges running rollouts; `tick()` once, or `run()` forever inside the server."""

    def __init__(self, registry: Registry, *, clock: Clock | None = None, holder: str | None = None,
                 lease_s: float = 15.0, starters: Sequence[Callable[[], list[dict[str, Any]]]] = ()) -> None:
        self.registry = registry
        self.clock = clock or registry.store.clock
        self.store = DeploymentStore(registry.store)
        self.evidence = Evidence(registry.store.engine, self.clock)
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease_s = lease_s
        self.starters = list(starters)  # e.g. ChallengerRollouts.tick: start rollouts, under the same lease

    def champion(self, name: str) -> int | None:
        """The version `@champion` points at, or None."""
        try:
            return self.registry.store.get_model(name).aliases.get(DEFAULT_ALIAS)
        except NotFoundError:
            return None

    def tick(self) -> list[dict[str, Any]]:
        """Look once at every running rollout; return the decisions this call applied."""
        applied = []
        for record in self.store.running():
            try:
                decision = self.look(record)
            except Exception:  # one broken rollout must not stop the others being judged
                log.exception("judging rollout %s of %s failed; retried on the next tick", record.id,
                              record.deployment)
                continue
            if decision is not None:
                applied.append({"deployment": record.deployment, "rollout": record.id, "decision": decision})
        for start in self.starters:
            try:
                applied.extend(start())
            except Exception:
                log.exception("starting automatic rollouts failed; retried on the next tick")
        return applied

    def look(self, record: RolloutRecord) -> str | None:
        """Judge one rollout and apply the decision; None when it keeps waiting or another replica won."""
        spec = RolloutSpec.from_dict(record.spec)
        seen = judge(record, spec, self.evidence, self.clock.now(), self.champion(record.deployment))
        if seen.change is None:
            if seen.status:
                self.store.note(record, seen.status)
            return None
        change: Change = replace(seen.change, status={**seen.status, **seen.change.status})
        if not self.store.apply(record, change):
            return None
        log.info("rollout %s of %s: %s (%s)", record.id, record.deployment, change.decision, change.reason)
        return change.decision

    def leading(self) -> bool:
        """Take or renew the lease that makes this controller the active one."""
        return self.store.lease(LEASE, self.holder, timedelta(seconds=self.lease_s))

    async def run(self, interval_s: float = 1.0) -> None:
        """Tick forever while holding the lease (cancel the task to stop)."""
        while True:
            try:
                if await asyncio.to_thread(self.leading):
                    await asyncio.to_thread(self.tick)
            except Exception:
                log.exception("rollout controller tick failed; retrying")
            await asyncio.sleep(interval_s)
