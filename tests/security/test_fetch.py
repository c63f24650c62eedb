"""Register-from-URL fetching: schemes, address checks at connect time and on redirects, limits."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelport.security.fetch import FetchPolicy, RefusedURLError, URLFetcher

PAYLOAD = b"model-bytes" * 100


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        routes = {
            "/model.bin": (200, {"Content-Length": str(len(PAYLOAD))}, PAYLOAD),
            "/to-private": (302, {"Location": "http://10.0.0.5/model.bin"}, b""),
            "/to-metadata": (301, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
            "/to-file": (302, {"Location": "file:///etc/passwd"}, b""),
            "/loop": (302, {"Location": "/loop"}, b""),
            "/to-model": (302, {"Location": "/model.bin"}, b""),
            "/big-declared": (200, {"Content-Length": str(10**9)}, b""),
            "/missing": (404, {"Content-Length": "0"}, b""),
        }
        if self.path == "/big-chunked":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"x" * 5000)
            return
        status, headers, body = routes[self.path]
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", "0")
        self.end_headers()
        if body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


# Tests reach the loopback server only because they allow http and 127.0.0.1 explicitly.
LOCAL = FetchPolicy(schemes=("https", "http"), allow_networks=("127.0.0.1/32",), max_bytes=2000)


def test_allow_listed_download_works_and_follows_safe_redirects(server: str, tmp_path: Path) -> None:
    got = URLFetcher(LOCAL).fetch(f"{server}/to-model", tmp_path / "m.bin")
    assert got.path.read_bytes() == PAYLOAD and got.size == len(PAYLOAD) and got.url.endswith("/model.bin")


@pytest.mark.parametrize("url", [
    "http://example.com/m.bin", "file:///etc/passwd", "ftp://example.com/m", "gopher://127.0.0.1:6379/_x",
    "s3://bucket/model.bin", "data:,hello", "/etc/passwd", "https://user:pw@example.com/m", "https:///nohost",
])
def test_default_policy_refuses_schemes_and_credentials(url: str, tmp_path: Path) -> None:
    with pytest.raises(RefusedURLError, match=r"scheme|credentials|no host"):
        URLFetcher().fetch(url, tmp_path / "m")


@pytest.mark.parametrize("host", [
    "127.0.0.1", "127.1.2.3", "[::1]", "169.254.169.254", "10.0.0.1", "172.16.0.1", "192.168.1.1",
    "0.0.0.0", "[::ffff:127.0.0.1]", "[fe80::1]", "[fd00::1]", "100.64.0.1", "224.0.0.1", "2130706433",
    "0x7f000001", "localhost",
])
def test_internal_addresses_are_refused_before_connecting(host: str, tmp_path: Path) -> None:
    with pytest.raises(RefusedURLError, match="loopback, link-local, private or reserved") as info:
        URLFetcher().fetch(f"https://{host}/model.bin", tmp_path / "m")
    if host in ("localhost", "2130706433", "0x7f000001"):
        assert "127.0.0.1" not in str(info.value)  # the resolved address is not revealed
    assert not (tmp_path / "m").exists()


def test_a_name_resolving_inside_is_refused_and_mixed_answers_too(tmp_path: Path) -> None:
    answers = {"evil.example": ["127.0.0.1"], "mixed.example": ["93.184.216.34", "10.0.0.7"]}
    fetcher = URLFetcher(resolver=lambda host, port: answers[host])
    for host in answers:
        with pytest.raises(RefusedURLError, match=f"url host '{host}' resolves to a loopback"):
            fetcher.fetch(f"https://{host}/m", tmp_path / "m")


def test_the_socket_goes_to_the_address_that_was_checked(server: str, tmp_path: Path) -> None:
    """One resolution per connection, made by the connection itself: no second lookup can rebind."""
    port = int(server.rsplit(":", 1)[1])
    calls: list[str] = []

    def resolver(host: str, _port: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"]

    fetcher = URLFetcher(LOCAL, resolver=resolver)
    got = fetcher.fetch(f"http://model.invalid:{port}/model.bin", tmp_path / "m")
    assert got.path.read_bytes() == PAYLOAD and calls == ["model.invalid"]
    with pytest.raises(RefusedURLError, match="resolves to a loopback"):
        URLFetcher(FetchPolicy(schemes=("http",)), resolver=resolver).fetch(
            f"http://model.invalid:{port}/model.bin", tmp_path / "n")


@pytest.mark.parametrize(("path", "match"), [
    ("/to-private", "resolves to a loopback, link-local, private"),
    ("/to-metadata", "resolves to a loopback, link-local, private"),
    ("/to-file", "scheme 'file' is not allowed"),
    ("/loop", "more than 5 redirects"),
])
def test_every_redirect_is_checked(server: str, tmp_path: Path, path: str, match: str) -> None:
    with pytest.raises(RefusedURLError, match=match):
        URLFetcher(LOCAL).fetch(f"{server}{path}", tmp_path / "m")
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize(("path", "match"), [
    ("/big-declared", "larger than the limit of 2000 bytes"),
    ("/big-chunked", "larger than the limit of 2000 bytes"),
    ("/missing", "answered HTTP 404"),
])
def test_size_cap_and_errors_leave_no_file(server: str, tmp_path: Path, path: str, match: str) -> None:
    with pytest.raises(RefusedURLError, match=match):
        URLFetcher(LOCAL).fetch(f"{server}{path}", tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_a_silent_server_times_out(tmp_path: Path) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    policy = FetchPolicy(schemes=("http",), allow_networks=("127.0.0.0/8",), read_timeout=0.3, connect_timeout=1)
    try:
        with pytest.raises(RefusedURLError, match="timed out"):
            URLFetcher(policy).fetch(f"http://127.0.0.1:{silent.getsockname()[1]}/m", tmp_path / "m")
    finally:
        silent.close()


def test_object_store_schemes_only_when_configured(tmp_path: Path) -> None:
    import fsspec

    fs = fsspec.filesystem("memory")
    fs.pipe("/bucket/model.bin", PAYLOAD)
    fetcher = URLFetcher(FetchPolicy(object_store_schemes=("memory",), max_bytes=10_000))
    assert fetcher.fetch("memory://bucket/model.bin", tmp_path / "m").path.read_bytes() == PAYLOAD
    small = URLFetcher(FetchPolicy(object_store_schemes=("memory",), max_bytes=10))
    with pytest.raises(RefusedURLError, match="larger than the limit"):
        small.fetch("memory://bucket/model.bin", tmp_path / "n")
    with pytest.raises(RefusedURLError, match="scheme 'memory' is not allowed"):
        URLFetcher().fetch("memory://bucket/model.bin", tmp_path / "o")
