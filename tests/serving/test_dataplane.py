"""The data plane over a real registry: routing, hot swap, overload, failures, cache, log, memory budget."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest

from modelport.foundation.errors import (
    InvalidInputError,
    ModelExecutionError,
    NotFoundError,
    OverloadedError,
    ValidationError,
)
from modelport.serving.config import ModelConfig, ServerConfig
from modelport.serving.dataplane import DataPlane, InferenceRequest
from modelport.serving.predictions import PredictionBlock, PredictionRecord

pytestmark = pytest.mark.anyio
ROW = [[5.1, 3.5, 1.4, 0.2]]


class ListSink:
    def __init__(self) -> None:
        self.rows: list[PredictionRecord] = []
        self.event = threading.Event()

    def record(self, items: list[PredictionBlock | PredictionRecord]) -> None:
        self.rows.extend(row for item in items for row in (item.records() if isinstance(item, PredictionBlock) else [item]))
        self.event.set()


class GatedPredictor:
    """Stands in for a model: waits on a gate, raises on request."""

    def __init__(self, fail: bool = False) -> None:
        self.gate = threading.Event()
        self.fail = fail

    def predict(self, data: Any) -> np.ndarray:
        assert self.gate.wait(timeout=10)
        if self.fail:
            raise RuntimeError("secret internals")
        return np.zeros(len(data), dtype=int)

    def predict_proba(self, data: Any) -> np.ndarray | None:
        return None

    @property
    def classes(self) -> list[Any] | None:
        return [0, 1, 2]


@pytest.fixture
async def plane(iris_registry, request) -> AsyncIterator[DataPlane]:
    config = getattr(request, "param", ServerConfig())
    dp = DataPlane(iris_registry, config, sink=ListSink())
    await dp.start(watch=False)
    await dp.wait_ready(30)
    yield dp
    await dp.stop()


async def test_a_name_answers_with_its_champion_and_a_version_can_be_pinned(plane) -> None:
    result = await plane.infer(InferenceRequest("iris", ROW))
    assert result.version == 1 and result.predictions.tolist() == [0] and len(result.prediction_ids) == 1
    pinned = await plane.infer(InferenceRequest("iris", ROW, version=2, want_proba=True))
    assert pinned.version == 2 and pinned.probabilities is not None and pinned.probabilities.shape == (1, 3)
    assert plane.ready() and plane.model_ready("iris") and plane.model_ready("iris", 2)


async def test_unknown_models_and_bad_rows(plane) -> None:
    with pytest.raises(NotFoundError, match="not served here"):
        await plane.infer(InferenceRequest("nope", ROW))
    with pytest.raises(ValidationError, match="input 'sepal length \\(cm\\)': expected float64, got string"):
        await plane.infer(InferenceRequest("iris", [["x", 1, 2, 3]]))
    with pytest.raises(NotFoundError, match="no version 7"):
        await plane.infer(InferenceRequest("iris", ROW, version=7))


async def test_an_alias_move_is_followed_after_loading_and_the_old_version_unloads(plane, iris_registry) -> None:
    iris_registry.set_alias("iris", 2, "champion")
    await plane.watcher.poll_once()
    await plane.watcher.settle()
    assert plane.router.current("iris") == 2
    assert (await plane.infer(InferenceRequest("iris", ROW))).version == 2
    assert plane.pool.loaded() == [("iris", 2)]


async def test_a_version_that_fails_to_load_never_replaces_the_serving_one(plane, iris_registry) -> None:
    record = iris_registry.store.get_version("iris", 2)
    iris_registry.artifacts.delete(record.artifact_digest)
    iris_registry.set_alias("iris", 2, "champion")
    await plane.watcher.poll_once()
    await plane.watcher.settle()
    assert plane.router.current("iris") == 1 and plane.ready()
    assert (await plane.infer(InferenceRequest("iris", ROW))).version == 1
    assert ("iris", 2) in plane.pool.failures
    text = plane.metrics.render()[0].decode()
    assert 'modelport_model_load_failures_total{model="iris",version="2"} 1.0' in text


# inline_predict_us=0: the gated stand-in blocks its thread, which must not be the event loop's
@pytest.mark.parametrize("plane", [ServerConfig(model_defaults=ModelConfig(queue_limit=1, inline_predict_us=0))],
                         indirect=True)
async def test_past_the_queue_limit_requests_get_overloaded_without_touching_the_model(plane) -> None:
    fake = GatedPredictor()
    plane.pool.get(("iris", 1)).model.predictor = fake
    first = asyncio.ensure_future(plane.infer(InferenceRequest("iris", ROW)))
    await _until(lambda: plane.pool.get(("iris", 1)).inflight == 1)
    with pytest.raises(OverloadedError, match="retry later") as refused:
        await plane.infer(InferenceRequest("iris", ROW))
    assert refused.value.retry_after >= 1
    fake.gate.set()
    assert (await asyncio.wait_for(first, 10)).version == 1


async def test_a_raising_model_names_its_version_and_the_server_keeps_serving(plane) -> None:
    served = plane.pool.get(("iris", 1))
    healthy = served.model.predictor
    fake = GatedPredictor(fail=True)
    fake.gate.set()
    served.model.predictor = fake
    with pytest.raises(ModelExecutionError, match="model iris:1 failed to predict: RuntimeError") as failed:
        await plane.infer(InferenceRequest("iris", ROW))
    assert "secret internals" not in str(failed.value)
    served.model.predictor = healthy
    assert (await plane.infer(InferenceRequest("iris", ROW))).version == 1


async def test_every_served_row_reaches_the_prediction_sink_good_or_failed(plane) -> None:
    sink = plane.sink.sink
    ok = await plane.infer(InferenceRequest("iris", ROW * 3))
    with pytest.raises(ValidationError):
        await plane.infer(InferenceRequest("iris", [["x", 1, 2, 3]]))
    await _until(lambda: len(sink.rows) >= 4)
    good = [r for r in sink.rows if r.status == "ok"]
    assert [r.prediction_id for r in good] == ok.prediction_ids
    assert good[0].inputs == {"sepal length (cm)": 5.1, "sepal width (cm)": 3.5, "petal length (cm)": 1.4,
                              "petal width (cm)": 0.2}
    assert good[0].model == "iris" and good[0].version == 1 and good[0].route == "primary"
    failed = [r for r in sink.rows if r.status != "ok"]
    assert failed and failed[0].status == "ValidationError" and "expected float64" in failed[0].error


@pytest.mark.parametrize("plane", [ServerConfig(model_defaults=ModelConfig(cache_size=8))], indirect=True)
async def test_the_cache_answers_repeated_inputs_with_fresh_prediction_ids(plane) -> None:
    first = await plane.infer(InferenceRequest("iris", ROW))
    second = await plane.infer(InferenceRequest("iris", [list(map(float, ROW[0]))]))
    assert first.predictions.tolist() == second.predictions.tolist()
    assert first.prediction_ids != second.prediction_ids
    text = plane.metrics.render()[0].decode()
    assert 'modelport_cache_lookups_total{model="iris",result="hit",version="1"} 1.0' in text
    assert 'modelport_cache_lookups_total{model="iris",result="miss",version="1"} 1.0' in text


@pytest.mark.parametrize("plane", [ServerConfig(memory_budget_mb=0.001)], indirect=True)
async def test_past_the_memory_budget_the_least_recently_used_idle_version_unloads(plane) -> None:
    await plane.infer(InferenceRequest("iris", ROW, version=2))
    assert plane.pool.loaded() == [("iris", 2)]
    assert (await plane.infer(InferenceRequest("iris", ROW))).version == 1  # reloaded on demand
    assert plane.pool.loaded() == [("iris", 1)]


async def test_draining_turns_readiness_off(plane) -> None:
    plane.begin_drain()
    assert not plane.ready() and not plane.model_ready("iris")
    assert (await plane.infer(InferenceRequest("iris", ROW))).version == 1  # in-flight work still served


async def _until(condition: Any, timeout: float = 10.0) -> None:
    """Wait for a condition with a deadline (no sleep-and-hope)."""
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), timeout)


@pytest.mark.parametrize(("budget_us", "inline"), [(1e6, True), (0.0, False)])
async def test_a_model_whose_full_batch_fits_the_inline_budget_at_warm_up_predicts_on_the_loop(
        iris_registry, budget_us: float, inline: bool) -> None:
    config = ServerConfig(model_defaults=ModelConfig(inline_predict_us=budget_us))
    dp = DataPlane(iris_registry, config, sink=ListSink())
    await dp.start(watch=False)
    try:
        await dp.wait_ready(30)
        (served,) = [dp.pool.get(key) for key in dp.pool.loaded()]
        assert served is not None and (served.batcher.inline_limit_s is not None) is inline
        result = await dp.infer(InferenceRequest("iris", ROW))
        assert result.predictions.tolist() == [0]
    finally:
        await dp.stop()


def test_a_negative_inline_budget_is_refused_naming_the_setting() -> None:
    with pytest.raises(InvalidInputError, match="inline_predict_us must be >= 0"):
        ModelConfig(inline_predict_us=-1)
