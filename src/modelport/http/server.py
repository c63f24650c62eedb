"""Run the app under uvicorn (uvloop + httptools), with N workers, JSON logs and a graceful SIGTERM drain.

On SIGTERM readiness turns 503 at once (see `drain_on_sigterm` in `create_app`), uvicorn stops
accepting, in-flight requests finish, and the process exits 0.

The parent process passes the serving spec to workers in one environment variable and, with
several workers, points PROMETHEUS_MULTIPROC_DIR at a fresh folder before any worker
imports prometheus_client, so `/metrics` sums every worker.
"""

from __future__ import annotations

import atexit
import dataclasses
import gc
import json
import logging
import logging.handlers
import os
import queue
import signal
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import FrameType
from typing import Any

import uvicorn

from modelport.foundation.settings import Settings
from modelport.http.middleware import JsonLogFormatter
from modelport.serving.config import ModelConfig, ServerConfig
from modelport.serving.metrics import MULTIPROC_ENV

SPEC_ENV = "MODELPORT_SERVE_SPEC"
LOG_LEVEL_ENV = "MODELPORT_LOG_LEVEL"


@dataclass(frozen=True)
class ServeSpec:
    """Everything a worker needs to build the same app as its siblings."""

    refs: list[str] = field(default_factory=list)
    config: ServerConfig = field(default_factory=ServerConfig)
    no_auth: bool = True

    def to_json(self) -> str:
        data = dataclasses.asdict(self.config)
        return json.dumps({"refs": self.refs, "no_auth": self.no_auth, "config": data})

    @classmethod
    def from_json(cls, text: str) -> ServeSpec:
        raw = json.loads(text)
        config = dict(raw["config"])
        config["model_defaults"] = ModelConfig(**config["model_defaults"])
        config["models"] = {name: ModelConfig(**values) for name, values in config["models"].items()}
        return cls(list(raw["refs"]), ServerConfig(**config), bool(raw["no_auth"]))


def app_from_environment(preloaded: Mapping[tuple[str, int], Any] | None = None) -> Any:
    """The app a worker builds from the spec its parent left in the environment."""
    from modelport.http.app import create_app

    spec = ServeSpec.from_json(os.environ.get(SPEC_ENV) or ServeSpec().to_json())
    configure_logging(os.environ.get(LOG_LEVEL_ENV, "INFO"))  # spawned workers start with no logging set up
    return create_app(Settings.from_env(), refs=spec.refs or None, config=spec.config, no_auth=spec.no_auth,
                      drain_on_sigterm=True, preloaded=preloaded)


def _drained(sig: int, frame: FrameType | None) -> None:
    """Nothing left to do: uvicorn re-raises SIGTERM after its graceful stop; this makes that exit 0."""


