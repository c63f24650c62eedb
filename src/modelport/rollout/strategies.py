"""Judging one look at a running rollout: wait (with the numbers so far), advance, promote or roll back.

Pure decisions over evidence read from the prediction log and feedback; the controller applies
them with compare-and-set. `restore` is the policy that sends all traffic back to the stable
version: the default policy (follow `@champion`) when the champion is the stable version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from modelport.rollout import guardrails as checks
from modelport.rollout.bandit import Arm, allocate, shares_to_weights
from modelport.rollout.evidence import Evidence, VersionSample, plain_array
from modelport.rollout.policy import Policy, Route, single, split
from modelport.rollout.sequential import ArmSummary, sequential_test
from modelport.rollout.spec import RolloutSpec
from modelport.rollout.store import RUNNING, Change, RolloutRecord

CONTROLLER = "rollout-controller"


@dataclass(frozen=True)
class Look:
    """What one look at a rollout found: a change to apply (None: keep waiting) and the numbers."""

    change: Change | None
    status: dict[str, Any] = field(default_factory=dict)


def restore(spec: RolloutSpec, champion: int | None) -> Policy:
    """All traffic back to the stable version (following @champion when that is the stable one)."""
    if spec.stable is None or champion == spec.stable:
        return Policy()
    return single(spec.stable)


def promoted(spec: RolloutSpec, version: int, reason: str, actor: str, analysis: dict[str, Any]) -> Change:
    """The change that makes `version` the champion and the deployment follow it."""
    return Change("promote", reason, actor, state="promoted", policy=Policy(), promote=version,
                  analysis=analysis, status={"winner": version})


def rolled_back(spec: RolloutSpec, champion: int | None, reason: str, actor: str, analysis: dict[str, Any],
                state: str = "rolled_back") -> Change:
    """The change that sends all traffic back to the stable version, the alias untouched."""
    decision = "abort" if state == "aborted" else "rollback"
    return Change(decision, reason, actor, state=state, policy=restore(spec, champion), analysis=analysis)


def judge(record: RolloutRecord, spec: RolloutSpec, evidence: Evidence, now: datetime,
          champion: int | None) -> Look:
    """One look at a running rollout."""
    if record.state != RUNNING:
        return Look(None)
    if spec.strategy == "canary":
        return judge_canary(record, spec, evidence, now, champion)
    if spec.strategy == "blue-green":
        return judge_blue_green(record, spec, now)
    if spec.strategy == "ab":
        return judge_ab(record, spec, evidence, now, champion)
    if spec.strategy == "bandit":
        return judge_bandit(record, spec, evidence, now)
    if spec.strategy == "shadow":
        return Look(None, {"shadow": shadow_report(record.deployment, spec, evidence, record.started_at, now)})
    return Look(None)


# --- canary ---------------------------------------------------------------------------------
def judge_canary(record: RolloutRecord, spec: RolloutSpec, evidence: Evidence, now: datetime,
                 champion: int | None) -> Look:
    assert spec.candidate is not None and spec.stable is not None
    samples = evidence.samples(record.deployment, record.step_started_at, now)
    canary = samples.get(spec.candidate, VersionSample(spec.candidate))
    stable = samples.get(spec.stable, VersionSample(spec.stable))
    results = guardrail_results(spec, canary, stable, evidence, record, now)
    analysis = {"step": record.step, "percent": spec.steps[record.step], "canary": canary.to_dict(),
                "stable": stable.to_dict(), "checks": results}
    failed = [r for r in results if r["status"] == "fail"]
    if failed:
        reason = "guardrail failed: " + "; ".join(f"{r['check']}: {r['reason']}" for r in failed)
        return Look(rolled_back(spec, champion, reason, CONTROLLER, analysis), {"analysis": analysis})
    elapsed = (now - record.step_started_at).total_seconds()
    if canary.total < spec.min_requests or elapsed < spec.step_duration_s:
        if elapsed > spec.step_timeout_s:
            reason = (f"step {record.step} saw {canary.total} of {spec.min_requests} canary requests in "
                      f"{elapsed:.0f}s (step timeout {spec.step_timeout_s:.0f}s)")
            return Look(rolled_back(spec, champion, reason, CONTROLLER, analysis), {"analysis": analysis})
        return Look(None, {"analysis": analysis, "waiting": _waiting(spec, canary.total, elapsed)})
    following = record.step + 1
    if following >= len(spec.steps) or spec.steps[following] >= 100:
        reason = f"every step passed; version {spec.candidate} takes 100% and becomes champion"
        return Look(promoted(spec, spec.candidate, reason, CONTROLLER, analysis), {"analysis": analysis})
    percent = spec.steps[following]
    reason = f"step {record.step} ({spec.steps[record.step]:g}%) passed; canary to {percent:g}%"
    policy = split(spec.stable, spec.candidate, percent, strategy="canary", sticky=spec.sticky)
    return Look(Change("advance", reason, CONTROLLER, step=following, policy=policy, analysis=analysis),
                {"analysis": analysis})


def guardrail_results(spec: RolloutSpec, canary: VersionSample, stable: VersionSample, evidence: Evidence,
                      record: RolloutRecord, now: datetime) -> list[dict[str, Any]]:
    """Every canary check on this step's window."""
    g = spec.guardrails
    results = [checks.error_rate(canary.errors, canary.total, stable.errors, stable.total, g),
               checks.latency(canary.latency_ms, stable.latency_ms, g),
               checks.prediction_drift(canary.predictions, stable.predictions, g)]
    rewards = evidence.rewards(record.deployment, record.step_started_at, now, "accuracy")
    empty = np.zeros(0)
    results.append(checks.feedback_metric(rewards.get(canary.version, empty), rewards.get(stable.version, empty), g))
    return results


