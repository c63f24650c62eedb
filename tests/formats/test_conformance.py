"""The one conformance suite every format adapter passes.

Each case is a real model trained here, registered through `Registry.register`, then
loaded in ONE fresh Python process (`modelport.load(ref).predict(...)`) whose answers
must equal the original model's in-process answers: exactly for trees and linear
models, within 1e-5 for float32 runtimes (ONNX, PyTorch).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from modelport.formats import catalog
from modelport.foundation.settings import Settings
from modelport.registry.service import Registry

from .conftest import script, to_onnx
from .custom_models import NearestCentroid


@dataclass
class Case:
    """A model to register, its input, and what the fresh process must answer."""

    flavor: str
    model: Any  # a live object or a file path
    data: pd.DataFrame
    predict: np.ndarray
    proba: np.ndarray | None = None
    classes: list[Any] | None = None
    tolerance: float = 0.0  # 0: exact
    options: dict[str, Any] = field(default_factory=dict)


def _sklearn_case(model: Any, x: pd.DataFrame, expect: str, **options: Any) -> Case:
    return Case(expect, model, x, model.predict(x), model.predict_proba(x), list(model.classes_), 0.0,
                {"input_example": x.head(5), **options})


def _torch_case(flavor: str, model: Any, module: Any, x: pd.DataFrame, **options: Any) -> Case:
    import torch

    with torch.inference_mode():
        want = module(torch.tensor(x.to_numpy(), dtype=torch.float32)).numpy()
    return Case(flavor, model, x, want, tolerance=1e-5, options={"input_example": x.head(5), **options})


def _build_cases(request: pytest.FixtureRequest, tmp: Path) -> dict[str, Case]:
    fixture: Callable[[str], Any] = request.getfixturevalue
    x, y = fixture("iris")
    cases = {
        "sklearn": _sklearn_case(fixture("iris_pipeline"), x, "sklearn"),
        "pickle": _sklearn_case(fixture("iris_pipeline"), x, "pickle", trust=True, flavor="pickle"),
        "xgboost": _sklearn_case(fixture("xgb_classifier"), x, "xgboost"),
        "lightgbm": _sklearn_case(fixture("lgbm_classifier"), x, "lightgbm"),
    }
    logistic = fixture("iris_logistic")
    cases["onnx"] = Case("onnx", to_onnx(logistic, 4), x, logistic.predict(x.to_numpy()),
                         logistic.predict_proba(x.to_numpy()), [0, 1, 2], 1e-5, {})  # signature from the graph
    pipeline, pmml_path = fixture("pmml_gb_iris")
    cases["pmml"] = Case("pmml", pmml_path, x, pipeline.predict(x), pipeline.predict_proba(x), [0, 1, 2], 1e-12,
                         {"input_example": x.head(5)})
    centroid = NearestCentroid().fit(x, y)
    cases["python"] = Case("python", centroid, x, centroid.predict(x), None, [0, 1, 2], 0.0,
                           {"input_example": x.head(5), "trust": True})
    cases.update(_torch_cases(fixture, x, tmp))
    return cases


def _torch_cases(fixture: Callable[[str], Any], x: pd.DataFrame, tmp: Path) -> dict[str, Case]:
    import torch

    net = fixture("iris_net")
    example = torch.zeros(2, 4)
    batch = torch.export.Dim("batch")
    exported = torch.export.export(net, (example,), dynamic_shapes={"x": {0: batch}})
    return {
        "torch-script": _torch_case("torch", script(net), net, x),
        "torch-export": _torch_case("torch", exported, net, x),
        "torch-state-dict": _torch_case("torch", net, net, x, trust=True),
    }


LOADER = textwrap.dedent("""
    import json, sys
    import numpy as np, pandas as pd
    import modelport

    def plain(array):
        return None if array is None else np.asarray(array).tolist()

    out = {}
    for ref, data_file in json.loads(sys.argv[1]).items():
        try:
            model = modelport.load(ref)
            data = pd.read_parquet(data_file)
            out[ref] = {"predict": plain(model.predict(data)), "proba": plain(model.predict_proba(data)),
                        "classes": model.classes, "flavor": model.record.flavor,
                        "signature": model.signature.to_dict() if model.signature else None}
        except Exception as exc:  # reported per model, so one broken flavor does not hide the others
            out[ref] = {"error": f"{type(exc).__name__}: {exc}"}
    with open(sys.argv[2], "w") as handle:
        json.dump(out, handle)
""")


@pytest.fixture(scope="module")
def fresh_results(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Register every case, then load and predict them all in one fresh process."""
    home = tmp_path_factory.mktemp("conformance-home")
    cases = _build_cases(request, home)
    registry = Registry.open(Settings.at(home))
    refs: dict[str, str] = {}
    try:
        for name, case in cases.items():
            record = registry.register(case.model, name=name, **case.options)
            assert record.flavor == case.flavor
            data_file = home / f"{name}.parquet"
            case.data.to_parquet(data_file)
            refs[record.ref] = str(data_file)
    finally:
        registry.close()
    out = home / "results.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELPORT_")}
    done = subprocess.run([sys.executable, "-c", LOADER, json.dumps(refs), str(out)], env={
        **env, "MODELPORT_HOME": str(home)}, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr
    results = json.loads(out.read_text())
    return {"cases": cases, "results": {ref.split(":")[0].split("@")[0]: v for ref, v in results.items()}}


CASES = ["sklearn", "pickle", "xgboost", "lightgbm", "onnx", "pmml", "python",
         "torch-script", "torch-export", "torch-state-dict"]


def _same(got: Any, want: np.ndarray, tolerance: float) -> None:
    got_array = np.asarray(got)
    assert got_array.shape == want.shape
    if tolerance == 0.0 or want.dtype.kind not in "fc":
        assert got_array.tolist() == want.tolist()
    else:
        np.testing.assert_allclose(got_array, want, rtol=0, atol=tolerance)


@pytest.mark.slow
@pytest.mark.parametrize("name", CASES)
def test_fresh_process_predictions_equal_the_original(fresh_results: dict[str, Any], name: str) -> None:
    case: Case = fresh_results["cases"][name]
    result = fresh_results["results"][name]
    assert "error" not in result, result.get("error")
    assert result["flavor"] == case.flavor
    _same(result["predict"], np.asarray(case.predict), case.tolerance)
    if case.proba is not None:
        np.testing.assert_allclose(np.asarray(result["proba"]), case.proba, rtol=0, atol=max(case.tolerance, 1e-12))
    if case.classes is not None:
        assert result["classes"] == case.classes


@pytest.mark.slow
@pytest.mark.parametrize("name", CASES)
def test_every_version_has_a_signature(fresh_results: dict[str, Any], name: str) -> None:
    # inferred from the input example, or read from the model itself (ONNX without an example)
    signature = fresh_results["results"][name]["signature"]
    assert signature is not None
    assert signature["inputs"]["type"] in ("columns", "tensor")


def test_every_flavor_in_the_catalog_is_covered() -> None:
    covered = {name.split("-")[0] for name in CASES}
    assert covered == set(catalog.ADAPTERS)
