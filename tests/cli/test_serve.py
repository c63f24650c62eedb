"""`modelport serve` option checks (the server itself is tested end to end in tests/http)."""

from __future__ import annotations

import pytest

from modelport.cli.serve import check_bind, is_loopback
from modelport.foundation.errors import InvalidInputError


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_hosts_are_allowed_without_keys(host: str) -> None:
    assert is_loopback(host)
    check_bind(host, no_auth=True)


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "example.com"])
def test_other_hosts_are_refused_without_keys(host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(InvalidInputError, match="--no-auth is allowed only on a loopback address"):
        check_bind(host, no_auth=True)
    check_bind(host, no_auth=False)  # with keys, any address


def test_serve_refuses_zero_workers(home) -> None:  # type: ignore[no-untyped-def]
    from modelport.cli.app import main

    with pytest.raises(SystemExit) as done:
        main(["serve", "--workers", "0", "--no-auth"])
    assert done.value.code != 0
