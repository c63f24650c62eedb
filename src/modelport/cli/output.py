"""How the CLI talks to people (Rich) and to scripts (`--json`)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table


def console() -> Console:
    """A console on stdout (made per call: no global state, honours redirection in tests)."""
    return Console(file=sys.stdout, soft_wrap=True)


def error_console() -> Console:
    return Console(file=sys.stderr, soft_wrap=True)


def print_json(value: Any) -> None:
    """Write `value` as JSON on stdout, one document, for scripts."""
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY).decode() + "\n")
    sys.stdout.flush()


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A Rich table for people."""
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console().print(table)
