"""Serving settings: server-wide limits and per-model batching, queue and cache options."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from modelport.foundation.errors import InvalidInputError

MIB = 1024 * 1024


@dataclass(frozen=True)
class ModelConfig:
    """How one model is batched, queued and cached."""

    #: most rows merged into one predict call (a single larger request still passes alone)
    max_batch_size: int = 64
    #: extra time a batch may wait for company, and only while the model is under load
    max_wait_ms: float = 0.0
    #: requests admitted per version (queued or running); past it callers get 503
    queue_limit: int = 1024
    batching: bool = True
    #: prediction cache entries; 0 turns the cache off
    cache_size: int = 0
    cache_ttl_s: float = 300.0
    #: a version whose full batch predicted within this at warm-up runs on the event loop; 0: always in threads
    inline_predict_us: float = 300.0

    def __post_init__(self) -> None:
        _positive("max_batch_size", self.max_batch_size)
        _positive("queue_limit", self.queue_limit)
        if self.max_wait_ms < 0 or self.cache_size < 0 or self.cache_ttl_s <= 0 or self.inline_predict_us < 0:
            raise InvalidInputError(
                "max_wait_ms, cache_size and inline_predict_us must be >= 0 and cache_ttl_s > 0", field="model_config"
            )


@dataclass(frozen=True)
class ServerConfig:
    """Server-wide serving settings; `models` overrides `model_defaults` per model name."""

    model_defaults: ModelConfig = field(default_factory=ModelConfig)
    models: Mapping[str, ModelConfig] = field(default_factory=dict)
    #: how often the registry is polled for alias moves and new versions
    poll_interval_s: float = 0.5
    #: deadline of a request that does not send one (X-Request-Timeout header)
    request_timeout_s: float = 30.0
    body_limit_bytes: int = 32 * MIB
    #: resident memory loaded versions may use together; None means no limit
    memory_budget_mb: float | None = None
    predict_threads: int = 4
    #: the model `POST /invocations` answers for (default: the first ref, or the only model)
    default_model: str | None = None
    warmup: bool = True
    access_log: bool = True
    log_inputs: bool = False
    #: seconds a draining server waits for in-flight requests after SIGTERM
    drain_timeout_s: float = 30.0
    #: bounds on one request, checked before validation (413 past them)
    max_rows: int = 100_000
    max_elements: int = 10_000_000
    max_string_length: int = 65_536
    #: write every prediction to the prediction log (monitoring, rollouts and feedback need it)
    prediction_log: bool = True
    #: seconds between alert evaluations (one replica evaluates, by lease)
    alert_interval_s: float = 60.0
    #: strategy started for each new `@challenger` version (rollout/challenger.py), or "off"
    auto_rollout: str = "off"
    #: freeze the heap for the collector once the models are warm (serving/collector.py); a process-wide
    #: setting, so `modelport serve` turns it on and an app embedded elsewhere leaves it off
    tune_gc: bool = False

    def __post_init__(self) -> None:
        _positive("body_limit_bytes", self.body_limit_bytes)
        _positive("predict_threads", self.predict_threads)
        for bound in ("max_rows", "max_elements", "max_string_length"):
            _positive(bound, getattr(self, bound))
        if self.poll_interval_s <= 0 or self.request_timeout_s <= 0:
            raise InvalidInputError("poll_interval_s and request_timeout_s must be > 0", field="server_config")

    def for_model(self, name: str) -> ModelConfig:
        """The settings of model `name`."""
        return self.models.get(name, self.model_defaults)

    def with_options(self, **changes: Any) -> ServerConfig:
        """A copy with some fields changed."""
        return replace(self, **changes)


def _positive(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError(f"{name} must be a whole number >= 1, got {value!r}", field=name)
