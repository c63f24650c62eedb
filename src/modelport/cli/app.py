"""The root `modelport` command: command groups are registered here, errors become one line."""

from __future__ import annotations

import sys

import click
import typer
from rich.markup import escape

from modelport.cli import audit, batch, keys, models, monitor, predict, quickstart, serve
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
app.add_typer(monitor.app, name="monitor")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `modelport` script."""
    args = sys.argv[1:] if argv is None else argv
    command = typer.main.get_command(app)
    try:
        command.main(args=args, prog_name="modelport", standalone_mode=False)
    except click.exceptions.Exit as done:
        raise SystemExit(done.exit_code) from None
    except click.ClickException as exc:
        exc.show()
        raise SystemExit(exc.exit_code) from None
    except click.exceptions.Abort:
        error_console().print("aborted")
        raise SystemExit(130) from None
    except ModelportError as exc:
        if "--debug" in args:
            raise
        error_console().print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
        raise SystemExit(exit_code(exc)) from None
