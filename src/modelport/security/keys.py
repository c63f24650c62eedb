"""API keys: created with a secret shown once, stored as a hash, checked in constant time.

A key reads `mp_<id>_<secret>`. The id is public (listed, logged, written in the
audit log); the secret is 256 random bits. Because the secret is random rather
than chosen by a person, a plain SHA-256 of it cannot be brute-forced, so a slow
password hash (bcrypt, scrypt) would only add latency to every request.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from sqlalchemy import Engine, Row, func, insert, select, update

from modelport.foundation.clock import Clock, SystemClock
from modelport.foundation.errors import AuthenticationError, InvalidInputError, NotFoundError
from modelport.storage.schema import api_keys

SCOPES = ("predict", "feedback", "read", "manage", "admin")
# A scope on the left also grants the ones on the right.
_IMPLIED = {"admin": frozenset(SCOPES), "manage": frozenset({"manage", "read"})}
_TOKEN = re.compile(r"^mp_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
_PATTERN = re.compile(r"^[a-z0-9.*?_-]{1,128}$")
_KEY_ID = re.compile(r"^[0-9a-f]{16}$")
_DURATION = re.compile(r"^(\d{1,6})([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# Compared against when the key id is unknown, so both paths do the same work.
_DUMMY_HASH = hashlib.sha256(b"modelport-no-such-key").hexdigest()


class AuditSink(Protocol):
    """Where key creation and revocation are recorded (RegistryStore satisfies this)."""

    def record_audit(self, actor: str, action: str, target: str, details: Mapping[str, Any], *,
                     outcome: str = "ok", address: str = "") -> None:
        """Append one audit entry."""
        ...


@dataclass(frozen=True)
class ApiKey:
    """A stored key, without its secret."""

    id: str
    name: str
    scopes: frozenset[str]
    models: tuple[str, ...]
    created_by: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    rate_limit: float | None = None  # requests per second; None: the server's default

    def allows(self, scope: str) -> bool:
        """Whether this key holds `scope`, directly or through a wider one."""
        return any(scope in _IMPLIED.get(held, {held}) for held in self.scopes)

    def may_see(self, model: str) -> bool:
        """Whether this key may see the model (or deployment) named `model`."""
        return not self.models or any(fnmatch.fnmatchcase(model, pattern) for pattern in self.models)

    def active(self, now: datetime) -> bool:
        """Not revoked and not expired at `now`."""
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (never contains the secret)."""
        return {
            "id": self.id,
            "name": self.name,
            "scopes": sorted(self.scopes),
            "models": list(self.models),
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "rate_limit": self.rate_limit,
        }


@dataclass(frozen=True)
class NewKey:
    """A freshly created key and its full token, which is shown once and never stored."""

    key: ApiKey
    token: str


