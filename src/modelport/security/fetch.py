"""Fetching a model from a URL without server-side request forgery.

Only https (and object-store schemes the operator configured) are allowed. The host
is resolved inside the connection itself, every address is checked, and the socket
is opened to the checked address, so neither a redirect nor a DNS answer that
changes between check and connect (rebinding) can reach loopback, link-local or
private networks unless the operator allow-listed them.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from modelport.foundation.clock import Clock, SystemClock
from modelport.foundation.errors import InvalidInputError

Resolver = Callable[[str, int], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_CHUNK = 1 << 16


@dataclass(frozen=True)
class FetchPolicy:
    """What a URL fetch may reach and how much it may cost."""

    schemes: tuple[str, ...] = ("https",)
    object_store_schemes: tuple[str, ...] = ()
    allow_networks: tuple[str, ...] = ()
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    total_timeout: float = 600.0
    max_bytes: int = 2 * 1024**3
    max_redirects: int = 5

    def allowed(self, address: IPAddress) -> bool:
        """Whether `address` may be connected to: public, or inside an allow-listed network."""
        mapped = getattr(address, "ipv4_mapped", None) or address
        if any(mapped in ipaddress.ip_network(net, strict=False) for net in self.allow_networks):
            return True
        return mapped.is_global and not mapped.is_multicast


@dataclass(frozen=True)
class Fetched:
    """A downloaded file and where it finally came from."""

    path: Path
    size: int
    url: str


class RefusedURLError(InvalidInputError):
    """The URL or an address it resolves to is not allowed."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="url")


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host`."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise RefusedURLError(f"url host {host!r} does not resolve") from exc
    return [str(info[4][0]) for info in infos]


def _addresses(host: str, port: int, resolver: Resolver) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    found = [ipaddress.ip_address(a.split("%")[0]) for a in resolver(host, port)]
    if not found:
        raise RefusedURLError(f"url host {host!r} does not resolve")
    return found


def checked_addresses(host: str, port: int, policy: FetchPolicy, resolver: Resolver) -> list[IPAddress]:
    """Resolve `host` and refuse it if ANY address is not allowed (a mixed answer is a rebinding attempt)."""
    found = _addresses(host, port, resolver)
    if not all(policy.allowed(address) for address in found):
        # The addresses are not named: they would tell a caller about internal networks.
        raise RefusedURLError(
            f"url host {host!r} resolves to a loopback, link-local, private or reserved address, which is refused; "
            "an operator can allow a network with MODELPORT_FETCH_ALLOW_NETWORKS")
    return found


class _GuardedBackend(httpcore.NetworkBackend):
    """Resolves, checks and connects to the checked address in one step."""

    def __init__(self, policy: FetchPolicy, resolver: Resolver) -> None:
        self._inner = httpcore.SyncBackend()
        self._policy = policy
        self._resolver = resolver

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        failure: Exception | None = None
        for address in checked_addresses(host, port, self._policy, self._resolver):
            try:
                return self._inner.connect_tcp(str(address), port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                failure = exc
        raise failure or RefusedURLError(f"url host {host!r} does not resolve")

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        raise RefusedURLError("unix sockets are never fetched")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """An httpx transport whose every connection goes through the address check; proxies are ignored."""

    def __init__(self, policy: FetchPolicy, resolver: Resolver | None = None) -> None:
        super().__init__(trust_env=False)
        ssl_context = httpx.create_ssl_context(trust_env=False)
        # httpx has no public hook for the network backend, so the pool is replaced with one that has ours.
        self._pool = httpcore.ConnectionPool(ssl_context=ssl_context, max_connections=4,
                                             network_backend=_GuardedBackend(policy, resolver or system_resolver))


def check_url(url: str, policy: FetchPolicy) -> str:
    """Refuse URLs outside the allowed schemes, with credentials, or without a host."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise RefusedURLError(f"invalid url: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in policy.schemes and scheme not in policy.object_store_schemes:
        allowed = ", ".join(policy.schemes + policy.object_store_schemes)
        raise RefusedURLError(f"url scheme {scheme or '(none)'!r} is not allowed; use one of: {allowed}")
    if not parts.hostname:
        raise RefusedURLError("url has no host")
    if parts.username or parts.password:
        raise RefusedURLError("url must not carry credentials; the server uses its own configured credentials")
    return scheme


class URLFetcher:
    """Downloads one URL to a local file under a FetchPolicy."""

    def __init__(self, policy: FetchPolicy | None = None, *, resolver: Resolver | None = None,
                 clock: Clock | None = None) -> None:
        self.policy = policy or FetchPolicy()
        self.resolver = resolver or system_resolver
        self.clock = clock or SystemClock()

    def fetch(self, url: str, dest: Path) -> Fetched:
        """Download `url` to `dest`, following at most `max_redirects` checked redirects."""
        if check_url(url, self.policy) in self.policy.object_store_schemes:
            return self._fetch_object_store(url, dest)
        timeout = httpx.Timeout(self.policy.read_timeout, connect=self.policy.connect_timeout)
        transport = GuardedTransport(self.policy, self.resolver)
        with httpx.Client(transport=transport, timeout=timeout, follow_redirects=False, trust_env=False) as client:
            current = url
            for _ in range(self.policy.max_redirects + 1):
                if check_url(current, self.policy) in self.policy.object_store_schemes:
                    raise RefusedURLError("a redirect to an object store is not followed")
                following = self._get(client, current, dest)
                if following is None:
                    return Fetched(dest, dest.stat().st_size, current)
                current = following
        raise RefusedURLError(f"more than {self.policy.max_redirects} redirects")

    def _get(self, client: httpx.Client, url: str, dest: Path) -> str | None:
        try:
            with client.stream("GET", url) as response:
                if response.is_redirect:
                    return urljoin(url, str(response.headers.get("location", "")))
                if response.status_code != 200:
                    raise RefusedURLError(f"fetching the url answered HTTP {response.status_code}")
                self._save(response, dest)
                return None
        except httpx.TimeoutException as exc:
            raise RefusedURLError("fetching the url timed out") from exc
        except httpx.HTTPError as exc:
            raise RefusedURLError(f"fetching the url failed: {type(exc).__name__}") from exc

    def _save(self, response: httpx.Response, dest: Path) -> None:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.policy.max_bytes:
            raise RefusedURLError(f"the download is larger than the limit of {self.policy.max_bytes} bytes")
        deadline = self.clock.monotonic() + self.policy.total_timeout
        written = 0
        try:
            with dest.open("wb") as handle:
                for chunk in response.iter_bytes(_CHUNK):
                    written += len(chunk)
                    self._check_progress(written, deadline)
                    handle.write(chunk)
        except BaseException:
            dest.unlink(missing_ok=True)
            raise

    def _check_progress(self, written: int, deadline: float) -> None:
        if written > self.policy.max_bytes:
            raise RefusedURLError(f"the download is larger than the limit of {self.policy.max_bytes} bytes")
        if self.clock.monotonic() > deadline:
            raise RefusedURLError(f"the download took longer than {self.policy.total_timeout:g} seconds")

    def _fetch_object_store(self, url: str, dest: Path) -> Fetched:
        import fsspec

        fs, path = fsspec.core.url_to_fs(url)
        size = fs.size(path)
        if size is not None and size > self.policy.max_bytes:
            raise RefusedURLError(f"the object is larger than the limit of {self.policy.max_bytes} bytes")
        written = 0
        with fs.open(path, "rb") as source, dest.open("wb") as handle:
            while chunk := source.read(_CHUNK):
                written += len(chunk)
                if written > self.policy.max_bytes:
                    handle.close()
                    dest.unlink(missing_ok=True)
                    raise RefusedURLError(f"the object is larger than the limit of {self.policy.max_bytes} bytes")
                handle.write(chunk)
        return Fetched(dest, written, url)
