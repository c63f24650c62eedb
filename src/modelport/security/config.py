"""Security settings of a server, with safe defaults, read from the environment only when asked."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from modelport.foundation.errors import InvalidInputError
from modelport.security.fetch import FetchPolicy

MIB = 1024**2


@dataclass(frozen=True)
class SecurityConfig:
    """What the HTTP guard enforces; every field has a safe default."""

    auth: bool = True
    rate_limit: float | None = 100.0
    rate_burst: float | None = None
    key_cache_seconds: float = 5.0
    # How often a server asks the database whether any key was revoked (then it forgets its cached keys).
    revocation_check_seconds: float = 0.5
    max_body_bytes: int = 16 * MIB
    max_upload_bytes: int = 2048 * MIB
    cors_origins: tuple[str, ...] = ()
    tls: bool = False
    fetch: FetchPolicy = field(default_factory=FetchPolicy)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SecurityConfig:
        """Defaults overridden by MODELPORT_* variables (see docs/security.md)."""
        env = os.environ if env is None else env
        rate = _number(env, "MODELPORT_RATE_LIMIT", 100.0)
        burst = env.get("MODELPORT_RATE_BURST")
        fetch = FetchPolicy(
            object_store_schemes=_list(env, "MODELPORT_FETCH_SCHEMES"),
            allow_networks=_list(env, "MODELPORT_FETCH_ALLOW_NETWORKS"),
            max_bytes=int(_number(env, "MODELPORT_FETCH_MAX_BYTES", float(FetchPolicy.max_bytes))),
        )
        return cls(
            rate_limit=rate if rate > 0 else None,
            rate_burst=_number(env, "MODELPORT_RATE_BURST", 0.0) if burst else None,
            max_body_bytes=int(_number(env, "MODELPORT_MAX_BODY_BYTES", float(cls.max_body_bytes))),
            max_upload_bytes=int(_number(env, "MODELPORT_MAX_UPLOAD_BYTES", float(cls.max_upload_bytes))),
            cors_origins=_list(env, "MODELPORT_CORS_ORIGINS"),
            fetch=fetch,
        )


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInputError(f"{name}={raw!r} is not a number", field=name) from None
    if value < 0:
        raise InvalidInputError(f"{name}={raw!r} must not be negative", field=name)
    return value


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in env.get(name, "").split(",") if part.strip())
