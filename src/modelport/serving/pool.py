"""Loaded model versions: loading and warm-up off the event loop, in-flight counts, LRU memory budget."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np

from modelport.foundation.clock import Clock
from modelport.foundation.errors import ModelportError, NotFoundError
from modelport.registry.loaded import LoadedModel
from modelport.registry.service import Registry
from modelport.serving.batcher import AdaptiveBatcher
from modelport.serving.cache import PredictionCache
from modelport.serving.config import ModelConfig, ServerConfig
from modelport.serving.inputs import InputPreparer, row_count
from modelport.serving.metrics import ServingMetrics

log = logging.getLogger("modelport.serving.pool")
_TIMED_RUNS = 5
#: flavors whose predict is bounded compiled compute: a warm-up timing tells their cost on any input.
#: Others (python functions, torch, ONNX sessions) may sleep, call out or vary with input: always threads.
INLINE_FLAVORS = frozenset({"sklearn", "xgboost", "lightgbm"})
Key = tuple[str, int]


class ServedVersion:
    """One loaded, warm version with its batcher, cache and in-flight count."""

    def __init__(self, model: LoadedModel, config: ModelConfig, *, executor: Executor, clock: Clock,
                 metrics: ServingMetrics, memory_bytes: int, has_proba: bool,
                 batch_seconds: float | None = None) -> None:
        self.model = model
        self.record = model.record
        self.key: Key = (model.name, model.version)
        self.config = config
        self.inputs = InputPreparer(model.signature)
        self.memory_bytes = memory_bytes
        self.has_proba = has_proba
        self.inflight = 0
        self.last_used = clock.monotonic()
        labels = (model.name, str(model.version))
        batch_rows = metrics.child(metrics.batch_rows, *labels)
        limit = config.max_batch_size if config.batching and self.inputs.batchable else 1
        self.batcher = AdaptiveBatcher(self.run, self.inputs.combine, executor=executor, clock=clock,
                                       max_batch_size=limit, max_wait_s=config.max_wait_ms / 1000,
                                       on_batch=batch_rows.observe,
                                       inline_limit_s=_inline_limit(config, batch_seconds))
        self.cache = PredictionCache(config.cache_size, config.cache_ttl_s, clock) if config.cache_size else None

    def run(self, data: Any, want_proba: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """Predict (and maybe predict_proba) on validated data; called in a worker thread."""
        predictions = self.model.predict(data, validated=True)
        probabilities = self.model.predict_proba(data, validated=True) if want_proba and self.has_proba else None
        return predictions, probabilities


@dataclass(frozen=True)
class LoadReport:
    """The outcome of loading one version, kept for metadata and logs."""

    seconds: float
    memory_bytes: int
    error: str | None = None


class ModelPool:
    """Every loaded version of this process, loaded on demand or ahead of a swap."""

    def __init__(self, registry: Registry, config: ServerConfig, *, clock: Clock, metrics: ServingMetrics,
                 executor: Executor, loader: Executor, preloaded: Mapping[Key, LoadedModel] | None = None) -> None:
        self.registry = registry
        self.config = config
        self.clock = clock
        self.metrics = metrics
        self.executor = executor
        self.loader = loader
        self._ready: dict[Key, ServedVersion] = {}
        self._loading: dict[Key, asyncio.Future[ServedVersion]] = {}
        self._retiring: set[Key] = set()
        self.failures: dict[Key, str] = {}
        self.reports: dict[Key, LoadReport] = {}
        # versions a parent process loaded before forking this worker: their memory is shared
        self._preloaded: dict[Key, LoadedModel] = dict(preloaded or {})

    def get(self, key: Key) -> ServedVersion | None:
        """The loaded version, or None."""
        return self._ready.get(key)

    def loaded(self) -> list[Key]:
        return list(self._ready)

    async def acquire(self, key: Key) -> ServedVersion:
        """The loaded version, loading it first if needed; the caller must `release` it."""
        served = self._ready.get(key) or await self.load(key)
        served.inflight += 1
        served.last_used = self.clock.monotonic()
        return served

    def try_acquire(self, key: Key) -> ServedVersion | None:
        """Like `acquire` without waiting: None when the version is not loaded."""
        served = self._ready.get(key)
        if served is not None:
            served.inflight += 1
            served.last_used = self.clock.monotonic()
        return served

    def release(self, served: ServedVersion) -> None:
        """Mark one request done; a retired version unloads with its last request."""
        served.inflight -= 1
        if served.inflight == 0 and served.key in self._retiring:
            self.unload(served.key)

    def load(self, key: Key) -> asyncio.Future[ServedVersion]:
        """Start (or join) loading and warming `key` in the loader threads."""
        if key in self._ready:
            self._retiring.discard(key)  # wanted again before its last request finished
            done: asyncio.Future[ServedVersion] = asyncio.get_running_loop().create_future()
            done.set_result(self._ready[key])
            return done
        if key not in self._loading:
            self._loading[key] = asyncio.ensure_future(self._load(key))
        return self._loading[key]

    async def _load(self, key: Key) -> ServedVersion:
        loop = asyncio.get_running_loop()
        name, version = key
        start = self.clock.monotonic()
        try:
            model, has_proba, memory, batch_seconds = await loop.run_in_executor(self.loader, self._load_sync, key)
        except BaseException as exc:
            self._loading.pop(key, None)
            message = str(exc) if isinstance(exc, ModelportError) else f"{type(exc).__name__}: {exc}"
            self.failures[key] = message
            self.reports[key] = LoadReport(self.clock.monotonic() - start, 0, message)
            self.metrics.child(self.metrics.load_failures, name, str(version)).inc()
            log.error("loading %s:%s failed: %s", name, version, message)
            raise
        seconds = self.clock.monotonic() - start
        served = ServedVersion(model, self.config.for_model(name), executor=self.executor, clock=self.clock,
                               metrics=self.metrics, memory_bytes=memory, has_proba=has_proba,
                               batch_seconds=batch_seconds)
        self._ready[key] = served
        self._loading.pop(key, None)
        self.failures.pop(key, None)
        self._retiring.discard(key)
        self.reports[key] = LoadReport(seconds, memory)
        self.metrics.child(self.metrics.load_seconds, name, str(version)).observe(seconds)
        self.metrics.child(self.metrics.loaded, name, str(version)).set(1)
        log.info("loaded %s:%s in %.3fs (%.1f MiB)", name, version, seconds, memory / 2**20)
        self.enforce_budget(keep={key})
        return served

    def _load_sync(self, key: Key) -> tuple[LoadedModel, bool, int, float | None]:
        """Load, verify and warm a version (in a loader thread); also time a full batch's predict."""
        before = _rss_bytes()
        model = self._preloaded.pop(key, None)
        if model is None:
            record = self.registry.store.get_version(*key)
            if record.status != "ready" and record.status != "archived":
                raise NotFoundError(f"model {record.ref} is {record.status}, not ready to serve")
            model = self.registry.load(record)
        record = model.record
        has_proba = model.classes is not None
        example = self.registry.input_example(record) if self.config.warmup else None
        batch_seconds = None
        if example is not None:
            inputs = InputPreparer(model.signature)
            data = inputs.slow(example)
            model.predict(data, validated=True)
            has_proba = model.predict_proba(data, validated=True) is not None
            settings = self.config.for_model(key[0])
            if inputs.batchable and settings.inline_predict_us > 0 and record.flavor in INLINE_FLAVORS:
                batch_seconds = _time_full_batch(model, inputs, data, settings)
        return model, has_proba, max(_rss_bytes() - before, record.artifact_size), batch_seconds

    def retire(self, key: Key) -> None:
        """Unload `key` once its in-flight requests are done."""
        served = self._ready.get(key)
        if served is None:
            return
        if served.inflight == 0 and not served.batcher.busy:
            self.unload(key)
        else:
            self._retiring.add(key)

    def unload(self, key: Key) -> None:
        """Drop a version from memory now."""
        self._retiring.discard(key)
        if self._ready.pop(key, None) is not None:
            self.metrics.forget_version(key[0], str(key[1]))
            log.info("unloaded %s:%s", *key)

    def enforce_budget(self, keep: set[Key]) -> list[Key]:
        """Unload least recently used idle versions until the memory budget holds; return what went."""
        budget = self.config.memory_budget_mb
        if budget is None:
            return []
        limit = budget * 2**20
        gone: list[Key] = []
        idle = sorted((s for s in self._ready.values() if s.inflight == 0 and s.key not in keep),
                      key=lambda s: s.last_used)
        for served in idle:
            if self.memory_bytes() <= limit:
                break
            self.unload(served.key)
            gone.append(served.key)
        return gone

    def memory_bytes(self) -> int:
        """Estimated resident memory of all loaded versions."""
        return sum(s.memory_bytes for s in self._ready.values())


def _time_full_batch(model: LoadedModel, inputs: InputPreparer, example: Any, config: ModelConfig) -> float:
    """The fastest of a few predicts on a full batch made of the example's rows.

    predict_proba is not timed: requests asking for it are rarer, and a batch that turns out slow
    on the loop sends the model to the threads anyway (see `batcher`).
    """
    parts = max(1, -(-config.max_batch_size // max(1, row_count(example))))
    batch = inputs.combine([example] * parts)
    fastest = float("inf")
    for _ in range(_TIMED_RUNS):  # the fastest run: the model's own cost, not a busy machine's noise
        start = time.thread_time()  # CPU time, as the batcher measures it
        model.predict(batch, validated=True)
        fastest = min(fastest, time.thread_time() - start)
        if fastest > 10 * config.inline_predict_us / 1e6:
            break  # far too slow for the loop: no need to time it again
    return fastest


def _inline_limit(config: ModelConfig, batch_seconds: float | None) -> float | None:
    """The time budget of a predict on the event loop, when this model's full batch fits in it (else None)."""
    limit = config.inline_predict_us / 1e6
    if batch_seconds is None or limit <= 0 or batch_seconds > limit:
        return None
    return limit


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
