"""Monitoring routes: `POST /v1/feedback`, `/api/v1/monitoring/{model}/drift|performance|health|reference|report`, alerts.

Thin: each route parses the wire format and calls `modelport.monitoring.service.Monitoring`.
Scopes are enforced by the guard; these routes also hide models the caller's key may not see.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse, Response

from modelport.foundation.errors import InvalidInputError, NotFoundError
from modelport.foundation.names import validate_name
from modelport.http.auth import principal_of
from modelport.monitoring.alerts.rules import rule_from_dict
from modelport.monitoring.alerts.store import AlertStore
from modelport.monitoring.drift import DriftConfig
from modelport.monitoring.service import Monitoring

router = APIRouter(tags=["monitoring"])

WINDOW = Query(default="1h", max_length=16, description="a duration like 15m, 1h, 7d")


def monitoring_of(request: Request) -> Monitoring:
    """The app's Monitoring facade, made on first use over the app's registry and clock."""
    state = request.app.state
    found = getattr(state, "monitoring", None)
    if found is None:
        found = Monitoring(state.registry, clock=getattr(state, "clock", None))
        state.monitoring = found
    return found  # type: ignore[no-any-return]


def _visible(request: Request, model: str) -> str:
    validate_name(model)
    if not principal_of(request.scope).may_see(model):
        raise NotFoundError(f"model {model!r} is not found")
    return model


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY), status, media_type="application/json")


async def _body(request: Request) -> Any:
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(f"body: not valid JSON ({exc})", field="body") from exc


@router.post("/v1/feedback")
async def post_feedback(request: Request) -> Response:
    """Ground truth for prediction ids: `{"feedback": [{"prediction_id": ..., "label": ...}]}` (`value` for regression).

    200 means the accepted items are committed; every item's outcome is listed in `items`.
    """
    body = await _body(request)
    items = body.get("feedback") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise InvalidInputError('feedback: expected {"feedback": [{"prediction_id": ..., "label": ...}, ...]}',
                                field="feedback")
    key = principal_of(request.scope)
    monitoring = monitoring_of(request)
    import anyio.to_thread

    plane = getattr(request.app.state, "dataplane", None)

    def submit() -> Any:
        # Predictions this server made moments ago may still be buffered: write them first, so that
        # feedback sent right after a prediction finds it (other replicas flush within a second).
        if plane is not None:
            plane.sink.flush_through()
        return monitoring.submit_feedback(items, visible=key.may_see)

    result = await anyio.to_thread.run_sync(submit)
    return _json(result.to_dict())


@router.get("/api/v1/monitoring/{model}/drift")
def get_drift(request: Request, model: str, window: str = WINDOW, version: int | None = Query(default=None, gt=0),
              multivariate: bool = False, alpha: float = Query(default=0.05, gt=0, lt=1)) -> Response:
    """Per-feature drift of the window against the version's reference, and the dataset verdict."""
    report = monitoring_of(request).drift(_visible(request, model), window, version=version,
                                          config=DriftConfig(alpha=alpha), multivariate=multivariate)
    return _json({"model": model, "window": window, **report.to_dict()})


@router.get("/api/v1/monitoring/{model}/performance")
def get_performance(request: Request, model: str, window: str = WINDOW) -> Response:
    """Realized metrics from feedback (per version, with intervals) and the confidence-based estimate."""
    return _json(monitoring_of(request).performance(_visible(request, model), window))


@router.get("/api/v1/monitoring/{model}/health")
def get_health(request: Request, model: str, window: str = WINDOW) -> Response:
    """Request rate, error rate and latency percentiles per version."""
    return _json(monitoring_of(request).health(_visible(request, model), window))


@router.post("/api/v1/monitoring/{model}/reference")
def post_reference(request: Request, model: str, window: str | None = Query(default=None, max_length=16),
                   version: int | None = Query(default=None, gt=0), start: str | None = Query(default=None, max_length=40),
                   end: str | None = Query(default=None, max_length=40)) -> Response:
    """Make a version's reference from a window of its logged traffic (`window=1h`, or `start` and `end`)."""
    info = monitoring_of(request).reference_from_log(_visible(request, model), window, version=version, start=start,
                                                     end=end)
    return _json(info.to_dict())


@router.get("/api/v1/monitoring/{model}/reference")
def get_reference(request: Request, model: str, version: int | None = Query(default=None, gt=0)) -> Response:
    """Where the reference of a version (default: the newest that has one) comes from, and its size."""
    return _json(monitoring_of(request).references.info(_visible(request, model), version).to_dict())


@router.get("/api/v1/monitoring/{model}/report")
def get_report(request: Request, model: str, window: str = WINDOW,
               format: str = Query(default="html", pattern="^(html|json)$")) -> Response:
    """The monitoring report as self-contained HTML (or its JSON twin)."""
    from modelport.monitoring.report import build_report, render_html

    report = build_report(monitoring_of(request), _visible(request, model), window)
    return HTMLResponse(render_html(report)) if format == "html" else _json(report)


def _alerts(request: Request) -> AlertStore:
    monitoring = monitoring_of(request)
    return AlertStore(monitoring.log.engine, monitoring.clock)


@router.get("/api/v1/alerts/{model}/rules")
def list_rules(request: Request, model: str) -> Response:
    """The model's alert rules, each with whether it is firing now and when it last fired."""
    store = _alerts(request)
    rules = []
    for rule in store.rules(_visible(request, model)):
        state = store.state(rule)
        fired = state.last_fired_at.isoformat() if state.last_fired_at is not None else None
        rules.append({**rule.to_dict(), "firing": state.firing, "last_fired_at": fired})
    return _json({"rules": rules})


@router.put("/api/v1/alerts/{model}/rules/{name}")
async def put_rule(request: Request, model: str, name: str) -> Response:
    """Create or replace a rule: `{"signal": "drift.share", "op": ">", "threshold": 0.3, "window": "1h", ...}`."""
    body = await _body(request)
    if not isinstance(body, dict):
        raise InvalidInputError("rule: expected a JSON object", field="rule")
    rule = rule_from_dict({**body, "name": name}, model=_visible(request, model))
    _alerts(request).put_rule(rule)
    return _json(rule.to_dict())


@router.delete("/api/v1/alerts/{model}/rules/{name}")
def delete_rule(request: Request, model: str, name: str) -> Response:
    """Remove a rule and its state (its history stays)."""
    _alerts(request).delete_rule(_visible(request, model), name)
    return _json({"deleted": name})


@router.get("/api/v1/alerts/{model}/events")
def list_events(request: Request, model: str, limit: int = Query(default=100, gt=0, le=1000)) -> Response:
    """Alert history: fired and resolved, with the values that decided them, newest first."""
    return _json({"events": _alerts(request).events(_visible(request, model), limit)})
