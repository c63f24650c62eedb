"""Hot swap: follow alias moves and new versions in the registry without a restart.

Every `interval_s` the watcher reads the served models' aliases and latest versions (a few
small queries, in a thread), asks the router which traffic each should be served with (one
version, or several with weights and shadows when a deployment policy says so), and for each
change loads and warms every new version first, then switches atomically and retires the
versions no longer used (unloaded when their in-flight requests are done). A version that
fails to load never replaces the traffic serving; it is retried after `retry_failed_s`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from modelport.foundation.clock import Clock
from modelport.foundation.errors import ModelportError
from modelport.foundation.names import Ref
from modelport.registry.records import ModelRecord
from modelport.registry.service import Registry
from modelport.serving.pool import Key, ModelPool
from modelport.serving.router import Router, Traffic

log = logging.getLogger("modelport.serving.watcher")


class HotSwapWatcher:
    """Keeps the router's targets equal to what the registry says, loading before switching."""

    def __init__(self, registry: Registry, pool: ModelPool, router: Router, refs: Sequence[Ref] | None, *,
                 interval_s: float, clock: Clock, retry_failed_s: float = 30.0) -> None:
        self.registry = registry
        self.pool = pool
        self.router = router
        self.refs = list(refs) if refs else None
        self.interval_s = interval_s
        self.clock = clock
        self.retry_failed_s = retry_failed_s
        self._swaps: dict[str, asyncio.Task[None]] = {}
        self._wanted: dict[str, Traffic] = {}
        self._failed: dict[Key, float] = {}
        self.polls = 0

    def desired(self) -> dict[str, int]:
        """Name -> version each served model should answer with now (reads the registry; call in a thread)."""
        wanted: dict[str, int] = {}
        for model, ref in self._served_models():
            version = self.router.desired(model, ref)
            if version is not None:
                wanted[model.name] = version
        return wanted

    def desired_traffic(self) -> dict[str, Traffic]:
        """Name -> traffic each served model should answer with now (reads the registry; call in a thread)."""
        wanted: dict[str, Traffic] = {}
        for model, ref in self._served_models():
            traffic = self.router.desired_traffic(model, ref)
            if traffic is not None:
                wanted[model.name] = traffic
        return wanted

    def _served_models(self) -> list[tuple[ModelRecord, Ref]]:
        store = self.registry.store
        if self.refs is None:
            return [(m, Ref(m.name)) for m in store.list_models()]
        found = []
        for ref in self.refs:
            try:
                found.append((store.get_model(ref.name), ref))
            except ModelportError as exc:
                log.warning("cannot serve %s: %s", ref, exc)
        return found

    async def poll_once(self) -> None:
        """Read the registry once and start the swaps it calls for."""
        wanted = await asyncio.get_running_loop().run_in_executor(None, self.desired_traffic)
        self.polls += 1
        self._wanted = wanted
        for name, traffic in wanted.items():
            self.router.expect(name)
            failed = any(self._recently_failed((name, v)) for v in traffic.versions)
            if self.router.traffic(name) != traffic and not failed:
                self._start_swap(name, traffic)

    def _recently_failed(self, key: Key) -> bool:
        failed_at = self._failed.get(key)
        return failed_at is not None and self.clock.monotonic() - failed_at < self.retry_failed_s

    def _start_swap(self, name: str, traffic: Traffic) -> None:
        running = self._swaps.get(name)
        if running is not None and not running.done():
            return  # the running swap re-checks the wanted traffic when its loads end
        self._swaps[name] = asyncio.ensure_future(self._swap(name, traffic))

    async def _swap(self, name: str, traffic: Traffic) -> None:
        versions = sorted(traffic.versions)
        results = await asyncio.gather(*(self.pool.load((name, v)) for v in versions), return_exceptions=True)
        failed = [v for v, result in zip(versions, results, strict=True) if isinstance(result, BaseException)]
        serving = self.router.traffic(name)
        in_use = serving.versions if serving is not None else set()
        if failed or self._wanted.get(name) != traffic:
            for version in failed:
                self._failed[(name, version)] = self.clock.monotonic()
            for version in set(versions) - set(failed) - in_use:
                self.pool.retire((name, version))
            return
        previous = self.router.switch_traffic(name, traffic)
        log.info("%s now served by %s (was %s)", name, _describe(traffic), _describe(previous))
        for version in in_use - traffic.versions:
            self.pool.retire((name, version))

    async def settle(self) -> None:
        """Wait for the swaps under way (for tests and startup)."""
        running = [t for t in self._swaps.values() if not t.done()]
        if running:
            await asyncio.gather(*running, return_exceptions=True)

    async def run(self) -> None:
        """Poll forever (cancel the task to stop)."""
        while True:
            try:
                await self.poll_once()
            except Exception:
                log.exception("polling the registry failed; serving what is loaded")
            await asyncio.sleep(self.interval_s)

    def all_ready(self) -> bool:
        """True when every served model answers with the version the registry asks for."""
        if self.polls == 0 or (self.refs is not None and not self._wanted):
            return False
        return all(self.router.traffic(n) == t or self._failed_now(n, t) for n, t in self._wanted.items())

    def _failed_now(self, name: str, traffic: Traffic) -> bool:
        # a failed new version must not take a serving model out of readiness
        failed = any((name, v) in self._failed for v in traffic.versions)
        return failed and self.router.current(name) is not None

    def stop(self) -> None:
        """Cancel swaps under way."""
        for task in self._swaps.values():
            task.cancel()


def _describe(traffic: Traffic | None) -> str:
    if traffic is None:
        return "nothing"
    if len(traffic.routes) == 1 and not traffic.shadows:
        return f"version {traffic.routes[0][0]}"
    routes = ", ".join(f"{v}: {w:g}%" for v, w in traffic.routes)
    shadows = ", ".join(f"{v}: {f:.0%}" for v, f in traffic.shadows)
    return f"routes {{{routes}}}" + (f" shadows {{{shadows}}}" if shadows else "")
