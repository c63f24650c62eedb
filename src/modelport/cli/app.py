"""The root `modelport` command: command groups are registered here, errors become one line."""

from __future__ import annotations

import sys

import click
import typer
from rich.markup import escape

from modelport.cli import audit, batch, deploy, keys, models, monitor, predict, quickstart, rollout, serve
from modelport.cli.errors import exit_code
from modelport.cli.output import error_console
from modelport.foundation.errors import ModelportError

app = typer.Typer(
    name="modelport",
    help="Register, serve, roll out, batch-score and monitor machine-learning models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show the full traceback when a command fails."),
) -> None:
    """modelport: from a trained model to a healthy production endpoint."""


app.add_typer(models.app, name="models")
app.command("predict")(predict.predict)
app.command("batch")(batch.batch)
app.command("quickstart")(quickstart.quickstart)
app.add_typer(keys.app, name="keys")
app.command("audit")(audit.audit)
app.command("serve")(serve.serve)
app.command("deploy")(deploy.deploy)
app.add_typer(rollout.app, name="rollout")
app.add_typer(monitor.app, name="monitor")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `modelport` script."""
    args = sys.argv[1:] if argv is None else argv
    command = typer.main.get_command(app)
    try:
        code = command.main(args=args, prog_name="modelport", standalone_mode=False)
    except ModelportError as exc:
        if "--debug" in args:
            raise
        error_console().print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
        raise SystemExit(exit_code(exc)) from None
    except Exception as exc:
        raise SystemExit(_framework_exit(exc)) from None
    if isinstance(code, int) and code:
        raise SystemExit(code)


def _framework_exit(exc: Exception) -> int:
    """Usage errors, aborts and exits from Click (or the Click that Typer vendors) as exit codes."""
    if _is(exc, "Exit"):
        return int(getattr(exc, "exit_code", 0))
    if _is(exc, "Abort"):
        error_console().print("aborted")
        return 130
    if _is(exc, "ClickException"):
        exc.show()  # type: ignore[attr-defined]
        return int(getattr(exc, "exit_code", 2))
    raise exc


def _is(exc: Exception, name: str) -> bool:
    # Typer >= 0.20 raises its vendored copy of Click's exceptions; older ones raise Click's own.
    return any(cls.__name__ == name and cls.__module__.endswith("exceptions") for cls in type(exc).__mro__) or (
        name == "Exit" and isinstance(exc, (click.exceptions.Exit, typer.Exit))
    )