class DeferredHandler(logging.handlers.QueueHandler):
    """Queues records unformatted: formatting and writing happen in the listener's thread."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


def configure_logging(level: str = "INFO") -> None:
    """JSON lines on stderr for modelport's and uvicorn's loggers; access logs written off the event loop."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter())
    for name in ("modelport", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False
    # one line per request: format and write it in a thread, not in the request's path
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    listener = logging.handlers.QueueListener(records, handler)
    listener.start()
    atexit.register(listener.stop)
    access = logging.getLogger("modelport.access")
    access.handlers[:] = [DeferredHandler(records)]
    access.propagate = False


def _client_certificates(ca_file: str | None) -> dict[str, Any]:
    """With a CA file, every client must present a certificate signed by it (mutual TLS)."""
    if ca_file is None:
        return {}
    import ssl

    return {"ssl_ca_certs": ca_file, "ssl_cert_reqs": ssl.CERT_REQUIRED}


def serve(refs: Sequence[str], *, host: str, port: int, workers: int = 1, config: ServerConfig | None = None,
          no_auth: bool = True, log_level: str = "INFO", ssl_certfile: str | None = None,
          ssl_keyfile: str | None = None, prefork: bool = True, ssl_ca_certs: str | None = None) -> None:
    """Serve until SIGTERM or Ctrl-C; several workers are forked after loading the models (`prefork`)
    or, without it, spawned by uvicorn, each loading its own copy."""
    spec = ServeSpec(list(refs), replace(config or ServerConfig(), tune_gc=True), no_auth)  # this process is ours
    os.environ[SPEC_ENV] = spec.to_json()
    os.environ[LOG_LEVEL_ENV] = log_level
    if workers > 1 and not os.environ.get(MULTIPROC_ENV):
        os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="modelport-metrics-")
    configure_logging(log_level)
    uv_config = uvicorn.Config(
        "modelport.http.app:app_factory", factory=True, host=host, port=port, workers=workers,
        loop="uvloop", http="httptools", lifespan="on", access_log=False, log_config=None,
        timeout_graceful_shutdown=int(spec.config.drain_timeout_s), ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile, server_header=False, **_client_certificates(ssl_ca_certs))
    if workers == 1:
        signal.signal(signal.SIGTERM, _drained)
        uvicorn.Server(uv_config).run()
        return
    if not prefork:
        from uvicorn.supervisors import Multiprocess

        Multiprocess(uv_config, sockets=[uv_config.bind_socket()]).run()
        return
    from modelport.http.app import preload_versions

    preloaded = preload_versions(Settings.from_env(), spec.refs or None, spec.config)
    PreforkSupervisor(uv_config, workers, preloaded).run()


class PreforkSupervisor:
    """Loads the served versions once, then forks the workers: their model memory is shared, not copied.

    Numpy buffers of a loaded model (tree nodes, coefficients) are never written after load, so
    copy-on-write keeps one physical copy for all workers; only versions a worker loads later
    (after a hot swap) are its own. Models are not warmed in the parent (no thread pools before
    fork); each worker warms its copy. A worker that dies is replaced; SIGTERM is passed on to
    every worker, which drain, and the supervisor exits 0 when all have.
    """

    def __init__(self, config: uvicorn.Config, workers: int, preloaded: Mapping[tuple[str, int], Any]) -> None:
        self.config = config
        self.workers = workers
        self.preloaded = preloaded
        self.children: set[int] = set()
        self.stopping = False

    def run(self) -> None:
        socket = self.config.bind_socket()
        # keep the collector off the inherited objects: touching their headers would copy the pages
        gc.collect()
        gc.freeze()
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for _ in range(self.workers):
            self._fork(socket)
        while self.children:
            try:
                pid, _status = os.wait()
            except ChildProcessError:
                break
            self.children.discard(pid)
            if not self.stopping:
                logging.getLogger("modelport.http").warning("worker %s exited; starting another", pid)
                self._fork(socket)

    def _fork(self, socket: Any) -> None:
        pid = os.fork()
        if pid:
            self.children.add(pid)
            return
        code = 0
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, _drained)
            preloaded = self.preloaded
            config = uvicorn.Config(lambda: app_from_environment(preloaded), factory=True, host=self.config.host,
                                    port=self.config.port, loop="uvloop", http="httptools", lifespan="on",
                                    access_log=False, log_config=None, server_header=False,
                                    timeout_graceful_shutdown=self.config.timeout_graceful_shutdown,
                                    ssl_certfile=self.config.ssl_certfile, ssl_keyfile=self.config.ssl_keyfile,
                                    ssl_ca_certs=self.config.ssl_ca_certs, ssl_cert_reqs=self.config.ssl_cert_reqs)
            uvicorn.Server(config).run(sockets=[socket])
        except BaseException:
            code = 1
            logging.getLogger("modelport.http").exception("worker failed")
        finally:
            os._exit(code)

    def _stop(self, sig: int, frame: FrameType | None) -> None:
        self.stopping = True
        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                self.children.discard(pid)
