"""Deployments and rollouts for people and programs: one facade used by the HTTP routes, the CLI and quickstart."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from modelport.foundation.clock import Clock
from modelport.foundation.errors import ConflictError, ModelExecutionError, ModelportError, NotFoundError
from modelport.foundation.names import validate_name
from modelport.registry.service import Registry
from modelport.rollout.bandit import Arm
from modelport.rollout.controller import RolloutController
from modelport.rollout.policy import Policy
from modelport.rollout.spec import RolloutSpec
from modelport.rollout.store import RUNNING, Change, RolloutRecord
from modelport.rollout.strategies import promoted, rolled_back

ATTEMPTS = 3


class Deployments:
    """Show and change deployment policies; start, inspect, promote and abort rollouts."""

    def __init__(self, registry: Registry, *, clock: Clock | None = None) -> None:
        self.registry = registry
        self.controller = RolloutController(registry, clock=clock)
        self.store = self.controller.store

    # --- deployments --------------------------------------------------------------------
    def serving_version(self, name: str) -> int | None:
        """The version answering most of `name`'s traffic now (by policy, else @champion, else latest)."""
        deployment = self.store.get(name)
        if deployment is not None and deployment.policy.routes:
            return max(deployment.policy.routes, key=lambda r: r.weight).version
        model = self.registry.store.get_model(name)
        return model.aliases.get("champion", model.latest_version)

    def show(self, name: str) -> dict[str, Any]:
        """The deployment of `name`: policy, revision, traffic and recent history."""
        model = self.registry.store.get_model(validate_name(name))
        deployment = self.store.get(name)
        policy = deployment.policy if deployment is not None else Policy()
        fallback = model.aliases.get("champion", model.latest_version)
        return {"name": name, "model": name, "policy": policy.to_dict(), "follows_champion": policy.follows_champion,
                "champion": model.aliases.get("champion"), "revision": deployment.revision if deployment else 0,
                "traffic": policy.percentages(fallback), "history": self.store.history(name, limit=20)}

    def put(self, name: str, policy: Mapping[str, Any] | Policy, *, actor: str, reason: str = "") -> dict[str, Any]:
        """Replace the policy by hand (refused while a rollout runs); every version must exist and be ready."""
        parsed = policy if isinstance(policy, Policy) else Policy.from_dict(policy)
        for version in {r.version for r in parsed.routes} | {s.version for s in parsed.shadows}:
            self._ready(validate_name(name), version)
        self.store.put(name, parsed, actor=actor, reason=reason or "policy set by hand")
        return self.show(name)

    def _ready(self, name: str, version: int) -> None:
        record = self.registry.store.get_version(name, version)
        if record.status != "ready":
            raise ConflictError(f"version {record.ref} is {record.status}; only ready versions can take traffic")

    def smoke_test(self, name: str, version: int) -> None:
        """Load the version (digest-verified) and predict on its input example; raise if either fails."""
        record = self.registry.store.get_version(name, version)
        try:
            model = self.registry.load(record)
            example = self.registry.input_example(record)
            if example is not None:
                model.predict(example)
        except ModelportError as exc:
            raise ModelExecutionError(f"smoke test of {record.ref} failed: {exc}; the deployment is unchanged") from exc
        except Exception as exc:
            raise ModelExecutionError(f"smoke test of {record.ref} failed: {type(exc).__name__}: {exc}; "
                                      "the deployment is unchanged") from exc

    # --- rollouts -----------------------------------------------------------------------
    def deploy(self, name: str, strategy: str, *, version: int | None = None, versions: Sequence[int] = (),
               actor: str, smoke: bool = True, **options: Any) -> dict[str, Any]:
        """Start a rollout of `version` (or `versions` for a bandit) with `strategy`; returns its status."""
        validate_name(name)
        serving = self.serving_version(name)
        spec = RolloutSpec.from_dict({"strategy": strategy, "candidate": version, "stable": serving,
                                      "versions": list(versions), **options})
        wanted = set(spec.versions) | ({spec.candidate} if spec.candidate is not None else set())
        for number in sorted(wanted):
            self._ready(name, number)
        if strategy == "bandit" and serving not in spec.versions:
            spec = spec.with_stable(spec.versions[0])
        if smoke and strategy in ("single", "blue-green", "canary"):
            assert spec.candidate is not None
            self.smoke_test(name, spec.candidate)
        reason = _start_reason(spec)
        if strategy == "single":
            self.store.start(name, strategy, spec.to_dict(), Policy(), actor=actor, reason=reason,
                             promote=spec.candidate, state="promoted")
        else:
            self.store.start(name, strategy, spec.to_dict(), spec.first_policy(), actor=actor, reason=reason)
        return self.status(name)

    def status(self, name: str) -> dict[str, Any]:
        """Where the latest rollout of `name` stands, with its traffic, numbers and decisions."""
        shown = self.show(name)
        record = self.store.latest(name)
        if record is None:
            return {"deployment": name, "strategy": "default", "state": "none", "step": None,
                    "traffic": shown["traffic"], "reason": "no rollout yet; all traffic follows @champion",
                    "champion": shown["champion"], "events": []}
        spec = record.spec
        return {"deployment": name, "rollout": record.id, "strategy": record.strategy, "state": record.state,
                "step": record.step, "steps": spec.get("steps") if record.strategy == "canary" else None,
                "candidate": spec.get("candidate"), "stable": spec.get("stable"), "traffic": shown["traffic"],
                "reason": record.reason, "champion": shown["champion"], "started_by": record.started_by,
                "started_at": record.started_at.isoformat(), "updated_at": record.updated_at.isoformat(),
                "analysis": record.status, "events": self.store.events(record.id)}

    def promote(self, name: str, *, actor: str) -> dict[str, Any]:
        """Finish the running rollout now: its candidate (or winner) takes all traffic and becomes champion."""
        return self._finish(name, actor, promote=True)

    def abort(self, name: str, *, actor: str) -> dict[str, Any]:
        """Stop the running rollout now: all traffic back to the stable version, the alias untouched."""
        return self._finish(name, actor, promote=False)

    def _finish(self, name: str, actor: str, *, promote: bool) -> dict[str, Any]:
        for _ in range(ATTEMPTS):  # a controller tick may advance the step between our read and write
            record = self._running(name)
            spec = RolloutSpec.from_dict(record.spec)
            change = self._promotion(record, spec, actor) if promote else rolled_back(
                spec, self.controller.champion(name), f"aborted by {actor}", actor, {}, state="aborted")
            if self.store.apply(record, change):
                return self.status(name)
        raise ConflictError(f"rollout of {name!r} kept changing while being {'promoted' if promote else 'aborted'}; "
                            "retry the command")

    def _running(self, name: str) -> RolloutRecord:
        record = self.store.latest(validate_name(name))
        if record is None or record.state != RUNNING:
            state = "none" if record is None else record.state
            raise NotFoundError(f"deployment {name!r} has no running rollout (latest: {state}); "
                                f"start one with 'modelport deploy {name} --strategy canary --version V'")
        return record

    def _promotion(self, record: RolloutRecord, spec: RolloutSpec, actor: str) -> Change:
        winner = spec.candidate
        if spec.strategy == "ab" and record.status.get("decided"):
            winner = int(record.status["decided"])
        if spec.strategy == "bandit":
            winner = self._best_arm(record, spec)
        assert winner is not None
        return promoted(spec, winner, f"promoted by {actor}: version {winner} takes all traffic", actor,
                        {"status": record.status})

    def _best_arm(self, record: RolloutRecord, spec: RolloutSpec) -> int:
        rewards = self.controller.evidence.rewards(record.deployment, record.started_at,
                                                   self.controller.clock.now(), spec.metric)
        arms = [Arm.of(v, rewards[v]) for v in spec.versions if v in rewards and len(rewards[v])]
        if not arms:
            raise ConflictError(f"no feedback reached the bandit of {record.deployment!r} yet, so no arm is best; "
                                "send feedback first or abort")
        return max(arms, key=lambda a: a.mean).version


def _start_reason(spec: RolloutSpec) -> str:
    if spec.strategy == "bandit":
        return f"bandit over versions {', '.join(map(str, spec.versions))}"
    if spec.strategy == "single":
        return f"version {spec.candidate} replaces version {spec.stable} (smoke test passed)"
    if spec.strategy == "canary":
        return f"canary of version {spec.candidate} at {spec.steps[0]:g}% against version {spec.stable}"
    return f"{spec.strategy} of version {spec.candidate} against version {spec.stable}"


def start_canary(registry: Registry, name: str, version: int, *, steps: Sequence[float] = (5, 25, 50, 100),
                 actor: str = "quickstart", **options: Any) -> dict[str, Any]:
    """Start a canary of `name:version` against the version serving now; returns `rollout status` as a dict."""
    return Deployments(registry).deploy(name, "canary", version=version, actor=actor, steps=list(steps), **options)
