"""`modelport deploy NAME --strategy S --version V ...`: start a rollout of a new version."""

from __future__ import annotations

import typer

from modelport.cli.context import key_values, numbers
from modelport.cli.keys import local_actor
from modelport.cli.output import print_json
from modelport.cli.rollout import run_on_deployments, show_status
from modelport.foundation.errors import InvalidInputError


def deploy(
    name: str = typer.Argument(..., help="The deployment (model) name."),
    strategy: str = typer.Option("single", "--strategy", "-s",
                                 help="single, canary, ab, shadow, blue-green or bandit."),
    version: int | None = typer.Option(None, "--version", "-v", help="The new version."),
    versions: str | None = typer.Option(None, "--versions", help="Bandit arms, e.g. 3,4,5."),
    steps: str | None = typer.Option(None, "--steps", help="Canary traffic steps in percent (default 5,25,50,100)."),
    step_duration: str | None = typer.Option(None, "--step-duration", help="Least time per canary step (default 5m)."),
    min_requests: int | None = typer.Option(None, "--min-requests", help="Least canary requests per step (default 200)."),
    split: float | None = typer.Option(None, "--split", help="A/B: percent of traffic to the new version (default 50)."),
    sticky: str | None = typer.Option(None, "--sticky", help="Sticky key: header:X-User-Id or input:FIELD."),
    fraction: float | None = typer.Option(None, "--fraction", help="Shadow: share of requests copied (default 1.0)."),
    keep_old: str | None = typer.Option(None, "--keep-old", help="Blue-green: keep the old version warm (default 10m)."),
    metric: str | None = typer.Option(None, "--metric", help="A/B and bandit: accuracy (labels) or reward (values)."),
    auto_promote: bool = typer.Option(False, "--auto-promote", help="A/B: promote the winner once decided."),
    floor: float | None = typer.Option(None, "--floor", help="Bandit: least share per version (default 0.05)."),
    guardrail: list[str] = typer.Option([], "--guardrail", help="Canary threshold k=v, e.g. max_p99_ratio=2."),
    smoke_test: bool = typer.Option(True, "--smoke-test/--no-smoke-test",
                                    help="Load the new version and predict its input example first."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Roll out a version with a strategy; servers follow within seconds.

    Examples:
      modelport deploy churn --strategy canary --version 4 --steps 5,25,50,100 --step-duration 5m
      modelport deploy churn --strategy ab --version 4 --split 50 --sticky header:X-User-Id
      modelport deploy churn --strategy bandit --versions 3,4,5
    """
    options = {"steps": _numbers(steps, "--steps"), "step_duration": step_duration, "min_requests": min_requests,
               "split": split, "sticky": sticky, "fraction": fraction, "keep_old": keep_old, "metric": metric,
               "auto_promote": auto_promote or None, "floor": floor,
               "guardrails": numbers(key_values(guardrail, option="--guardrail"), option="--guardrail") or None}
    arms = [int(v) for v in _numbers(versions, "--versions") or []]

    def start(deployments: object) -> dict[str, object]:
        from modelport.rollout.service import Deployments
        from modelport.rollout.spec import spec_options

        assert isinstance(deployments, Deployments)
        return deployments.deploy(name, strategy, version=version, versions=arms, actor=local_actor(),
                                  smoke=smoke_test, **spec_options(options))

    shown = run_on_deployments(start)
    print_json(shown) if as_json else show_status(shown)


def _numbers(text: str | None, option: str) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InvalidInputError(f"{option} {text!r}: expected numbers separated by commas, e.g. 5,25,50,100",
                                field=option.lstrip("-")) from None
