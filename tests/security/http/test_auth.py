"""The guard in front of the whole app: keys, scopes, model visibility, rate, body and pickle limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute

from modelport.foundation.clock import ManualClock
from modelport.http.auth import NO_AUTH_KEY, presented_token
from modelport.http.guards import install_guards
from modelport.http.policy import EXEMPT_PATHS
from modelport.security.config import SecurityConfig
from modelport.security.keys import KeyStore
from modelport.storage.database import make_engine, upgrade

from .conftest import ASGIClient, Guarded, call_asgi, shaped_app


def _concrete(path: str) -> str:
    return path.replace("{name}", "churn").replace("{v}", "1").replace("{key_id}", "0" * 16)


def _routes(guarded: Guarded) -> list[tuple[str, str]]:
    return [(method, _concrete(r.path)) for r in guarded.app.routes if isinstance(r, APIRoute)
            for method in sorted(r.methods)]


def test_every_route_and_method_needs_a_key_except_health_and_metrics(guarded: Guarded) -> None:
    routes = _routes(guarded)
    assert len(routes) > 15
    for method, path in routes:
        answer = guarded.client.request(method, path)
        if path in EXEMPT_PATHS:
            assert answer.status_code == 200, path
            continue
        assert answer.status_code == 401, (method, path)
        assert answer.headers["www-authenticate"].startswith("Bearer")
        assert "error" in answer.json()


def test_every_method_and_spelling_is_checked(guarded: Guarded) -> None:
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND"]:
        for path in ["/api/v1/keys", "/API/v1/keys", "/api/v1/keys/", "/nothing/here", "/ui/x", "/docs"]:
            assert guarded.client.request(method, path).status_code == 401, (method, path)


def test_wrong_scope_is_403_and_right_scope_passes(guarded: Guarded) -> None:
    cases = [("POST", "/v2/models/churn/infer", "predict", "read"),
             ("POST", "/v1/feedback", "feedback", "predict"),
             ("GET", "/api/v1/models", "read", "predict"),
             ("POST", "/api/v1/models/churn/versions", "manage", "read"),
             ("GET", "/api/v1/keys", "admin", "manage"),
             ("GET", "/api/v1/audit", "admin", "manage"),
             ("GET", "/api/v1/models", "manage", "feedback")]
    for method, path, allowed, denied in cases:
        ok = guarded.client.request(method, path, headers=guarded.as_(allowed))
        assert ok.status_code == 200, (method, path, ok.text)
        no = guarded.client.request(method, path, headers=guarded.as_(denied))
        assert no.status_code == 403 and "lacks the scope" in no.json()["error"], (method, path)
        assert guarded.client.request(method, path, headers=guarded.as_("admin")).status_code == 200


def test_models_a_key_may_not_see_answer_404(guarded: Guarded) -> None:
    churn = guarded.as_("churn")
    assert guarded.client.post("/v2/models/churn-eu/infer", headers=churn).status_code == 200
    for path in ["/v2/models/fraud/infer", "/v1/models/fraud:predict", "/v1/models/fraud@champion:predict"]:
        hidden = guarded.client.post(path, headers=churn)
        assert hidden.status_code == 404 and hidden.json() == {"error": "model 'fraud' is not found"}
    assert guarded.client.get("/api/v1/models/fraud", headers=churn).status_code == 404
    # The default model of /invocations is checked too.
    assert guarded.client.post("/invocations", headers=churn).status_code == 200
    assert guarded.client.post("/invocations", headers=guarded.as_("fraud")).status_code == 404


def test_key_headers(guarded: Guarded) -> None:
    token = guarded.tokens["read"]
    assert guarded.client.get("/api/v1/models", headers={"X-API-Key": token}).json()["key"] == token[3:19]
    assert guarded.client.get("/api/v1/models", headers={"authorization": f"bearer {token}"}).status_code == 200
    both = {"X-API-Key": token, "Authorization": f"Bearer {guarded.tokens['admin']}"}
    assert guarded.client.get("/api/v1/models", headers=both).status_code == 401
    for bad in [f"Basic {token}", token, f"Bearer {token}x", "Bearer "]:
        assert guarded.client.get("/api/v1/models", headers={"Authorization": bad}).status_code == 401
    assert presented_token([(b"x-api-key", b" k "), (b"authorization", b"Bearer k")]) == "k"


def test_a_revocation_takes_effect_within_the_check_interval_not_the_cache_time(guarded: Guarded) -> None:
    headers, other = guarded.as_("read"), guarded.as_("manage")
    assert guarded.client.get("/api/v1/models", headers=headers).status_code == 200
    assert guarded.client.get("/api/v1/models", headers=other).status_code == 200
    # Revoked through another store on the same database, as another replica or the CLI would.
    KeyStore(guarded.keys.engine, clock=guarded.clock).revoke(guarded.tokens["read"][3:19])
    config = SecurityConfig()
    assert config.revocation_check_seconds < config.key_cache_seconds
    guarded.clock.advance(config.revocation_check_seconds / 2)
    assert guarded.client.get("/api/v1/models", headers=headers).status_code == 200  # still cached: no look yet
    guarded.clock.advance(config.revocation_check_seconds / 2)
    assert guarded.client.get("/api/v1/models", headers=headers).status_code == 401
    assert guarded.client.get("/api/v1/models", headers=other).status_code == 200  # others are looked up again


def test_expiry_takes_effect_within_the_cache_time(guarded: Guarded) -> None:
    headers = guarded.as_("read")
    assert guarded.client.get("/api/v1/models", headers=headers).status_code == 200
    guarded.keys.revoke(guarded.tokens["read"][3:19])
    guarded.clock.advance(SecurityConfig().key_cache_seconds + 0.1)
    assert guarded.client.get("/api/v1/models", headers=headers).status_code == 401


def test_revocations_count_and_date_change_with_each_revoke(guarded: Guarded) -> None:
    before = guarded.keys.revocations()
    guarded.keys.revoke(guarded.tokens["read"][3:19])
    after = guarded.keys.revoke(guarded.tokens["read"][3:19])  # twice: the first time is kept
    assert after.revoked_at is not None
    assert guarded.keys.revocations()[0] == before[0] + 1 and guarded.keys.revocations()[1] is not None


def _limited(tmp_path: Path, config: SecurityConfig) -> tuple[ASGIClient, KeyStore, ManualClock, Any]:
    """A guarded app with its own key store on a manual clock (the engine is returned to dispose of)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'k.db'}")
    upgrade(engine)
    clock = ManualClock()
    keys = KeyStore(engine, clock=clock)
    app = shaped_app()
    install_guards(app, keys=keys, config=config, clock=clock)
    return ASGIClient(app), keys, clock, engine


