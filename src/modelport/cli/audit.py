"""`modelport audit`: read the append-only audit log of management actions."""

from __future__ import annotations

import typer

from modelport.cli.context import open_registry
from modelport.cli.output import print_json, print_table


def audit(
    limit: int = typer.Option(50, "--limit", "-n", min=1, max=100_000, help="How many entries, newest first."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts instead of a table."),
) -> None:
    """Show who did what to which target, when, from where, and the outcome.

    Example: modelport audit --limit 20
    """
    from modelport.security.logs import escape_control

    registry = open_registry()
    try:
        entries = registry.store.audit_entries(limit)
    finally:
        registry.close()
    if as_json:
        print_json([e.to_dict() for e in entries])
        return
    # Targets and actors can carry user input; escaped so they cannot forge table rows.
    print_table("audit log", ["at", "actor", "action", "target", "outcome", "address"], [
        (e.at.isoformat(timespec="seconds"), escape_control(e.actor), e.action, escape_control(e.target), e.outcome,
         e.address) for e in entries])
