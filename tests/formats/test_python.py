"""Custom Python models packaged with their code: trust required, state through save/load, safe extraction."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from modelport.formats.python import MANIFEST, PythonModelAdapter, package_python_model, sniff_manifest
from modelport.foundation.errors import InvalidInputError, UnsafeArtifactError
from modelport.registry.service import Registry

from .custom_models import Doubler, NearestCentroid


@pytest.fixture(scope="module")
def centroid(iris: Any) -> NearestCentroid:
    return NearestCentroid().fit(*iris)


def test_state_travels_through_save_and_load(centroid: NearestCentroid, iris: Any, tmp_path: Path) -> None:
    adapter = PythonModelAdapter()
    assert adapter.accepts(centroid)
    path = adapter.save(centroid, tmp_path)
    assert adapter.sniff(path) and sniff_manifest(path) == {
        "flavor": "python", "format": 1, "module": "custom_models", "class": "NearestCentroid"}
    loaded = adapter.load(path, trusted=True)
    assert loaded.predict(iris[0]).tolist() == centroid.predict(iris[0]).tolist()
    assert loaded.classes == [0, 1, 2] and loaded.predict_proba(iris[0]) is None


def test_loading_without_trust_is_refused(centroid: NearestCentroid, sqlite_registry: Registry,
                                          tmp_path: Path) -> None:
    path = PythonModelAdapter().save(centroid, tmp_path)
    with pytest.raises(UnsafeArtifactError, match="runs that code"):
        PythonModelAdapter().load(path)
    with pytest.raises(UnsafeArtifactError, match="explicit trust decision"):
        sqlite_registry.register(centroid, name="centroid")


def test_a_packaged_class_with_data_files(tmp_path: Path) -> None:
    weights = tmp_path / "weights.npy"
    np.save(weights, np.array([1.0, 2.0]))
    path = package_python_model(Doubler, tmp_path / "doubler.tar", data=[weights])
    with tarfile.open(path) as archive:
        assert archive.getnames() == [MANIFEST, "code/custom_models.py", "data/weights.npy"]
    loaded = PythonModelAdapter().load(path, trusted=True)
    assert loaded.predict(np.array([[1.0, 2.0]])).tolist() == [6.0]


def test_what_the_adapter_accepts(centroid: NearestCentroid) -> None:
    from sklearn.linear_model import LinearRegression

    class Local:  # defined in a function: its source cannot be packaged by module
        def predict(self, data: Any) -> Any:
            return data

    adapter = PythonModelAdapter()
    assert adapter.accepts(Doubler())  # no state at all
    assert not adapter.accepts(LinearRegression())  # an installed package's class: not "your code"
    assert not adapter.accepts(NearestCentroid)  # a class, not an instance
    stateful = Doubler()
    stateful.factor = 3  # type: ignore[attr-defined]  # state that save/load would not carry
    assert not adapter.accepts(stateful)
    with pytest.raises(InvalidInputError, match="inside a function"):
        package_python_model(Local(), Path("unused.tar"))
    with pytest.raises(InvalidInputError, match="no predict"):
        package_python_model(int, Path("unused.tar"))
    with pytest.raises(InvalidInputError, match="does not exist"):
        package_python_model(Doubler, Path("unused.tar"), data=[Path("/no/such/file")])


def _tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_an_archive_that_escapes_is_refused_before_any_code_runs(tmp_path: Path) -> None:
    manifest = json.dumps({"flavor": "python", "module": "m", "class": "M"}).encode()
    path = _tar(tmp_path / "evil.tar", {MANIFEST: manifest, "code/m.py": b"class M: pass", "../escape.txt": b"x"})
    with pytest.raises(UnsafeArtifactError, match="outside the target folder"):
        PythonModelAdapter().load(path, trusted=True)
    assert not (tmp_path.parent / "escape.txt").exists()


@pytest.mark.parametrize(("members", "message"), [
    ({MANIFEST: b'{"flavor": "python", "module": "m", "class": "Missing"}', "code/m.py": b"x = 1"}, "no class"),
    ({MANIFEST: b'{"flavor": "python", "module": "gone", "class": "M"}'}, "no code/gone.py"),
    ({MANIFEST: b"not json"}, "not a modelport code archive"),
])
def test_broken_archives_get_clear_errors(tmp_path: Path, members: dict[str, bytes], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        PythonModelAdapter().load(_tar(tmp_path / "broken.tar", members), trusted=True)


SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import modelport

    class Halver:
        def predict(self, data):
            return np.asarray(data, dtype=float)[:, 0] / 2

    if __name__ == "__main__":
        record = modelport.register(Halver(), name="halver", trust=True, input_example=np.ones((2, 1)))
        print(record.flavor, modelport.load("halver").predict(np.array([[4.0]])).tolist())
""")


@pytest.mark.slow
def test_a_class_defined_in_a_script_is_packaged_without_rerunning_its_main(home: Path, tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["python", "[2.0]"]
