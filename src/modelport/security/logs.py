"""Log hygiene: escape control characters so input cannot forge entries, and redact secrets."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
REDACTED = "[REDACTED]"
# Each pattern keeps its first group (the label) and replaces the rest.
_SECRETS = (
    re.compile(r"(mp_[0-9a-f]{16}_)[A-Za-z0-9_-]{20,}"),  # modelport API keys: keep the public id
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)(x-api-key['\"]?\s*[:=]\s*['\"]?)[^\s'\",;]+"),
    re.compile(r"([a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+(?=@)"),  # passwords in URLs
    re.compile(r"(?i)((?:password|passwd|secret|token|aws_secret_access_key|access_key|api_key)"
               r"['\"]?\s*[:=]\s*['\"]?)[^\s'\",;&]+"),
    re.compile(r"()\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),  # AWS access key ids
)


def escape_control(text: str) -> str:
    """Replace control characters (newlines included) with visible escapes."""
    return _CONTROL.sub(lambda m: _NAMED.get(m.group(0), f"\\x{ord(m.group(0)):02x}"), text)


# Every pattern above needs one of these words (in any case): an ASCII line without any of them cannot
# match, and is left as it is without running the six patterns. They took 36 µs an access-log line, on the
# listener thread, holding the GIL the event loop needs; the check takes about 2 µs.
_TRIGGERS = ("mp_", "bearer", "api-key", "://", "password", "passwd", "secret", "token", "access_key", "api_key",
             "akia", "asia")


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """Hide API keys, bearer tokens, URL passwords, credential assignments and the given literal secrets."""
    for secret in extra:
        if secret:
            text = text.replace(secret, REDACTED)
    if text.isascii() and not any(word in text.lower() for word in _TRIGGERS):
        return text  # (outside ASCII, case-insensitive matching has more spellings than `lower` sees)
    for pattern in _SECRETS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


def sanitise(text: object, extra: Iterable[str] = ()) -> str:
    """Redacted and escaped: safe to write as one log line."""
    return escape_control(redact(str(text), extra))


class SafeFormatter(logging.Formatter):
    """A formatter whose message part is always one redacted line; tracebacks stay multi-line but redacted."""

    def __init__(self, fmt: str | None = None, datefmt: str | None = None, *, secrets: Iterable[str] = ()) -> None:
        super().__init__(fmt, datefmt)
        self._secrets = tuple(s for s in secrets if s)

    def formatMessage(self, record: logging.LogRecord) -> str:
        return sanitise(super().formatMessage(record), self._secrets)

    def formatException(self, ei: object) -> str:
        return redact(super().formatException(ei), self._secrets)  # type: ignore[arg-type]

    def formatStack(self, stack_info: str) -> str:
        return redact(super().formatStack(stack_info), self._secrets)


def install(logger: logging.Logger | None = None, *, secrets: Iterable[str] = ()) -> None:
    """Give every handler of `logger` (default: the root logger) a SafeFormatter that keeps its format."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        current = handler.formatter
        fmt = current._fmt if current is not None else None
        datefmt = current.datefmt if current is not None else None
        handler.setFormatter(SafeFormatter(fmt, datefmt, secrets=secrets))
