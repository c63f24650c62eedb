"""Format detection: live objects and files go to the right adapter; unknown ones get the list of flavors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from modelport.formats import catalog
from modelport.foundation.errors import UnsupportedFormatError

from .conftest import script, to_onnx
from .custom_models import NearestCentroid


@pytest.fixture(scope="module")
def live_models(request: pytest.FixtureRequest) -> dict[str, Any]:
    """One live object per flavor that has a live form."""
    fixture = request.getfixturevalue
    x, y = fixture("iris")
    return {
        "sklearn": fixture("iris_pipeline"),
        "xgboost": fixture("xgb_classifier"),
        "lightgbm": fixture("lgbm_classifier"),
        "onnx": to_onnx(fixture("iris_logistic"), 4),
        "torch": fixture("iris_net"),
        "python": NearestCentroid().fit(x, y),
    }


@pytest.mark.parametrize("flavor", ["sklearn", "xgboost", "lightgbm", "onnx", "torch", "python"])
def test_live_objects_go_to_their_own_format(live_models: dict[str, Any], flavor: str) -> None:
    # XGBoost and LightGBM wrappers have predict() too: they must not fall through to pickle
    assert catalog.for_object(live_models[flavor]).flavor == flavor


def test_an_object_with_state_but_no_save_falls_back_to_pickle() -> None:
    class Fitted:
        def __init__(self) -> None:
            self.weights = [1, 2]

        def predict(self, data: Any) -> Any:
            return data

    assert catalog.for_object(Fitted()).flavor == "pickle"


@pytest.mark.parametrize("flavor", ["sklearn", "xgboost", "lightgbm", "onnx", "torch", "python"])
def test_saved_files_are_detected_by_content_even_without_their_name(live_models: dict[str, Any], flavor: str,
                                                                   tmp_path: Path) -> None:
    saved = catalog.adapter(flavor).save(live_models[flavor], tmp_path)
    anonymous = tmp_path / "artifact"
    anonymous.write_bytes(saved.read_bytes())
    assert catalog.for_file(anonymous).flavor == flavor


def test_pmml_pickle_and_torch_graphs_are_detected(pmml_gb_iris: tuple[Any, Path], iris_pipeline: Any,
                                                   iris_net: Any, tmp_path: Path) -> None:
    import joblib
    import torch

    assert catalog.for_file(pmml_gb_iris[1]).flavor == "pmml"
    joblib.dump(iris_pipeline, tmp_path / "model.bin")
    assert catalog.for_file(tmp_path / "model.bin").flavor == "pickle"
    scripted = catalog.adapter("torch").save(script(iris_net), tmp_path)
    assert catalog.for_file(scripted).flavor == "torch"
    exported = torch.export.export(iris_net, (torch.zeros(2, 4),))
    (tmp_path / "e").mkdir()
    assert catalog.for_file(catalog.adapter("torch").save(exported, tmp_path / "e")).flavor == "torch"


def test_an_unknown_file_lists_the_supported_flavors(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some text")
    with pytest.raises(UnsupportedFormatError, match="supported flavors: sklearn, xgboost, lightgbm, pmml") as info:
        catalog.for_file(path)
    assert "--flavor" in str(info.value)


def test_unknown_flavor_and_object_errors_list_the_flavors() -> None:
    with pytest.raises(UnsupportedFormatError, match="unknown flavor 'tensorflow'; supported: sklearn"):
        catalog.adapter("tensorflow")
    with pytest.raises(UnsupportedFormatError, match=r"cannot register an object of type builtins\.int"):
        catalog.for_object(3)


def test_every_adapter_obeys_the_protocol() -> None:
    for flavor in catalog.ADAPTERS:
        adapter = catalog.adapter(flavor)
        assert adapter.flavor == flavor
        assert isinstance(adapter.needs_trust, bool)
        assert "numpy" in adapter.requirements()
