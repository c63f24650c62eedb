"""`modelport keys ...`: create (secret shown once), list and revoke API keys, straight against the store."""

from __future__ import annotations

import getpass
import sys

import typer

from modelport.cli.context import open_registry
from modelport.cli.output import console, error_console, print_json, print_table

app = typer.Typer(help="Create, list and revoke API keys for the HTTP server.", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="Print JSON for scripts instead of tables.")


def local_actor() -> str:
    """Who the audit log names for commands run on this machine."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry in some containers
        return "cli"


@app.command("create")
def create(
    scope: list[str] = typer.Option(..., "--scope", "-s", help="predict, feedback, read, manage or admin; repeatable."),
    model: list[str] = typer.Option([], "--model", "-m", help="Limit to model names or patterns (churn, fraud-*)."),
    expires: str | None = typer.Option(None, "--expires", help="Lifetime like 30d, 12h, 2w (default: no expiry)."),
    name: str = typer.Option("", "--name", help="A label to recognise the key by."),
    rate_limit: float | None = typer.Option(
        None, "--rate-limit", help="This key's requests per second (default: the server's MODELPORT_RATE_LIMIT)."),
    as_json: bool = JSON,
) -> None:
    """Create a key and print its secret once; only a hash is stored.

    Example: modelport keys create --scope predict --scope feedback --model churn --expires 30d
    """
    from modelport.security.keys import KeyStore, parse_duration

    lifetime = parse_duration(expires) if expires else None
    registry = open_registry()
    try:
        made = KeyStore(registry.store.engine, audit=registry.store).create(
            scope, models=model, expires_in=lifetime, name=name, actor=local_actor(), rate_limit=rate_limit)
    finally:
        registry.close()
    if as_json:
        print_json({**made.key.to_dict(), "token": made.token})
        return
    sys.stdout.write(made.token + "\n")  # plain, so nothing can wrap or restyle the secret
    sys.stdout.flush()
    error_console().print(f"key {made.key.id} created with scopes {', '.join(sorted(made.key.scopes))}. "
                          "The line above is its secret: store it now, it is not shown again. "
                          "Send it as 'Authorization: Bearer <key>'.", highlight=False)


@app.command("list")
def list_keys(
    revoked: bool = typer.Option(True, "--revoked/--active", help="Include revoked keys (default) or not."),
    as_json: bool = JSON,
) -> None:
    """List keys (never their secrets).

    Example: modelport keys list --json
    """
    from modelport.security.keys import KeyStore

    registry = open_registry()
    try:
        keys = KeyStore(registry.store.engine).list(include_revoked=revoked)
    finally:
        registry.close()
    if as_json:
        print_json([k.to_dict() for k in keys])
        return
    print_table("API keys", ["id", "name", "scopes", "models", "rate/s", "created", "expires", "revoked"], [
        (k.id, k.name, ",".join(sorted(k.scopes)), ",".join(k.models) or "*",
         f"{k.rate_limit:g}" if k.rate_limit is not None else "default", k.created_at.isoformat(timespec="seconds"),
         k.expires_at.isoformat(timespec="seconds") if k.expires_at else "never",
         k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else "") for k in keys])


@app.command("revoke")
def revoke(key_id: str = typer.Argument(..., help="The key's id (see: modelport keys list)."), as_json: bool = JSON) -> None:
    """Revoke a key; servers refuse it within seconds.

    Example: modelport keys revoke 3f2a9c1e0b7d4a65
    """
    from modelport.security.keys import KeyStore

    registry = open_registry()
    try:
        key = KeyStore(registry.store.engine, audit=registry.store).revoke(key_id, actor=local_actor())
    finally:
        registry.close()
    if as_json:
        print_json(key.to_dict())
        return
    console().print(f"revoked key {key.id}", highlight=False)
