"""skops.io is imported without pulling in PyTorch, and torch stays importable for everyone else."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from modelport.formats.skops_io import _NoTorchInThisThread

pytest.importorskip("torch")  # the test extra installs it; without torch there is nothing to hide


def test_serving_a_scikit_learn_model_does_not_import_torch(tmp_path: Path) -> None:
    # A fresh interpreter: this test process has imported torch long ago.
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from sklearn.datasets import load_iris
        from sklearn.linear_model import LogisticRegression
        from modelport.formats.sklearn import SkopsAdapter
        x, y = load_iris(return_X_y=True)
        adapter = SkopsAdapter()
        path = adapter.save(LogisticRegression(max_iter=1000).fit(x, y), Path({str(tmp_path)!r}))
        predicted = adapter.load(path).predict(x[:5])
        assert "torch" not in sys.modules, "torch was imported"
        import torch  # still importable afterwards
        import sklearn.externals.array_api_compat.torch
        print([int(v) for v in predicted], torch.__name__)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[0, 0, 0, 0, 0] torch"


def test_the_finder_hides_torch_from_its_own_thread_only() -> None:
    finder = _NoTorchInThisThread()
    with pytest.raises(ModuleNotFoundError, match=r"'torch\.nn'"):
        finder.find_spec("torch.nn")
    assert finder.find_spec("torchvision_like_name_but_not_torch") is None
    assert finder.find_spec("numpy") is None
    seen: list[object] = []
    other = threading.Thread(target=lambda: seen.append(finder.find_spec("torch")))
    other.start()
    other.join()
    assert seen == [None]  # another thread falls through to the real finders
