"""Automatic rollouts: a version given the alias `challenger` is judged against the one serving.

A retraining pipeline (started by hand, by cron, or by an alert rule with `retrain = true`)
registers its model with `--alias challenger`; a server started with `--auto-rollout canary`
then starts a canary of it (smoke test first), which the rollout controller promotes or rolls
back on the evidence like any other. Each challenger version is judged once: a version that
already had a rollout, whatever its end, is not started again until the alias moves.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from modelport.foundation.clock import Clock
from modelport.foundation.errors import InvalidInputError, ModelportError
from modelport.registry.records import ModelRecord
from modelport.registry.service import Registry
from modelport.rollout.service import Deployments
from modelport.rollout.store import RUNNING

log = logging.getLogger("modelport.rollout")

CHALLENGER = "challenger"
AUTO_STRATEGIES = ("off", "canary", "shadow", "ab", "blue-green")
ACTOR = "auto-rollout"


def check_strategy(strategy: str) -> str:
    """`strategy` if automatic rollouts can use it, else a clear error."""
    if strategy not in AUTO_STRATEGIES:
        raise InvalidInputError(f"--auto-rollout {strategy!r}: use one of {', '.join(AUTO_STRATEGIES)}",
                                field="auto_rollout")
    return strategy


class ChallengerRollouts:
    """Starts one rollout per new `@challenger` version; `tick()` is called by the rollout controller."""

    def __init__(self, registry: Registry, strategy: str, *, clock: Clock | None = None, every_s: float = 5.0,
                 options: Mapping[str, Any] | None = None) -> None:
        self.registry = registry
        self.strategy = check_strategy(strategy)
        self.deployments = Deployments(registry, clock=clock)
        self.clock = clock or registry.store.clock
        self.every_s = every_s
        self.options = dict(options or {})
        self._next = float("-inf")
        self._refused: set[tuple[str, int]] = set()

    def due(self, model: ModelRecord) -> int | None:
        """The challenger version of `model` that waits for a rollout, or None."""
        version = model.aliases.get(CHALLENGER)
        if version is None or (model.name, version) in self._refused:
            return None
        if version == self.deployments.serving_version(model.name):
            return None
        if self.registry.store.get_version(model.name, version).status != "ready":
            return None
        latest = self.deployments.store.latest(model.name)
        if latest is not None and latest.state == RUNNING:  # one rollout at a time; this one waits its turn
            return None
        return None if version in self.deployments.store.candidates(model.name) else version

    def tick(self) -> list[dict[str, Any]]:
        """Start the rollouts that are due (at most every `every_s` seconds); what was started."""
        if self.strategy == "off" or self.clock.monotonic() < self._next:
            return []
        self._next = self.clock.monotonic() + self.every_s
        started = []
        for model in self.registry.store.list_models():
            version = self.due(model)
            if version is not None and self._start(model.name, version):
                started.append({"deployment": model.name, "decision": "start", "version": version})
        return started

    def _start(self, name: str, version: int) -> bool:
        try:
            self.deployments.deploy(name, self.strategy, version=version, actor=ACTOR, **self.options)
        except ModelportError as exc:  # a failed smoke test, a rollout already running...: once, not every tick
            self._refused.add((name, version))
            log.warning("automatic %s of %s:%d not started: %s", self.strategy, name, version, exc)
            self.registry.store.record_audit(ACTOR, "rollout.auto_refused", name,
                                             {"version": version, "reason": exc.message})
            return False
        log.info("automatic %s of %s:%d started", self.strategy, name, version)
        return True
