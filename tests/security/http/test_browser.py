"""Security headers on every answer, CORS only for listed origins, CSRF for dashboard actions."""

from __future__ import annotations

import pytest

from modelport.foundation.errors import InvalidInputError
from modelport.http.browser import API_CSP, CSRF_COOKIE, DOCS_CSP, UI_CSP, content_security_policy, cors_options
from modelport.http.guards import install_guards
from modelport.security.config import SecurityConfig

from .conftest import ASGIClient, Guarded, shaped_app


def test_headers_on_every_answer_including_refusals(guarded: Guarded) -> None:
    for answer in [guarded.client.get("/v2/health/live"), guarded.client.get("/api/v1/keys"),
                   guarded.client.get("/api/v1/keys", headers=guarded.as_("admin")),
                   guarded.client.get("/nope", headers=guarded.as_("admin"))]:
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["content-security-policy"] == API_CSP.decode()
        assert "strict-transport-security" not in answer.headers
    assert guarded.client.get("/api/v1/keys", headers=guarded.as_("admin")).headers["cache-control"] == "no-store"


def test_csp_per_path_and_hsts_under_tls() -> None:
    assert content_security_policy("/ui/models") == UI_CSP
    assert content_security_policy("/docs") == DOCS_CSP
    assert content_security_policy("/v2/models/x/infer") == API_CSP
    app = shaped_app()
    install_guards(app, keys=None, config=SecurityConfig(tls=True))
    assert ASGIClient(app).get("/metrics").headers["strict-transport-security"].startswith("max-age=31536000")


def test_cors_is_off_by_default(guarded: Guarded) -> None:
    preflight = guarded.client.request("OPTIONS", "/api/v1/models", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in preflight.headers
    simple = guarded.client.get("/api/v1/models", headers={**guarded.as_("read"), "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in simple.headers


def test_cors_allow_list() -> None:
    app = shaped_app()
    install_guards(app, keys=None, config=SecurityConfig(cors_origins=("https://app.example.com",)))
    client = ASGIClient(app)
    ok = client.request("OPTIONS", "/api/v1/models", headers={
        "Origin": "https://app.example.com", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "https://app.example.com"
    other = client.get("/api/v1/models", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize("origin", ["*", "app.example.com", "https://app.example.com/path", "null"])
def test_cors_refuses_wildcards_and_non_origins(origin: str) -> None:
    with pytest.raises(InvalidInputError, match="list exact origins"):
        cors_options([origin])


def test_csrf_double_submit_for_dashboard_actions(guarded: Guarded) -> None:
    admin = guarded.as_("admin")
    page = guarded.client.get("/ui/models", headers=admin)
    cookie = page.headers["set-cookie"]
    assert cookie.startswith(f"{CSRF_COOKIE}=") and "SameSite=Strict" in cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    jar = {"Cookie": f"{CSRF_COOKIE}={token}"}
    refused = guarded.client.post("/ui/models", headers={**admin, **jar})
    assert refused.status_code == 403 and "CSRF token" in refused.json()["error"]
    wrong = guarded.client.post("/ui/models", headers={**admin, **jar, "X-CSRF-Token": token + "x"})
    assert wrong.status_code == 403
    cross = guarded.client.post("/ui/models", headers={**admin, **jar, "X-CSRF-Token": token,
                                                       "Origin": "https://evil.example"})
    assert cross.status_code == 403 and "Origin" in cross.json()["error"]
    ok = guarded.client.post("/ui/models", headers={**admin, **jar, "X-CSRF-Token": token,
                                                    "Origin": "http://localhost"})
    assert ok.status_code == 200
    # The API itself is not cookie-authenticated, so it needs no token.
    assert guarded.client.post("/v2/models/churn/infer", headers=admin).status_code == 200
