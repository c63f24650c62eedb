"""Which version answers a request for a model name: the one replaceable place for that decision.

Today: the ref's alias (`champion` when the ref names none) if set, else the latest ready
version; `name:3` refs and `/versions/3` routes pin a version. Deployments with traffic
policies (canary, A/B, shadow) replace this object later.
"""

from __future__ import annotations

from modelport.foundation.errors import NotFoundError, OverloadedError
from modelport.foundation.names import Ref
from modelport.registry.records import ModelRecord
from modelport.registry.store import DEFAULT_ALIAS


class Router:
    """Maps served model names to the version currently answering for each."""

    def __init__(self) -> None:
        self._targets: dict[str, int | None] = {}

    def desired(self, model: ModelRecord, ref: Ref) -> int | None:
        """The version `ref` should be served by, given the registry's state of `model`."""
        if ref.version is not None:
            return ref.version
        if ref.alias is not None:
            return model.aliases.get(ref.alias)
        return model.aliases.get(DEFAULT_ALIAS, model.latest_version)

    def expect(self, name: str) -> None:
        """Announce a served model whose first version is still loading."""
        self._targets.setdefault(name, None)

    def switch(self, name: str, version: int) -> int | None:
        """Make `version` answer for `name` from now on; return the version it replaces."""
        previous = self._targets.get(name)
        self._targets[name] = version
        return previous

    def forget(self, name: str) -> int | None:
        """Stop serving `name`; return the version that was answering."""
        return self._targets.pop(name, None)

    def route(self, name: str) -> int:
        """The version that answers a request for `name` now."""
        try:
            version = self._targets[name]
        except KeyError:
            served = ", ".join(sorted(self._targets)) or "none"
            raise NotFoundError(f"model {name!r} is not served here (served models: {served})") from None
        if version is None:
            raise OverloadedError(f"model {name!r} is still loading; retry shortly", retry_after=1.0)
        return version

    def current(self, name: str) -> int | None:
        """The answering version, or None while loading or when not served."""
        return self._targets.get(name)

    def served(self) -> dict[str, int | None]:
        """Every served name and its answering version (None while loading)."""
        return dict(self._targets)
