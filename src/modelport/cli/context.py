"""Opening the registry for a command, and parsing the small value formats flags use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelport.foundation.errors import InvalidInputError

if TYPE_CHECKING:
    from modelport.registry.service import Registry


def open_registry() -> Registry:
    """The registry named by the environment (MODELPORT_HOME / MODELPORT_DB_URL / MODELPORT_ARTIFACTS)."""
    from modelport.registry.service import Registry

    return Registry.open()


def key_values(pairs: list[str] | None, *, option: str) -> dict[str, str]:
    """Parse repeated `k=v` options into a dict, naming the option on a malformed pair."""
    parsed: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"{option} {pair!r}: expected KEY=VALUE", field=option.lstrip("-"))
        parsed[key] = value
    return parsed


def numbers(pairs: dict[str, str], *, option: str) -> dict[str, float]:
    """Turn the values of `k=v` pairs into floats, naming the key on a bad one."""
    out: dict[str, float] = {}
    for key, value in pairs.items():
        try:
            out[key] = float(value)
        except ValueError:
            raise InvalidInputError(f"{option} {key}={value!r}: expected a number", field=option.lstrip("-")) from None
    return out
