"""Hot swap: follow alias moves and new versions in the registry without a restart.

Every `interval_s` the watcher reads the served models' aliases and latest versions (a few
small queries, in a thread), asks the router which version each should be served by, and
for each change loads and warms the new version first, then switches atomically and retires
the old one (unloaded when its in-flight requests are done). A version that fails to load
never replaces the one serving; it is retried after `retry_failed_s`.
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
from modelport.serving.router import Router

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
        self._wanted: dict[str, int] = {}
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
        wanted = await asyncio.get_running_loop().run_in_executor(None, self.desired)
        self.polls += 1
        self._wanted = wanted
        for name, version in wanted.items():
            self.router.expect(name)
            if self.router.current(name) != version and not self._recently_failed((name, version)):
                self._start_swap(name, version)

    def _recently_failed(self, key: Key) -> bool:
        failed_at = self._failed.get(key)
        return failed_at is not None and self.clock.monotonic() - failed_at < self.retry_failed_s

    def _start_swap(self, name: str, version: int) -> None:
        running = self._swaps.get(name)
        if running is not None and not running.done():
            return  # the running swap re-checks the wanted version when its load ends
        self._swaps[name] = asyncio.ensure_future(self._swap(name, version))

    async def _swap(self, name: str, version: int) -> None:
        try:
            await self.pool.load((name, version))
        except Exception:
            self._failed[(name, version)] = self.clock.monotonic()
            return
        if self._wanted.get(name) != version:
            self.pool.retire((name, version))
            return
        previous = self.router.switch(name, version)
        log.info("%s now served by version %s (was %s)", name, version, previous)
        if previous is not None and previous != version:
            self.pool.retire((name, previous))

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
        return all(self.router.current(n) == v or self._failed_now(n, v)
                                          for n, v in self._wanted.items())

    def _failed_now(self, name: str, version: int) -> bool:
        # a failed new version must not take a serving model out of readiness
        return (name, version) in self._failed and self.router.current(name) is not None

    def stop(self) -> None:
        """Cancel swaps under way."""
        for task in self._swaps.values():
            task.cancel()
