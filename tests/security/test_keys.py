"""API keys: secrets shown once, stored hashed, scopes, model patterns, expiry, revocation."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from modelport.foundation.clock import ManualClock
from modelport.foundation.errors import AuthenticationError, InvalidInputError, NotFoundError
from modelport.registry.store import RegistryStore
from modelport.security.keys import KeyStore, check_key_id, parse_duration
from modelport.storage.database import make_engine, upgrade
from modelport.storage.schema import api_keys


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def store(db_url: str, clock: ManualClock) -> Iterator[KeyStore]:
    engine = make_engine(db_url)
    upgrade(engine)
    yield KeyStore(engine, clock=clock, audit=RegistryStore(engine, clock))
    engine.dispose()


def test_secret_is_shown_once_and_only_its_hash_is_stored(store: KeyStore) -> None:
    made = store.create(["predict"], name="ci")
    secret = made.token.split("_", 2)[2]
    with store.engine.connect() as conn:
        row = conn.execute(select(api_keys)).one()
    assert secret not in str(tuple(row)) and made.token not in str(tuple(row))
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert len(secret) == 43  # 256 random bits, base64url
    assert "token" not in made.key.to_dict() and secret not in str(made.key.to_dict())


def test_authenticate_returns_the_key_and_refuses_near_misses(store: KeyStore) -> None:
    made = store.create(["predict", "feedback"], models=["churn*"])
    assert store.authenticate(made.token).id == made.key.id
    flipped = made.token[:-1] + ("A" if made.token[-1] != "A" else "B")
    other_id = "mp_" + "0" * 16 + made.token[19:]
    for bad in (flipped, other_id, made.token + "x", "", "Bearer " + made.token, made.token.upper()):
        with pytest.raises(AuthenticationError, match="missing, malformed, unknown, revoked or expired"):
            store.authenticate(bad)


def test_scopes_imply_and_patterns_limit(store: KeyStore) -> None:
    admin = store.create(["admin"]).key
    manager = store.create(["manage"]).key
    scorer = store.create(["predict"], models=["churn", "fraud-*"]).key
    assert all(admin.allows(s) for s in ("predict", "feedback", "read", "manage", "admin"))
    assert manager.allows("read") and not manager.allows("admin") and not manager.allows("predict")
    assert scorer.allows("predict") and not scorer.allows("read")
    assert scorer.may_see("churn") and scorer.may_see("fraud-eu") and not scorer.may_see("churn2")
    assert admin.may_see("anything")


def test_expired_and_revoked_keys_fail(store: KeyStore, clock: ManualClock) -> None:
    short = store.create(["read"], expires_in=parse_duration("1h"))
    store.authenticate(short.token)
    clock.advance(3601)
    with pytest.raises(AuthenticationError, match="expired"):
        store.authenticate(short.token)
    other = store.create(["read"])
    revoked = store.revoke(other.key.id, actor="admin-key")
    assert revoked.revoked_at == clock.now()
    clock.advance(5)
    assert store.revoke(other.key.id).revoked_at == revoked.revoked_at  # the first time is kept
    with pytest.raises(AuthenticationError, match="revoked"):
        store.authenticate(other.token)
    assert [k.id for k in store.list(include_revoked=False)] == [short.key.id]  # expired, not revoked
    assert {k.id for k in store.list()} == {short.key.id, other.key.id}
    assert store.count_active() == 0


def test_create_and_revoke_are_audited_without_secrets(store: KeyStore) -> None:
    made = store.create(["admin"], actor="local", address="10.1.2.3")
    store.revoke(made.key.id, actor="local")
    audit = store.audit
    assert isinstance(audit, RegistryStore)
    entries = audit.audit_entries()
    assert [e.action for e in entries] == ["key.revoke", "key.create"]
    assert entries[1].target == f"key:{made.key.id}" and entries[1].address == "10.1.2.3"
    assert made.token.split("_", 2)[2] not in str([e.to_dict() for e in entries])


@pytest.mark.parametrize("scopes", [[], ["root"], ["predict", "superuser"]])
def test_unknown_or_empty_scopes_are_refused(store: KeyStore, scopes: list[str]) -> None:
    with pytest.raises(InvalidInputError, match="choose one or more of predict, feedback, read, manage, admin"):
        store.create(scopes)


@pytest.mark.parametrize("pattern", ["", "../x", "Churn", "a/b", "x" * 129, "churn;drop"])
def test_bad_model_patterns_are_refused(store: KeyStore, pattern: str) -> None:
    with pytest.raises(InvalidInputError, match="invalid model pattern"):
        store.create(["predict"], models=[pattern])


@pytest.mark.parametrize("text", ["", "30", "d", "0d", "-1d", "1y", "1.5h", "9999999d"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(InvalidInputError, match="invalid duration"):
        parse_duration(text)


def test_durations_parse() -> None:
    assert parse_duration("30d") == timedelta(days=30)
    assert parse_duration("2w") == timedelta(weeks=2)
    assert parse_duration(" 90m ") == timedelta(minutes=90)


def test_unknown_and_malformed_key_ids(store: KeyStore) -> None:
    with pytest.raises(NotFoundError, match="there is no API key"):
        store.get("0" * 16)
    for bad in ("", "../../etc", "0" * 17, "G" * 16):
        with pytest.raises(InvalidInputError, match="invalid key id"):
            check_key_id(bad)


def test_past_expiry_is_refused(store: KeyStore) -> None:
    with pytest.raises(InvalidInputError, match="expiry must be in the future"):
        store.create(["read"], expires_in=timedelta(seconds=-1))


def test_keys_survive_reopening(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    engine = make_engine(url)
    upgrade(engine)
    made = KeyStore(engine).create(["read"])
    engine.dispose()
    again = make_engine(url)
    assert KeyStore(again).authenticate(made.token).scopes == frozenset({"read"})
    again.dispose()


def test_a_key_keeps_its_own_rate_limit(store: KeyStore) -> None:
    made = store.create(["predict"], rate_limit=250)
    assert made.key.rate_limit == 250.0 and store.get(made.key.id).rate_limit == 250.0
    assert store.authenticate(made.token).to_dict()["rate_limit"] == 250.0
    assert store.create(["predict"]).key.rate_limit is None


@pytest.mark.parametrize("rate", [0, -1, float("inf"), float("nan"), True, "10"])
def test_bad_rate_limits_are_refused(store: KeyStore, rate: object) -> None:
    with pytest.raises(InvalidInputError, match="invalid rate limit"):
        store.create(["predict"], rate_limit=rate)  # type: ignore[arg-type]
