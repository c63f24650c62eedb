"""Real processes: concurrent registrations get distinct numbers; a kill mid-registration leaves nothing half-visible."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from modelport.foundation.settings import Settings
from modelport.registry.service import Registry

pytestmark = pytest.mark.slow

TRAIN = """
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
x, y = load_iris(return_X_y=True, as_frame=True)
model = LogisticRegression(max_iter=300).fit(x, y)
"""


def _env(settings: Settings) -> dict[str, str]:
    return {**os.environ, "MODELPORT_HOME": str(settings.home), "MODELPORT_DB_URL": settings.db_url,
            "MODELPORT_ARTIFACTS": settings.artifacts_url}


def _wait_for(path: Path, proc: subprocess.Popen[bytes], errors: Path, deadline: float = 120.0) -> None:
    end = time.monotonic() + deadline
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"child exited early: {errors.read_text()}")
        if time.monotonic() > end:
            raise AssertionError(f"child did not reach {path.name} within {deadline}s")
        time.sleep(0.05)


def test_concurrent_registrations_get_distinct_numbers(settings: Settings, tmp_path: Path) -> None:
    Registry.open(settings).close()  # migrate once, as a server would at start
    go = tmp_path / "go"
    script = TRAIN + textwrap.dedent(f"""
        import pathlib, time, modelport
        while not pathlib.Path({str(go)!r}).exists():
            time.sleep(0.01)
        for _ in range(3):
            print(modelport.register(model, name="race", input_example=x.head()).version, flush=True)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script], env=_env(settings), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for _ in range(4)]
    go.touch()
    numbers: list[int] = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err.decode()
        numbers += [int(line) for line in out.split()]
    assert sorted(numbers) == list(range(1, 13))
    registry = Registry.open(settings)
    try:
        assert [v.version for v in registry.store.list_versions("race")] == list(range(1, 13))
    finally:
        registry.close()


# Where the child stops (and is killed): while writing the artifact, after the artifact is in place
# but before the transaction, and inside the transaction after the version row was inserted.
STOPS = {
    "artifact-write": ("modelport.storage.artifacts", "_write_local", "half"),
    "before-transaction": ("modelport.registry.store.RegistryStore", "create_version", "enter"),
    "inside-transaction": ("modelport.registry.store.RegistryStore", "_audit", "enter"),
}


@pytest.mark.parametrize("stop", list(STOPS))
def test_kill_during_registration_leaves_no_visible_unloadable_version(settings: Settings, tmp_path: Path,
                                                                     stop: str) -> None:
    Registry.open(settings).close()
    reached = tmp_path / "reached"
    owner, attribute, mode = STOPS[stop]
    script = TRAIN + textwrap.dedent(f"""
        import importlib, pathlib, time, modelport
        owner_path = {owner!r}
        module_name, _, class_name = owner_path.rpartition(".") if owner_path.endswith("Store") else (owner_path, "", "")
        owner = getattr(importlib.import_module(module_name), class_name) if class_name else importlib.import_module(owner_path)
        original = getattr(owner, {attribute!r})
        def stop(*args, **kwargs):
            if {mode!r} == "half":
                source, target = args
                tmp = target.parent / ".incoming-partial"
                tmp.write_bytes(source.read_bytes()[:100])
            pathlib.Path({str(reached)!r}).touch()
            time.sleep(600)
        setattr(owner, {attribute!r}, stop)
        modelport.register(model, name="crash", input_example=x.head())
    """)
    errors = tmp_path / "child.err"
    with errors.open("wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-c", script], env=_env(settings), stdout=subprocess.DEVNULL,
                                stderr=stderr)
        try:
            _wait_for(reached, proc, errors)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
    registry = Registry.open(settings)
    try:
        models = registry.store.list_models()
        visible = [v for m in models for v in registry.store.list_versions(m.name)]
        assert visible == []  # the killed registration left no version behind
        assert not list(Path(settings.artifacts_url).rglob(".incoming-*")) or stop == "artifact-write"
        # and the registry still works: the next registration succeeds and loads
        from sklearn.datasets import load_iris
        from sklearn.linear_model import LogisticRegression

        x, y = load_iris(return_X_y=True, as_frame=True)
        record = registry.register(LogisticRegression(max_iter=300).fit(x, y), name="crash", input_example=x.head())
        assert registry.load(record).predict(x.head()).shape == (5,)
    finally:
        registry.close()
