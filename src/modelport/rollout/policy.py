"""A deployment's traffic policy: weighted routes over versions, shadows and a sticky key.

The policy is plain data stored as JSON in the `deployments` table; servers turn it into the
serving router's `Traffic`. A deployment with no routes follows `@champion` (else the latest
version): that is every model's default deployment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelport.foundation.errors import InvalidInputError
from modelport.serving.router import Traffic

STRATEGIES = ("default", "single", "canary", "ab", "shadow", "blue-green", "bandit")
_STICKY = re.compile(r"^(header|input):[A-Za-z0-9_.-]{1,128}$")


@dataclass(frozen=True)
class Route:
    """A share of the traffic: `weight` percent to `version` (0 keeps it loaded without traffic)."""

    version: int
    weight: float


@dataclass(frozen=True)
class Shadow:
    """A version that receives a copy of `fraction` of the requests, off the response path."""

    version: int
    fraction: float = 1.0


@dataclass(frozen=True)
class Policy:
    """How one deployment's requests split over versions of its model."""

    strategy: str = "default"
    routes: tuple[Route, ...] = ()
    shadows: tuple[Shadow, ...] = ()
    sticky: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        _check_strategy(self.strategy)
        _check_routes(self.routes)
        _check_shadows(self.shadows)
        if self.sticky is not None and not _STICKY.match(self.sticky):
            raise InvalidInputError(
                f"sticky key {self.sticky!r}: use header:NAME (e.g. header:X-User-Id) or input:FIELD", field="sticky")

    @property
    def follows_champion(self) -> bool:
        """True for the default policy: all traffic to @champion (or the latest version)."""
        return not self.routes

    def traffic(self, fallback: int | None) -> Traffic | None:
        """The serving router's view; `fallback` is the version a policy without routes serves."""
        shadows = tuple((s.version, s.fraction) for s in self.shadows)
        if self.routes:
            return Traffic(tuple((r.version, r.weight) for r in self.routes), shadows, self.sticky)
        if fallback is None:
            return None
        return Traffic(((fallback, 100.0),), tuple(s for s in shadows if s[0] != fallback), self.sticky)

    def percentages(self, fallback: int | None) -> dict[str, float]:
        """Version -> percent of the traffic (what `rollout status` shows)."""
        if not self.routes:
            return {} if fallback is None else {str(fallback): 100.0}
        total = sum(r.weight for r in self.routes)
        return {str(r.version): round(100.0 * r.weight / total, 2) for r in self.routes}

    def to_dict(self) -> dict[str, Any]:
        return {"strategy": self.strategy, "routes": [{"version": r.version, "weight": r.weight} for r in self.routes],
                "shadows": [{"version": s.version, "fraction": s.fraction} for s in self.shadows],
                "sticky": self.sticky, **({"extra": self.extra} if self.extra else {})}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        """Parse a policy from JSON (the API body and the stored form)."""
        if not isinstance(data, Mapping):
            raise InvalidInputError("a policy must be a JSON object", field="policy")
        try:
            routes = tuple(Route(_version(r["version"]), float(r.get("weight", 100.0))) for r in data.get("routes") or ())
            shadows = tuple(Shadow(_version(s["version"]), float(s.get("fraction", 1.0)))
                            for s in data.get("shadows") or ())
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInputError(
                f"policy routes and shadows must be objects with a version (and a weight or fraction): {exc}",
                field="policy") from None
        return cls(str(data.get("strategy", "single" if routes else "default")), routes, shadows,
                   data.get("sticky") or None, dict(data.get("extra") or {}))


def single(version: int, strategy: str = "single") -> Policy:
    """All traffic to one version."""
    return Policy(strategy, (Route(version, 100.0),))


def split(first: int, second: int, second_percent: float, *, strategy: str, sticky: str | None = None) -> Policy:
    """`second_percent` of the traffic to `second`, the rest to `first`; `second` listed first so that
    a sticky caller in the growing share stays there as it grows."""
    return Policy(strategy, (Route(second, second_percent), Route(first, 100.0 - second_percent)), sticky=sticky)


def _version(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit() or int(value) < 1:
        raise InvalidInputError(f"version {value!r}: expected a whole number >= 1", field="version")
    return int(value)


def _check_strategy(strategy: str) -> None:
    if strategy not in STRATEGIES:
        raise InvalidInputError(f"strategy {strategy!r}: use one of {', '.join(STRATEGIES)}", field="strategy")


def _check_routes(routes: tuple[Route, ...]) -> None:
    versions = [r.version for r in routes]
    if len(set(versions)) != len(versions):
        raise InvalidInputError(f"routes name a version twice: {versions}", field="routes")
    if any(not 0 <= r.weight <= 100 for r in routes):
        raise InvalidInputError("route weights are percents between 0 and 100", field="routes")
    if routes and sum(r.weight for r in routes) <= 0:
        raise InvalidInputError("at least one route needs a weight above 0", field="routes")


def _check_shadows(shadows: tuple[Shadow, ...]) -> None:
    if any(not 0 < s.fraction <= 1 for s in shadows):
        raise InvalidInputError("a shadow's fraction is in (0, 1]: 1.0 copies every request", field="shadows")
    if len({s.version for s in shadows}) != len(shadows):
        raise InvalidInputError("shadows name a version twice", field="shadows")
