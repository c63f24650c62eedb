"""One virtual environment per incumbent, cached in bench/.envs/, with modelport's scikit-learn version."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ENVS = Path(__file__).resolve().parent.parent / ".envs"

#: environment -> what pip installs there besides scikit-learn (PyPI only)
REQUIREMENTS: dict[str, list[str]] = {
    "mlflow": ["mlflow"],
    "bentoml": ["bentoml"],
    # MLServer 1.7.1 workers call asyncio.get_event_loop(), which uvloop >= 0.21 refuses: they die at start
    "mlserver": ["mlserver", "mlserver-sklearn", "uvloop<0.21"],
    # the drift benchmark's comparison (bench/drift/run_evidently.py reads the same Parquet files)
    "evidently": ["evidently", "pyarrow", "pandas<3"],  # Evidently 0.7 does not import under pandas 3
}


@dataclass(frozen=True)
class Env:
    """A ready environment, or the reason it could not be built."""

    name: str
    python: Path | None
    error: str = ""

    def bin(self, program: str) -> str:
        """The path of `program` in this environment's bin folder."""
        assert self.python is not None, f"environment {self.name} is not available: {self.error}"
        return str(self.python.parent / program)


def sklearn_version() -> str:
    """The scikit-learn version of the interpreter running the benchmark (modelport's)."""
    import sklearn

    return str(sklearn.__version__)


def ensure(name: str, *, log: Path) -> Env:
    """The environment `name`, created and installed on first use; reused while its requirements match."""
    folder = ENVS / name
    python = folder / "bin" / "python"
    wanted = "\n".join([f"scikit-learn=={sklearn_version()}", *REQUIREMENTS[name]])
    marker = folder / ".bench-requirements"
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return Env(name, python)
    log.parent.mkdir(parents=True, exist_ok=True)
    try:
        if not python.exists():
            shutil.rmtree(folder, ignore_errors=True)
            _run([sys.executable, "-m", "venv", str(folder)], log)
        _run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *wanted.splitlines()], log)
    except subprocess.CalledProcessError:
        return Env(name, None, f"pip install {' '.join(wanted.splitlines())} failed: {_tail(log)}")
    marker.write_text(wanted)
    return Env(name, python)


def _run(command: list[str], log: Path) -> None:
    with log.open("ab") as sink:
        subprocess.run(command, check=True, stdout=sink, stderr=subprocess.STDOUT, timeout=1800)


def _tail(log: Path, lines: int = 8) -> str:
    text = log.read_text(errors="replace").strip().splitlines()
    kept = [line for line in text if "is ignored: it is neither a file" not in line]
    return " | ".join(kept[-lines:])
