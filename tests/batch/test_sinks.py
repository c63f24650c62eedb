"""File sinks: the Parquet a chunk's rows become."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from modelport.batch.sinks import _arrow_table


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"row": np.arange(4), "prediction": [0, 1, 1, 0], "model_version": np.full(4, 3)}),
    pd.DataFrame({"id": np.arange(3, dtype=np.int32), "prediction": [np.nan, 0.25, 1e300],
                  "proba_1": np.asarray([0.1, 0.2, 0.3], dtype=np.float32), "flag": [True, False, True]}),
    pd.DataFrame({"row": [0, 1, 2], "prediction": ["yes", None, "no"]}),  # labels: pandas' own conversion
    pd.DataFrame({"row": [0, 1], "prediction": pd.to_datetime(["2026-01-01", None])}),
])
def test_the_arrow_table_of_a_chunk_equals_pandas_own_conversion(frame: pd.DataFrame) -> None:
    ours, theirs = _arrow_table(frame), pa.Table.from_pandas(frame, preserve_index=False)
    assert ours.schema.remove_metadata() == theirs.schema.remove_metadata()
    assert ours.replace_schema_metadata(None).equals(theirs.replace_schema_metadata(None))
    assert ours.column("prediction").null_count == theirs.column("prediction").null_count
