"""A server without keys refuses what a web page made a browser send (DNS rebinding, cross-site posts)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from modelport.http.loopback import browser_problem, is_loopback_name


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST", "app.localhost", "127.0.0.1", "127.1.2.3", "::1"])
def test_loopback_names(host: str) -> None:
    assert is_loopback_name(host)


@pytest.mark.parametrize("host", ["evil.example", "localhost.evil.example", "127.0.0.1.nip.io", "128.0.0.1",
                                  "127.0.0.256", "0.0.0.0", "10.0.0.1", ""])
def test_names_that_are_not_loopback(host: str) -> None:
    assert not is_loopback_name(host)


@pytest.mark.parametrize("headers", [
    [], [(b"host", b"127.0.0.1:8000")], [(b"host", b"localhost")], [(b"host", b"[::1]:8000")],
    [(b"host", b"localhost:8000"), (b"origin", b"http://localhost:8000")],
    [(b"host", b"127.0.0.1:8000"), (b"origin", b"http://127.0.0.1:5173")],
])
def test_requests_a_local_client_sends_pass(headers: list[tuple[bytes, bytes]]) -> None:
    assert browser_problem(headers) is None


@pytest.mark.parametrize(("headers", "reason"), [
    ([(b"host", b"rebound.evil.example:8000")], "Host 'rebound.evil.example:8000' is not a loopback name"),
    ([(b"host", b"127.0.0.1:8000"), (b"origin", b"https://evil.example")], "origin 'https://evil.example'"),
    ([(b"host", b"127.0.0.1:8000"), (b"origin", b"null")], "origin 'null'"),
    ([(b"host", b"127.0.0.1:8000"), (b"origin", b"http://localhost.evil.example")], "cross-site request"),
])
def test_requests_a_foreign_page_makes_are_refused(headers: list[tuple[bytes, bytes]], reason: str) -> None:
    problem = browser_problem(headers)
    assert problem is not None and reason in problem


def test_listed_origins_are_trusted() -> None:
    headers = [(b"host", b"127.0.0.1:8000"), (b"origin", b"https://notebook.internal")]
    assert browser_problem(headers, ("https://notebook.internal",)) is None


@pytest.mark.slow
def test_a_no_auth_server_over_a_socket(start_server, served_home: Path, tmp_path: Path, rows) -> None:
    import shutil

    home = tmp_path / "home"
    shutil.copytree(served_home, home)
    server = start_server(home, ["cancer"])
    body = {"instances": rows[:1]}
    with httpx.Client(base_url=server.url, timeout=30) as http:
        plain = http.post("/v1/models/cancer:predict", json=body)
        rebound = http.post("/v1/models/cancer:predict", json=body, headers={"Host": "rebound.evil.example"})
        # a form post from another site: a "simple" request, which browsers send without a preflight
        forged = http.post("/api/v1/models/cancer/versions/2/archive", content="x",
                           headers={"Origin": "https://evil.example", "Content-Type": "text/plain"})
        versions = http.get("/api/v1/models/cancer/versions").json()
        health = http.get("/v2/health/ready", headers={"Host": "rebound.evil.example"})
    assert plain.status_code == 200
    assert rebound.status_code == 403 and "DNS rebinding" in rebound.json()["error"]
    assert forged.status_code == 403 and "cross-site" in forged.json()["error"]
    assert "archived" not in str(versions) and health.status_code == 200
