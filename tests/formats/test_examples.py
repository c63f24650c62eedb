"""The Python examples in docs/formats.md run as written."""

from __future__ import annotations

import gc
import re
import warnings
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "formats.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


def test_the_page_has_examples() -> None:
    assert len(BLOCKS) >= 4


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_example_runs(index: int, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # nyoka leaves its output file to the collector
        exec(compile(BLOCKS[index], f"{DOC.name}[{index}]", "exec"), {"__name__": f"docs_example_{index}"})
        gc.collect()
