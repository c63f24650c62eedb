"""Rollout test helpers: a live uvicorn server in a thread, bounded waits, version numbers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from modelport.foundation.settings import Settings
from modelport.registry.service import Registry

GOOD, PIPELINE_V2, FLAKY, CONSTANT = 2, 3, 4, 5


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    """Poll `condition` until it returns something truthy or the deadline passes (a real condition, bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError(f"{what} not reached within {timeout}s")


@dataclass
class LiveServer:
    """An app served by uvicorn on a loopback port in a thread, with its prediction log sink."""

    url: str
    app: Any
    sink: Any
    registry: Registry

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)

    def flush(self) -> None:
        """Hand everything served so far to the prediction log."""
        self.app.state.dataplane.sink.flush_through()


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(settings: Settings, *, log: bool = True) -> Iterator[LiveServer]:
    """The real HTTP app (create_app, watching the registry every 0.1 s) on 127.0.0.1 in a thread."""
    import uvicorn

    from modelport.http.app import create_app
    from modelport.monitoring.service import Monitoring
    from modelport.serving.config import ServerConfig

    registry = Registry.open(settings)
    sink = Monitoring(registry).sink(flush_interval=0.05) if log else None
    app = create_app(settings, refs=["iris"], config=ServerConfig(poll_interval_s=0.1, access_log=False),
                     no_auth=True, sink=sink)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    live = LiveServer(f"http://127.0.0.1:{port}", app, sink, registry)
    try:
        wait_for(lambda: server.started and _ready(live.url), timeout=60, what="server ready")
        yield live
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        if sink is not None:
            sink.close()
        registry.close()


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/v2/health/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
