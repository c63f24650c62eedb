"""The data plane: the one path from a decoded request to predictions, shared by every transport.

HTTP routes (V2, KServe v1, MLflow) decode their wire format into an `InferenceRequest`,
call `DataPlane.infer`, and encode the `InferenceResult`. Routing, admission (bounded
queue), validation, caching, batching, deadlines, metrics and the prediction log all
happen here, once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from modelport.foundation.clock import Clock, SystemClock
from modelport.foundation.errors import (
    DeadlineExceededError,
    InvalidInputError,
    ModelExecutionError,
    ModelportError,
    NotFoundError,
    OverloadedError,
    ValidationError,
)
from modelport.registry.loaded import LoadedModel
from modelport.registry.records import VersionRecord
from modelport.registry.service import Registry
from modelport.serving.batcher import Answer
from modelport.serving.config import ServerConfig
from modelport.serving.ids import PredictionIds
from modelport.serving.inputs import cache_key, row_count
from modelport.serving.limits import RequestLimits, check_limits
from modelport.serving.metrics import ServingMetrics
from modelport.serving.pool import ModelPool, ServedVersion
from modelport.serving.predictions import (
    NullSink,
    PredictionBlock,
    PredictionSink,
    SinkFeeder,
    failure_block,
    new_block,
)
from modelport.serving.router import Router
from modelport.serving.watcher import HotSwapWatcher
from modelport.signatures.schema import Signature

log = logging.getLogger("modelport.serving.dataplane")


@dataclass
class InferenceRequest:
    """A decoded prediction request, whatever protocol carried it."""

    model: str
    inputs: Any
    version: int | None = None
    want_proba: bool = False
    #: monotonic time (the data plane's clock) after which the answer is useless
    deadline: float | None = None
    #: request headers, for deployments whose sticky key is a header
    headers: Mapping[str, str] | None = None


@dataclass
class InferenceResult:
    """Predictions for one request, with the version that answered and one id per row."""

    model: str
    version: int
    prediction_ids: list[str]
    predictions: np.ndarray
    probabilities: np.ndarray | None
    classes: list[Any] | None


@dataclass
class ModelInfo:
    """What metadata routes report about a served model version."""

    record: VersionRecord
    ready: bool
    has_proba: bool
    load_error: str | None
    loaded_versions: list[int]


class DataPlane:
    """Serves predictions for the models named by `refs` (default: every registered model)."""

    def __init__(self, registry: Registry, config: ServerConfig | None = None, *, refs: Sequence[str] | None = None,
                 clock: Clock | None = None, sink: PredictionSink | None = None,
                 metrics: ServingMetrics | None = None, router: Router | None = None,
                 preloaded: Mapping[tuple[str, int], LoadedModel] | None = None) -> None:
        from modelport.foundation.names import parse_ref

        self.registry = registry
        self.config = config or ServerConfig()
        self.refs = [parse_ref(r) for r in refs] if refs else None
        self.clock = clock or SystemClock()
        self.metrics = metrics or ServingMetrics()
        self.router = router or Router()
        self.sink = SinkFeeder(sink or NullSink())
        self.draining = False
        self.ids = PredictionIds()
        self.limits = RequestLimits(self.config.max_rows, self.config.max_elements, self.config.max_string_length)
        self._executor = ThreadPoolExecutor(self.config.predict_threads, thread_name_prefix="modelport-predict")
        self._loader = ThreadPoolExecutor(2, thread_name_prefix="modelport-load")
        self.pool = ModelPool(registry, self.config, clock=self.clock, metrics=self.metrics,
                              executor=self._executor, loader=self._loader, preloaded=preloaded)
        self.watcher = HotSwapWatcher(registry, self.pool, self.router, self.refs,
                                      interval_s=self.config.poll_interval_s, clock=self.clock)
        self._watch_task: asyncio.Task[None] | None = None
        self._shadow_tasks: set[asyncio.Task[None]] = set()

    # --- lifecycle ----------------------------------------------------------------------
    async def start(self, *, watch: bool = True) -> None:
        """Find the served models and start loading them in the background."""
        await self.watcher.poll_once()
        if watch:
            self._watch_task = asyncio.ensure_future(self.watcher.run())

    async def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Wait until every served model is loaded and warm (raises DeadlineExceededError)."""
        try:
            await asyncio.wait_for(self.watcher.settle(), timeout_s)
        except asyncio.TimeoutError:
            raise DeadlineExceededError(f"models still loading after {timeout_s:g}s") from None

    def begin_drain(self) -> None:
        """Report not-ready from now on (SIGTERM): load balancers stop sending, in-flight requests finish."""
        self.draining = True

    async def stop(self) -> None:
        """Stop polling, flush the prediction log and free the threads."""
        if self._watch_task is not None:
            self._watch_task.cancel()
            await asyncio.gather(self._watch_task, return_exceptions=True)
        self.watcher.stop()
        if self._shadow_tasks:
            await asyncio.gather(*self._shadow_tasks, return_exceptions=True)
        self._executor.shutdown(wait=True)
        self._loader.shutdown(wait=False, cancel_futures=True)

    def wanted_versions(self) -> set[tuple[str, int]]:
        """Every version the served models should answer with now (reads the registry; blocking)."""
        return {(name, version) for name, traffic in self.watcher.desired_traffic().items()
                for version in traffic.versions}

    # --- health and metadata ------------------------------------------------------------
    def ready(self) -> bool:
        """True when not draining and every served model answers with its wanted version."""
        return not self.draining and self.watcher.all_ready()

    def model_ready(self, name: str, version: int | None = None) -> bool:
        """True when requests for the model (or that version) are answered without loading first."""
        target = self.router.current(name) if version is None else version
        if target is None or name not in self.router.served():
            return False
        return not self.draining and self.pool.get((name, target)) is not None

    def default_model(self) -> str:
        """The model `/invocations` serves: configured, else the first ref, else the only model."""
        if self.config.default_model:
            return self.config.default_model
        if self.refs:
            return self.refs[0].name
        served = sorted(self.router.served())
        if len(served) == 1:
            return served[0]
        raise NotFoundError(
            f"this server serves {len(served)} models ({', '.join(served) or 'none'}); /invocations needs a default: "
            "start the server with --default-model NAME or call /v1/models/NAME:predict")

    async def model_info(self, name: str, version: int | None = None) -> ModelInfo:
        """Metadata of the answering (or the given) version of a served model."""
        number = self.router.route(name) if version is None else version
        served = self.pool.get((name, number))
        if served is not None:
            record, has_proba = served.record, served.has_proba
        else:
            record = await asyncio.get_running_loop().run_in_executor(
                None, self.registry.store.get_version, name, number)
            has_proba = record.signature is not None and record.signature.classes is not None
        loaded = sorted(v for n, v in self.pool.loaded() if n == name)
        return ModelInfo(record, self.model_ready(name, number), has_proba,
                         self.pool.failures.get((name, number)), loaded)

    async def signature(self, name: str, version: int | None = None) -> Signature | None:
        """The signature of the version that would answer (wire decoders need the column names)."""
        number = self.router.route(name) if version is None else version
        served = self.pool.get((name, number))
        if served is not None:
            return served.model.signature
        return (await self.model_info(name, number)).record.signature

    def served_models(self) -> dict[str, int | None]:
        return self.router.served()

    # --- inference ----------------------------------------------------------------------
    async def infer(self, request: InferenceRequest) -> InferenceResult:
        """Route, admit, validate, batch and predict one request."""
        start = self.clock.monotonic()
        version = self._version_for(request)
        served = self.pool.try_acquire((request.model, version)) or await self.pool.acquire((request.model, version))
        labels = (request.model, str(version))
        depth = self.metrics.child(self.metrics.queue_depth, *labels)
        depth.inc()
        try:
            result = await self._infer_on(served, request, start)
        except BaseException as exc:
            self._account_failure(served, request, exc, start)
            raise
        finally:
            depth.dec()
            self.pool.release(served)
        self._account_success(served, request, result, start)
        if request.version is None and self.sink.enabled:
            self._start_shadows(request, result)
        return result

    def _version_for(self, request: InferenceRequest) -> int:
        if request.version is None:
            return self.router.pick(request.model, headers=request.headers, inputs=request.inputs)
        if request.model not in self.router.served():
            self.router.route(request.model)  # raises NotFoundError naming the served models
        return request.version

    async def _infer_on(self, served: ServedVersion, request: InferenceRequest, start: float) -> InferenceResult:
        if served.inflight > served.config.queue_limit:
            raise OverloadedError(
                f"model {served.record.ref} has {served.config.queue_limit} requests waiting; retry later",
                retry_after=1.0)
        check_limits(request.inputs, self.limits)
        data = await self._validate(served, request.inputs)
        rows = row_count(data)
        if rows == 0:
            raise ValidationError("inputs", "no rows to predict; send at least one row")
        answer = await self._predict(served, data, rows, request, start)
        return InferenceResult(served.record.name, served.record.version, self.ids.new(rows),
                               answer.predictions, answer.probabilities if request.want_proba else None,
                               served.model.classes)

    async def _validate(self, served: ServedVersion, raw: Any) -> Any:
        fast = served.inputs.fast(raw)
        if fast is not None:
            return fast
        # pandas-based validation of a big body could hold the event loop for long: run it aside
        return await asyncio.get_running_loop().run_in_executor(None, served.inputs.slow, raw)

    async def _predict(self, served: ServedVersion, data: Any, rows: int, request: InferenceRequest,
                       start: float) -> Answer:
        key = (cache_key(data), request.want_proba) if served.cache is not None else None
        if served.cache is not None and key is not None:
            hit = served.cache.get(key)
            self.metrics.child(self.metrics.cache, *served_labels(served), "hit" if hit else "miss").inc()
            if hit is not None:
                return Answer(hit.predictions, hit.probabilities, rows)
        deadline = request.deadline if request.deadline is not None else start + self.config.request_timeout_s
        try:
            answer = await served.batcher.submit(data, rows, want_proba=request.want_proba, deadline=deadline)
        except ModelportError:
            raise
        except Exception as exc:
            raise ModelExecutionError(f"model {served.record.ref} failed: {type(exc).__name__}") from exc
        if served.cache is not None and key is not None:
            served.cache.put(key, answer)
        return answer

    # --- shadows: a copy of the request, off the response path, logged as route "shadow" ---
    def _start_shadows(self, request: InferenceRequest, result: InferenceResult) -> None:
        for version in self.router.shadows(request.model):
            if version != result.version:
                task = asyncio.ensure_future(self._shadow(version, request, result.prediction_ids))
                self._shadow_tasks.add(task)
                task.add_done_callback(self._shadow_tasks.discard)

    async def _shadow(self, version: int, request: InferenceRequest, primary_ids: list[str]) -> None:
        """Predict with a shadow version; the caller already has its answer, this only feeds the log."""
        start = self.clock.monotonic()
        ids = [f"{pid}-s{version}" for pid in primary_ids]  # joins the shadow row to the primary one
        copy = InferenceRequest(request.model, request.inputs, version=version, want_proba=request.want_proba)
        try:
            served = self.pool.try_acquire((request.model, version)) or await self.pool.acquire((request.model, version))
        except Exception:
            log.warning("shadow %s:%s is not loaded; copy dropped", request.model, version)
            return
        try:
            result = await self._infer_on(served, copy, start)
        except Exception as exc:
            self._log_shadow(served, copy, start, ids, error=exc)
        else:
            self._log_shadow(served, copy, start, ids, result=result)
        finally:
            self.pool.release(served)

    def _log_shadow(self, served: ServedVersion, request: InferenceRequest, start: float, ids: list[str], *,
                    result: InferenceResult | None = None, error: BaseException | None = None) -> None:
        latency_ms = (self.clock.monotonic() - start) * 1000
        now, (model, version) = self.clock.now(), served.key
        if result is not None:
            self.sink.put(PredictionBlock(model, version, "shadow", now, latency_ms, ids, request.inputs,
                                          served.inputs.columns, result.predictions, result.probabilities))
        elif error is not None:
            self.sink.put(failure_block(model, version, "shadow", now, latency_ms, request.inputs,
                                        served.inputs.columns, error, self.ids.new, prediction_ids=ids))

    # --- accounting ---------------------------------------------------------------------
    def _account_success(self, served: ServedVersion, request: InferenceRequest, result: InferenceResult,
                         start: float) -> None:
        seconds = self.clock.monotonic() - start
        labels = served_labels(served)
        self.metrics.child(self.metrics.requests, *labels, "ok").inc()
        self.metrics.child(self.metrics.rows, *labels).inc(len(result.prediction_ids))
        self.metrics.child(self.metrics.latency, *labels).observe(seconds)
        if self.sink.enabled:  # every field of the block, in order (see `new_block`)
            self.sink.put(new_block((served.key[0], served.key[1], "primary", self.clock.now(), seconds * 1000,
                                     result.prediction_ids, request.inputs, served.inputs.columns, result.predictions,
                                     result.probabilities, "ok", None, None)))

    def _account_failure(self, served: ServedVersion, request: InferenceRequest, exc: BaseException,
                         start: float) -> None:
        seconds = self.clock.monotonic() - start
        labels = served_labels(served)
        self.metrics.child(self.metrics.requests, *labels, outcome_of(exc)).inc()
        self.metrics.child(self.metrics.latency, *labels).observe(seconds)
        if self.sink.enabled:
            self.sink.put(failure_block(served.key[0], served.key[1], "primary", self.clock.now(), seconds * 1000,
                                        request.inputs, served.inputs.columns, exc, self.ids.new))


def served_labels(served: ServedVersion) -> tuple[str, str]:
    return served.key[0], str(served.key[1])


def outcome_of(exc: BaseException) -> str:
    """The metric label of a failed request."""
    if isinstance(exc, InvalidInputError):
        return "invalid"
    if isinstance(exc, OverloadedError):
        return "overloaded"
    if isinstance(exc, (DeadlineExceededError, asyncio.CancelledError)):
        return "deadline"
    return "error"


__all__ = ["DataPlane", "InferenceRequest", "InferenceResult", "ModelInfo"]
