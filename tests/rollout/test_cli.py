"""`modelport deploy` and `modelport rollout status|promote|abort`, in-process against a home folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelport.foundation.settings import Settings
from modelport.registry.service import Registry
from tests.cli.runner import run


@pytest.fixture
def cli_home(home: Path, iris, iris_pipeline) -> Path:  # type: ignore[no-untyped-def]
    from sklearn.tree import DecisionTreeClassifier

    registry = Registry.open(Settings.at(home))
    x, y = iris
    registry.register(iris_pipeline, name="iris", input_example=x.head(3), alias="champion")
    registry.register(DecisionTreeClassifier(max_depth=3).fit(x, y), name="iris", input_example=x.head(3))
    registry.close()
    return home


def test_deploy_status_and_abort(capsys, cli_home) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(capsys, "deploy", "iris", "--strategy", "canary", "--version", "2", "--steps", "5,25,50,100",
                         "--step-duration", "5m", "--min-requests", "200", "--guardrail", "max_p99_ratio=2", "--json")
    assert code == 0, err
    started = json.loads(out)
    assert started["state"] == "running" and started["traffic"] == {"2": 5.0, "1": 95.0}
    code, out, _ = run(capsys, "rollout", "status", "iris", "--json")
    status = json.loads(out)
    assert {"strategy", "state", "step", "traffic", "reason"} <= set(status) and status["step"] == 0
    code, out, _ = run(capsys, "rollout", "status", "iris")
    assert code == 0 and "canary" in out and "running" in out and "95%" in out
    code, out, _ = run(capsys, "rollout", "abort", "iris", "--json")
    assert code == 0 and json.loads(out)["state"] == "aborted"
    code, out, err = run(capsys, "rollout", "promote", "iris")
    assert code != 0 and "no running rollout" in err


def test_promote_moves_champion_and_bad_flags_are_one_line_errors(capsys, cli_home) -> None:  # type: ignore[no-untyped-def]
    assert run(capsys, "deploy", "iris", "--strategy", "ab", "--version", "2", "--split", "50",
               "--sticky", "header:X-User-Id")[0] == 0
    code, out, _ = run(capsys, "rollout", "promote", "iris", "--json")
    assert code == 0 and json.loads(out)["champion"] == 2
    code, _, err = run(capsys, "deploy", "iris", "--strategy", "canary", "--version", "1", "--steps", "five")
    assert code != 0 and "--steps" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "deploy", "iris", "--strategy", "canary", "--version", "1", "--step-duration", "soon")
    assert code != 0 and "step_duration" in err
    code, _, err = run(capsys, "rollout", "status", "nosuch")
    assert code != 0 and "nosuch" in err
