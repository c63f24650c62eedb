"""`create_app`: the one HTTP application, built by a factory and testable in-process.

What the app holds for routes of every area, on `app.state`: `settings`, `registry`,
`dataplane` (the serving data plane), `config` (ServerConfig), `clock`, `metrics`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from modelport.foundation.clock import Clock, SystemClock
from modelport.foundation.errors import InvalidInputError
from modelport.foundation.settings import Settings
from modelport.http.errors import install_error_handlers
from modelport.http.front import ServingApp
from modelport.http.middleware import ServingMiddleware
from modelport.registry.loaded import LoadedModel
from modelport.registry.service import Registry
from modelport.serving.config import ServerConfig
from modelport.serving.dataplane import DataPlane
from modelport.serving.metrics import ServingMetrics
from modelport.serving.predictions import PredictionSink

if TYPE_CHECKING:
    from modelport.monitoring.alerts.evaluator import AlertScheduler
    from modelport.monitoring.alerts.retrain import RetrainTrigger
    from modelport.monitoring.alerts.sinks import PrometheusSink
    from modelport.monitoring.service import Monitoring
    from modelport.rollout.controller import RolloutController
    from modelport.rollout.routing import DeploymentRouter

def create_app(
    settings: Settings | None = None,
    *,
    refs: Sequence[str] | None = None,
    config: ServerConfig | None = None,
    clock: Clock | None = None,
    registry: Registry | None = None,
    sink: PredictionSink | None = None,
    middleware: Sequence[Middleware] = (),
    no_auth: bool = False,
    watch: bool = True,
    drain_on_sigterm: bool = False,
    preloaded: Mapping[tuple[str, int], LoadedModel] | None = None,
) -> FastAPI:
    """The modelport HTTP app serving `refs` (default: every registered model) from the registry of `settings`.

    `middleware` is installed inside the request-id/metrics layer and outside the routes (the
    place for authentication). `watch=False` turns off registry polling (tests drive
    `app.state.dataplane.watcher.poll_once()` themselves).
    """
    config = config or ServerConfig()
    clock = clock or SystemClock()
    owned = registry is None
    registry = registry or Registry.open(settings, clock=clock)
    metrics = ServingMetrics()
    monitoring = _monitoring(registry, clock) if sink is None and config.prediction_log else None
    sink = monitoring.sink() if monitoring is not None else sink
    gauges = _alert_gauges() if monitoring is not None else None
    plane = DataPlane(registry, config, refs=refs, clock=clock, sink=sink, metrics=metrics,
                      router=_deployment_router(registry), preloaded=preloaded)
    rollouts = _rollout_controller(registry, clock, config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await plane.start(watch=watch)
        settled = asyncio.ensure_future(_settle_collector(plane)) if watch and config.tune_gc else None
        controller = asyncio.ensure_future(rollouts.run()) if watch else None
        alerts = _alert_scheduler(monitoring, gauges, config) if monitoring is not None and watch else None
        restore = _drain_on_sigterm(plane) if drain_on_sigterm else None
        try:
            yield
        finally:
            if restore is not None:
                restore()
            for task in (controller, settled):
                if task is not None:
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
            await plane.stop()
            await _stop_monitoring(sink if monitoring is not None else None, alerts)
            if owned:
                registry.close()

    stack = [
        Middleware(ServingMiddleware, metrics=metrics, body_limit=config.body_limit_bytes,
                   upload_limit=_upload_limit(),
                   access_log=config.access_log, log_inputs=config.log_inputs),
        *_security_middleware(no_auth, registry, clock, config),
        *middleware,
    ]
    app = ServingApp(title="modelport", summary="Model serving: Open Inference Protocol (V2), KServe v1, MLflow",
                     lifespan=lifespan, front_layers=stack, prediction_routes=_prediction_routes(), **_without_otel())
    app.state.settings = settings
    app.state.registry = registry
    app.state.dataplane = plane
    app.state.config = config
    app.state.clock = clock
    app.state.metrics = metrics
    app.state.rollouts = rollouts
    app.state.monitoring = monitoring
    app.state.alert_gauges = gauges
    app.state.no_auth = no_auth
    install_error_handlers(app)
    for router in _routers():
        app.include_router(router)
    _serve_predictions_directly(app)
    _mount_dashboard(app)
    return app


def _without_otel() -> dict[str, Any]:
    """Newer FastAPI checks OpenTelemetry providers on every request; our metrics are Prometheus'."""
    import inspect

    if "telemetry" in inspect.signature(FastAPI.__init__).parameters:
        return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}
    return {}


