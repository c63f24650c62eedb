"""`modelport quickstart`: example models registered, served, and a canary of version 2 rolled out."""

from __future__ import annotations

import threading
from typing import Any

import typer

from modelport.cli.context import open_registry
from modelport.cli.output import console, print_json

MODEL = "cancer"
CANARY: dict[str, Any] = {"steps": (10, 50, 100), "step_duration_s": 20.0, "min_requests": 50}


def quickstart(
    serve: bool = typer.Option(True, "--serve/--no-serve", help="Serve the model and roll out the canary live."),
    port: int = typer.Option(8000, "--port", help="Port of the quickstart server (on 127.0.0.1)."),
    traffic: bool = typer.Option(True, "--traffic/--no-traffic", help="Send example requests and labels."),
    as_json: bool = typer.Option(False, "--json", help="Print what was set up as JSON."),
) -> None:
    """Train two models on scikit-learn's breast cancer data, register them, serve them and canary version 2.

    Example: modelport quickstart --port 8000
    """
    registry = open_registry()
    try:
        first, second, test_rows = _register_examples(registry)
        rollout = _start_canary(registry, second)
    finally:
        registry.close()
    if rollout.get("reused"):
        first, second = rollout["stable"], rollout["candidate"]
    summary = {"model": MODEL, "versions": [first, second], "champion": first, "canary": rollout}
    if as_json:
        print_json(summary)
    else:
        _explain(first, second, port, serve, reused=bool(rollout.get("reused")))
    if serve:
        _serve(port, test_rows if traffic else None)


def _register_examples(registry: Any) -> tuple[int, int, Any]:
    """Train and register v1 (logistic regression, champion) and v2 (gradient boosting), with a drift reference.

    A second run reuses what the first registered (the versions are not registered again).
    """
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from modelport.client import register_into

    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=0)
    existing = _existing_versions(registry)
    if existing is not None:
        return existing[0], existing[1], (x, y)
    candidates = [make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
                  GradientBoostingClassifier(n_estimators=100, max_depth=2, random_state=0)]
    versions = []
    for index, estimator in enumerate(candidates):
        estimator.fit(x_train, y_train)
        record = register_into(
            registry, estimator, name=MODEL, input_example=x_test.head(5), reference_data=x_train,
            metrics={"accuracy": float(estimator.score(x_test, y_test))}, training_data=x_train,
            params={"estimator": type(estimator).__name__},
            description="quickstart example on scikit-learn's breast cancer data")
        versions.append(record.version)
        if index == 0:
            registry.set_alias(MODEL, record.version, "champion")
    # Example traffic is drawn from the whole data set: the same population the reference came from.
    return versions[0], versions[1], (x, y)


def _existing_versions(registry: Any) -> tuple[int, int] | None:
    from modelport.foundation.errors import NotFoundError

    try:
        versions = [v.version for v in registry.store.list_versions(MODEL)]
    except NotFoundError:
        return None
    return (versions[0], versions[-1]) if len(versions) >= 2 else None


def _start_canary(registry: Any, version: int) -> dict[str, Any]:
    """Start the canary, or keep the quickstart's earlier rollout (running or finished) on a second run."""
    from modelport.rollout.service import Deployments, start_canary

    current = Deployments(registry).status(MODEL)
    if current["state"] != "none":
        return {"reused": True, "state": current["state"], "traffic": current["traffic"], "step": current["step"],
                "stable": current.get("stable"), "candidate": current.get("candidate")}
    status = start_canary(registry, MODEL, version, **CANARY)
    return {"state": status["state"], "traffic": status["traffic"], "step": status["step"]}


def _explain(first: int, second: int, port: int, serve: bool, *, reused: bool = False) -> None:
    out = console()
    if reused:
        out.print(f"[bold]{MODEL}[/] was set up by an earlier quickstart: reusing it (delete MODELPORT_HOME to start over)")
    out.print(f"[bold green]registered[/] {MODEL}:{first} (logistic regression, alias champion) and "
              f"{MODEL}:{second} (gradient boosting), each with its drift reference")
    out.print(f"[bold green]canary[/] of {MODEL}:{second}: steps 10% -> 50% -> 100%, judged on errors, "
              "latency, prediction drift and labels")
    url = f"http://127.0.0.1:{port}"
    row = "[[17.99,10.38,122.8,1001,0.1184,0.2776,0.3001,0.1471,0.2419,0.07871,1.095,0.9053,8.589,153.4,0.006399," \
          "0.04904,0.05373,0.01587,0.03003,0.006193,25.38,17.33,184.6,2019,0.1622,0.6656,0.7119,0.2654,0.4601,0.1189]]"
    out.print("\nnext, in another terminal:" if serve else "\nnext steps:")
    if not serve:
        out.print(f"  modelport serve {MODEL} --port {port} --no-auth")
    out.print(f"  curl -s {url}/v1/models/{MODEL}:predict -H 'Content-Type: application/json' "
              f"-d '{{\"instances\": {row}}}'", soft_wrap=True, highlight=False, markup=False)
    out.print(f"  modelport rollout status {MODEL}            # watch the canary move (or roll back)")
    out.print(f"  modelport monitor drift {MODEL} --window 1h   # drift against the training data")
    out.print(f"  modelport monitor performance {MODEL} --window 1h")
    out.print(f"  open {url}/ui/                              # the dashboard: versions, canary, drift, alerts")
    out.print(f"  open {url}/docs                             # every route, described")
    if serve:
        out.print("\nserving on 127.0.0.1 without API keys (loopback only); Ctrl-C to stop")


def _serve(port: int, rows: Any) -> None:
    from modelport.http.server import serve
    from modelport.serving.config import ServerConfig

    if rows is not None:
        threading.Thread(target=_send_traffic, args=(port, *rows), name="quickstart-traffic", daemon=True).start()
    serve([MODEL], host="127.0.0.1", port=port, workers=1, config=ServerConfig(), no_auth=True, log_level="WARNING")


def _send_traffic(port: int, x: Any, y: Any, rate: float = 20.0) -> None:
    """Example clients: random rows, one per request at `rate` per second, and the true label as feedback."""
    import random
    import time

    import httpx

    pick = random.Random(0)  # noqa: S311 - example traffic, not security
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
        if not _wait_ready(http):
            return
        while True:
            index = pick.randrange(len(x))
            answer = http.post(f"/v1/models/{MODEL}:predict", json={"instances": x.iloc[[index]].to_numpy().tolist()})
            if answer.status_code == 200:
                label = {"prediction_id": answer.json()["prediction_ids"][0], "label": int(y.iloc[index])}
                http.post("/v1/feedback", json={"feedback": [label]})
            time.sleep(1 / rate)


def _wait_ready(http: Any, attempts: int = 600) -> bool:
    import time

    import httpx

    for _ in range(attempts):
        try:
            if http.get("/v2/health/ready").status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return False
