"""Which version answers a request for a model name: the one replaceable place for that decision.

Today: the ref's alias (`champion` when the ref names none) if set, else the latest ready
version; `name:3` refs and `/versions/3` routes pin a version. A served name holds a
`Traffic`: weighted routes (a sticky key hashes a caller to the same version every time),
versions kept loaded at weight 0, and shadows that get a copy of requests. Deployment
policies (canary, A/B, shadow, blue-green, bandit) come from a subclass overriding
`desired_traffic` (modelport.rollout.routing).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelport.foundation.errors import NotFoundError, OverloadedError
from modelport.foundation.names import Ref
from modelport.registry.records import ModelRecord
from modelport.registry.store import DEFAULT_ALIAS


@dataclass(frozen=True)
class Traffic:
    """How requests for one served name split over versions.

    `routes` are (version, weight) with weights >= 0 summing to more than 0; a weight of 0 keeps a
    version loaded and warm without traffic (blue-green's instant switch back). `shadows` are
    (version, fraction of requests copied). `sticky` is "header:NAME" or "input:FIELD".
    """

    routes: tuple[tuple[int, float], ...]
    shadows: tuple[tuple[int, float], ...] = ()
    sticky: str | None = None

    @classmethod
    def single(cls, version: int) -> Traffic:
        """All traffic to one version."""
        return cls(((version, 100.0),))

    @property
    def primary(self) -> int:
        """The version with the most traffic (the first on ties): metadata and decoding use it."""
        return max(self.routes, key=lambda route: route[1])[0]

    @property
    def versions(self) -> set[int]:
        """Every version that must be loaded to serve this traffic."""
        return {v for v, _ in self.routes} | {v for v, _ in self.shadows}

    def choose(self, point: float) -> int:
        """The route version covering `point` in [0, 1) of the cumulative weights, in route order."""
        total = sum(w for _, w in self.routes)
        edge = 0.0
        for version, weight in self.routes:
            edge += weight / total
            if point < edge and weight > 0:
                return version
        return next(v for v, w in reversed(self.routes) if w > 0)


def sticky_key(sticky: str | None, headers: Mapping[str, str] | None, inputs: Any) -> str | None:
    """The caller's key for sticky routing: a header value or the first row's input field, else None."""
    if not sticky:
        return None
    kind, _, name = sticky.partition(":")
    if kind == "header":
        return None if headers is None else headers.get(name)
    return _input_field(inputs, name)


def _input_field(inputs: Any, name: str) -> str | None:
    try:
        if isinstance(inputs, Mapping):
            value: Any = inputs.get(name)
            first = value[0] if isinstance(value, (list, tuple)) or hasattr(value, "__array__") else value
        elif hasattr(inputs, "columns"):
            first = inputs[name].iloc[0] if name in inputs.columns else None
        elif isinstance(inputs, list) and inputs and isinstance(inputs[0], Mapping):
            first = inputs[0].get(name)
        else:
            return None
    except (IndexError, KeyError, TypeError):
        return None
    return None if first is None else str(first)


def key_point(key: str, salt: str) -> float:
    """A stable point in [0, 1) for `key` (the same in every process, unlike `hash`)."""
    digest = hashlib.blake2b(f"{salt}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


class Router:
    """Maps served model names to the traffic currently answering for each."""

    def __init__(self, *, seed: int | None = None) -> None:
        self._targets: dict[str, Traffic | None] = {}
        self._random = random.Random(seed)  # noqa: S311 -- traffic splitting, not security

    def desired(self, model: ModelRecord, ref: Ref) -> int | None:
        """The version `ref` should be served by, given the registry's state of `model`."""
        if ref.version is not None:
            return ref.version
        if ref.alias is not None:
            return model.aliases.get(ref.alias)
        return model.aliases.get(DEFAULT_ALIAS, model.latest_version)

    def desired_traffic(self, model: ModelRecord, ref: Ref) -> Traffic | None:
        """The traffic `ref` should be served with (called in a thread: subclasses may read a database)."""
        version = self.desired(model, ref)
        return None if version is None else Traffic.single(version)

    def expect(self, name: str) -> None:
        """Announce a served model whose first version is still loading."""
        self._targets.setdefault(name, None)

    def switch(self, name: str, version: int) -> int | None:
        """Make `version` answer for `name` from now on; return the version it replaces."""
        previous = self.switch_traffic(name, Traffic.single(version))
        return None if previous is None else previous.primary

    def switch_traffic(self, name: str, traffic: Traffic) -> Traffic | None:
        """Make `traffic` answer for `name` from now on (one assignment: atomic); return what it replaces."""
        previous = self._targets.get(name)
        self._targets[name] = traffic
        return previous

    def forget(self, name: str) -> int | None:
        """Stop serving `name`; return the version that was answering."""
        previous = self._targets.pop(name, None)
        return None if previous is None else previous.primary

    def route(self, name: str) -> int:
        """The primary version answering for `name` now (metadata, decoding, `current`)."""
        return self._traffic_or_raise(name).primary

    def pick(self, name: str, *, headers: Mapping[str, str] | None = None, inputs: Any = None) -> int:
        """The version that answers this request: weighted, and sticky when the traffic names a key."""
        traffic = self._traffic_or_raise(name)
        if len(traffic.routes) == 1:
            return traffic.routes[0][0]
        key = sticky_key(traffic.sticky, headers, inputs)
        point = self._random.random() if key is None else key_point(key, name)
        return traffic.choose(point)

    def shadows(self, name: str) -> list[int]:
        """The shadow versions that get a copy of this request (each by its fraction)."""
        traffic = self._targets.get(name)
        if traffic is None or not traffic.shadows:
            return []
        return [v for v, fraction in traffic.shadows if fraction >= 1 or self._random.random() < fraction]

    def _traffic_or_raise(self, name: str) -> Traffic:
        try:
            traffic = self._targets[name]
        except KeyError:
            served = ", ".join(sorted(self._targets)) or "none"
            raise NotFoundError(f"model {name!r} is not served here (served models: {served})") from None
        if traffic is None:
            raise OverloadedError(f"model {name!r} is still loading; retry shortly", retry_after=1.0)
        return traffic

    def current(self, name: str) -> int | None:
        """The primary answering version, or None while loading or when not served."""
        traffic = self._targets.get(name)
        return None if traffic is None else traffic.primary

    def traffic(self, name: str) -> Traffic | None:
        """The traffic answering for `name`, or None while loading or when not served."""
        return self._targets.get(name)

    def served(self) -> dict[str, int | None]:
        """Every served name and its primary answering version (None while loading)."""
        return {name: None if t is None else t.primary for name, t in self._targets.items()}
