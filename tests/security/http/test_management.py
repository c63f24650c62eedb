"""`/api/v1` management over the guard: models, versions, aliases, uploads, keys, audit, and attacks on them."""

from __future__ import annotations

import io
import pickle
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from starlette.responses import JSONResponse

from modelport.foundation import errors
from modelport.http import management
from modelport.http.guards import install_guards
from modelport.registry.service import Registry
from modelport.security.keys import KeyStore

from .conftest import ASGIClient

_STATUS = [(errors.InvalidInputError, 400), (errors.NotFoundError, 404), (errors.ConflictError, 409),
           (errors.UnsafeArtifactError, 415), (errors.UnsupportedFormatError, 415)]


async def _as_json(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.ModelportError)
    status = next((code for cls, code in _STATUS if isinstance(exc, cls)), 500)
    return JSONResponse({"error": exc.message}, status)


@dataclass
class Mgmt:
    client: ASGIClient
    registry: Registry
    tokens: dict[str, str]

    def as_(self, who: str, **extra: str) -> dict[str, str]:
        return {"X-API-Key": self.tokens[who], **extra}


@pytest.fixture
def mgmt(sqlite_registry: Registry) -> Iterator[Mgmt]:
    app = FastAPI()
    app.include_router(management.router)
    app.add_exception_handler(errors.ModelportError, _as_json)
    app.state.registry = sqlite_registry
    keys = KeyStore(sqlite_registry.store.engine, audit=sqlite_registry.store)
    install_guards(app, keys=keys)
    tokens = {who: keys.create(scopes, models=models).token for who, scopes, models in [
        ("admin", ["admin"], []), ("manage", ["manage"], []), ("read", ["read"], []),
        ("iris-only", ["manage"], ["iris*"])]}
    yield Mgmt(ASGIClient(app), sqlite_registry, tokens)