def _waiting(spec: RolloutSpec, seen: int, elapsed: float) -> str:
    return (f"waiting: {seen}/{spec.min_requests} canary requests, "
            f"{min(elapsed, spec.step_duration_s):.0f}/{spec.step_duration_s:.0f}s of the step")


# --- blue-green -----------------------------------------------------------------------------
def judge_blue_green(record: RolloutRecord, spec: RolloutSpec, now: datetime) -> Look:
    assert spec.candidate is not None
    elapsed = (now - record.started_at).total_seconds()
    if elapsed < spec.keep_old_s:
        return Look(None, {"waiting": f"version {spec.stable} kept warm for instant abort: "
                                      f"{elapsed:.0f}/{spec.keep_old_s:.0f}s"})
    reason = f"version {spec.candidate} served alone for {spec.keep_old_s:.0f}s; it becomes champion"
    return Look(promoted(spec, spec.candidate, reason, CONTROLLER, {}))


# --- A/B ------------------------------------------------------------------------------------
def judge_ab(record: RolloutRecord, spec: RolloutSpec, evidence: Evidence, now: datetime,
             champion: int | None) -> Look:
    assert spec.candidate is not None and spec.stable is not None
    rewards = evidence.rewards(record.deployment, record.started_at, now, spec.metric)
    a = ArmSummary.of(rewards.get(spec.stable, np.zeros(0)))
    b = ArmSummary.of(rewards.get(spec.candidate, np.zeros(0)))
    previous = float(record.status.get("ab", {}).get("p_value", 1.0))
    result = sequential_test(a, b, alpha=spec.alpha, effect=spec.effect, previous_p=previous,
                             min_samples=spec.min_samples)
    status = {"ab": {**result.to_dict(), "a": spec.stable, "b": spec.candidate, "metric": spec.metric}}
    if result.decision == "continue" or record.status.get("decided"):
        return Look(None, status)
    winner = spec.candidate if result.decision == "b_better" else spec.stable
    reason = (f"sequential test decided: version {winner} is better on {spec.metric} "
              f"(difference {result.difference:+.4f}, always-valid p={result.p_value:.3g})")
    if not spec.auto_promote:
        return Look(Change("decided", reason, CONTROLLER, status={**status, "decided": winner},
                           analysis=status), status)
    if winner == spec.candidate:
        return Look(promoted(spec, winner, reason, CONTROLLER, status), status)
    return Look(rolled_back(spec, champion, reason, CONTROLLER, status), status)


# --- bandit ---------------------------------------------------------------------------------
def judge_bandit(record: RolloutRecord, spec: RolloutSpec, evidence: Evidence, now: datetime) -> Look:
    rewards = evidence.rewards(record.deployment, record.started_at, now, spec.metric)
    arms = [Arm.of(v, rewards.get(v, np.zeros(0))) for v in spec.versions]
    allocation = allocate(arms, binary=spec.metric == "accuracy", floor=spec.floor, seed=record.seq)
    status = {"bandit": {**allocation.to_dict(), "rewards": {str(a.version): a.n for a in arms}}}
    if (now - record.step_started_at).total_seconds() < spec.step_duration_s:
        return Look(None, status)
    weights = shares_to_weights(allocation.shares)
    policy = Policy("bandit", tuple(Route(v, weights[v]) for v in spec.versions), sticky=spec.sticky)
    reason = "traffic follows P(best): " + ", ".join(f"{v}: {weights[v]:g}%" for v in spec.versions)
    return Look(Change("reallocate", reason, CONTROLLER, step=record.step + 1, policy=policy, analysis=status,
                       status=status), status)


# --- shadow ---------------------------------------------------------------------------------
def shadow_report(name: str, spec: RolloutSpec, evidence: Evidence, since: datetime, now: datetime) -> dict[str, Any]:
    """Agreement with the primary, prediction drift and latency of the shadow, over the rollout so far."""
    pairs = evidence.shadow_pairs(name, since, now)
    pairs = pairs[pairs["version"] == spec.candidate]
    if pairs.empty:
        return {"copies": 0}
    shadow_ms = pairs["latency_ms"].to_numpy(np.float64)
    primary_ms = pairs["primary_latency_ms"].to_numpy(np.float64)
    drift = checks.prediction_drift(plain_array(pairs["shadow"].to_numpy()), plain_array(pairs["primary"].to_numpy()),
                                    spec.guardrails)
    return {"copies": len(pairs), "agreement": float(pairs["agree"].mean()),
            "latency_ms": {"shadow_p50": float(np.percentile(shadow_ms, 50)),
                           "shadow_p99": float(np.percentile(shadow_ms, 99)),
                           "primary_p50": float(np.percentile(primary_ms, 50)),
                           "primary_p99": float(np.percentile(primary_ms, 99))},
            "prediction_drift": drift}
