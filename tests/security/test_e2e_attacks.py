"""The running server attacked over real HTTP: a `modelport serve` process on a free loopback port.

Every route without a key and with the wrong scope, traversal in names, versions and paths (encoded
too), archive slip, pickles in uploads and bodies, internal URLs, oversized and deeply nested bodies,
log injection, and secrets searched for in every answer and in the server's log.
"""

from __future__ import annotations

import http.client
import io
import os
import pickle
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelport.foundation.settings import Settings
from modelport.registry.service import Registry
from modelport.security.keys import KeyStore

pytestmark = pytest.mark.slow


@dataclass
class Server:
    url: str
    port: int
    home: Path
    log: Path
    tokens: dict[str, str]
    answers: list[str] = field(default_factory=list)

    def key(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        answer = httpx.request(method, self.url + path, timeout=30, **kwargs)
        self.answers.append(answer.text)
        return answer

    def raw(self, method: str, raw_path: str, headers: dict[str, str] | None = None, body: bytes = b"") -> int:
        """Send the path byte for byte (httpx would normalise it)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.putrequest(method, raw_path, skip_accept_encoding=True)
        for name, value in {**(headers or {}), "Content-Length": str(len(body))}.items():
            conn.putheader(name, value)
        conn.endheaders(body)
        response = conn.getresponse()
        self.answers.append(response.read().decode("utf-8", "replace"))
        conn.close()
        return response.status


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, iris_pipeline: Any, iris: Any) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("e2e-home")
    registry = Registry.open(Settings.at(home))
    registry.register(iris_pipeline, name="iris", input_example=iris[0].head(3), alias="champion")
    registry.register(iris_pipeline, name="hidden", input_example=iris[0].head(3))
    keys = KeyStore(registry.store.engine, audit=registry.store)
    tokens = {who: keys.create(scopes, models=models).token for who, scopes, models in [
        ("admin", ["admin"], []), ("manage", ["manage"], []), ("read", ["read"], []),
        ("predict", ["predict"], []), ("feedback", ["feedback"], []), ("iris", ["predict", "read"], ["iris"])]}
    registry.close()
    port = _free_port()
    log = home / "server.log"
    env = {**os.environ, "MODELPORT_HOME": str(home), "MODELPORT_MAX_BODY_BYTES": str(256 * 1024),
           "MODELPORT_RATE_LIMIT": "10000"}
    env.pop("MODELPORT_DB_URL", None)
    env.pop("MODELPORT_ARTIFACTS", None)
    with log.open("wb") as sink:
        process = subprocess.Popen([sys.executable, "-c", "from modelport.cli.app import main; main()", "serve",
                                    "--host", "127.0.0.1", "--port", str(port), "--poll-interval", "0.2"],
                                   env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=home)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(url + "/v2/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)  # polling a real condition under a bounded deadline
        else:
            process.kill()
            pytest.fail(f"server did not become ready: {log.read_text()[-3000:]}")
        yield Server(url, port, home, log, tokens)
        process.terminate()
        process.wait(timeout=30)


def _concrete(path: str) -> str:
    values = {"name": "iris", "version": "1", "alias": "champion", "key_id": "0" * 16}
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    return path


def _operations(server: Server) -> list[tuple[str, str]]:
    document = server.request("GET", "/openapi.json", headers=server.key("read")).json()
    return [(method.upper(), _concrete(path)) for path, item in document["paths"].items()
            for method in item if method in {"get", "post", "put", "delete", "patch"}]


EXEMPT = {"/v2/health/live", "/v2/health/ready", "/ping", "/health", "/metrics"}


def test_openapi_needs_a_key(server: Server) -> None:
    assert server.request("GET", "/openapi.json").status_code == 401
    assert server.request("GET", "/docs").status_code == 401


def test_every_route_and_method_without_a_key_is_401(server: Server) -> None:
    operations = _operations(server)
    assert len(operations) > 15 and ("POST", "/api/v1/keys") in operations
    for method, path in operations:
        for verb in {method, "GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}:
            status = server.request(verb, path).status_code
            if path in EXEMPT and verb in {"GET", "HEAD", "OPTIONS"}:
                assert status == (200 if verb == "GET" else 405), (verb, path)
            else:
                assert status == 401, (verb, path, status)


def test_every_route_with_the_wrong_scope_is_403(server: Server) -> None:
    for method, path in _operations(server):
        if path in EXEMPT or path in {"/v2", "/openapi.json", "/docs", "/redoc"}:
            continue
        wrong = "read" if path == "/v1/feedback" else "feedback"
        answer = server.request(method, path, headers=server.key(wrong))
        assert answer.status_code == 403, (method, path, answer.status_code, answer.text)


def test_a_model_outside_the_key_is_404_like_a_missing_one(server: Server) -> None:
    limited = server.key("iris")
    rows = {"instances": [[5.1, 3.5, 1.4, 0.2]]}
    assert server.request("POST", "/v1/models/iris:predict", json=rows, headers=limited).status_code == 200
    hidden = server.request("POST", "/v1/models/hidden:predict", json=rows, headers=limited)
    missing = server.request("POST", "/v1/models/nothing:predict", json=rows, headers=server.key("predict"))
    assert hidden.status_code == missing.status_code == 404
    names = [m["name"] for m in server.request("GET", "/api/v1/models", headers=limited).json()["models"]]
    assert names == ["iris"]


@pytest.mark.parametrize("path", [
    "/v2/models/..%2f..%2fetc%2fpasswd/infer", "/v2/models/%2e%2e/infer", "/v2/models/../api/v1/keys",
    "/v2/models/iris/versions/..%2f1/infer", "/api/v1/models/%252e%252e/versions", "/api/v1/models/iris%00/versions",
    "/v2/health/live/../../api/v1/keys", "//api/v1/keys", "/api/v1/models/iris/versions/1%5c..%5c..",
    "/v2/models/iris/versions/-1/infer", "/v2/models/iris/versions/1e9/infer", "/v2/models/IRIS/infer",
    "/api/v1/models/..;/versions", "/v1/models/iris:predict/..%2f..%2f",
])
def test_traversal_in_names_versions_and_paths(server: Server, path: str) -> None:
    status = server.raw("POST", path, {**server.key("admin"), "Content-Type": "application/json"}, b"{}")
    assert status in {400, 404, 405, 422}, (path, status)


def test_pickles_in_bodies_and_uploads_never_run(server: Server, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Boom(marker))
    for content_type in ["application/python-pickle", "application/x-pickle", "application/x-joblib"]:
        answer = server.request("POST", "/v2/models/iris/infer", content=payload,
                                headers={**server.key("admin"), "Content-Type": content_type})
        assert answer.status_code == 415
    upload = server.request("POST", "/api/v1/models/evil/versions", params={"filename": "model.pkl"},
                            content=payload, headers={**server.key("manage"), "Content-Type": "application/octet-stream"})
    assert upload.status_code == 415 and "trust" in upload.json()["error"]
    as_json = server.request("POST", "/v2/models/iris/infer", content=payload,
                             headers={**server.key("admin"), "Content-Type": "application/octet-stream"})
    assert as_json.status_code in {400, 415, 422}
    assert not marker.exists()


class _Boom:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.write_text, (self.marker, "executed"))


def test_archive_slip_and_links_in_uploads(server: Server) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("model.skops", b"PK")
        zf.writestr("../../../../../../tmp/modelport-e2e-slip", b"x")
    answer = server.request("POST", "/api/v1/models/iris/versions", params={"filename": "bundle.zip"},
                            content=buffer.getvalue(),
                            headers={**server.key("manage"), "Content-Type": "application/octet-stream"})
    assert answer.status_code == 415 and "nothing was extracted" in answer.json()["error"]
    assert not Path("/tmp/modelport-e2e-slip").exists()


@pytest.mark.parametrize("url", ["https://127.0.0.1/m.skops", "https://169.254.169.254/m.skops",
                                 "https://localhost/m.skops", "http://example.com/m.skops", "file:///etc/passwd",
                                 "https://[::ffff:127.0.0.1]/m.skops", "gopher://127.0.0.1:6379/_m.skops"])
def test_internal_urls_are_refused(server: Server, url: str) -> None:
    answer = server.request("POST", "/api/v1/models/iris/versions", json={"url": url}, headers=server.key("manage"))
    assert answer.status_code == 400 and answer.json()["error"]


def test_oversized_and_deeply_nested_bodies(server: Server) -> None:
    big = server.request("POST", "/v2/models/iris/infer", content=b"[" * 300_000,
                         headers={**server.key("predict"), "Content-Type": "application/json"})
    assert big.status_code == 413
    deep = b"[" * 100_000 + b"]" * 100_000
    nested = server.request("POST", "/v2/models/iris/infer", content=deep,
                            headers={**server.key("predict"), "Content-Type": "application/json"})
    assert 400 <= nested.status_code < 500
    deep_v1 = b'{"instances": ' + b"[" * 5000 + b"1" + b"]" * 5000 + b"}"
    assert 400 <= server.request("POST", "/v1/models/iris:predict", content=deep_v1, headers={
        **server.key("predict"), "Content-Type": "application/json"}).status_code < 500
    assert server.request("GET", "/v2/health/live").status_code == 200  # still up


def test_log_injection_cannot_forge_lines(server: Server) -> None:
    forged = "FORGED-ENTRY level=INFO admin logged in"
    server.raw("GET", "/api/v1/models/x%0a" + forged.replace(" ", "%20"), server.key("read"))
    server.request("POST", "/api/v1/models/iris/aliases/x", json={"version": 1},
                   headers={**server.key("read"), "X-Request-ID": "abc"})
    server.request("GET", "/api/v1/models/" + "a%0d%0a" + "FORGED", headers=server.key("read"))
    for line in server.log.read_text(errors="replace").splitlines():
        assert not line.startswith("FORGED")


def test_secrets_never_appear_in_answers_or_logs(server: Server) -> None:
    secrets = [token.split("_", 2)[2] for token in server.tokens.values()]
    metrics = server.request("GET", "/metrics").text
    keys = server.request("GET", "/api/v1/keys", headers=server.key("admin")).text
    audit = server.request("GET", "/api/v1/audit", headers=server.key("admin")).text
    log = server.log.read_text(errors="replace")
    for text in [metrics, keys, audit, log, *server.answers]:
        for secret in secrets:
            assert secret not in text
    for answer in server.answers:
        # (answers may echo the attacker's own archive member names, but never a server folder)
        assert "Traceback" not in answer and str(server.home) not in answer and "modelport-upload-" not in answer
        assert "SELECT " not in answer and "sqlite" not in answer.lower()
