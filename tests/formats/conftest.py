"""Trained models shared by the format tests (session-scoped: each is trained once)."""

from __future__ import annotations

import gc
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="session")
def diabetes() -> tuple[pd.DataFrame, pd.Series]:
    """Diabetes in its original units (few significant digits, so exported tree thresholds stay exact)."""
    from sklearn.datasets import load_diabetes

    x, y = load_diabetes(return_X_y=True, as_frame=True, scaled=False)
    return x, y


@pytest.fixture(scope="session")
def xgb_classifier(iris: Any) -> Any:
    import xgboost as xgb

    x, y = iris
    return xgb.XGBClassifier(n_estimators=8, max_depth=3, random_state=0).fit(x, y)


@pytest.fixture(scope="session")
def lgbm_classifier(iris: Any) -> Any:
    """LightGBM on iris with string labels, to prove labels survive the native format."""
    import lightgbm as lgb

    x, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    return lgb.LGBMClassifier(n_estimators=8, num_leaves=7, verbose=-1, random_state=0).fit(x, names)


@pytest.fixture(scope="session")
def iris_logistic(iris: Any) -> Any:
    """Logistic regression on the bare iris array (what skl2onnx converts)."""
    from sklearn.linear_model import LogisticRegression

    x, y = iris
    return LogisticRegression(max_iter=500).fit(x.to_numpy(), y)


def to_onnx(model: Any, features: int, *, zipmap: bool = False) -> Any:
    """Convert a scikit-learn model fitted on a bare array to ONNX (float32 input named X)."""
    from skl2onnx import to_onnx as convert

    options = {id(model): {"zipmap": zipmap}} if hasattr(model, "classes_") else None
    return convert(model, np.zeros((1, features), dtype=np.float32), options=options, target_opset=17)


def export_pmml(pipeline: Any, x: pd.DataFrame, path: Path) -> Path:
    """A scikit-learn Pipeline exported with nyoka."""
    from nyoka import skl_to_pmml

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # nyoka leaves its output file to the collector
        skl_to_pmml(pipeline, list(x.columns), "target", str(path))
        gc.collect()
    return path


def round_thresholds_as_written(model: Any) -> None:
    """Give the trees the thresholds nyoka writes: rounded to float32, shortest form.

    scikit-learn splits at midpoints between float32 values (1.6 and 1.8 -> 1.69999998808)
    and nyoka writes such a threshold as "1.7", so a row at exactly 1.7 would go the other
    way: that information is lost in the exported file, and no scorer can recover it.
    Rounding the model's own thresholds the same way makes the comparison exact.
    """
    estimators = getattr(model, "estimators_", None)
    trees = [model] if estimators is None else np.ravel(estimators)
    for tree in trees:
        if hasattr(tree, "tree_"):
            tree.tree_.threshold[:] = tree.tree_.threshold.astype(np.float32)


@pytest.fixture(scope="session")
def pmml_gb_iris(iris: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """Gradient boosting on iris and its PMML (sum of trees + softmax output layer)."""
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.pipeline import Pipeline

    x, y = iris
    pipeline = Pipeline([("model", GradientBoostingClassifier(n_estimators=10, max_depth=2, random_state=0))])
    pipeline.fit(x, y)
    round_thresholds_as_written(pipeline[-1])
    return pipeline, export_pmml(pipeline, x, tmp_path_factory.mktemp("pmml") / "gb.pmml")


@pytest.fixture(scope="session")
def iris_tensors(iris: Any) -> tuple[Any, Any]:
    import torch

    x, y = iris
    return torch.tensor(x.to_numpy(), dtype=torch.float32), torch.tensor(y.to_numpy())


@pytest.fixture(scope="session")
def iris_net(iris_tensors: tuple[Any, Any]) -> Any:
    from .torch_models import train

    return train(*iris_tensors)


def script(module: Any) -> Any:
    """TorchScript of `module` (torch 2.13 deprecates scripting in favour of torch.export; still supported)."""
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.script(module)
