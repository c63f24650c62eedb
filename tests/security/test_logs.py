"""Log lines cannot be forged by input and never carry secrets."""

from __future__ import annotations

import io
import logging

import pytest

from modelport.security.logs import SafeFormatter, escape_control, install, redact, sanitise

KEY = "mp_0123456789abcdef_" + "S" * 43


def test_control_characters_are_escaped() -> None:
    forged = "churn\n2026-01-01 INFO admin logged in\r\x1b[31mred\x00\u2028"
    out = escape_control(forged)
    assert "\n" not in out and "\r" not in out and "\x1b" not in out and "\u2028" not in out
    assert out == "churn\\n2026-01-01 INFO admin logged in\\r\\x1b[31mred\\x00\\x2028"


def test_secrets_are_redacted() -> None:
    text = (f"key {KEY} header Authorization: Bearer abcdefghijkl1234 x-api-key: {KEY} "
            "db postgresql+psycopg://app:hunter2@db.internal/prod password=hunter2 AKIAABCDEFGHIJKLMNOP "
            "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG")
    out = redact(text, extra=["literal-secret"])
    for secret in ("S" * 43, "abcdefghijkl1234", "hunter2", "AKIAABCDEFGHIJKLMNOP", "wJalrXUtnFEMI"):
        assert secret not in out
    assert "mp_0123456789abcdef_[REDACTED]" in out  # the public id stays for tracing
    assert "postgresql+psycopg://app:[REDACTED]@db.internal/prod" in out
    assert redact("literal-secret here", extra=["literal-secret"]) == "[REDACTED] here"


@pytest.mark.parametrize("text", [
    f"k={KEY}", "AUTHORIZATION: BEARER abcdefghijkl1234", "X-Api-Key: abc123", "s3://user:pw@bucket/x",
    "PassWord=hunter2", "PASSWD: 'x1'", "Secret=abc", "TOKEN=abc", "Access_Key=abc", "API_KEY=abc",
    "id AKIAABCDEFGHIJKLMNOP", "id ASIAABCDEFGHIJKLMNOP",
    "pa\u017fsword=hunter2", "\u212aey " + KEY,  # outside ASCII: the patterns run whatever the words
])
def test_the_quick_check_lets_every_pattern_run_where_it_could_match(text: str) -> None:
    """A line is skipped only if no pattern could match it: the answer equals running every pattern."""
    from modelport.security import logs

    expected = text
    for pattern in logs._SECRETS:
        expected = pattern.sub(lambda m: m.group(1) + logs.REDACTED, expected)
    assert expected != text  # each example holds a secret the patterns find
    assert redact(text) == expected


def test_a_line_without_secrets_is_returned_as_it_is() -> None:
    line = '{"time":"2026-11-22T08:50:27","level":"INFO","logger":"modelport.access","path":"/v2/models/x/infer"}'
    assert redact(line) == line


def test_formatter_keeps_one_line_per_record_and_redacts_tracebacks() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("modelport.test.logs")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.propagate = False
    try:
        install(logger, secrets=["db-pass"])
        assert isinstance(handler.formatter, SafeFormatter)
        logger.warning("model %s failed\nINFO forged", "x\r\ny")
        try:
            raise RuntimeError(f"boom {KEY} db-pass")
        except RuntimeError:
            logger.exception("predict failed")
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "WARNING model x\\r\\ny failed\\nINFO forged"
    assert lines[1] == "ERROR predict failed" and "Traceback" in lines[2]
    assert "S" * 43 not in stream.getvalue() and "db-pass" not in stream.getvalue()


def test_sanitise_accepts_any_object() -> None:
    assert sanitise({"a": "b\nc"}) == "{'a': 'b\\nc'}"
