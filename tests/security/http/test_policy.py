"""The route table: what each path needs, failing closed, and which paths are not canonical."""

from __future__ import annotations

import pytest

from modelport.http.policy import body_limit, path_problem, requirement


@pytest.mark.parametrize(("method", "path", "scopes", "model"), [
    ("POST", "/v2/models/churn/infer", {"predict"}, "churn"),
    ("POST", "/v2/models/churn/versions/3/infer", {"predict"}, "churn"),
    ("GET", "/v2/models/churn", {"predict", "read"}, "churn"),
    ("GET", "/v2/models/churn/versions/2/ready", {"predict", "read"}, "churn"),
    ("POST", "/v1/models/churn:predict", {"predict"}, "churn"),
    ("POST", "/v1/models/churn@champion:predict", {"predict"}, "churn"),
    ("POST", "/invocations", {"predict"}, None),
    ("POST", "/v1/feedback", {"feedback"}, None),
    ("GET", "/api/v1/models", {"read"}, None),
    ("GET", "/api/v1/models/churn/versions", {"read"}, "churn"),
    ("POST", "/api/v1/models/churn/versions", {"manage"}, "churn"),
    ("DELETE", "/API/V1/MODELS/churn", {"manage"}, "churn"),
    ("PUT", "/api/v1/models/churn/aliases/champion", {"manage"}, "churn"),
    ("GET", "/api/v1/monitoring/churn/drift", {"read"}, "churn"),
    ("GET", "/api/v1/alerts/churn/events", {"read"}, "churn"),
    ("PUT", "/api/v1/deployments/churn", {"manage"}, "churn"),
    ("GET", "/api/v1/keys", {"admin"}, None),
    ("POST", "/api/v1/keys/", {"admin"}, None),
    ("GET", "/api/v1/audit", {"admin"}, None),
    ("GET", "/ui/models", {"read"}, None),
    ("POST", "/ui/models", {"manage"}, None),
    ("GET", "/v1/models", {"predict", "read"}, None),
    ("POST", "/v1/models", {"admin"}, None),
    ("POST", "/ping", {"admin"}, None),
    ("GET", "/v2", set(), None),
    ("GET", "/openapi.json", set(), None),
    ("GET", "/something/new", {"admin"}, None),
    ("POST", "/metrics", {"admin"}, None),
    ("DELETE", "/v2/health/live", {"admin"}, None),
    ("GET", "/v1/feedback", {"admin"}, None),
])
def test_requirements(method: str, path: str, scopes: set[str], model: str | None) -> None:
    need = requirement(method, path)
    assert (set(need.scopes), need.model, need.exempt) == (scopes, model, False)


@pytest.mark.parametrize("path", ["/v2/health/live", "/v2/health/ready", "/ping", "/health", "/metrics", "/metrics/"])
def test_only_health_and_metrics_are_exempt(path: str) -> None:
    assert requirement("GET", path).exempt and requirement("HEAD", path).exempt


@pytest.mark.parametrize(("path", "raw", "problem"), [
    ("/v2/health/live/../../api/v1/keys", None, "'..' segments"),
    ("/v2/./models", None, "'..' segments"),
    ("//api/v1/keys", None, "empty segment"),
    ("/api//v1/keys", None, "empty segment"),
    ("/api/v1/models/a\\..\\b", None, "backslashes"),
    ("/api/v1/models/a\nb", None, "control characters"),
    ("/api/v1/models/a/b", b"/api/v1/models/a%2Fb", "encoded"),
    ("/api/v1/models/%2e%2e", b"/api/v1/models/%252e%252e", "encoded"),
    ("/api/v1/models/..", b"/api/v1/models/%2e%2e", "encoded"),
    ("api/v1/models", None, "must start with '/'"),
])
def test_non_canonical_paths(path: str, raw: bytes | None, problem: str) -> None:
    found = path_problem(path, raw)
    assert found is not None and problem in found


@pytest.mark.parametrize("path", ["/", "/v2/models/churn.v2/infer", "/api/v1/models/", "/ui"])
def test_canonical_paths(path: str) -> None:
    assert path_problem(path, path.encode()) is None


def test_body_limit_is_larger_only_for_uploads() -> None:
    assert body_limit("POST", "/api/v1/models/churn/versions", body=10, upload=99) == 99
    assert body_limit("POST", "/api/v1/models/churn/versions/", body=10, upload=99) == 99
    assert body_limit("PUT", "/api/v1/models/churn/versions", body=10, upload=99) == 10
    assert body_limit("POST", "/v2/models/churn/infer", body=10, upload=99) == 10
