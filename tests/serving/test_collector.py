"""The collector settles once the models are warm: the heap frozen, young garbage collected less often."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from modelport.foundation.errors import DeadlineExceededError
from modelport.serving.collector import YOUNG_THRESHOLD, settle


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_settle_freezes_the_heap_and_raises_the_young_threshold(restored_collector: None) -> None:
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    settle()
    assert gc.get_freeze_count() > 1000  # the interpreter and libraries alone are thousands of objects
    assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10)


class _Plane:
    def __init__(self, ready: bool) -> None:
        self.ready = ready

    async def wait_ready(self, timeout_s: float) -> None:
        if not self.ready:
            raise DeadlineExceededError(f"models still loading after {timeout_s:g}s")


@pytest.mark.anyio
@pytest.mark.parametrize(("ready", "frozen"), [(True, True), (False, False)])
async def test_the_server_settles_only_once_its_models_are_ready(restored_collector: None, ready: bool,
                                                                  frozen: bool) -> None:
    from modelport.http.app import _settle_collector

    gc.unfreeze()
    await _settle_collector(_Plane(ready))  # type: ignore[arg-type]
    assert (gc.get_freeze_count() > 0) is frozen
