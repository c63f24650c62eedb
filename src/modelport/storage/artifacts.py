"""A content-addressed artifact store over fsspec (a local folder, s3://, memory://...).

Keys are derived from SHA-256 digests only, so no caller-supplied name can reach
a path. Local writes go to a temporary file that is fsynced and atomically renamed
into place, so a crash leaves either the whole artifact or nothing under its key.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from modelport.foundation.errors import IntegrityError, InvalidInputError, NotFoundError

_CHUNK = 1 << 20
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


@dataclass(frozen=True)
class StoredArtifact:
    """Where an artifact lives and what it must hash to."""

    digest: str
    size: int
    name: str


def check_file_name(name: str) -> str:
    """Refuse artifact names that could address anything but one plain file."""
    if not _FILE_NAME.fullmatch(name) or ".." in name:
        raise InvalidInputError(
            f"invalid artifact file name {name!r}: use letters, digits, '.', '_' and '-' "
            "(no path separators, no '..', no leading dot)",
            field="artifact",
        )
    return name


def check_digest(digest: str) -> str:
    """Refuse anything that is not a lowercase hex SHA-256 digest."""
    if not _DIGEST.fullmatch(digest):
        raise InvalidInputError(f"invalid digest {digest!r}: expected 64 hex digits", field="digest")
    return digest


def file_digest(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a local file, read in chunks."""
    hasher, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            hasher.update(chunk)
            size += len(chunk)
    return hasher.hexdigest(), size


class ArtifactStore:
    """Put files in by content; get verified local copies out."""

    def __init__(self, url: str, cache_dir: Path) -> None:
        import fsspec

        self.url = url
        self.fs, self.root = fsspec.core.url_to_fs(url)
        self.cache_dir = cache_dir
        self._local = "file" in _protocols(self.fs)

    def _key(self, digest: str) -> str:
        check_digest(digest)
        return f"{self.root.rstrip('/')}/sha256/{digest[:2]}/{digest}"

    def put(self, path: Path) -> StoredArtifact:
        """Store the file at `path` under its digest (idempotent) and return its address."""
        name = check_file_name(path.name)
        digest, size = file_digest(path)
        key = self._key(digest)
        if not self.fs.exists(key):
            self._write(path, key)
        return StoredArtifact(digest, size, name)

    def _write(self, source: Path, key: str) -> None:
        parent = key.rsplit("/", 1)[0]
        self.fs.makedirs(parent, exist_ok=True)
        if self._local:
            _write_local(source, Path(key))
            return
        temp = f"{key}.tmp-{uuid.uuid4().hex}"
        self.fs.put_file(str(source), temp)
        self.fs.mv(temp, key)

    def exists(self, digest: str) -> bool:
        return bool(self.fs.exists(self._key(digest)))

    def open_verified(self, artifact: StoredArtifact, label: str) -> Path:
        """A local copy of the artifact whose SHA-256 was checked on this call."""
        target = self.cache_dir / artifact.digest / check_file_name(artifact.name)
        if target.exists() and file_digest(target)[0] == artifact.digest:
            return target
        key = self._key(artifact.digest)
        if not self.fs.exists(key):
            raise NotFoundError(f"{label}: artifact {artifact.digest[:12]}… is missing from the store {self.url}")
        target.parent.mkdir(parents=True, exist_ok=True)
        with self.fs.open(key, "rb") as source:
            actual = _copy_hashing(source, target)
        if actual != artifact.digest:
            target.unlink(missing_ok=True)
            raise IntegrityError(
                f"{label}: artifact digest mismatch: registered sha256:{artifact.digest}, "
                f"stored bytes hash to sha256:{actual}; the artifact was altered or corrupted"
            )
        return target

    def delete(self, digest: str) -> None:
        """Remove an artifact (callers make sure no version still uses it)."""
        key = self._key(digest)
        if self.fs.exists(key):
            self.fs.rm(key)


def _protocols(fs: Any) -> tuple[str, ...]:
    protocol = fs.protocol
    return tuple(protocol) if isinstance(protocol, (tuple, list)) else (protocol,)


def _write_local(source: Path, target: Path) -> None:
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            while chunk := src.read(_CHUNK):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
        _fsync_dir(target.parent)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_hashing(source: IO[bytes], target: Path) -> str:
    hasher = hashlib.sha256()
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".fetch-")
    with os.fdopen(fd, "wb") as out:
        while chunk := source.read(_CHUNK):
            hasher.update(chunk)
            out.write(chunk)
    digest = hasher.hexdigest()
    os.replace(temp, target)
    return digest
