"""Rollouts judged step by step on a ManualClock, from rows written straight into the prediction log."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import numpy as np
import pytest

from modelport.foundation.clock import ManualClock
from modelport.foundation.errors import ConflictError, InvalidInputError, NotFoundError
from modelport.monitoring.feedback import FeedbackStore
from modelport.monitoring.log import PredictionLog
from modelport.registry.service import Registry
from modelport.rollout.controller import RolloutController
from modelport.rollout.service import Deployments, start_canary
from modelport.rollout.store import Change

_ids = itertools.count()


def serve(registry: Registry, clock: ManualClock, version: int, count: int, *, errors: int = 0,
          latency_ms: float = 5.0, outputs: Any = 1, labels: Any = None) -> list[str]:
    """Log `count` rows answered by `version` one second ago (`errors` of them failed); label some."""
    ids = [f"p{next(_ids)}" for _ in range(count)]
    rng = np.random.default_rng(len(ids) + version)
    values = np.resize(np.asarray(outputs), count)
    rows = [{"prediction_id": pid, "model": "iris", "version": version, "route": "primary",
             "time": clock.now() - timedelta(milliseconds=500), "inputs": {"x": 1.0},
             "outputs": None if i < errors else int(values[i]), "latency_ms": latency_ms * (1 + 0.1 * rng.random()),
             "status": "ModelExecutionError" if i < errors else "ok"} for i, pid in enumerate(ids)]
    PredictionLog(registry.store.engine, clock).write(rows)
    if labels is not None:
        truth = np.resize(np.asarray(labels), count)
        FeedbackStore(registry.store.engine, clock).submit(
            [{"prediction_id": pid, "label": int(truth[i])} for i, pid in enumerate(ids) if i >= errors])
    return ids


def test_a_canary_waits_for_its_minimums_then_advances_and_is_promoted(clocked) -> None:  # type: ignore[no-untyped-def]
    registry, clock = clocked
    deployments = Deployments(registry, clock=clock)
    controller = RolloutController(registry, clock=clock)
    status = deployments.deploy("iris", "canary", version=2, actor="alice", steps=[10, 50, 100],
                                step_duration_s=60, min_requests=100)
    assert status["traffic"] == {"2": 10.0, "1": 90.0} and status["started_by"] == "alice"
    clock.advance(10)
    serve(registry, clock, 2, 120)
    serve(registry, clock, 1, 900)
    assert controller.tick() == []  # enough requests, but the step lasts 60 s
    assert "waiting" in deployments.status("iris")["analysis"]
    clock.advance(60)
    assert [d["decision"] for d in controller.tick()] == ["advance"]
    assert deployments.status("iris")["traffic"] == {"2": 50.0, "1": 50.0}
    assert controller.tick() == []  # the new step starts with an empty window
    clock.advance(61)
    serve(registry, clock, 2, 300)
    serve(registry, clock, 1, 300)
    assert [d["decision"] for d in controller.tick()] == ["promote"]
    status = deployments.status("iris")
    assert status["state"] == "promoted" and status["traffic"] == {"2": 100.0} and status["champion"] == 2
    checks = {c["check"]: c["status"] for c in status["events"][-1]["analysis"]["checks"]}
    assert checks == {"error_rate": "pass", "latency": "pass", "prediction_drift": "pass", "feedback": "insufficient"}
    actions = [e.action for e in registry.store.audit_entries(20)]
    assert {"rollout.start", "rollout.advance", "rollout.promote", "alias", "deployment"} <= set(actions)


@pytest.mark.parametrize(("canary", "failing"), [
    ({"errors": 30}, "error_rate"),
    ({"latency_ms": 80.0}, "latency"),
    ({"outputs": [0, 2]}, "prediction_drift"),
    ({"labels": [0]}, "feedback"),
])
def test_each_guardrail_rolls_a_canary_back_and_leaves_the_alias(clocked, canary, failing) -> None:  # type: ignore[no-untyped-def]
    registry, clock = clocked
    deployments = Deployments(registry, clock=clock)
    deployments.deploy("iris", "canary", version=2, actor="bob", steps=[50, 100], min_requests=100,
                       step_duration_s=0)
    clock.advance(5)
    serve(registry, clock, 2, 200, **canary)
    serve(registry, clock, 1, 200, labels=[1])
    applied = RolloutController(registry, clock=clock).tick()
    assert [d["decision"] for d in applied] == ["rollback"]
    status = deployments.status("iris")
    assert status["state"] == "rolled_back" and failing in status["reason"]
    assert status["champion"] == 1 and status["traffic"] == {"1": 100.0}
    assert registry.store.get_model("iris").aliases["champion"] == 1


def test_a_step_without_traffic_times_out_into_a_rollback(clocked) -> None:  # type: ignore[no-untyped-def]
    registry, clock = clocked
    start_canary(registry, "iris", 2, steps=[5, 100], step_timeout_s=600)
    controller = RolloutController(registry, clock=clock)
    clock.advance(300)
    assert controller.tick() == []
    clock.advance(301)
    assert [d["decision"] for d in controller.tick()] == ["rollback"]
    assert "step timeout" in Deployments(registry).status("iris")["reason"]


def test_two_replicas_never_both_apply_a_step(clocked) -> None:  # type: ignore[no-untyped-def]
    registry, clock = clocked
    deployments = Deployments(registry, clock=clock)
    deployments.deploy("iris", "canary", version=2, actor="a", steps=[10, 50, 100], min_requests=10,
                       step_duration_s=0)
    record = deployments.store.latest("iris")
    assert record is not None
    first = deployments.store.apply(record, Change("advance", "replica one", "r1", step=1))
    second = deployments.store.apply(record, Change("advance", "replica two", "r2", step=1))
    assert (first, second) == (True, False)
    assert [e["actor"] for e in deployments.store.events(record.id)] == ["a", "r1"]
    lease = timedelta(seconds=10)
    assert deployments.store.lease("controller", "one", lease) and not deployments.store.lease("controller", "two", lease)
    clock.advance(11)
    assert deployments.store.lease("controller", "two", lease)


def test_a_restarted_controller_resumes_from_the_registry(clocked, settings) -> None:  # type: ignore[no-untyped-def]
    registry, clock = clocked
    Deployments(registry, clock=clock).deploy("iris", "canary", version=2, actor="a", steps=[50, 100],
                                              min_requests=50, step_duration_s=0)
    clock.advance(5)
    serve(registry, clock, 2, 100)
    serve(registry, clock, 1, 100)
    reopened = Registry.open(settings, clock=clock)  # a new process: nothing kept in memory
    try:
        assert [d["decision"] for d in RolloutController(reopened, clock=clock).tick()] == ["promote"]
    finally:
        reopened.close()
    assert registry.store.get_model("iris").aliases["champion"] == 2


def test_blue_green_keeps_the_old_version_then_finalises(clocked) -> None:  # type: ignore[no-untyped-def]
    registry, clock = clocked
    deployments = Deployments(registry, clock=clock)
    status = deployments.deploy("iris", "blue-green", version=3, actor="a", keep_old_s=120)
    assert status["traffic"] == {"3": 100.0, "1": 0.0} and status["champion"] == 1
    controller = RolloutController(registry, clock=clock)
    assert controller.tick() == []
    clock.advance(121)
    assert [d["decision"] for d in controller.tick()] == ["promote"]
    assert deployments.status("iris")["champion"] == 3


def test_single_replaces_at_once_after_a_smoke_test(clocked) -> None:  # type: ignore[no-untyped-def]
    registry, clock = clocked
    status = Deployments(registry, clock=clock).deploy("iris", "single", version=3, actor="a")
    assert status["state"] == "promoted" and status["champion"] == 3 and status["traffic"] == {"3": 100.0}


def test_ab_records_its_decision_once_and_promote_takes_the_winner(clocked) -> None:  # type: ignore[no-untyped-def]
    registry, clock = clocked
    deployments = Deployments(registry, clock=clock)
    deployments.deploy("iris", "ab", version=2, actor="a", split=50, sticky="header:X-User-Id", min_samples=100)
    controller = RolloutController(registry, clock=clock)
    clock.advance(5)
    serve(registry, clock, 1, 600, outputs=[1], labels=[1, 0])  # A right half the time
    serve(registry, clock, 2, 600, outputs=[1], labels=[1, 1, 1, 0])  # B right 3 times in 4
    assert [d["decision"] for d in controller.tick()] == ["decided"]
    assert controller.tick() == []  # decided once; the test keeps reporting
    status = deployments.status("iris")
    ab = status["analysis"]["ab"]
    assert status["state"] == "running" and status["analysis"]["decided"] == 2
    assert ab["decision"] == "b_better" and ab["interval"][0] > 0 and ab["lift"] == pytest.approx(0.5, abs=0.05)
    assert deployments.promote("iris", actor="a")["champion"] == 2


def test_ab_auto_promotion_of_the_winner(clocked) -> None:  # type: ignore[no-untyped-def]
    registry, clock = clocked
    Deployments(registry, clock=clock).deploy("iris", "ab", version=2, actor="a", auto_promote=True)
    clock.advance(5)
    serve(registry, clock, 1, 600, outputs=[1], labels=[1, 0])
    serve(registry, clock, 2, 600, outputs=[1], labels=[1, 1, 1, 0])
    assert [d["decision"] for d in RolloutController(registry, clock=clock).tick()] == ["promote"]
    assert registry.store.get_model("iris").aliases["champion"] == 2


def test_bandit_reallocates_and_promote_picks_the_best_arm(clocked) -> None:  # type: ignore[no-untyped-def]
    registry, clock = clocked
    deployments = Deployments(registry, clock=clock)
    deployments.deploy("iris", "bandit", versions=[2, 3], actor="a", step_duration_s=30)
    controller = RolloutController(registry, clock=clock)
    clock.advance(5)
    serve(registry, clock, 2, 300, outputs=[1], labels=[1, 1, 1, 0])
    serve(registry, clock, 3, 300, outputs=[1], labels=[1, 0])
    assert controller.tick() == []  # reallocation waits for the step duration
    clock.advance(26)
    assert [d["decision"] for d in controller.tick()] == ["reallocate"]
    traffic = deployments.status("iris")["traffic"]
    assert traffic["2"] > 90
    assert deployments.promote("iris", actor="a")["champion"] == 2


def test_shadow_policy_and_abort(clocked) -> None:  # type: ignore[no-untyped-def]
    registry, clock = clocked
    deployments = Deployments(registry, clock=clock)
    deployments.deploy("iris", "shadow", version=2, actor="a", fraction=0.25)
    shown = deployments.show("iris")
    assert shown["policy"]["shadows"] == [{"version": 2, "fraction": 0.25}] and shown["traffic"] == {"1": 100.0}
    status = deployments.abort("iris", actor="a")
    assert status["state"] == "aborted" and deployments.show("iris")["follows_champion"]


def test_bad_requests_are_refused_with_reasons(clocked) -> None:  # type: ignore[no-untyped-def]
    registry, clock = clocked
    deployments = Deployments(registry, clock=clock)
    with pytest.raises(NotFoundError, match="no version 9"):
        deployments.deploy("iris", "canary", version=9, actor="a")
    with pytest.raises(InvalidInputError, match="already the one serving"):
        deployments.deploy("iris", "canary", version=1, actor="a")
    with pytest.raises(InvalidInputError, match="needs the new version"):
        deployments.deploy("iris", "canary", actor="a")
    with pytest.raises(InvalidInputError, match="two or more"):
        deployments.deploy("iris", "bandit", versions=[2], actor="a")
    with pytest.raises(InvalidInputError, match="steps"):
        deployments.deploy("iris", "canary", version=2, actor="a", steps=[50, 10])
    with pytest.raises(InvalidInputError, match="unknown rollout settings"):
        deployments.deploy("iris", "canary", version=2, actor="a", colour="red")
    with pytest.raises(InvalidInputError, match="unknown guardrail"):
        deployments.deploy("iris", "canary", version=2, actor="a", guardrails={"max_fun": 1})
    with pytest.raises(NotFoundError, match="no running rollout"):
        deployments.promote("iris", actor="a")
    deployments.deploy("iris", "canary", version=2, actor="a")
    with pytest.raises(ConflictError, match="rollout abort"):
        deployments.put("iris", {"routes": [{"version": 3, "weight": 100}]}, actor="a")
