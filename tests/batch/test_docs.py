"""The Python example of docs/batch.md runs as written and prints what the page says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "batch.md"


def test_the_python_example_runs(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    example = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)[0]
    monkeypatch.chdir(tmp_path)
    exec(compile(example, str(DOC), "exec"), {"__name__": "docs_batch"})
    printed = capsys.readouterr().out.splitlines()
    assert printed[-2:] == ["150 0", "['flower_id', 'prediction', 'proba_0', 'proba_1', 'proba_2', 'model_version']"]
