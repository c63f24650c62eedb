"""`modelport keys` and `modelport audit`: the secret printed once, listed without it, revoked, audited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelport.foundation.settings import Settings
from modelport.security.keys import KeyStore
from modelport.storage.database import make_engine
from tests.cli.runner import run


def test_create_list_revoke_audit(home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # tables at full width
    code, out, err = run(capsys, "keys", "create", "--scope", "admin")
    assert code == 0 and "not shown again" in err
    token = out.strip()
    assert token.startswith("mp_") and len(token) == 3 + 16 + 1 + 43
    engine = make_engine(Settings.at(home).db_url)
    assert KeyStore(engine).authenticate(token).scopes == frozenset({"admin"})
    code, out, _ = run(capsys, "keys", "create", "-s", "predict", "-s", "feedback", "--model", "churn*",
                       "--expires", "30d", "--name", "ci", "--rate-limit", "500", "--json")
    made = json.loads(out)
    assert made["scopes"] == ["feedback", "predict"] and made["models"] == ["churn*"] and made["expires_at"]
    assert made["rate_limit"] == 500.0
    code, out, _ = run(capsys, "keys", "list", "--json")
    listed = json.loads(out)
    assert len(listed) == 2 and token[20:] not in out and "token" not in listed[0]  # the secret: after "mp_", the id and "_"
    code, out, _ = run(capsys, "keys", "list")
    assert code == 0 and made["id"] in out and token[20:] not in out
    code, out, _ = run(capsys, "keys", "revoke", made["id"])
    assert code == 0 and f"revoked key {made['id']}" in out
    code, out, _ = run(capsys, "keys", "list", "--active", "--json")
    assert [k["id"] for k in json.loads(out)] == [token[3:19]]
    code, out, _ = run(capsys, "audit", "--json")
    actions = [e["action"] for e in json.loads(out)]
    assert actions == ["key.revoke", "key.create", "key.create"]
    assert json.loads(out)[0]["actor"].startswith("cli")
    code, out, _ = run(capsys, "audit")
    assert code == 0 and "key.revoke" in out and token[20:] not in out
    engine.dispose()


@pytest.mark.parametrize(("args", "message"), [
    (["keys", "create", "--scope", "root"], "invalid scopes"),
    (["keys", "create", "--scope", "read", "--expires", "forever"], "invalid duration"),
    (["keys", "create", "--scope", "read", "--model", "../x"], "invalid model pattern"),
    (["keys", "create", "--scope", "read", "--rate-limit", "0"], "invalid rate limit"),
    (["keys", "create", "--scope", "read", "--rate-limit", "fast"], "Invalid value for '--rate-limit'"),
    (["keys", "revoke", "nothex"], "invalid key id"),
    (["keys", "revoke", "0" * 16], "there is no API key"),
])
def test_bad_input_is_one_line(home: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    code, out, err = run(capsys, *args)
    assert code != 0 and message in err and "Traceback" not in err and out == ""