def _upload_limit() -> int:
    from modelport.security.config import SecurityConfig

    return SecurityConfig.from_env().max_upload_bytes


def _monitoring(registry: Registry, clock: Clock) -> Monitoring:
    from modelport.monitoring.service import Monitoring

    return Monitoring(registry, clock=clock)


def _alert_gauges() -> PrometheusSink:
    from modelport.monitoring.alerts.sinks import PrometheusSink

    return PrometheusSink()


def _alert_scheduler(monitoring: Monitoring, gauges: PrometheusSink | None, config: ServerConfig) -> AlertScheduler:
    """Alert rules evaluated on a schedule: to the log, Prometheus gauges and, if configured, a webhook."""
    import os

    from modelport.monitoring.alerts.evaluator import AlertEvaluator, AlertScheduler
    from modelport.monitoring.alerts.sinks import AlertSink, LogSink, WebhookSink
    from modelport.monitoring.alerts.store import AlertStore

    sinks: list[AlertSink] = [LogSink(), *([gauges] if gauges is not None else [])]
    url, secret = os.environ.get("MODELPORT_ALERT_WEBHOOK_URL"), os.environ.get("MODELPORT_ALERT_WEBHOOK_SECRET")
    if url and secret:
        sinks.append(WebhookSink(url, secret))
    retrain = _retrain_trigger(monitoring, os.environ)
    if retrain is not None:
        sinks.append(retrain)
    store = AlertStore(monitoring.registry.store.engine, monitoring.clock)
    scheduler = AlertScheduler(AlertEvaluator(monitoring, store, sinks), interval=config.alert_interval_s)
    scheduler.start()
    return scheduler


async def _settle_collector(plane: DataPlane) -> None:
    """Once the models are loaded and warm, freeze the heap for the collector (serving/collector.py)."""
    from modelport.foundation.errors import DeadlineExceededError
    from modelport.serving.collector import settle

    try:
        await plane.wait_ready(timeout_s=600)
    except DeadlineExceededError:
        return  # still loading after 10 minutes: leave the collector as it is
    settle()


def _retrain_trigger(monitoring: Monitoring, env: Mapping[str, str]) -> RetrainTrigger | None:
    """The retraining trigger, when MODELPORT_RETRAIN_COMMAND or MODELPORT_RETRAIN_WEBHOOK_URL is set."""
    from modelport.monitoring.alerts.retrain import RetrainTrigger, parse_command
    from modelport.monitoring.alerts.sinks import WebhookSink

    command, url = env.get("MODELPORT_RETRAIN_COMMAND"), env.get("MODELPORT_RETRAIN_WEBHOOK_URL")
    secret = env.get("MODELPORT_RETRAIN_WEBHOOK_SECRET") or env.get("MODELPORT_ALERT_WEBHOOK_SECRET")
    if url and not secret:
        raise InvalidInputError("MODELPORT_RETRAIN_WEBHOOK_URL needs MODELPORT_RETRAIN_WEBHOOK_SECRET (its requests "
                                "are signed)", field="MODELPORT_RETRAIN_WEBHOOK_SECRET")
    if not command and not url:
        return None
    return RetrainTrigger(command=parse_command(command) if command else None,
                          webhook=WebhookSink(url, secret) if url and secret else None,
                          audit=monitoring.registry.store.record_audit)


async def _stop_monitoring(sink: PredictionSink | None, alerts: AlertScheduler | None) -> None:
    """Flush the prediction log (nothing buffered is lost on a graceful stop) and stop the alerts."""
    if alerts is not None:
        await asyncio.to_thread(alerts.stop)
    close = getattr(sink, "close", None)
    if close is not None:
        await asyncio.to_thread(close)


