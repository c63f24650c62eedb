"""batch_score end to end on files: outputs, rejects, fail-fast checks, resume semantics, bad arguments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest

from modelport.batch import batch_score
from modelport.foundation.errors import ConflictError, InvalidInputError, NotFoundError, ValidationError
from modelport.registry.service import Registry

from .batch_helpers import Models, expected, iris_rows, read_output

FEATURES = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]


def _score(models: Models, tmp_path: Path, **options: Any):  # type: ignore[no-untyped-def]
    options.setdefault("output", str(tmp_path / "out"))
    return batch_score(options.pop("ref", "iris"), settings=models.settings, progress=False, **options)


def test_parquet_to_parquet_matches_the_model_row_for_row(models: Models, tmp_path: Path) -> None:
    frame = iris_rows(models.iris_x, 10)
    frame.to_parquet(tmp_path / "in.parquet")
    summary = _score(models, tmp_path, input=str(tmp_path / "in.parquet"), chunk_rows=400, with_proba=True)
    out = read_output(tmp_path / "out")
    assert list(out.columns) == ["row", "prediction", "proba_0", "proba_1", "proba_2", "model_version"]
    assert out["row"].tolist() == list(range(1500))
    np.testing.assert_array_equal(out["prediction"], expected(models.iris, frame, FEATURES))
    np.testing.assert_allclose(out[["proba_0", "proba_1", "proba_2"]], models.iris.predict_proba(frame[FEATURES]))
    assert set(out["model_version"]) == {1}
    assert (summary.rows, summary.rows_scored, summary.rows_rejected, summary.chunks) == (1500, 1500, 0, 4)
    written = orjson.loads((tmp_path / "out" / "_summary.json").read_bytes())
    assert written["rows_scored"] == 1500 and written["model"] == "iris" and written["version"] == 1


def test_csv_in_with_bad_rows_rejects_them_with_reasons_and_scores_the_rest(models: Models, tmp_path: Path) -> None:
    frame = iris_rows(models.iris_x, 2)
    text = frame.astype(object)
    text.loc[7, "petal width (cm)"] = "wide"
    text.loc[250, "sepal length (cm)"] = None
    text.to_csv(tmp_path / "in.csv", index=False)
    summary = _score(
        models,
        tmp_path,
        input=str(tmp_path / "in.csv"),
        output=str(tmp_path / "out.csv"),
        id_column="customer",
        chunk_rows=100,
    )
    out = read_output(tmp_path / "out.csv", "csv")
    rejects = read_output(tmp_path / "out.csv" / "_rejects", "csv")
    assert (summary.rows_scored, summary.rows_rejected) == (298, 2)
    assert rejects["customer"].tolist() == ["c0000007", "c0000250"]
    assert rejects["reason"].tolist() == [
        "input 'petal width (cm)': expected float64, got string",
        "input 'sepal length (cm)': missing value (null or NaN), but the signature does not allow missing values",
    ]
    good = frame.drop(index=[7, 250])
    assert out["customer"].tolist() == good["customer"].tolist()
    np.testing.assert_array_equal(out["prediction"], expected(models.iris, good, FEATURES))


def test_parquet_nan_and_null_floats_are_rejected_by_the_split_readers(models: Models, tmp_path: Path) -> None:
    """Batch checks each float column for NaN as it copies it out of Arrow: the rows must still be rejected."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = iris_rows(models.iris_x, 2)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    sepal = table.column("sepal length (cm)").to_pylist()
    sepal[7] = float("nan")
    petal = table.column("petal width (cm)").to_pylist()
    petal[250] = None
    table = table.set_column(table.schema.get_field_index("sepal length (cm)"), "sepal length (cm)", pa.array(sepal))
    table = table.set_column(table.schema.get_field_index("petal width (cm)"), "petal width (cm)", pa.array(petal))
    pq.write_table(table, tmp_path / "in.parquet", row_group_size=100)  # whole chunks: split readers
    summary = _score(models, tmp_path, input=str(tmp_path / "in.parquet"), id_column="customer", chunk_rows=100,
                     workers=2)
    missing = "missing value (null or NaN), but the signature does not allow missing values"
    rejects = read_output(tmp_path / "out" / "_rejects")
    assert (summary.rows_scored, summary.rows_rejected) == (298, 2)
    assert rejects["customer"].tolist() == ["c0000007", "c0000250"]
    assert rejects["reason"].tolist() == [f"input 'sepal length (cm)': {missing}", f"input 'petal width (cm)': {missing}"]
    good = frame.drop(index=[7, 250])
    out = read_output(tmp_path / "out")
    assert out["customer"].tolist() == good["customer"].tolist()
    np.testing.assert_array_equal(out["prediction"], expected(models.iris, good, FEATURES))


def test_jsonl_in_with_a_wrongly_typed_value_rejects_that_row(models: Models, tmp_path: Path) -> None:
    records = iris_rows(models.iris_x, 1).to_dict("records")
    records[3]["petal length (cm)"] = True
    (tmp_path / "in.jsonl").write_bytes(b"\n".join(orjson.dumps(r) for r in records) + b"\n")
    summary = _score(models, tmp_path, input=str(tmp_path / "in.jsonl"), id_column="customer")
    rejects = pd.read_parquet(tmp_path / "out" / "_rejects")
    assert (summary.rows_scored, summary.rows_rejected) == (149, 1)
    assert rejects["reason"].tolist() == ["input 'petal length (cm)': expected float64, got bool"]


