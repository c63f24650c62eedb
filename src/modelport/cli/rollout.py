"""`modelport rollout status|promote|abort NAME`: watch a rollout, or finish it by hand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from modelport.cli.context import open_registry
from modelport.cli.keys import local_actor
from modelport.cli.output import console, print_json, print_table

app = typer.Typer(help="Watch, promote or abort the rollout of a deployment.", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="Print JSON for scripts instead of tables.")
NAME = typer.Argument(..., help="The deployment (model) name.")


def run_on_deployments(action: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """Run `action(Deployments)` against the registry of the environment, closing it afterwards."""
    from modelport.rollout.service import Deployments

    registry = open_registry()
    try:
        return action(Deployments(registry))
    finally:
        registry.close()


@app.command("status")
def status(name: str = NAME, as_json: bool = JSON) -> None:
    """Strategy, state, step, traffic per version, the reason, and the numbers of the last look.

    Example: modelport rollout status cancer --json
    """
    shown = run_on_deployments(lambda d: d.status(name))
    if as_json:
        print_json(shown)
        return
    show_status(shown)


@app.command("promote")
def promote(name: str = NAME, as_json: bool = JSON) -> None:
    """Finish the rollout now: the new version (or the winner) takes all traffic and becomes champion.

    Example: modelport rollout promote cancer
    """
    shown = run_on_deployments(lambda d: d.promote(name, actor=local_actor()))
    print_json(shown) if as_json else show_status(shown)


@app.command("abort")
def abort(name: str = NAME, as_json: bool = JSON) -> None:
    """Stop the rollout now: all traffic back to the stable version; the alias stays where it was.

    Example: modelport rollout abort cancer
    """
    shown = run_on_deployments(lambda d: d.abort(name, actor=local_actor()))
    print_json(shown) if as_json else show_status(shown)


def show_status(shown: dict[str, Any]) -> None:
    """A rollout status for people: one summary line, the traffic, the checks of the last look."""
    out = console()
    step = "" if shown.get("step") is None else f", step {shown['step']}"
    steps = shown.get("steps")
    if steps and shown.get("step") is not None and shown["step"] < len(steps):
        step += f" ({steps[shown['step']]:g}% of {', '.join(f'{s:g}' for s in steps)})"
    out.print(f"[bold]{shown['deployment']}[/]: {shown['strategy']} [bold]{shown['state']}[/]{step}", highlight=False)
    out.print(f"reason: {shown.get('reason') or '-'}", highlight=False)
    traffic = shown.get("traffic") or {}
    print_table("traffic", ["version", "percent"], [(v, f"{p:g}%") for v, p in traffic.items()])
    analysis = shown.get("analysis") or {}
    checks = (analysis.get("analysis") or {}).get("checks") or []
    if checks:
        print_table("guardrails (last look)", ["check", "status", "numbers"],
                    [(c["check"], c["status"], c.get("reason", "")) for c in checks])
    if analysis.get("waiting"):
        out.print(analysis["waiting"], highlight=False)
    for key in ("ab", "bandit", "shadow"):
        if key in analysis:
            out.print(f"{key}: {analysis[key]}", highlight=False)
