"""Registering with reference data: the drift reference is profiled and stored with the version."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import modelport
from modelport.cli.app import main
from modelport.foundation.errors import InvalidInputError
from modelport.monitoring.references import ReferenceStore


def _reference(home: Path, name: str, version: int):  # type: ignore[no-untyped-def]
    with modelport.Client() as client:
        registry = client.registry
        store = ReferenceStore(registry.store.engine, registry.artifacts, registry.store.clock)
        return store.load(name, version)


def test_register_with_reference_data_stores_its_profile(home: Path, iris, iris_pipeline) -> None:
    x, _ = iris
    record = modelport.register(iris_pipeline, name="iris", input_example=x.head(), reference_data=x)
    info, profile = _reference(home, "iris", record.version)
    assert profile.rows == len(x) and set(profile.inputs) == set(x.columns)
    assert profile.outputs  # the model's outputs on the reference are profiled too
    assert len(info.digest) == 64


def test_reference_with_wrong_columns_is_refused_before_registering(home: Path, iris, iris_pipeline) -> None:
    x, _ = iris
    with pytest.raises(InvalidInputError, match=r"reference_data: input 'petal width \(cm\)': missing column"):
        modelport.register(iris_pipeline, name="iris", input_example=x.head(), reference_data=x.iloc[:, :3])
    with pytest.raises(InvalidInputError, match="reference_data: no rows"):
        modelport.register(iris_pipeline, name="iris", input_example=x.head(), reference_data=x.iloc[:0])
    with pytest.raises(InvalidInputError, match="reference_data: input example: expected a DataFrame"):
        modelport.register(iris_pipeline, name="iris", input_example=x.head(), reference_data=42)
    with modelport.Client() as client:
        assert client.list_models() == []  # nothing registered by the refused calls


def test_cli_register_with_reference(home: Path, tmp_path: Path, capsys, iris, iris_pipeline) -> None:
    import skops.io as sio

    x, _ = iris
    model = tmp_path / "iris.skops"
    sio.dump(iris_pipeline, model)
    x.to_csv(tmp_path / "train.csv", index=False)
    x.head().to_csv(tmp_path / "rows.csv", index=False)
    main(["models", "register", str(model), "--name", "iris", "--input-example", str(tmp_path / "rows.csv"),
          "--reference", str(tmp_path / "train.csv"), "--json"])
    version = json.loads(capsys.readouterr().out)["version"]
    assert _reference(home, "iris", version)[1].rows == len(x)
