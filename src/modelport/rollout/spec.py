"""What a rollout was asked to do: the strategy, its versions and every threshold (stored as JSON)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from modelport.foundation.errors import InvalidInputError
from modelport.rollout.guardrails import Guardrails
from modelport.rollout.policy import Policy, Route, Shadow, single, split

ROLLOUT_STRATEGIES = ("single", "canary", "ab", "shadow", "blue-green", "bandit")
METRICS = ("accuracy", "reward")


@dataclass(frozen=True)
class RolloutSpec:
    """A rollout's parameters; each strategy reads the fields it needs (see docs/rollouts.md)."""

    strategy: str
    #: the new version (canary, blue-green, shadow, single; B of an A/B test)
    candidate: int | None = None
    #: the version serving before (A of an A/B test)
    stable: int | None = None
    #: bandit arms
    versions: tuple[int, ...] = ()
    steps: tuple[float, ...] = (5.0, 25.0, 50.0, 100.0)
    step_duration_s: float = 300.0
    min_requests: int = 200
    #: a step that has not seen min_requests by then is rolled back (the canary gets no traffic)
    step_timeout_s: float = 3600.0
    split: float = 50.0
    sticky: str | None = None
    fraction: float = 1.0
    keep_old_s: float = 600.0
    metric: str = "accuracy"
    alpha: float = 0.05
    effect: float = 0.1
    min_samples: int = 100
    auto_promote: bool = False
    floor: float = 0.05
    guardrails: Guardrails = field(default_factory=Guardrails)

    def __post_init__(self) -> None:
        if self.strategy not in ROLLOUT_STRATEGIES:
            raise InvalidInputError(f"strategy {self.strategy!r}: use one of {', '.join(ROLLOUT_STRATEGIES)}",
                                    field="strategy")
        if self.metric not in METRICS:
            raise InvalidInputError(f"metric {self.metric!r}: use accuracy or reward", field="metric")
        steps = list(self.steps)
        if not steps or any(not 0 < s <= 100 for s in steps) or steps != sorted(set(steps)):
            raise InvalidInputError(f"steps {steps}: increasing percents in (0, 100], e.g. 5,25,50,100", field="steps")
        if steps[-1] != 100:
            object.__setattr__(self, "steps", (*self.steps, 100.0))
        if not 0 < self.split < 100:
            raise InvalidInputError(f"split {self.split!r}: the percent for the new version, in (0, 100)", field="split")
        if self.step_duration_s < 0 or self.keep_old_s < 0 or self.min_requests < 0:
            raise InvalidInputError("durations and min_requests must be >= 0", field="step_duration")
        self._check_versions()

    def _check_versions(self) -> None:
        if self.strategy == "bandit":
            if len(set(self.versions)) < 2:
                raise InvalidInputError("a bandit needs two or more distinct versions (--versions 3,4,5)",
                                        field="versions")
            if not 0 <= self.floor * len(self.versions) < 1:
                raise InvalidInputError(f"exploration floor {self.floor} is too large for {len(self.versions)} arms",
                                        field="floor")
            return
        if self.candidate is None:
            raise InvalidInputError(f"a {self.strategy} rollout needs the new version (--version V)", field="version")
        if self.strategy != "single" and self.stable == self.candidate:
            raise InvalidInputError(f"version {self.candidate} is already the one serving; register a new version "
                                    "or pick another", field="version")

    def first_policy(self) -> Policy:
        """The policy the rollout starts with."""
        candidate, stable = self.candidate or 0, self.stable or 0
        if self.strategy == "single":
            return single(candidate)
        if self.strategy == "canary":
            return split(stable, candidate, self.steps[0], strategy="canary", sticky=self.sticky)
        if self.strategy == "ab":
            return split(stable, candidate, self.split, strategy="ab", sticky=self.sticky)
        if self.strategy == "blue-green":
            return Policy("blue-green", (Route(candidate, 100.0), Route(stable, 0.0)))
        if self.strategy == "shadow":
            return Policy("shadow", (Route(stable, 100.0),), (Shadow(candidate, self.fraction),))
        share = 100.0 / len(self.versions)
        return Policy("bandit", tuple(Route(v, share) for v in self.versions), sticky=self.sticky)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["guardrails"] = self.guardrails.to_dict()
        data["steps"], data["versions"] = list(self.steps), list(self.versions)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RolloutSpec:
        """Parse a stored or posted spec; unknown keys are refused by name."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise InvalidInputError(f"unknown rollout settings {sorted(unknown)}", field="spec")
        values = dict(data)
        values["guardrails"] = Guardrails.from_dict(values.get("guardrails"))
        values["steps"] = tuple(float(s) for s in values.get("steps") or cls.steps)
        values["versions"] = tuple(int(v) for v in values.get("versions") or ())
        try:
            return cls(**values)
        except TypeError as exc:
            raise InvalidInputError(f"invalid rollout settings: {exc}", field="spec") from None

    def with_stable(self, stable: int | None) -> RolloutSpec:
        return replace(self, stable=stable)


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(s|m|h|d)?$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
#: user-facing duration options and the spec fields (seconds) they set
DURATIONS = {"step_duration": "step_duration_s", "keep_old": "keep_old_s", "step_timeout": "step_timeout_s"}


def parse_duration(text: str | float | int, field_name: str = "duration") -> float:
    """`90`, `30s`, `5m`, `2h` or `1d` as seconds (a bare number is seconds)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        seconds = float(text)
    else:
        match = _DURATION.match(str(text).strip())
        if match is None:
            raise InvalidInputError(f"{field_name} {text!r}: use a number of seconds or 30s, 5m, 2h, 1d",
                                    field=field_name)
        seconds = float(match.group(1)) * _SECONDS[match.group(2) or "s"]
    if seconds < 0:
        raise InvalidInputError(f"{field_name} must be >= 0", field=field_name)
    return seconds


def spec_options(raw: Mapping[str, Any]) -> dict[str, Any]:
    """User-facing options (durations as text, None for "not given") as RolloutSpec fields."""
    options: dict[str, Any] = {}
    for key, value in raw.items():
        if value is None:
            continue
        if key in DURATIONS:
            options[DURATIONS[key]] = parse_duration(value, key)
        else:
            options[key] = value
    return options
