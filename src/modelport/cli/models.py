"""`modelport models ...`: register, list, show, alias, archive and delete versions."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import typer

from modelport.cli.context import key_values, numbers, open_registry
from modelport.cli.output import console, print_json, print_table
from modelport.foundation.errors import InvalidInputError
from modelport.foundation.names import parse_ref, parse_version_number

app = typer.Typer(help="Register and manage model versions.", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="Print JSON for scripts instead of tables.")


@app.command("register")
def register(
    path: str = typer.Argument(..., help="Model file, or - to read it from standard input."),
    name: str = typer.Option(..., "--name", "-n", help="Model name (lowercase letters, digits, . _ -)."),
    alias: str | None = typer.Option(None, "--alias", "-a", help="Point this alias at the new version."),
    flavor: str = typer.Option("auto", "--flavor", help="Model format; auto-detected from the file by default."),
    input_example: Path | None = typer.Option(None, "--input-example", help="CSV/JSON/Parquet rows the model takes."),
    metric: list[str] = typer.Option([], "--metric", help="KEY=NUMBER, repeatable."),
    param: list[str] = typer.Option([], "--param", help="KEY=VALUE, repeatable."),
    tag: list[str] = typer.Option([], "--tag", help="KEY=VALUE, repeatable."),
    description: str = typer.Option("", "--description", help="What this version is."),
    training_data: str | None = typer.Option(None, "--training-data", help="Training data file or URI (lineage)."),
    code_revision: str | None = typer.Option(None, "--code-revision", help="Code revision (default: git HEAD)."),
    reference: Path | None = typer.Option(
        None, "--reference", help="CSV/JSON/Parquet sample of the training inputs: the drift reference."
    ),
    signature: Path | None = typer.Option(
        None, "--signature", help="JSON signature to store instead of the inferred one (see models show --json)."
    ),
    trust_pickle: bool = typer.Option(
        False, "--trust-pickle", help="Allow a pickle/joblib (or code-carrying) artifact: loading it runs its code."
    ),
    as_json: bool = JSON,
) -> None:
    """Register a model file as the next version of a model.

    Example: modelport models register model.skops --name churn --alias champion --input-example rows.csv
    """
    from modelport.client import register_into
    from modelport.storage.tables import read_table

    example = read_table(input_example, field="input_example") if input_example else None
    reference_data = read_table(reference, field="reference") if reference else None
    with tempfile.TemporaryDirectory(prefix="modelport-stdin-") as temp:
        source = _stdin_to_file(Path(temp)) if path == "-" else path
        registry = open_registry()
        try:
            record = register_into(
                registry,
                source,
                reference_data=reference_data,
                name=name,
                alias=alias,
                flavor=flavor,
                input_example=example,
                metrics=numbers(key_values(metric, option="--metric"), option="--metric"),
                params=key_values(param, option="--param"),
                tags=key_values(tag, option="--tag"),
                description=description,
                training_data=training_data,
                code_revision=code_revision,
                trust=trust_pickle, signature=_read_signature(signature),
            )
        finally:
            registry.close()
    if as_json:
        print_json(record.to_dict())
        return
    console().print(
        f"registered [bold]{record.name}[/] version [bold]{record.version}[/] "
        f"({record.flavor}, sha256:{record.artifact_digest[:12]}…)" + (f", alias {alias}" if alias else "")
    )


def _read_signature(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    import orjson

    try:
        document = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise InvalidInputError(f"--signature: cannot read {path}: {exc}", field="signature") from exc
    if not isinstance(document, dict):
        raise InvalidInputError("--signature: expected a JSON object like models show --json's 'signature'", field="signature")
    return document


def _stdin_to_file(directory: Path) -> str:
    target = directory / "model"
    with target.open("wb") as out:
        shutil.copyfileobj(sys.stdin.buffer, out)
    return str(target)


@app.command("list")
def list_models(
    name: str | None = typer.Argument(None, help="List the versions of this model instead of all models."),
    all_versions: bool = typer.Option(False, "--all", help="Include archived versions."),
    as_json: bool = JSON,
) -> None:
    """List models, or the versions of one model.

    Example: modelport models list churn --all
    """
    registry = open_registry()
    try:
        if name is None:
            records = registry.store.list_models()
            if as_json:
                print_json([m.to_dict() for m in records])
                return
            rows = [
                (
                    m.name,
                    m.latest_version,
                    ", ".join(f"{a}->{v}" for a, v in sorted(m.aliases.items())),
                    m.updated_at.strftime("%Y-%m-%d %H:%M"),
                )
                for m in records
            ]
            print_table("models", ["name", "latest", "aliases", "updated"], rows)
            return
        versions = registry.store.list_versions(name, include_archived=all_versions)
    finally:
        registry.close()
    if as_json:
        print_json([v.to_dict() for v in versions])
        return
    print_table(
        f"versions of {name}",
        ["version", "flavor", "status", "aliases", "metrics", "created"],
        [
            (
                v.version,
                v.flavor,
                v.status,
                ", ".join(v.aliases),
                _metrics(v.metrics),
                v.created_at.strftime("%Y-%m-%d %H:%M"),
            )
            for v in versions
        ],
    )


def _metrics(metrics: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in metrics.items())


@app.command("show")
def show(ref: str = typer.Argument(..., help="NAME, NAME@ALIAS or NAME:VERSION."), as_json: bool = JSON) -> None:
    """Show one version: artifact digest, signature, metrics, lineage.

    Example: modelport models show churn@champion
    """
    registry = open_registry()
    try:
        record = registry.resolve(ref)
    finally:
        registry.close()
    if as_json:
        print_json(record.to_dict())
        return
    out = console()
    out.print(f"[bold]{record.name}[/] version [bold]{record.version}[/] ({record.flavor}, {record.status})")
    out.print(f"  artifact   sha256:{record.artifact_digest}  {record.artifact_size} bytes  {record.artifact_name}")
    out.print(f"  aliases    {', '.join(record.aliases) or '-'}")
    out.print(f"  metrics    {_metrics(record.metrics) or '-'}")
    out.print(f"  lineage    {record.lineage}")
    out.print(f"  registered {record.created_at.isoformat()} by {record.registered_by}")
    if record.signature is not None:
        rows = [(c.name, c.dtype, "yes" if c.nullable else "no") for c in record.signature.columns]
        if record.signature.tensor is not None:
            t = record.signature.tensor
            rows = [(t.name, t.dtype, f"shape {list(t.shape)}")]
        print_table("signature", ["input", "dtype", "nullable"], rows)


@app.command("alias")
def alias(
    name: str = typer.Argument(..., help="Model name."),
    version: str = typer.Argument(..., help="Version number the alias should point at."),
    alias_name: str = typer.Argument(..., metavar="ALIAS", help="Alias name, e.g. champion."),
    as_json: bool = JSON,
) -> None:
    """Point an alias at a version (atomically; the move is kept in the alias history).

    Example: modelport models alias churn 3 champion
    """
    registry = open_registry()
    try:
        registry.set_alias(name, parse_version_number(version), alias_name)
        history = registry.store.alias_history(name, alias_name)
    finally:
        registry.close()
    move = history[-1]
    if as_json:
        print_json({"name": name, **move.to_dict()})
        return
    console().print(f"{name}@{alias_name}: {move.from_version or '-'} -> {move.to_version}")


@app.command("unalias")
def unalias(name: str = typer.Argument(...), alias_name: str = typer.Argument(..., metavar="ALIAS")) -> None:
    """Remove an alias.

    Example: modelport models unalias churn challenger
    """
    registry = open_registry()
    try:
        registry.remove_alias(name, alias_name)
    finally:
        registry.close()
    console().print(f"removed {name}@{alias_name}")


@app.command("history")
def history(
    name: str = typer.Argument(...),
    alias_name: str | None = typer.Argument(None, metavar="[ALIAS]"),
    as_json: bool = JSON,
) -> None:
    """Show the history of alias moves of a model.

    Example: modelport models history churn champion
    """
    registry = open_registry()
    try:
        moves = registry.store.alias_history(name, alias_name)
    finally:
        registry.close()
    if as_json:
        print_json([m.to_dict() for m in moves])
        return
    print_table(
        f"alias history of {name}",
        ["when", "alias", "from", "to", "by"],
        [(m.at.isoformat(), m.alias, m.from_version, m.to_version, m.actor) for m in moves],
    )


@app.command("archive")
def archive(ref: str = typer.Argument(..., help="NAME:VERSION (or NAME@ALIAS)."), as_json: bool = JSON) -> None:
    """Hide a version from default listings without deleting it.

    Example: modelport models archive churn:1
    """
    registry = open_registry()
    try:
        record = registry.archive(ref)
    finally:
        registry.close()
    if as_json:
        print_json(record.to_dict())
        return
    console().print(f"archived {record.ref}")


@app.command("delete")
def delete(
    ref: str = typer.Argument(..., help="NAME:VERSION, or NAME for the whole model."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    as_json: bool = JSON,
) -> None:
    """Delete a version or a model; refused while an alias points at it.

    Example: modelport models delete churn:1 --yes
    """
    parsed = parse_ref(ref)
    if not yes and sys.stdin.isatty():
        typer.confirm(f"delete {parsed}?", abort=True)
    registry = open_registry()
    try:
        registry.delete(ref)
    finally:
        registry.close()
    if as_json:
        print_json({"deleted": str(parsed)})
        return
    console().print(f"deleted {parsed}")