def test_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    client, keys, clock, engine = _limited(tmp_path, SecurityConfig(rate_limit=0.5, rate_burst=2))
    headers = {"X-API-Key": keys.create(["read"]).token}
    other = {"X-API-Key": keys.create(["read"]).token}
    codes = [client.get("/api/v1/models", headers=headers).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    limited = client.get("/api/v1/models", headers=headers)
    assert limited.headers["retry-after"] == "2" and "rate limit" in limited.json()["error"]
    assert client.get("/api/v1/models", headers=other).status_code == 200  # per key
    assert client.get("/v2/health/live").status_code == 200  # health is never limited
    clock.advance(2)
    assert client.get("/api/v1/models", headers=headers).status_code == 200
    engine.dispose()


@pytest.mark.parametrize("content_type", ["application/python-pickle", "application/x-python-pickle",
                                          "application/pickle; charset=binary", "application/x-joblib",
                                          "application/x-python-serialize", "APPLICATION/X-PICKLE"])
def test_pickle_bodies_are_415_everywhere(guarded: Guarded, content_type: str) -> None:
    for path in ["/v2/models/churn/infer", "/invocations", "/api/v1/models/churn/versions", "/v2/health/live"]:
        answer = guarded.client.post(path, content=b"\x80\x04K\x01.", headers={**guarded.as_("admin"),
                                                                               "Content-Type": content_type})
        assert answer.status_code == 415 and "pickled" in answer.json()["error"]


@pytest.mark.parametrize("raw", [b"/v2/health/live/../../api/v1/keys", b"//api/v1/keys", b"/v2/health/live/%2e%2e",
                                 b"/api/v1/models/..%2f..%2fkeys", b"/api/v1/models/%252e%252e",
                                 b"/v2/health/live/..%5c..%5capi", b"/api/v1/models/a%00b", b"/v2/./health/live"])
def test_non_canonical_paths_are_refused_before_routing(guarded: Guarded, raw: bytes) -> None:
    status, _, body = call_asgi(guarded.app, "GET", raw, [(b"x-api-key", guarded.tokens["admin"].encode())])
    assert status == 400 and b"send the plain path" in body


def test_body_limits_apply_to_declared_and_streamed_bodies(guarded: Guarded) -> None:
    admin = [(b"x-api-key", guarded.tokens["admin"].encode())]
    status, _, body = call_asgi(guarded.app, "POST", b"/v2/models/churn/infer",
                                [*admin, (b"content-length", b"1001")], b"x" * 1001)
    assert status == 413 and b"limit of 1000 bytes" in body
    status, _, body = call_asgi(guarded.app, "POST", b"/v2/models/churn/infer", admin, b"x" * 3000, chunks=10)
    assert status == 413 and b"limit of 1000 bytes" in body
    status, _, body = call_asgi(guarded.app, "POST", b"/api/v1/models/churn/versions", admin, b"x" * 3000, chunks=10)
    assert status == 200 and b'"bytes":3000' in body  # uploads get their own, larger limit
    status, _, _ = call_asgi(guarded.app, "POST", b"/api/v1/models/churn/versions", admin, b"x" * 6000, chunks=10)
    assert status == 413


def test_a_key_with_its_own_rate_limit_is_held_to_it(tmp_path: Path) -> None:
    client, keys, _, engine = _limited(tmp_path, SecurityConfig(rate_limit=None))  # no server default
    capped, free = {"X-API-Key": keys.create(["read"], rate_limit=2).token}, {"X-API-Key": keys.create(["read"]).token}
    assert [client.get("/api/v1/models", headers=capped).status_code for _ in range(3)] == [200, 200, 429]
    assert all(client.get("/api/v1/models", headers=free).status_code == 200 for _ in range(20))
    engine.dispose()


def test_no_auth_mode_admits_as_a_local_admin_but_keeps_the_other_checks() -> None:
    app = shaped_app()
    install_guards(app, keys=None)
    client = ASGIClient(app)
    assert client.get("/api/v1/keys").json()["key"] == NO_AUTH_KEY.id
    assert client.post("/invocations", content=b"x", headers={"Content-Type": "application/x-pickle"}).status_code == 415
    assert call_asgi(app, "GET", b"//api/v1/keys")[0] == 400
