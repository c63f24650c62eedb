"""Names and refs: the rules for model and alias names, and parsing of `name@alias` / `name:3`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from modelport.foundation.errors import InvalidInputError

NAME_RULE = (
    "lowercase letters, digits, '.', '_' and '-', starting with a letter or digit, at most 128 characters, no '..'"
)
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,127}$")


def validate_name(name: object, *, what: str = "model name") -> str:
    """Return `name` if it follows the naming rule, else raise naming the rule."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or ".." in name:
        raise InvalidInputError(f"invalid {what} {name!r}: use {NAME_RULE}", field=what.replace(" ", "_"))
    return name


@dataclass(frozen=True)
class Ref:
    """A parsed reference: a model name plus at most one of version or alias."""

    name: str
    version: int | None = None
    alias: str | None = None

    def __str__(self) -> str:
        if self.version is not None:
            return f"{self.name}:{self.version}"
        if self.alias is not None:
            return f"{self.name}@{self.alias}"
        return self.name


def parse_ref(text: object) -> Ref:
    """Parse `name`, `name@alias` or `name:3` into a Ref."""
    if not isinstance(text, str) or not text:
        raise InvalidInputError(f"invalid ref {text!r}: use NAME, NAME@ALIAS or NAME:VERSION", field="ref")
    if "@" in text:
        name, _, alias = text.partition("@")
        return Ref(validate_name(name), alias=validate_name(alias, what="alias"))
    if ":" in text:
        name, _, number = text.partition(":")
        return Ref(validate_name(name), version=parse_version_number(number))
    return Ref(validate_name(text))


def parse_version_number(text: object) -> int:
    """Parse a version number (a positive integer) or raise naming the rule."""
    value = str(text)
    if not value.isdigit() or value.startswith("0") or len(value) > 9:
        raise InvalidInputError(
            f"invalid version {text!r}: versions are positive whole numbers (1, 2, 3...)",
            field="version",
        )
    return int(value)