@pytest.fixture(scope="module")
def skops_bytes(iris_pipeline: Any, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    import skops.io as sio

    path = tmp_path_factory.mktemp("m") / "iris.skops"
    sio.dump(iris_pipeline, path)
    return path.read_bytes()


class _Boom:
    """A pickle that writes a marker file when loaded: proof of execution if it ever appears."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.write_text, (self.marker, "executed"))


def _upload(m: Mgmt, name: str, data: bytes, filename: str, who: str = "manage", **query: str) -> Any:
    params = {"filename": filename, **query}
    return m.client.post(f"/api/v1/models/{name}/versions", content=data, params=params,
                         headers=m.as_(who, **{"Content-Type": "application/octet-stream"}))


def test_register_by_raw_and_multipart_upload_then_manage(mgmt: Mgmt, skops_bytes: bytes) -> None:
    first = _upload(mgmt, "iris", skops_bytes, "iris.skops", alias="champion")
    assert first.status_code == 201, first.text
    assert (first.json()["version"], first.json()["aliases"], first.json()["registered_by"]) == (
        1, ["champion"], mgmt.tokens["manage"][3:19])
    files = {"file": ("iris.skops", skops_bytes, "application/octet-stream")}
    second = mgmt.client.post("/api/v1/models/iris/versions", files=files, headers=mgmt.as_("manage"))
    assert second.status_code == 201 and second.json()["version"] == 2
    read = mgmt.as_("read")
    assert [m["name"] for m in mgmt.client.get("/api/v1/models", headers=read).json()["models"]] == ["iris"]
    assert len(mgmt.client.get("/api/v1/models/iris", headers=read).json()["versions"]) == 2
    moved = mgmt.client.put("/api/v1/models/iris/aliases/champion", json={"version": 2}, headers=mgmt.as_("manage"))
    assert moved.json() == {"alias": "champion", "version": 2}
    alias = mgmt.client.get("/api/v1/models/iris/aliases/champion", headers=read).json()
    assert alias["version"] == 2 and [h["to_version"] for h in alias["history"]] == [1, 2]
    assert mgmt.client.post("/api/v1/models/iris/versions/1/archive", headers=mgmt.as_("manage")).json()[
        "status"] == "archived"
    assert mgmt.client.delete("/api/v1/models/iris/versions/2", headers=mgmt.as_("manage")).status_code == 409
    assert mgmt.client.delete("/api/v1/models/iris/versions/1", headers=mgmt.as_("manage")).status_code == 200
    assert mgmt.client.delete("/api/v1/models/iris/aliases/champion", headers=mgmt.as_("manage")).status_code == 200
    assert mgmt.client.delete("/api/v1/models/iris", headers=mgmt.as_("manage")).status_code == 200
    actions = [e["action"] for e in mgmt.client.get("/api/v1/audit", headers=mgmt.as_("admin")).json()["entries"]]
    assert actions[:6] == ["delete", "unalias", "delete", "archive", "alias", "register"]


def test_a_limited_key_sees_only_its_models(mgmt: Mgmt, skops_bytes: bytes) -> None:
    assert _upload(mgmt, "iris", skops_bytes, "iris.skops").status_code == 201
    assert _upload(mgmt, "secret-model", skops_bytes, "iris.skops").status_code == 201
    limited = mgmt.as_("iris-only")
    assert [m["name"] for m in mgmt.client.get("/api/v1/models", headers=limited).json()["models"]] == ["iris"]
    assert mgmt.client.get("/api/v1/models/secret-model", headers=limited).status_code == 404
    assert mgmt.client.get("/api/v1/models/no-such-model", headers=limited).status_code == 404
    assert _upload(mgmt, "secret-model", skops_bytes, "iris.skops", who="iris-only").status_code == 404


@pytest.mark.parametrize("filename", ["../../evil.skops", "/etc/evil.skops", "..", ".hidden", "a/b.skops",
                                      "a\\b.skops", "evil\x00.skops", ""])
def test_upload_file_names_cannot_become_paths(mgmt: Mgmt, skops_bytes: bytes, filename: str, tmp_path: Path) -> None:
    answer = _upload(mgmt, "iris", skops_bytes, filename)
    assert answer.status_code == 400 and "/tmp" not in answer.text
    files = {"file": (filename or "x/", skops_bytes, "application/octet-stream")}
    multipart = mgmt.client.post("/api/v1/models/iris/versions", files=files, headers=mgmt.as_("manage"))
    assert multipart.status_code == 400


@pytest.mark.parametrize("name", ["Iris", "iris%2F..", "-x", "a" * 129, "x..y"])
def test_model_names_are_validated(mgmt: Mgmt, skops_bytes: bytes, name: str) -> None:
    assert _upload(mgmt, name, skops_bytes, "iris.skops").status_code == 400


def test_a_pickle_is_refused_without_trust_and_never_runs(mgmt: Mgmt, tmp_path: Path) -> None:
    marker = tmp_path / "executed.txt"
    answer = _upload(mgmt, "evil", pickle.dumps(_Boom(marker)), "model.pkl")
    assert answer.status_code == 415 and "explicit trust decision" in answer.json()["error"]
    assert not marker.exists()
    assert mgmt.client.get("/api/v1/models/evil", headers=mgmt.as_("read")).status_code == 404


def test_trust_is_a_manage_decision_recorded_with_the_digest(mgmt: Mgmt, iris_pipeline: Any) -> None:
    import joblib

    buffer = io.BytesIO()
    joblib.dump(iris_pipeline, buffer)
    assert _upload(mgmt, "iris", buffer.getvalue(), "model.joblib", who="read", trust="true").status_code == 403
    answer = _upload(mgmt, "iris", buffer.getvalue(), "model.joblib", trust="true")
    assert answer.status_code == 201 and answer.json()["trusted"] is True
    entries = mgmt.client.get("/api/v1/audit", headers=mgmt.as_("admin")).json()["entries"]
    trust = next(e for e in entries if e["action"] == "trust")
    assert trust["actor"] == mgmt.tokens["manage"][3:19] and trust["target"] == "iris:1"
    assert trust["details"]["digest"] == answer.json()["artifact"]["digest"] and trust["address"]


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def test_archive_uploads_are_unpacked_safely(mgmt: Mgmt, skops_bytes: bytes, tmp_path: Path) -> None:
    ok = _upload(mgmt, "iris", _zip({"model/iris.skops": skops_bytes}), "bundle.zip")
    assert ok.status_code == 201 and ok.json()["flavor"] == "sklearn"
    slip = _upload(mgmt, "iris", _zip({"iris.skops": skops_bytes, "../../../../tmp/evil.skops": b"x"}), "b.zip")
    assert slip.status_code == 415 and "nothing was extracted" in slip.json()["error"]
    many = _upload(mgmt, "iris", _zip({"a.skops": skops_bytes, "b.skops": skops_bytes}), "b.zip")
    assert many.status_code == 400 and "exactly one model file" in many.json()["error"]
    assert not Path("/tmp/evil.skops").exists()


@pytest.mark.parametrize(("url", "message"), [
    ("http://example.com/model.skops", "scheme 'http' is not allowed"),
    ("https://127.0.0.1/model.skops", "loopback"),
    ("https://169.254.169.254/latest/model.skops", "loopback, link-local"),
    ("https://[::1]/model.skops", "loopback"),
    ("file:///etc/passwd", "scheme 'file'"),
    ("https://example.com/", "must end in a model file name"),
])
def test_register_from_url_refuses_internal_targets(mgmt: Mgmt, url: str, message: str) -> None:
    answer = mgmt.client.post("/api/v1/models/iris/versions", json={"url": url}, headers=mgmt.as_("manage"))
    assert answer.status_code == 400 and message in answer.json()["error"]


def test_keys_over_http(mgmt: Mgmt) -> None:
    admin = mgmt.as_("admin")
    made = mgmt.client.post("/api/v1/keys", json={"scopes": ["read"], "expires": "1d", "name": "dash"}, headers=admin)
    assert made.status_code == 201 and made.headers["cache-control"] == "no-store"
    token = made.json()["token"]
    assert mgmt.client.get("/api/v1/models", headers={"X-API-Key": token}).status_code == 200
    listed = mgmt.client.get("/api/v1/keys", headers=admin)
    assert token[20:] not in listed.text and len(listed.json()["keys"]) == 5
    assert mgmt.client.post("/api/v1/keys", json={"scopes": ["root"]}, headers=admin).status_code == 400
    assert mgmt.client.post("/api/v1/keys", json={"scopes": []}, headers=admin).status_code == 422
    assert mgmt.client.post("/api/v1/keys", json={"scopes": ["read"]}, headers=mgmt.as_("manage")).status_code == 403
    revoked = mgmt.client.delete(f"/api/v1/keys/{made.json()['id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert mgmt.client.delete("/api/v1/keys/nothex", headers=admin).status_code == 400
    entries = mgmt.client.get("/api/v1/audit", headers=admin).json()["entries"]
    assert [e["action"] for e in entries[:2]] == ["key.revoke", "key.create"] and token[20:] not in str(entries)