def hash_secret(secret: str) -> str:
    """The stored form of a key's secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def check_scopes(scopes: Iterable[str]) -> frozenset[str]:
    """Refuse unknown scopes and an empty scope list."""
    chosen = frozenset(scopes)
    unknown = sorted(chosen - set(SCOPES))
    if unknown or not chosen:
        raise InvalidInputError(
            f"invalid scopes {unknown or []!r}: choose one or more of {', '.join(SCOPES)}", field="scope")
    return chosen


def check_patterns(patterns: Iterable[str]) -> tuple[str, ...]:
    """Refuse model patterns outside the model-name alphabet plus '*' and '?'."""
    chosen = tuple(patterns)
    for pattern in chosen:
        if not isinstance(pattern, str) or not _PATTERN.fullmatch(pattern):
            raise InvalidInputError(
                f"invalid model pattern {pattern!r}: use model-name characters and the wildcards '*' and '?'",
                field="model")
    return chosen


def check_rate_limit(rate: float | None) -> float | None:
    """Refuse a per-key rate limit that is not a positive, finite number of requests per second."""
    if rate is None:
        return None
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate < float("inf"):
        raise InvalidInputError(f"invalid rate limit {rate!r}: use a positive number of requests per second",
                                field="rate_limit")
    return float(rate)


def check_key_id(key_id: str) -> str:
    """Refuse anything that is not a key id (16 hex digits)."""
    if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
        raise InvalidInputError(f"invalid key id {key_id!r}: expected 16 hex digits (see: modelport keys list)",
                                field="key_id")
    return key_id


def parse_duration(text: str) -> timedelta:
    """Parse `30d`, `12h`, `90m`, `2w` or `45s` into a timedelta."""
    match = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None or int(match.group(1)) == 0:
        raise InvalidInputError(
            f"invalid duration {text!r}: use a positive number and a unit, like 30d, 12h, 90m, 2w or 45s",
            field="expires")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _record(row: Row[Any]) -> ApiKey:
    return ApiKey(
        id=row.id, name=row.name, scopes=frozenset(row.scopes or ()), models=tuple(row.models or ()),
        created_by=row.created_by, created_at=_utc(row.created_at) or row.created_at,
        expires_at=_utc(row.expires_at), revoked_at=_utc(row.revoked_at), rate_limit=row.rate_limit,
    )


class KeyStore:
    """Create, list, revoke and authenticate API keys over the `api_keys` table."""

    def __init__(self, engine: Engine, *, clock: Clock | None = None, audit: AuditSink | None = None) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()
        self.audit = audit

    def create(self, scopes: Iterable[str], *, models: Sequence[str] = (), expires_in: timedelta | None = None,
               name: str = "", actor: str = "local", address: str = "", rate_limit: float | None = None) -> NewKey:
        """Make a key; the returned token is the only time its secret exists outside the caller."""
        chosen, patterns, rate = check_scopes(scopes), check_patterns(models), check_rate_limit(rate_limit)
        if expires_in is not None and expires_in <= timedelta(0):
            raise InvalidInputError("expiry must be in the future", field="expires")
        key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        now = self.clock.now()
        key = ApiKey(key_id, str(name)[:128], chosen, patterns, actor, now,
                     now + expires_in if expires_in is not None else None, rate_limit=rate)
        with self.engine.begin() as conn:
            conn.execute(insert(api_keys).values(
                id=key.id, name=key.name, secret_hash=hash_secret(secret), scopes=sorted(chosen),
                models=list(patterns), created_by=actor, created_at=now, expires_at=key.expires_at, rate_limit=rate))
        self._record(actor, "key.create", key_id, {"scopes": sorted(chosen), "models": list(patterns),
                     "expires_at": key.expires_at.isoformat() if key.expires_at else None, "rate_limit": rate},
                     address)
        return NewKey(key, f"mp_{key_id}_{secret}")

    def get(self, key_id: str) -> ApiKey:
        """The key with id `key_id`."""
        with self.engine.connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.id == check_key_id(key_id))).first()
        if row is None:
            raise NotFoundError(f"there is no API key {key_id!r} (see: modelport keys list)")
        return _record(row)

    def list(self, *, include_revoked: bool = True) -> list[ApiKey]:
        """Every key, oldest first, without secrets."""
        query = select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id)
        if not include_revoked:
            query = query.where(api_keys.c.revoked_at.is_(None))
        with self.engine.connect() as conn:
            return [_record(row) for row in conn.execute(query)]

    def revoke(self, key_id: str, *, actor: str = "local", address: str = "") -> ApiKey:
        """Revoke a key at once; revoking twice keeps the first time."""
        key = self.get(key_id)
        if key.revoked_at is None:
            with self.engine.begin() as conn:
                conn.execute(update(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                             .values(revoked_at=self.clock.now()))
            self._record(actor, "key.revoke", key_id, {}, address)
        return self.get(key_id)

    def revocations(self) -> tuple[int, datetime | None]:
        """How many keys are revoked and the latest revocation: changes whenever any key is revoked."""
        column = api_keys.c.revoked_at
        with self.engine.connect() as conn:
            count, latest = conn.execute(select(func.count(column), func.max(column))).one()
        return int(count), latest

    def count_active(self) -> int:
        """How many keys could authenticate now."""
        now = self.clock.now()
        return sum(1 for key in self.list(include_revoked=False) if key.active(now))

    def authenticate(self, token: str) -> ApiKey:
        """The active key whose token this is, else AuthenticationError (same message for every failure)."""
        match = _TOKEN.fullmatch(token) if isinstance(token, str) else None
        row = None
        if match is not None:
            with self.engine.connect() as conn:
                row = conn.execute(select(api_keys).where(api_keys.c.id == match.group(1))).first()
        secret = match.group(2) if match else ""
        stored = row.secret_hash if row is not None else _DUMMY_HASH
        valid = hmac.compare_digest(hash_secret(secret), stored) and row is not None
        if not valid or row is None or not _record(row).active(self.clock.now()):
            raise AuthenticationError(
                "the API key is missing, malformed, unknown, revoked or expired; "
                "send a valid key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'")
        return _record(row)

    def _record(self, actor: str, action: str, target: str, details: Mapping[str, Any], address: str) -> None:
        if self.audit is not None:
            self.audit.record_audit(actor, action, f"key:{target}", details, address=address)
