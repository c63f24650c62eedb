"""Registration by upload: a raw body, a multipart file or a URL, streamed to a private temporary folder.

Caller-supplied file names never become paths: they must be one plain file name.
Archives are unpacked only when every member is safe (`storage/archives.py`), and
pickles are registered only with the trust flag, which is recorded in the audit log.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import anyio.to_thread
import orjson
from starlette.requests import Request

from modelport.foundation.errors import InvalidInputError, ModelportError
from modelport.registry.records import VersionRecord
from modelport.registry.service import Registry
from modelport.security.config import SecurityConfig
from modelport.security.fetch import URLFetcher
from modelport.storage.archives import extract
from modelport.storage.artifacts import check_file_name

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")
MAX_ARCHIVE_MEMBERS = 1000
_MAX_JSON = 64 * 1024
_CHUNK = 1 << 20


@dataclass(frozen=True)
class UploadOptions:
    """How to register what was uploaded, and who asked."""

    name: str
    filename: str | None
    alias: str | None
    flavor: str
    trust: bool
    description: str
    actor: str
    address: str


def security_config(request: Request) -> SecurityConfig:
    """The app's security settings (from the environment when the app holds none)."""
    found = getattr(request.app.state, "security", None)
    return found if isinstance(found, SecurityConfig) else SecurityConfig.from_env()


async def register_upload(request: Request, registry: Registry, options: UploadOptions) -> VersionRecord:
    """Receive the model file however it was sent, then register it as the next version."""
    with tempfile.TemporaryDirectory(prefix="modelport-upload-") as temp:
        root = Path(temp)
        try:
            path = await _receive(request, root, options)
            if path.name.lower().endswith(ARCHIVE_SUFFIXES):
                path = await anyio.to_thread.run_sync(partial(_unpack, path, root, security_config(request)))
            return await anyio.to_thread.run_sync(partial(_register, registry, path, options))
        except ModelportError as exc:
            # Messages may quote the temporary path; the caller must not learn server paths.
            exc.message = exc.message.replace(str(root) + "/", "").replace(str(root), "")
            exc.args = (exc.message,)
            raise


async def _receive(request: Request, root: Path, options: UploadOptions) -> Path:
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("application/json"):
        return await _fetch(request, root)
    if content_type.startswith("multipart/form-data"):
        return await _multipart(request, root)
    if not options.filename:
        raise InvalidInputError("a raw upload needs ?filename=NAME (e.g. model.skops) so the format can be told",
                                field="filename")
    path = root / check_file_name(options.filename)
    with path.open("wb") as handle:
        async for chunk in request.stream():
            handle.write(chunk)
    if path.stat().st_size == 0:
        raise InvalidInputError("the upload is empty; send the model file as the request body", field="body")
    return path


async def _multipart(request: Request, root: Path) -> Path:
    async with request.form(max_files=1, max_fields=5) as form:
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInputError("a multipart upload needs one file in the field 'file'", field="file")
        path = root / check_file_name(upload.filename or "")
        with path.open("wb") as handle:
            await anyio.to_thread.run_sync(shutil.copyfileobj, upload.file, handle, _CHUNK)
    return path


async def _fetch(request: Request, root: Path) -> Path:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_JSON:
            raise InvalidInputError(f"a JSON registration body is at most {_MAX_JSON} bytes", field="body")
    try:
        document = orjson.loads(bytes(body))
    except orjson.JSONDecodeError:
        raise InvalidInputError('the body is not valid JSON; send {"url": "https://..."}', field="body") from None
    url = document.get("url") if isinstance(document, dict) else None
    if not isinstance(url, str) or len(url) > 2048:
        raise InvalidInputError('a JSON registration body needs {"url": "https://..."}', field="url")
    name = PurePosixPath(urlsplit(url).path).name
    target = root / check_file_name(name) if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}", name) else None
    if target is None:
        raise InvalidInputError(f"the url must end in a model file name, like .../model.skops; got {name!r}",
                                field="url")
    fetcher = URLFetcher(security_config(request).fetch)
    return (await anyio.to_thread.run_sync(fetcher.fetch, url, target)).path


def _unpack(archive: Path, root: Path, config: SecurityConfig) -> Path:
    files = extract(archive, root / "unpacked", max_members=MAX_ARCHIVE_MEMBERS, max_bytes=config.max_upload_bytes)
    if len(files) != 1:
        raise InvalidInputError(
            f"an uploaded archive must hold exactly one model file; this one holds {len(files)}", field="file")
    return files[0]


def _register(registry: Registry, path: Path, options: UploadOptions) -> VersionRecord:
    record = registry.register(path, name=options.name, alias=options.alias, flavor=options.flavor,
                               trust=options.trust, description=options.description, actor=options.actor)
    if options.trust:
        # Who trusted which bytes, from where: the decision that lets this artifact run code.
        registry.store.record_audit(options.actor, "trust", record.ref, {
            "digest": f"sha256:{record.artifact_digest}", "flavor": record.flavor}, address=options.address)
    return record