def test_a_missing_column_fails_before_anything_is_written(models: Models, tmp_path: Path) -> None:
    iris_rows(models.iris_x, 1).drop(columns=["petal width (cm)"]).to_parquet(tmp_path / "in.parquet")
    with pytest.raises(ValidationError, match=r"input 'petal width \(cm\)': missing column in the input"):
        _score(models, tmp_path, input=str(tmp_path / "in.parquet"))
    assert not (tmp_path / "out").exists()


def test_columns_option_feeds_named_columns_and_extra_columns_are_ignored(models: Models, tmp_path: Path) -> None:
    frame = iris_rows(models.iris_x, 1).assign(region="north")
    frame.to_parquet(tmp_path / "in.parquet")
    summary = _score(models, tmp_path, input=str(tmp_path / "in.parquet"), columns=FEATURES)
    assert summary.rows_scored == 150
    with pytest.raises(ValidationError, match=r"input 'region': unexpected column"):
        _score(
            models,
            tmp_path,
            input=str(tmp_path / "in.parquet"),
            output=str(tmp_path / "o2"),
            columns=[*FEATURES, "region"],
        )


def test_a_finished_job_is_refused_without_resume_and_left_alone_with_it(models: Models, tmp_path: Path) -> None:
    iris_rows(models.iris_x, 2).to_parquet(tmp_path / "in.parquet")
    first = _score(models, tmp_path, input=str(tmp_path / "in.parquet"), chunk_rows=100)
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out").glob("part-*")}
    with pytest.raises(ConflictError, match=r"already holds this job \(3 chunks committed\): pass --resume"):
        _score(models, tmp_path, input=str(tmp_path / "in.parquet"), chunk_rows=100)
    again = _score(models, tmp_path, input=str(tmp_path / "in.parquet"), chunk_rows=100, resume=True)
    assert (again.rows_scored, again.chunks_resumed, again.rows_this_run) == (first.rows_scored, 3, 0)
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out").glob("part-*")} == before


def test_another_job_cannot_write_into_the_same_folder(models: Models, tmp_path: Path) -> None:
    iris_rows(models.iris_x, 1).to_parquet(tmp_path / "in.parquet")
    _score(models, tmp_path, input=str(tmp_path / "in.parquet"))
    with pytest.raises(ConflictError, match=r"holds another job \(model iris"):
        _score(models, tmp_path, input=str(tmp_path / "in.parquet"), with_proba=True, resume=True)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ConflictError, match=r"is a folder that is not empty"):
        _score(models, tmp_path, input=str(tmp_path / "in.parquet"), output=str(tmp_path / "other"))


def test_resume_keeps_the_version_the_job_started_with(models: Models, tmp_path: Path) -> None:
    frame = iris_rows(models.iris_x, 2)
    frame.to_parquet(tmp_path / "in.parquet")
    _score(models, tmp_path, ref="iris@champion", input=str(tmp_path / "in.parquet"), chunk_rows=100)
    registry = Registry.open(models.settings)
    try:
        newer = registry.register(models.iris, name="iris", input_example=models.iris_x.head(3))
        registry.set_alias("iris", newer.version, "champion")
        again = _score(
            models, tmp_path, ref="iris@champion", input=str(tmp_path / "in.parquet"), chunk_rows=100, resume=True
        )
    finally:
        registry.set_alias("iris", 1, "champion")
        registry.close()
    assert again.version == 1


@pytest.mark.slow
@pytest.mark.parametrize("row_group", [None, 100, 200])  # one reader; splits of one and of two chunks
def test_processes_give_the_same_output_as_threads(models: Models, tmp_path: Path, row_group: int | None) -> None:
    iris_rows(models.iris_x, 4).to_parquet(tmp_path / "in.parquet", row_group_size=row_group)
    common = {"input": str(tmp_path / "in.parquet"), "chunk_rows": 100, "workers": 2, "with_proba": True}
    threads = _score(models, tmp_path, output=str(tmp_path / "t"), parallel="threads", **common)
    processes = _score(models, tmp_path, output=str(tmp_path / "p"), parallel="processes", **common)
    assert threads.rows_scored == processes.rows_scored == 600 and threads.chunks == processes.chunks == 6
    out = read_output(tmp_path / "t")
    pd.testing.assert_frame_equal(out, read_output(tmp_path / "p"))
    assert out["row"].tolist() == list(range(600))
    np.testing.assert_array_equal(out["prediction"], expected(models.iris, iris_rows(models.iris_x, 4), FEATURES))


