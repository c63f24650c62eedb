"""The Ray engine on a local Ray: the same output as the local engine, row for row."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from modelport.batch import batch_score

from .batch_helpers import Models, iris_rows, read_output

ray = pytest.importorskip("ray")
# Ray Data warns about its own deprecated settings when it copies its context.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.*")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One small local Ray for the module: 2 CPUs, a small object store."""
    ray.init(
        num_cpus=2,
        object_store_memory=100 * 2**20,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    yield
    ray.shutdown()


@pytest.mark.slow
def test_ray_output_equals_the_local_engine_row_for_row_and_resumes(
    models: Models, tmp_path: Path, local_ray: None
) -> None:
    frame = iris_rows(models.iris_x, 6)
    frame.loc[17, "petal width (cm)"] = None  # one reject, in the middle of a chunk
    frame.iloc[:400].to_parquet(tmp_path / "in-0.parquet")
    frame.iloc[400:].to_parquet(tmp_path / "in-1.parquet")
    common = {
        "input": str(tmp_path / "in-*.parquet"),
        "chunk_rows": 128,
        "with_proba": True,
        "settings": models.settings,
        "progress": False,
    }
    local = batch_score("iris", output=str(tmp_path / "local"), **common)
    on_ray = batch_score("iris", output=str(tmp_path / "ray"), engine="ray", workers=2, **common)
    assert (on_ray.rows, on_ray.rows_scored, on_ray.rows_rejected, on_ray.chunks) == (900, 899, 1, 8)
    assert (local.rows, local.rows_scored, local.rows_rejected, local.chunks) == (900, 899, 1, 8)
    assert sorted(p.name for p in (tmp_path / "ray").glob("part-*")) == sorted(
        p.name for p in (tmp_path / "local").glob("part-*")
    )
    pd.testing.assert_frame_equal(
        read_output(tmp_path / "ray"), read_output(tmp_path / "local"), check_exact=False, rtol=1e-12
    )
    pd.testing.assert_frame_equal(
        read_output(tmp_path / "ray" / "_rejects"), read_output(tmp_path / "local" / "_rejects")
    )
    again = batch_score("iris", output=str(tmp_path / "ray"), engine="ray", workers=2, resume=True, **common)
    assert (again.chunks_resumed, again.rows_this_run) == (8, 0)


@pytest.mark.slow
def test_ray_scores_a_sql_query_like_the_local_engine(models: Models, tmp_path: Path, local_ray: None) -> None:
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    frame = iris_rows(models.iris_x, 2)
    frame.loc[33, "sepal length (cm)"] = None  # one reject
    engine = sa.create_engine(url)
    frame.sample(frac=1, random_state=0).to_sql("features", engine, index=False)  # stored out of order
    engine.dispose()
    common = {
        "input": url,
        "query": "SELECT * FROM features ORDER BY customer",
        "chunk_rows": 64,
        "id_column": "customer",
        "settings": models.settings,
        "progress": False,
    }
    local = batch_score("iris", output=str(tmp_path / "local"), **common)
    on_ray = batch_score("iris", output=str(tmp_path / "ray"), engine="ray", workers=2, **common)
    assert (on_ray.rows, on_ray.rows_rejected, on_ray.chunks) == (local.rows, local.rows_rejected, local.chunks)
    assert (on_ray.rows, on_ray.rows_rejected, on_ray.chunks) == (300, 1, 5)
    ray_rows = read_output(tmp_path / "ray")
    pd.testing.assert_frame_equal(ray_rows, read_output(tmp_path / "local"))
    assert ray_rows["customer"].tolist() == sorted(c for c in frame["customer"] if c != "c0000033")
