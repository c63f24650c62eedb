"""Automatic rollouts of `@challenger` (rollout/challenger.py), driven by the controller's tick on a ManualClock."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelport.foundation.clock import ManualClock
from modelport.foundation.errors import InvalidInputError
from modelport.registry.service import Registry
from modelport.rollout.challenger import ChallengerRollouts, check_strategy
from modelport.rollout.controller import RolloutController
from modelport.rollout.service import Deployments


def _auto(registry: Registry, clock: ManualClock, strategy: str = "canary") -> RolloutController:
    auto = ChallengerRollouts(registry, strategy, clock=clock, every_s=5.0)
    return RolloutController(registry, clock=clock, starters=[auto.tick])


def test_a_new_challenger_gets_one_canary(clocked) -> None:
    registry, clock = clocked
    controller = _auto(registry, clock)
    assert controller.tick() == []  # no challenger yet
    registry.set_alias("iris", 2, "challenger")
    clock.advance(5)
    assert controller.tick() == [{"deployment": "iris", "decision": "start", "version": 2}]
    status = Deployments(registry).status("iris")
    assert (status["strategy"], status["state"], status["candidate"], status["stable"]) == ("canary", "running", 2, 1)
    assert status["started_by"] == "auto-rollout"
    clock.advance(5)
    assert controller.tick() == []  # running: judged by the controller, not started again


def test_a_judged_challenger_is_not_started_again_until_the_alias_moves(clocked) -> None:
    registry, clock = clocked
    controller = _auto(registry, clock)
    registry.set_alias("iris", 2, "challenger")
    controller.tick()
    Deployments(registry).abort("iris", actor="tester")
    clock.advance(10)
    assert controller.tick() == []  # version 2 had its rollout, rolled back: not retried
    registry.set_alias("iris", 3, "challenger")
    clock.advance(10)
    assert controller.tick() == [{"deployment": "iris", "decision": "start", "version": 3}]


def test_the_champion_as_challenger_and_a_too_early_tick_start_nothing(clocked) -> None:
    registry, clock = clocked
    controller = _auto(registry, clock)
    registry.set_alias("iris", 1, "challenger")  # already serving
    assert controller.tick() == []
    registry.set_alias("iris", 2, "challenger")
    assert controller.tick() == []  # within every_s of the last look
    clock.advance(5)
    assert controller.tick()[0]["version"] == 2


def test_off_starts_nothing(clocked) -> None:
    registry, clock = clocked
    registry.set_alias("iris", 2, "challenger")
    assert _auto(registry, clock, "off").tick() == []


def test_a_challenger_that_fails_its_smoke_test_is_refused_once_and_audited(clocked) -> None:
    registry, clock = clocked
    stored = Path(registry.artifacts._key(registry.store.get_version("iris", 3).artifact_digest))
    stored.write_bytes(stored.read_bytes()[:-10] + b"tampered!!")  # the digest check fails at load
    for cached in registry.artifacts.cache_dir.rglob("model.skops"):
        cached.unlink()
    registry.set_alias("iris", 3, "challenger")
    controller = _auto(registry, clock)
    assert controller.tick() == []
    clock.advance(10)
    assert controller.tick() == []
    refusals = [e for e in registry.store.audit_entries() if e.action == "rollout.auto_refused"]
    assert len(refusals) == 1 and "smoke test of iris:3 failed" in refusals[0].details["reason"]
    assert Deployments(registry).status("iris")["state"] == "none"


@pytest.mark.parametrize("strategy", ["bandit", "single", "CANARY", ""])
def test_strategies_automatic_rollouts_cannot_use(strategy: str) -> None:
    with pytest.raises(InvalidInputError, match="--auto-rollout"):
        check_strategy(strategy)