def test_auto_parallelism_uses_processes_only_for_models_that_hold_the_gil() -> None:
    from modelport.batch.local import choose_parallel

    assert choose_parallel("auto", "sklearn") == choose_parallel("auto", "onnx") == "threads"
    assert choose_parallel("auto", "python") == choose_parallel("auto", "pmml") == "processes"
    assert choose_parallel("threads", "python") == "threads"


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"chunk_rows": 0}, InvalidInputError, r"chunk_rows must be a whole number above 0, got 0"),
        ({"engine": "spark"}, InvalidInputError, r"engine 'spark': use local or ray"),
        ({"parallel": "fibers"}, InvalidInputError, r"parallel 'fibers': use auto, threads or processes"),
        ({"id_column": "nope"}, InvalidInputError, r"--id-column 'nope' is not a column of the input"),
        ({"ref": "diabetes", "with_proba": True}, ValidationError, r"missing column"),
        ({"ref": "ghost"}, NotFoundError, r"ghost"),
        ({"output_format": "xlsx"}, InvalidInputError, r"output format 'xlsx': use parquet or csv"),
        ({"table": "t"}, InvalidInputError, r"--table applies to a database output only"),
    ],
)
def test_bad_arguments_are_refused_with_the_fix(
    models: Models, tmp_path: Path, options: dict[str, Any], error: type[Exception], message: str
) -> None:
    iris_rows(models.iris_x, 1).to_parquet(tmp_path / "in.parquet")
    options.setdefault("input", str(tmp_path / "in.parquet"))
    with pytest.raises(error, match=message):
        _score(models, tmp_path, **options)


def test_with_proba_on_a_regressor_is_refused(models: Models, tmp_path: Path) -> None:
    from sklearn.datasets import load_diabetes

    load_diabetes(as_frame=True).data.to_parquet(tmp_path / "in.parquet")
    with pytest.raises(InvalidInputError, match=r"model diabetes:1 gives no class probabilities: drop --with-proba"):
        _score(models, tmp_path, ref="diabetes", input=str(tmp_path / "in.parquet"), with_proba=True)
    summary = _score(models, tmp_path, ref="diabetes", input=str(tmp_path / "in.parquet"))
    assert summary.rows_scored == 442
    assert read_output(tmp_path / "out")["prediction"].dtype == np.float64


def test_a_worker_process_starts_from_the_parents_loaded_model_without_the_registry(models: Models,
                                                                                     tmp_path: Path) -> None:
    from modelport.batch.local import portable, worker_model
    from modelport.foundation.settings import Settings

    registry = Registry.open(models.settings)
    try:
        loaded = registry.load("iris:1")
    finally:
        registry.close()
    nowhere = Settings.at(tmp_path / "no-registry-here")  # the worker must not need to open it
    again = worker_model(portable(loaded), nowhere, "iris:1")
    rows = iris_rows(models.iris_x, 1)[FEATURES]
    np.testing.assert_array_equal(again.predict(rows), loaded.predict(rows))
    assert again.record.ref == loaded.record.ref and not (tmp_path / "no-registry-here").exists()


def test_a_model_that_does_not_pickle_is_loaded_by_each_worker_from_the_registry(models: Models) -> None:
    import threading

    from modelport.batch.local import portable, worker_model

    class Native:
        lock = None

        def __init__(self) -> None:
            self.lock = threading.Lock()  # as a native inference session holds state pickle cannot carry

    assert portable(Native()) is None  # type: ignore[arg-type]
    loaded = worker_model(None, models.settings, "iris:1")
    assert loaded.record.ref == "iris:1" and loaded.record.version == 1


@pytest.mark.parametrize("parallel", ["threads", "processes"])
def test_a_model_that_writes_into_its_input_is_scored_and_changes_nothing_else(models: Models, tmp_path: Path,
                                                                               parallel: str) -> None:
    """Parquet floats reach the model uncopied from Arrow (read-only memory): copy-on-write must shield them.

    In processes, the python-flavor model's class lives in a module the parent imported from the artifact:
    the workers cannot unpickle the parent's model and load it from the registry instead.
    """
    from .batch_test_models import InPlaceIris

    registry = Registry.open(models.settings)
    try:
        version = registry.register(InPlaceIris(), name=f"in-place-{parallel}", input_example=models.iris_x.head(3),
                                    trust=True, flavor="python").version
    finally:
        registry.close()
    frame = iris_rows(models.iris_x, 4)
    frame.to_parquet(tmp_path / "in.parquet", row_group_size=150)
    summary = _score(models, tmp_path, ref=f"in-place-{parallel}", input=str(tmp_path / "in.parquet"), chunk_rows=150, workers=2,
                     parallel=parallel)
    petal = frame["petal length (cm)"].to_numpy()
    out = read_output(tmp_path / "out")
    assert summary.rows_scored == 600 and version == 1
    np.testing.assert_array_equal(out["prediction"], np.where(petal < 2.5, 0, np.where(petal < 4.85, 1, 2)))
    assert pd.read_parquet(tmp_path / "in.parquet").equals(frame)


def test_a_worker_given_a_model_that_does_not_unpickle_loads_it_from_the_registry(models: Models) -> None:
    from modelport.batch.local import worker_model

    loaded = worker_model(b"not a pickle", models.settings, "iris:1")
    assert loaded.record.ref == "iris:1" and loaded.predict(models.iris_x.head(2)).shape == (2,)
