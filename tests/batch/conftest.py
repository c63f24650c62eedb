"""Batch fixtures: one registry per session holding real small models, and input files made from them."""

from __future__ import annotations

from typing import Any

import pytest

from modelport.foundation.settings import Settings
from modelport.registry.service import Registry

from .batch_helpers import Models


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory, iris: Any, iris_pipeline: Any) -> Models:
    """`iris` (scaler + logistic regression, alias `champion`) and `diabetes` (a linear regression)."""
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import LinearRegression

    settings = Settings.at(tmp_path_factory.mktemp("batch-home"))
    x, _ = iris
    dx, dy = load_diabetes(return_X_y=True, as_frame=True)
    regressor = LinearRegression().fit(dx, dy)
    registry = Registry.open(settings)
    try:
        registry.register(iris_pipeline, name="iris", input_example=x.head(5), alias="champion")
        registry.register(regressor, name="diabetes", input_example=dx.head(5))
    finally:
        registry.close()
    return Models(settings, x, iris_pipeline, regressor)