def _drain_on_sigterm(plane: DataPlane) -> Callable[[], None] | None:
    """Chain a handler before the server's own: readiness turns 503 before uvicorn starts draining."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(sig: int, frame: FrameType | None) -> None:
        plane.begin_drain()
        if callable(previous):
            previous(sig, frame)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    signal.signal(signal.SIGTERM, on_term)
    return restore


def _security_middleware(no_auth: bool, registry: Registry, clock: Clock, config: ServerConfig) -> list[Middleware]:
    """The security guard (http/guards.py); `no_auth` turns off keys only, every other check stays on."""
    from modelport.http.guards import guard_middleware
    from modelport.security.config import SecurityConfig
    from modelport.security.keys import KeyStore

    keys = None if no_auth else KeyStore(registry.store.engine, clock=clock, audit=registry.store)
    return guard_middleware(keys=keys, config=SecurityConfig.from_env(), clock=clock,
                            default_model=config.default_model)


def preload_versions(settings: Settings, refs: Sequence[str] | None,
                     config: ServerConfig) -> dict[tuple[str, int], LoadedModel]:
    """Load (without warming) every version the app would serve now.

    A parent process does this before forking its workers, so they share the models' memory.
    """
    registry = Registry.open(settings)
    try:
        plane = DataPlane(registry, config, refs=refs, router=_deployment_router(registry))
        wanted = plane.wanted_versions()
        return {key: registry.load(registry.store.get_version(*key)) for key in sorted(wanted)}
    finally:
        registry.close()


def _deployment_router(registry: Registry) -> DeploymentRouter:
    """The serving router that follows deployment policies (modelport.rollout)."""
    from modelport.rollout.routing import DeploymentRouter
    from modelport.rollout.store import DeploymentStore

    return DeploymentRouter(DeploymentStore(registry.store))


def _rollout_controller(registry: Registry, clock: Clock, config: ServerConfig) -> RolloutController:
    """The controller judging running rollouts on a schedule (one active among replicas).

    With `auto_rollout`, it also starts a rollout of each new `@challenger` version.
    """
    from modelport.rollout.challenger import ChallengerRollouts
    from modelport.rollout.controller import RolloutController

    starters = []
    if config.auto_rollout != "off":
        starters.append(ChallengerRollouts(registry, config.auto_rollout, clock=clock).tick)
    return RolloutController(registry, clock=clock, starters=starters)


def _routers() -> list[APIRouter]:
    """Every router of the app; other areas add theirs with one line each."""
    from modelport.http import management, v1, v2

    routers = [v2.router, v1.router, _metrics_router()]
    routers.append(management.router)
    from modelport.http import deployments

    routers.append(deployments.router)
    from modelport.http import monitoring

    routers.append(monitoring.router)
    # e.g. routers.append(management.router); routers.append(monitoring.router)
    return routers


def _prediction_routes() -> list[Route]:
    """Plain Starlette routes for the prediction paths (FastAPI's per-request dependency solving costs
    more than the rest of a small request); the front door calls them directly."""
    from modelport.http import v1, v2

    return [*v2.direct_routes(), *v1.direct_routes()]


def _serve_predictions_directly(app: ServingApp) -> None:
    """The same routes first in the router too, for requests the front door passes on; FastAPI's stay for /docs."""
    app.router.routes[:0] = app.prediction_routes


def _mount_dashboard(app: FastAPI) -> None:
    """The web dashboard at /ui (static files; its data comes from /api/v1)."""
    from modelport.http.ui import routes

    app.router.routes.extend(routes())


def _metrics_router() -> APIRouter:
    router = APIRouter(tags=["observability"])

    @router.get("/metrics", include_in_schema=True)
    async def metrics(request: Request) -> Response:
        """Prometheus text format, summed over all worker processes."""
        body, content_type = request.app.state.metrics.render()
        gauges = request.app.state.alert_gauges
        extra = gauges.render() if gauges is not None else b""
        return Response(body + extra, media_type=content_type)

    return router


def app_factory() -> Any:
    """The app uvicorn builds in each worker (`--factory`), configured by `modelport.http.server`."""
    from modelport.http.server import app_from_environment

    return app_from_environment()
