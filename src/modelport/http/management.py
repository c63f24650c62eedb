"""`/api/v1` management routes: models, versions, aliases, keys and the audit log.

Scopes are enforced for the whole app by the guard (`http/auth.py`); these routes
only narrow lists to the models a key may see and record who did what.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from modelport.foundation.errors import NotFoundError
from modelport.foundation.names import parse_version_number, validate_name
from modelport.http.auth import principal_of
from modelport.http.uploads import UploadOptions, register_upload
from modelport.registry.service import Registry
from modelport.security.keys import ApiKey, KeyStore, check_key_id, parse_duration

router = APIRouter(prefix="/api/v1", tags=["management"])


class AliasBody(BaseModel):
    """Where an alias should point."""

    version: int = Field(gt=0, lt=10**9)


class KeyBody(BaseModel):
    """A key to create."""

    scopes: list[str] = Field(min_length=1, max_length=5)
    models: list[str] = Field(default_factory=list, max_length=100)
    expires: str | None = Field(default=None, max_length=16, description="a duration like 30d, 12h, 2w")
    name: str = Field(default="", max_length=128)
    rate_limit: float | None = Field(default=None, description="requests per second (default: the server's)")


def _registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


def _keys(request: Request) -> KeyStore:
    registry = _registry(request)
    return KeyStore(registry.store.engine, clock=getattr(request.app.state, "clock", None), audit=registry.store)


def _address(request: Request) -> str:
    return request.client.host if request.client else ""


def _visible(request: Request, name: str) -> tuple[ApiKey, str]:
    """The caller and the validated model name, as NotFound when the caller may not see it."""
    key = principal_of(request.scope)
    validate_name(name)
    if not key.may_see(name):
        raise NotFoundError(f"model {name!r} is not found")
    return key, name


def _json(data: Any, status: int = 200) -> Response:
    import orjson

    return Response(orjson.dumps(data), status, media_type="application/json")


# --- models and versions --------------------------------------------------------------------
@router.get("/models")
def list_models(request: Request) -> Response:
    """Models the caller may see."""
    key = principal_of(request.scope)
    return _json({"models": [m.to_dict() for m in _registry(request).store.list_models() if key.may_see(m.name)]})


@router.get("/models/{name}")
def show_model(request: Request, name: str) -> Response:
    """One model with its versions."""
    _, name = _visible(request, name)
    store = _registry(request).store
    versions = [v.to_dict() for v in store.list_versions(name, include_archived=True)]
    return _json({**store.get_model(name).to_dict(), "versions": versions})


@router.delete("/models/{name}")
def delete_model(request: Request, name: str) -> Response:
    """Delete a model and every version (refused while an alias points at one)."""
    key, name = _visible(request, name)
    return _json({"deleted": _registry(request).delete(name, actor=key.id)})


@router.get("/models/{name}/versions")
def list_versions(request: Request, name: str, archived: bool = False) -> Response:
    """A model's versions."""
    _, name = _visible(request, name)
    return _json({"versions": [v.to_dict() for v in _registry(request).store.list_versions(
        name, include_archived=archived)]})


@router.post("/models/{name}/versions", status_code=201, openapi_extra={"requestBody": {"content": {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    "multipart/form-data": {"schema": {"type": "object", "properties": {"file": {"type": "string",
                                                                                "format": "binary"}}}},
    "application/json": {"schema": {"type": "object", "properties": {"url": {"type": "string"}}}}}}})
async def register_version(
    request: Request, name: str,
    filename: str | None = Query(default=None, max_length=200, description="the model file's name (raw bodies)"),
    alias: str | None = Query(default=None, max_length=128),
    flavor: str = Query(default="auto", max_length=32),
    trust: bool = Query(default=False, description="trust a pickle/joblib artifact: it can run code when loaded"),
    description: str = Query(default="", max_length=2000),
) -> Response:
    """Register the uploaded (raw or multipart) or fetched (`{"url": ...}`) model file as the next version."""
    key, name = _visible(request, name)
    if alias is not None:
        validate_name(alias, what="alias")
    options = UploadOptions(name=name, filename=filename, alias=alias, flavor=flavor, trust=trust,
                            description=description, actor=key.id, address=_address(request))
    record = await register_upload(request, _registry(request), options)
    return _json(record.to_dict(), 201)


