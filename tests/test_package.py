"""The package's promises: a light import, a pinned public API, layers that point down."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import modelport

ROOT = Path(__file__).resolve().parents[1]

HEAVY = ["sklearn", "torch", "xgboost", "lightgbm", "onnxruntime", "fastapi", "starlette", "uvicorn", "sqlalchemy",
         "pandas", "numpy", "scipy", "pyarrow", "ray", "prometheus_client", "typer", "rich", "httpx", "duckdb"]


def _modules_after(statement: str) -> set[str]:
    code = f"import sys, json; {statement}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out))


def test_import_pulls_in_no_framework_and_does_no_io(tmp_path: Path) -> None:
    loaded = _modules_after("import modelport")
    assert not sorted(m for m in loaded if m.split(".")[0] in HEAVY)
    home = tmp_path / "never-created"
    subprocess.run([sys.executable, "-c", "import modelport; modelport.__all__"], check=True,
                   env={"MODELPORT_HOME": str(home), "PATH": ""})
    assert not home.exists()


def test_public_api_is_pinned() -> None:
    assert modelport.__all__ == sorted([
        "Client", "ConflictError", "IntegrityError", "InvalidInputError", "ModelExecutionError", "ModelportError",
        "NotFoundError", "Settings", "Signature", "UnsafeArtifactError", "UnsupportedFormatError", "ValidationError",
        "__version__", "batch_score", "feedback", "load", "register",
    ])
    for name in modelport.__all__:
        assert getattr(modelport, name) is not None


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        modelport.nope


def test_cli_starts_without_ml_frameworks() -> None:
    loaded = _modules_after("import modelport.cli.app")
    assert not sorted(m for m in loaded if m.split(".")[0] in ("sklearn", "torch", "xgboost", "lightgbm", "onnxruntime",
                                                               "pandas", "fastapi", "uvicorn", "ray"))


def test_layers_point_down() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--config", str(ROOT / "pyproject.toml")], capture_output=True, text=True,
                          cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_error_is_a_modelport_error() -> None:
    from modelport.foundation import errors

    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.ModelportError)
