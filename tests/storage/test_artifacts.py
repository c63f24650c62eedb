"""The content-addressed artifact store on a local folder and on fsspec's in-memory filesystem."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from modelport.foundation.errors import IntegrityError, InvalidInputError, NotFoundError
from modelport.storage.artifacts import ArtifactStore, StoredArtifact, check_digest, check_file_name, file_digest


@pytest.fixture(params=["local", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    url = str(tmp_path / "store") if request.param == "local" else f"memory://mp-{uuid.uuid4().hex}"
    return ArtifactStore(url, tmp_path / "cache")


def _file(tmp_path: Path, content: bytes, name: str = "model.skops") -> Path:
    path = tmp_path / "src" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content)
    return path


def test_put_is_content_addressed_and_idempotent(store: ArtifactStore, tmp_path: Path) -> None:
    path = _file(tmp_path, b"model bytes" * 1000)
    first = store.put(path)
    again = store.put(path)
    assert first == again and first.size == 11000 and first.digest == file_digest(path)[0]
    assert store.exists(first.digest)


def test_open_verified_returns_a_checked_local_copy(store: ArtifactStore, tmp_path: Path) -> None:
    stored = store.put(_file(tmp_path, b"abc"))
    local = store.open_verified(stored, label="model m:1")
    assert local.read_bytes() == b"abc" and local.name == "model.skops"


def test_altered_bytes_are_refused(store: ArtifactStore, tmp_path: Path) -> None:
    stored = store.put(_file(tmp_path, b"original"))
    with store.fs.open(store._key(stored.digest), "wb") as handle:
        handle.write(b"tampered")
    with pytest.raises(IntegrityError, match=rf"model m:1: artifact digest mismatch: registered sha256:{stored.digest}"):
        store.open_verified(stored, label="model m:1")


def test_missing_artifact_is_named(store: ArtifactStore) -> None:
    ghost = StoredArtifact("a" * 64, 1, "model.skops")
    with pytest.raises(NotFoundError, match=r"model m:2: artifact aaaaaaaaaaaa… is missing from the store"):
        store.open_verified(ghost, label="model m:2")


def test_delete_removes_the_bytes(store: ArtifactStore, tmp_path: Path) -> None:
    stored = store.put(_file(tmp_path, b"bye"))
    store.delete(stored.digest)
    assert not store.exists(stored.digest)


@pytest.mark.parametrize("name", ["../evil", "/etc/passwd", "a/b", "..", ".hidden", "C:evil", "a\\b", "x" * 300, ""])
def test_names_that_could_escape_are_refused(name: str) -> None:
    with pytest.raises(InvalidInputError, match="invalid artifact file name"):
        check_file_name(name)


@pytest.mark.parametrize("digest", ["../../etc", "A" * 64, "a" * 63, "g" * 64, ""])
def test_malformed_digests_are_refused(digest: str) -> None:
    with pytest.raises(InvalidInputError, match="invalid digest"):
        check_digest(digest)


def test_put_of_a_badly_named_file_writes_nothing(store: ArtifactStore, tmp_path: Path) -> None:
    path = _file(tmp_path, b"x", name=".sneaky")
    with pytest.raises(InvalidInputError):
        store.put(path)
    assert not store.fs.exists(f"{store.root}/sha256")


def test_registry_works_on_the_memory_filesystem(home: Path, iris, iris_pipeline) -> None:
    from modelport.foundation.settings import Settings
    from modelport.registry.service import Registry

    settings = Settings(home=home, db_url=f"sqlite:///{home / 'r.db'}", artifacts_url=f"memory://mp-{uuid.uuid4().hex}")
    registry = Registry.open(settings)
    try:
        x, _ = iris
        registry.register(iris_pipeline, name="iris", input_example=x.head())
        assert (registry.load("iris").predict(x) == iris_pipeline.predict(x)).all()
    finally:
        registry.close()