@router.get("/models/{name}/versions/{version}")
def show_version(request: Request, name: str, version: str) -> Response:
    """One version."""
    _, name = _visible(request, name)
    return _json(_registry(request).store.get_version(name, parse_version_number(version)).to_dict())


@router.post("/models/{name}/versions/{version}/archive")
def archive_version(request: Request, name: str, version: str) -> Response:
    """Archive a version: kept, but no longer the latest."""
    key, name = _visible(request, name)
    number = parse_version_number(version)
    return _json(_registry(request).archive(f"{name}:{number}", actor=key.id).to_dict())


@router.delete("/models/{name}/versions/{version}")
def delete_version(request: Request, name: str, version: str) -> Response:
    """Delete a version no alias points at."""
    key, name = _visible(request, name)
    number = parse_version_number(version)
    return _json({"deleted": _registry(request).delete(f"{name}:{number}", actor=key.id)})


# --- aliases --------------------------------------------------------------------------------
@router.get("/models/{name}/aliases")
def list_aliases(request: Request, name: str) -> Response:
    """A model's aliases and the versions they point at."""
    _, name = _visible(request, name)
    return _json({"aliases": _registry(request).store.get_model(name).aliases})


@router.get("/models/{name}/aliases/{alias}")
def show_alias(request: Request, name: str, alias: str) -> Response:
    """The version an alias points at, and its history."""
    _, name = _visible(request, name)
    validate_name(alias, what="alias")
    store = _registry(request).store
    current = store.get_model(name).aliases.get(alias)
    if current is None:
        raise NotFoundError(f"model {name!r} has no alias {alias!r}")
    history = [move.to_dict() for move in store.alias_history(name, alias)]
    return _json({"alias": alias, "version": current, "history": history})


@router.put("/models/{name}/aliases/{alias}")
def move_alias(request: Request, name: str, alias: str, body: AliasBody) -> Response:
    """Point an alias at a version (atomically; the move is kept in its history)."""
    key, name = _visible(request, name)
    _registry(request).set_alias(name, body.version, validate_name(alias, what="alias"), actor=key.id)
    return _json({"alias": alias, "version": body.version})


@router.delete("/models/{name}/aliases/{alias}")
def remove_alias(request: Request, name: str, alias: str) -> Response:
    """Remove an alias."""
    key, name = _visible(request, name)
    _registry(request).remove_alias(name, alias, actor=key.id)
    return _json({"removed": alias})


# --- keys and audit (admin) -----------------------------------------------------------------
@router.get("/keys")
def list_keys(request: Request, revoked: bool = True) -> Response:
    """Every key, without secrets."""
    return _json({"keys": [k.to_dict() for k in _keys(request).list(include_revoked=revoked)]})


@router.post("/keys", status_code=201)
def create_key(request: Request, body: KeyBody) -> Response:
    """Create a key; the answer holds its token, which is never shown again."""
    expires: timedelta | None = parse_duration(body.expires) if body.expires else None
    made = _keys(request).create(body.scopes, models=body.models, expires_in=expires, name=body.name,
                                 actor=principal_of(request.scope).id, address=_address(request),
                                 rate_limit=body.rate_limit)
    return _json({**made.key.to_dict(), "token": made.token}, 201)


@router.delete("/keys/{key_id}")
def revoke_key(request: Request, key_id: str) -> Response:
    """Revoke a key at once."""
    key = _keys(request).revoke(check_key_id(key_id), actor=principal_of(request.scope).id,
                                address=_address(request))
    return _json(key.to_dict())


@router.get("/audit")
def audit(request: Request, limit: int = Query(default=100, ge=1, le=10_000)) -> Response:
    """The newest audit entries first."""
    return _json({"entries": [e.to_dict() for e in _registry(request).store.audit_entries(limit)]})

