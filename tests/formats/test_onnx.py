"""ONNX through onnxruntime: skl2onnx classifiers with and without ZipMap, regressors, several inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from modelport.formats.onnx import OnnxAdapter
from modelport.foundation.errors import InvalidInputError
from modelport.registry.service import Registry

from .conftest import to_onnx


def _load(model_proto: Any, tmp_path: Path) -> Any:
    adapter = OnnxAdapter()
    assert adapter.accepts(model_proto)
    return adapter.load(adapter.save(model_proto, tmp_path))


@pytest.mark.parametrize("zipmap", [True, False])
def test_classifier_probabilities_with_and_without_zipmap(zipmap: bool, iris_logistic: Any, iris: Any,
                                                          tmp_path: Path) -> None:
    x = iris[0].to_numpy()
    loaded = _load(to_onnx(iris_logistic, 4, zipmap=zipmap), tmp_path)
    assert loaded.classes == [0, 1, 2]
    assert loaded.predict(x).tolist() == iris_logistic.predict(x).tolist()
    np.testing.assert_allclose(loaded.predict_proba(x), iris_logistic.predict_proba(x), rtol=0, atol=1e-5)


def test_regressor_is_flattened_like_sklearn(diabetes: Any, tmp_path: Path) -> None:
    from sklearn.linear_model import Ridge

    x, y = diabetes
    model = Ridge().fit(x.to_numpy(), y)
    loaded = _load(to_onnx(model, x.shape[1]), tmp_path)
    got = loaded.predict(x)  # a DataFrame goes to the single 2-D input
    assert got.shape == (len(x),)
    np.testing.assert_allclose(got, model.predict(x.to_numpy()), rtol=1e-5)
    assert loaded.classes is None and loaded.predict_proba(x) is None


def test_native_signature_is_the_graph_input(iris_logistic: Any, tmp_path: Path) -> None:
    signature = _load(to_onnx(iris_logistic, 4), tmp_path).native_signature
    assert signature.tensor is not None
    assert (signature.tensor.name, signature.tensor.dtype, signature.tensor.shape) == ("X", "float32", (-1, 4))


def _per_column_model(iris: Any) -> tuple[Any, Any]:
    """A pipeline whose ONNX graph has one input per column."""
    from skl2onnx import to_onnx as convert
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = iris
    frame = x.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_")).astype(np.float32)
    pipeline = make_pipeline(ColumnTransformer([("scale", StandardScaler(), list(frame.columns))]),
                             LogisticRegression(max_iter=500)).fit(frame, y)
    inputs = [(name, FloatTensorType([None, 1])) for name in frame.columns]
    proto = convert(pipeline, initial_types=inputs, options={"zipmap": False}, target_opset=17)
    return pipeline, (proto, frame)


def test_several_inputs_take_one_column_each(iris: Any, sqlite_registry: Registry, tmp_path: Path) -> None:
    pipeline, (proto, frame) = _per_column_model(iris)
    record = sqlite_registry.register(proto, name="per-column")  # no example: the graph gives the signature
    assert record.signature is not None
    assert record.signature.column_names == list(frame.columns)
    loaded = sqlite_registry.load(record)
    assert loaded.predict(frame.astype(float)).tolist() == pipeline.predict(frame).tolist()
    with pytest.raises(InvalidInputError, match="several inputs"):
        loaded.predictor.predict(frame.to_numpy())


def test_sniff_by_content_without_the_extension(iris_logistic: Any, tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(to_onnx(iris_logistic, 4).SerializeToString())
    assert OnnxAdapter().sniff(path)
    other = tmp_path / "data.bin"
    other.write_bytes(b"\x00\x01\x02binary")
    assert not OnnxAdapter().sniff(other)


def test_a_corrupted_onnx_file_is_refused_clearly(sqlite_registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "broken.onnx"
    path.write_bytes(b"\x08\x07\x12\x04junk-not-a-graph")
    with pytest.raises(InvalidInputError, match="does not load as flavor 'onnx'"):
        sqlite_registry.register(path, name="broken")


def test_registered_without_an_example_validates_with_the_graph_signature(
        iris_logistic: Any, iris: Any, sqlite_registry: Registry) -> None:
    record = sqlite_registry.register(to_onnx(iris_logistic, 4), name="iris-onnx")
    loaded = sqlite_registry.load(record)
    assert loaded.predict(iris[0].head(3)).tolist() == iris_logistic.predict(iris[0].head(3).to_numpy()).tolist()
    with pytest.raises(InvalidInputError, match="axis 1 must have size 4"):
        loaded.predict(pd.DataFrame(np.zeros((2, 3))))
