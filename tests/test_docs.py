"""The examples in docs/ run: every ```python block in order, then every ```bash block's commands."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
BLOCK = re.compile(r"^```(python|bash|text)\n(.*?)^```", re.S | re.M)
EXECUTED = ["registry.md", "signatures.md"]


def blocks(page: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer((DOCS / page).read_text())]


@pytest.mark.slow
@pytest.mark.parametrize("page", EXECUTED)
def test_examples_in_page_run(page: str, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    printed = io.StringIO()
    expected_output: list[str] = []
    for language, code in blocks(page):
        if language == "python":
            with contextlib.redirect_stdout(printed):
                exec(compile(code, f"{page}", "exec"), namespace)
        elif language == "text":
            expected_output.append(code)
        else:
            _run_shell(code, namespace)
    for text in expected_output:
        assert text in printed.getvalue()


def _run_shell(code: str, namespace: dict[str, object]) -> None:
    model = namespace.get("model")
    if model is not None and not Path("model.skops").exists():
        import skops.io as sio

        sio.dump(model, "model.skops")
    cli = [sys.executable, "-m", "modelport.cli"]
    for line in code.strip().splitlines():
        args = shlex.split(line)
        assert args[0] == "modelport", line
        done = subprocess.run([*cli, *args[1:]], capture_output=True, text=True, env=os.environ.copy())
        assert done.returncode == 0, f"{line}: {done.stderr}"
