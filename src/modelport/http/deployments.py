"""`/api/v1/deployments/{name}` and `/api/v1/rollouts/{name}`: traffic policies and rollouts.

Reads need the `read` scope and changes the `manage` scope (http/policy.py); the caller's key id
is the actor written to the rollout record and the audit log.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from modelport.foundation.errors import NotFoundError
from modelport.foundation.names import validate_name
from modelport.http.auth import principal_of
from modelport.rollout.service import Deployments
from modelport.rollout.spec import spec_options

router = APIRouter(prefix="/api/v1", tags=["deployments and rollouts"])


class DeploymentBody(BaseModel):
    """Either a rollout to start (`strategy` + `version`/`versions` + options) or a raw `policy`."""

    model_config = ConfigDict(extra="forbid")

    strategy: str | None = Field(default=None, examples=["canary"])
    version: int | None = Field(default=None, gt=0, lt=10**9)
    versions: list[int] = Field(default_factory=list, max_length=20)
    steps: list[float] | None = Field(default=None, max_length=20, examples=[[5, 25, 50, 100]])
    step_duration: str | float | None = Field(default=None, examples=["5m"])
    step_timeout: str | float | None = None
    min_requests: int | None = Field(default=None, ge=0)
    split: float | None = None
    sticky: str | None = Field(default=None, max_length=140, examples=["header:X-User-Id"])
    fraction: float | None = None
    keep_old: str | float | None = None
    metric: str | None = None
    alpha: float | None = None
    effect: float | None = None
    min_samples: int | None = Field(default=None, ge=1)
    auto_promote: bool | None = None
    floor: float | None = None
    guardrails: dict[str, float] | None = None
    smoke_test: bool = True
    policy: dict[str, Any] | None = None
    reason: str = Field(default="", max_length=500)


def _deployments(request: Request) -> Deployments:
    return Deployments(request.app.state.registry, clock=getattr(request.app.state, "clock", None))


def _visible(request: Request, name: str) -> str:
    """The validated name, NotFound when the caller's key may not see it; returns the actor too."""
    key = principal_of(request.scope)
    validate_name(name)
    if not key.may_see(name):
        raise NotFoundError(f"deployment {name!r} is not found")
    return str(key.id)


def _json(data: Any) -> Response:
    return Response(orjson.dumps(data), media_type="application/json")


@router.get("/deployments/{name}")
def show_deployment(request: Request, name: str) -> Response:
    """The deployment's policy, traffic per version, revision and recent changes."""
    _visible(request, name)
    return _json(_deployments(request).show(name))


@router.put("/deployments/{name}")
def put_deployment(request: Request, name: str, body: DeploymentBody) -> Response:
    """Start a rollout (`{"strategy": "canary", "version": 2, "steps": [5, 25, 50, 100]}`) or set a raw policy."""
    actor = _visible(request, name)
    service = _deployments(request)
    if body.policy is not None:
        return _json(service.put(name, body.policy, actor=actor, reason=body.reason))
    options = body.model_dump(exclude={"strategy", "version", "versions", "policy", "reason", "smoke_test"})
    return _json(service.deploy(name, body.strategy or "single", version=body.version, versions=body.versions,
                                actor=actor, smoke=body.smoke_test, **spec_options(options)))


@router.get("/rollouts/{name}")
def rollout_status(request: Request, name: str) -> Response:
    """Where the latest rollout stands: strategy, state, step, traffic, reason, numbers and every decision."""
    _visible(request, name)
    return _json(_deployments(request).status(name))


@router.post("/rollouts/{name}/promote")
def promote(request: Request, name: str) -> Response:
    """Finish the running rollout now: the candidate (or the winner) takes all traffic and becomes champion."""
    actor = _visible(request, name)
    return _json(_deployments(request).promote(name, actor=actor))


@router.post("/rollouts/{name}/abort")
def abort(request: Request, name: str) -> Response:
    """Stop the running rollout now: all traffic back to the stable version; the alias stays."""
    actor = _visible(request, name)
    return _json(_deployments(request).abort(name, actor=actor))
