"""Database output (SQLite and PostgreSQL): table created if missing, appended per chunk with its journal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from modelport.batch import batch_score
from modelport.foundation.errors import ConflictError, InvalidInputError

from .batch_helpers import Models, expected, iris_rows

FEATURES = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]


def _table(url: str, name: str) -> pd.DataFrame:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return pd.read_sql(sa.text(f"SELECT * FROM {name}"), conn)
    finally:
        engine.dispose()


def _score_by_customer(models: Models, path: Path, db_url: str, **options: Any) -> Any:
    """Score `path` into the table `scores` of `db_url`, keyed by the `customer` column."""
    return batch_score("iris", input=str(path), output=db_url, table="scores", id_column="customer",
                       settings=models.settings, progress=False, **options)


def test_scores_land_in_a_new_table_with_rejects_and_journal(models: Models, tmp_path: Path, db_url: str) -> None:
    frame = iris_rows(models.iris_x, 2)
    bad = frame.astype(object)
    bad.loc[5, "sepal width (cm)"] = "narrow"
    bad.to_json(tmp_path / "in.jsonl", orient="records", lines=True)
    summary = _score_by_customer(models, tmp_path / "in.jsonl", db_url, with_proba=True, chunk_rows=64)
    out = _table(db_url, "scores").sort_values("customer", ignore_index=True)
    good = frame.drop(index=[5]).reset_index(drop=True)
    assert list(out.columns) == ["customer", "prediction", "proba_0", "proba_1", "proba_2", "model_version"]
    assert out["customer"].tolist() == good["customer"].tolist()
    np.testing.assert_array_equal(out["prediction"], expected(models.iris, good, FEATURES))
    rejects = _table(db_url, "scores_rejects")
    assert rejects[["customer", "reason"]].values.tolist() == [
        ["c0000005", "input 'sepal width (cm)': expected float64, got string"]
    ]
    chunks = _table(db_url, "modelport_batch_chunks")
    assert sorted(chunks["chunk"]) == [0, 1, 2, 3, 4] and chunks["rows"].sum() == 300
    assert summary.summary_location.startswith("modelport_batch_jobs")
    assert '"rows_scored":299' in _table(db_url, "modelport_batch_jobs")["summary"].iloc[0]


def test_a_second_job_appends_and_a_rerun_is_refused_or_resumed(models: Models, tmp_path: Path, db_url: str) -> None:
    iris_rows(models.iris_x, 1).to_parquet(tmp_path / "a.parquet")
    iris_rows(models.iris_x, 1).head(10).to_parquet(tmp_path / "b.parquet")
    common = {"output": db_url, "settings": models.settings, "progress": False}
    batch_score("iris", input=str(tmp_path / "a.parquet"), **common)
    batch_score("iris", input=str(tmp_path / "b.parquet"), **common)
    assert len(_table(db_url, "predictions")) == 160
    with pytest.raises(ConflictError, match=r"already holds this job \(1 chunks committed\)"):
        batch_score("iris", input=str(tmp_path / "b.parquet"), **common)
    again = batch_score("iris", input=str(tmp_path / "b.parquet"), resume=True, **common)
    assert again.rows_this_run == 0 and len(_table(db_url, "predictions")) == 160


def test_sql_query_in_database_table_out(models: Models, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    engine = sa.create_engine(url)
    iris_rows(models.iris_x, 1).to_sql("features", engine, index=False)
    engine.dispose()
    summary = batch_score(
        "iris",
        input=url,
        query="SELECT * FROM features ORDER BY customer",
        output=url,
        table="iris_scores",
        id_column="customer",
        settings=models.settings,
        progress=False,
    )
    assert summary.rows_scored == 150
    assert len(_table(url, "iris_scores")) == 150


def test_an_existing_table_of_another_shape_is_named_in_the_error(models: Models, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'out.db'}"
    engine = sa.create_engine(url)
    pd.DataFrame({"other": [1]}).to_sql("predictions", engine, index=False)
    engine.dispose()
    iris_rows(models.iris_x, 1).to_parquet(tmp_path / "in.parquet")
    with pytest.raises(
        InvalidInputError,
        match=r"table .predictions. exists without the output.s columns row, prediction, model_version: write to another table",
    ):
        batch_score("iris", input=str(tmp_path / "in.parquet"), output=url, settings=models.settings, progress=False)


def test_a_table_name_that_is_not_an_identifier_is_refused(models: Models, tmp_path: Path) -> None:
    iris_rows(models.iris_x, 1).to_parquet(tmp_path / "in.parquet")
    with pytest.raises(InvalidInputError, match=r"table name 'x; drop table y': use letters, digits and underscores"):
        batch_score(
            "iris",
            input=str(tmp_path / "in.parquet"),
            output=f"sqlite:///{tmp_path / 'o.db'}",
            table="x; drop table y",
            settings=models.settings,
            progress=False,
        )


TRICKY_IDS = ["a,b", 'q"uote', "", "line\nbreak", "ünïcode", None, "NULL", "\\N"]


def test_ids_with_separators_quotes_empties_and_nulls_arrive_exactly(
    models: Models, tmp_path: Path, db_url: str
) -> None:
    # On PostgreSQL the rows go through COPY (CSV): what CSV could confuse must come back unchanged.
    frame = iris_rows(models.iris_x, 1).head(len(TRICKY_IDS))
    frame["customer"] = TRICKY_IDS
    frame.to_parquet(tmp_path / "in.parquet")
    _score_by_customer(models, tmp_path / "in.parquet", db_url, with_proba=True)
    out = _table(db_url, "scores")
    assert [None if pd.isna(v) else v for v in out["customer"]] == TRICKY_IDS
    np.testing.assert_array_equal(out["prediction"], expected(models.iris, frame, FEATURES))
    proba = models.iris.predict_proba(frame[FEATURES])
    np.testing.assert_array_equal(out[["proba_0", "proba_1", "proba_2"]].to_numpy(), proba)  # floats exact


def test_ids_of_mixed_python_types_are_written_row_by_row(models: Models, tmp_path: Path, db_url: str) -> None:
    frame = iris_rows(models.iris_x, 1).head(4)
    frame["customer"] = ["c1", "c2", "c3", "c4"]
    frame.to_json(tmp_path / "in.jsonl", orient="records", lines=True)
    text = (tmp_path / "in.jsonl").read_text().replace('"c1"', "1", 1)  # a number among strings
    (tmp_path / "in.jsonl").write_text(text)
    _score_by_customer(models, tmp_path / "in.jsonl", db_url)
    assert sorted(str(v) for v in _table(db_url, "scores")["customer"]) == ["1", "c2", "c3", "c4"]
