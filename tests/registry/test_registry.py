"""The registry on SQLite and PostgreSQL: versions, aliases, lifecycle, digests, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modelport.foundation.errors import (
    ConflictError,
    IntegrityError,
    InvalidInputError,
    NotFoundError,
    UnsafeArtifactError,
    UnsupportedFormatError,
    ValidationError,
)
from modelport.registry.service import Registry


def test_versions_are_numbered_and_carry_their_metadata(registry: Registry, iris, iris_pipeline) -> None:
    x, _ = iris
    first = registry.register(iris_pipeline, name="iris", input_example=x.head(), metrics={"acc": 0.97},
                              params={"C": 1.0}, tags={"team": "ml"}, training_data=x, code_revision="abc123")
    second = registry.register(iris_pipeline, name="iris", input_example=x.head())
    assert (first.version, second.version) == (1, 2)
    assert first.flavor == "sklearn" and len(first.artifact_digest) == 64 and first.artifact_size > 0
    assert first.metrics == {"acc": 0.97} and first.params == {"C": 1.0} and first.tags == {"team": "ml"}
    assert first.lineage["code_revision"] == "abc123" and first.lineage["data_digest"].startswith("sha256:")
    assert "scikit-learn" in first.requirements and "python" in first.requirements
    assert first.signature is not None and first.signature.column_names == list(x.columns)
    assert first.signature.classes == (0, 1, 2) and first.status == "ready"
    assert first.input_example["columns"] == list(x.columns)


def test_load_predicts_like_the_original(registry: Registry, iris, iris_pipeline) -> None:
    x, _ = iris
    registry.register(iris_pipeline, name="iris", input_example=x.head())
    model = registry.load("iris:1")
    np.testing.assert_array_equal(model.predict(x), iris_pipeline.predict(x))
    np.testing.assert_array_equal(model.predict_proba(x), iris_pipeline.predict_proba(x))
    assert model.version == 1 and model.classes == [0, 1, 2]


def test_refs_resolve_through_champion_else_latest(registry: Registry, iris, iris_pipeline) -> None:
    x, _ = iris
    for _ in range(3):
        registry.register(iris_pipeline, name="iris", input_example=x.head())
    assert registry.resolve("iris").version == 3
    registry.set_alias("iris", 1, "champion")
    assert registry.resolve("iris").version == 1
    assert registry.resolve("iris@champion").version == 1
    assert registry.resolve("iris:2").version == 2
    with pytest.raises(NotFoundError, match="model 'iris' has no alias 'shadow'"):
        registry.resolve("iris@shadow")
    with pytest.raises(NotFoundError, match="model 'iris' has no version 9"):
        registry.resolve("iris:9")
    with pytest.raises(NotFoundError, match="model 'nope' is not registered"):
        registry.resolve("nope")


def test_alias_moves_are_atomic_and_kept_in_history(registry: Registry, iris, iris_pipeline) -> None:
    x, _ = iris
    registry.register(iris_pipeline, name="iris", input_example=x.head(), alias="champion")
    registry.register(iris_pipeline, name="iris", input_example=x.head())
    registry.set_alias("iris", 2, "champion")
    registry.set_alias("iris", 1, "challenger")
    history = registry.store.alias_history("iris", "champion")
    assert [(m.from_version, m.to_version) for m in history] == [(None, 1), (1, 2)]
    assert registry.store.get_model("iris").aliases == {"champion": 2, "challenger": 1}
    assert registry.resolve("iris:2").aliases == ("champion",)
    registry.remove_alias("iris", "challenger")
    assert "challenger" not in registry.store.get_model("iris").aliases
    with pytest.raises(NotFoundError, match="has no version 7"):
        registry.set_alias("iris", 7, "champion")
    with pytest.raises(InvalidInputError, match="invalid alias 'Bad Alias'"):
        registry.set_alias("iris", 1, "Bad Alias")


def test_delete_refuses_a_version_an_alias_points_at(registry: Registry, iris, iris_pipeline) -> None:
    x, _ = iris
    first = registry.register(iris_pipeline, name="iris", input_example=x.head(), alias="champion")
    registry.register(iris_pipeline, name="iris", input_example=x.head())
    assert registry.artifacts.exists(first.artifact_digest)
    with pytest.raises(ConflictError, match=r"cannot delete iris:1: alias 'champion' points at it"):
        registry.delete("iris:1")
    registry.delete("iris:2")
    with pytest.raises(NotFoundError):
        registry.resolve("iris:2")
    with pytest.raises(ConflictError, match="cannot delete model 'iris': aliases point"):
        registry.delete("iris")
    registry.remove_alias("iris", "champion")
    registry.delete("iris")
    assert registry.store.list_models() == []
    # the artifact went with the last version that used it
    assert not registry.artifacts.exists(first.artifact_digest)


def test_archive_hides_from_default_listing(registry: Registry, iris, iris_pipeline) -> None:
    x, _ = iris
    registry.register(iris_pipeline, name="iris", input_example=x.head())
    registry.register(iris_pipeline, name="iris", input_example=x.head())
    archived = registry.archive("iris:2")
    assert archived.status == "archived"
    assert [v.version for v in registry.store.list_versions("iris")] == [1]
    assert [v.version for v in registry.store.list_versions("iris", include_archived=True)] == [1, 2]
    assert registry.resolve("iris").version == 1  # latest *ready* version
    assert registry.load("iris:2").version == 2  # still loadable when pinned


def test_version_numbers_are_never_reused(registry: Registry, iris, iris_pipeline) -> None:
    x, _ = iris
    registry.register(iris_pipeline, name="iris", input_example=x.head())
    registry.register(iris_pipeline, name="iris", input_example=x.head())
    registry.delete("iris:2")
    assert registry.register(iris_pipeline, name="iris", input_example=x.head()).version == 3


def test_audit_log_records_management_actions(registry: Registry, iris, iris_pipeline) -> None:
    x, _ = iris
    registry.register(iris_pipeline, name="iris", input_example=x.head(), alias="champion")
    registry.register(iris_pipeline, name="iris", input_example=x.head())
    registry.set_alias("iris", 2, "champion")
    registry.archive("iris:1")
    actions = [(e.action, e.target) for e in reversed(registry.store.audit_entries())]
    assert actions == [("register", "iris:1"), ("register", "iris:2"), ("alias", "iris@champion"), ("archive", "iris:1")]


@pytest.mark.parametrize("name", ["Iris", "iris model", "../etc", "a..b", "-lead", "", "x" * 129, "iris/1", "ïris"])
def test_invalid_model_names_are_refused_with_the_rule(registry: Registry, iris_pipeline, name: str) -> None:
    with pytest.raises(InvalidInputError, match=r"invalid model name .*lowercase letters, digits"):
        registry.register(iris_pipeline, name=name)


def test_bad_metrics_tags_params_are_refused(registry: Registry, iris_pipeline) -> None:
    with pytest.raises(InvalidInputError, match="metric 'acc': expected a number"):
        registry.register(iris_pipeline, name="iris", metrics={"acc": "high"})
    with pytest.raises(InvalidInputError, match="params: values must be JSON-serialisable"):
        registry.register(iris_pipeline, name="iris", params={"f": object()})
    with pytest.raises(InvalidInputError, match="tags: expected a mapping"):
        registry.register(iris_pipeline, name="iris", tags=["a"])  # type: ignore[arg-type]
    assert registry.store.list_models() == []  # nothing half-registered


def test_example_the_model_cannot_take_is_refused(registry: Registry, iris, iris_pipeline) -> None:
    x, _ = iris
    with pytest.raises(InvalidInputError, match="input example: expected a DataFrame"):
        registry.register(iris_pipeline, name="iris", input_example=42)
    with pytest.raises(InvalidInputError, match="fails to predict on its input example"):
        registry.register(iris_pipeline, name="iris", input_example=x.head().iloc[:, :2])


def test_unknown_objects_and_files_are_refused(registry: Registry, tmp_path: Path) -> None:
    with pytest.raises(UnsupportedFormatError, match=r"cannot register an object of type builtins\.dict"):
        registry.register({"not": "a model"}, name="thing")
    junk = tmp_path / "model.bin"
    junk.write_bytes(b"\x00\x01 not a model")
    with pytest.raises(UnsupportedFormatError, match=r"cannot tell the format of 'model\.bin'; supported flavors: sklearn"):
        registry.register(junk, name="thing")
    with pytest.raises(UnsupportedFormatError, match="unknown flavor 'keras'"):
        registry.register(junk, name="thing", flavor="keras")
    with pytest.raises(InvalidInputError, match="does not exist"):
        registry.register(tmp_path / "missing.skops", name="thing")


def test_pickle_needs_an_explicit_trust_decision(registry: Registry, tmp_path: Path, iris, iris_pipeline) -> None:
    import joblib

    x, _ = iris
    path = tmp_path / "model.joblib"
    joblib.dump(iris_pipeline, path)
    with pytest.raises(UnsafeArtifactError, match=r"can run arbitrary code .* pass trust=True \(CLI: --trust-pickle\)"):
        registry.register(path, name="iris")
    assert registry.store.list_models() == []
    record = registry.register(path, name="iris", trust=True, input_example=x.head())
    assert record.flavor == "pickle" and record.trusted
    np.testing.assert_array_equal(registry.load("iris").predict(x), iris_pipeline.predict(x))
    entry = registry.store.audit_entries(1)[0]
    assert entry.details["trusted"] is True and entry.details["digest"] == record.artifact_digest


def test_tampered_artifact_is_refused_naming_version_and_digests(registry: Registry, iris, iris_pipeline) -> None:
    x, _ = iris
    record = registry.register(iris_pipeline, name="iris", input_example=x.head())
    stored = Path(registry.artifacts._key(record.artifact_digest))
    data = bytearray(stored.read_bytes())
    data[-10] ^= 0xFF
    stored.write_bytes(bytes(data))
    for cached in registry.artifacts.cache_dir.rglob("model.skops"):
        cached.unlink()
    with pytest.raises(IntegrityError, match=rf"model iris:1: artifact digest mismatch: registered sha256:{record.artifact_digest}, stored bytes hash to sha256:[0-9a-f]{{64}}"):
        registry.load("iris:1")


def test_tampered_cache_is_detected_and_refetched(registry: Registry, iris, iris_pipeline) -> None:
    x, _ = iris
    registry.register(iris_pipeline, name="iris", input_example=x.head())
    registry.load("iris:1")
    cached = next(registry.artifacts.cache_dir.rglob("model.skops"))
    cached.write_bytes(b"evil")
    np.testing.assert_array_equal(registry.load("iris:1").predict(x.head()), iris_pipeline.predict(x.head()))


def test_model_description_and_tags_can_be_updated(registry: Registry, iris, iris_pipeline) -> None:
    x, _ = iris
    registry.register(iris_pipeline, name="iris", input_example=x.head())
    registry.store.update_model("iris", description="flowers", tags={"owner": "ana"})
    model = registry.store.get_model("iris")
    assert (model.description, model.tags, model.latest_version) == ("flowers", {"owner": "ana"}, 1)


def test_prediction_validates_against_the_signature(registry: Registry, iris, iris_pipeline) -> None:
    x, _ = iris
    registry.register(iris_pipeline, name="iris", input_example=x.head())
    model = registry.load("iris")
    bad = x.head(3).astype(object)
    bad.iloc[2, 0] = "wide"
    with pytest.raises(ValidationError, match=r"input 'sepal length \(cm\)': expected float64, got string \(row 2\)"):
        model.predict(bad)


def test_delete_refuses_a_version_a_deployment_routes_to(registry: Registry, iris, iris_pipeline) -> None:
    from modelport.rollout.service import start_canary

    x, _ = iris
    registry.register(iris_pipeline, name="iris", input_example=x.head(), alias="champion")
    registry.register(iris_pipeline, name="iris", input_example=x.head())
    start_canary(registry, "iris", 2, steps=(10, 100))
    with pytest.raises(ConflictError, match=r"cannot delete iris:2: deployment 'iris' routes traffic to it"):
        registry.delete("iris:2")
    registry.remove_alias("iris", "champion")
    with pytest.raises(ConflictError, match=r"cannot delete model 'iris': deployment 'iris' routes traffic"):
        registry.delete("iris")
    assert [v.version for v in registry.store.list_versions("iris")] == [1, 2]
