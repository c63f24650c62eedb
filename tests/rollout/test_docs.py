"""docs/rollouts.md: every command of its bash blocks runs, in order, after `modelport quickstart --no-serve`."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from modelport.cli.app import main

PAGE = Path(__file__).resolve().parents[2] / "docs" / "rollouts.md"
BASH = re.compile(r"^```bash\n(.*?)^```", re.S | re.M)


def _run(args: list[str]) -> None:
    try:
        main(args)
    except SystemExit as done:
        assert not done.code, f"modelport {shlex.join(args)} exited with {done.code}"


@pytest.mark.slow
def test_every_command_in_the_rollouts_page_runs(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _run(["quickstart", "--no-serve"])
    _abort_quickstart_canary()
    commands = [line for block in BASH.findall(PAGE.read_text()) for line in block.strip().splitlines()]
    assert len(commands) >= 12
    for line in commands:
        args = shlex.split(line)
        assert args[0] == "modelport", line
        _run(args[1:])
    out = capsys.readouterr().out
    assert "rollout.abort" in out and "bandit" in out


def _abort_quickstart_canary() -> None:
    from modelport.registry.service import Registry
    from modelport.rollout.service import Deployments

    registry = Registry.open()
    try:
        deployments = Deployments(registry)
        if deployments.status("cancer")["state"] == "running":
            deployments.abort("cancer", actor="docs test")
    finally:
        registry.close()
