"""`modelport quickstart`: example models trained, registered and aliased, then the next steps."""

from __future__ import annotations

import typer

from modelport.cli.context import open_registry
from modelport.cli.output import console, print_json

MODEL = "cancer"


def quickstart(as_json: bool = typer.Option(False, "--json", help="Print what was done as JSON.")) -> None:
    """Train two models on scikit-learn's breast cancer data and register them as versions 1 and 2.

    Example: modelport quickstart
    """
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=0)
    candidates = [
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        RandomForestClassifier(n_estimators=100, max_depth=8, random_state=0, n_jobs=1),
    ]
    registry = open_registry()
    try:
        registered = []
        for index, estimator in enumerate(candidates):
            estimator.fit(x_train, y_train)
            record = registry.register(
                estimator,
                name=MODEL,
                input_example=x_test.head(5),
                alias="champion" if index == 0 else None,
                metrics={"accuracy": float(estimator.score(x_test, y_test))},
                params={"estimator": type(estimator).__name__},
                training_data=x_train,
                description="quickstart example on scikit-learn's breast cancer data",
            )
            registered.append(record)
        if registered[0].version != 1:
            registry.set_alias(MODEL, registered[0].version, "champion")
    finally:
        registry.close()
    if as_json:
        print_json({"model": MODEL, "versions": [r.version for r in registered], "champion": registered[0].version})
        return
    _next_steps(registered[0].version, registered[1].version)


def _next_steps(first: int, second: int) -> None:
    out = console()
    out.print(
        f"[bold green]registered[/] {MODEL}:{first} (logistic regression, alias champion) "
        f"and {MODEL}:{second} (random forest)"
    )
    out.print("\nnext steps:")
    out.print(f"  modelport models list {MODEL}")
    out.print(f"  modelport models show {MODEL}@champion")
    out.print(f"  modelport models alias {MODEL} {second} champion")
