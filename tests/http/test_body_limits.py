"""Prediction bodies and model uploads have different size limits, enforced before the body is read whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelport.foundation.settings import Settings
from modelport.http.app import create_app
from modelport.serving.config import ServerConfig

from .conftest import running

pytestmark = pytest.mark.anyio


async def test_uploads_may_exceed_the_prediction_body_limit(served_settings: Settings, tmp_path: Path,
                                                           cancer_models) -> None:
    import skops.io as sio

    _, forest = cancer_models
    model = tmp_path / "forest.skops"
    sio.dump(forest, model)
    content = model.read_bytes()
    limit = 4096
    assert len(content) > limit
    config = ServerConfig(access_log=False, body_limit_bytes=limit, prediction_log=False)
    app = create_app(served_settings, config=config, watch=False, no_auth=True)
    async with running(app) as http:
        upload = await http.post("/api/v1/models/bigger/versions", params={"filename": "forest.skops"},
                                 content=content, headers={"content-type": "application/octet-stream"})
        predict = await http.post("/v1/models/cancer:predict", content=b'{"instances": [' + b"0," * 4000 + b"0]}",
                                  headers={"content-type": "application/json"})
    assert upload.status_code in (200, 201), upload.text
    assert predict.status_code == 413 and f"limit of {limit} bytes" in predict.json()["error"]


def test_log_lines_are_json_with_secrets_redacted() -> None:
    import json
    import logging

    from modelport.http.middleware import JsonLogFormatter

    secret = "mp_0123456789abcdef_" + "s" * 43
    record = logging.LogRecord("modelport", logging.INFO, __file__, 1, "key %s\nFAKE line", (secret,), None)
    line = JsonLogFormatter().format(record)
    assert secret not in line and "\n" not in line
    assert json.loads(line)["message"].endswith("\nFAKE line")  # the newline is escaped inside the JSON


@pytest.mark.parametrize(("message", "shown"), [
    ("artifact is missing from the store /tmp/mp/home/artifacts", "artifact is missing from the store …/artifacts"),
    ("cannot read /home/ana/data/rows.csv: bad", "cannot read …/rows.csv: bad"),
    ("POST /v1/feedback expects JSON", "POST /v1/feedback expects JSON"),
])
def test_error_bodies_do_not_show_server_paths(message: str, shown: str) -> None:
    import json

    from modelport.http.errors import json_error

    assert json.loads(json_error(404, message).body)["error"] == shown


async def test_rows_values_and_string_length_are_bounded_with_413(served_settings: Settings, iris) -> None:
    x, _ = iris
    config = ServerConfig(access_log=False, prediction_log=False, max_rows=5, max_elements=12, max_string_length=10)
    app = create_app(served_settings, config=config, watch=False, no_auth=True)
    async with running(app) as http:
        too_many = await http.post("/v1/models/iris:predict", json={"instances": x.head(6).to_numpy().tolist()})
        too_wide = await http.post("/v1/models/iris:predict", json={"instances": x.head(4).to_numpy().tolist()})
        long_text = await http.post("/v1/models/iris:predict", json={"instances": [["y" * 11, 1.0, 1.0, 1.0]]})
        v2 = await http.post("/v2/models/iris/infer", json={"inputs": [
            {"name": "input-0", "shape": [6, 4], "datatype": "FP64", "data": x.head(6).to_numpy().ravel().tolist()}]})
        fine = await http.post("/v1/models/iris:predict", json={"instances": x.head(3).to_numpy().tolist()})
    assert too_many.status_code == 413 and "6 rows, more than the limit of 5" in too_many.json()["error"]
    assert too_wide.status_code == 413 and "16 values, more than the limit of 12" in too_wide.json()["error"]
    assert long_text.status_code == 413 and "a string of 11 characters" in long_text.json()["error"]
    assert v2.status_code == 413, v2.text
    assert fine.status_code == 200


def test_limits_on_every_input_shape() -> None:
    import numpy as np
    import pandas as pd

    from modelport.foundation.errors import LimitExceededError
    from modelport.serving.limits import RequestLimits, check_limits

    limits = RequestLimits(max_rows=3, max_elements=6, max_string_length=4)
    check_limits([[1, 2], [3, 4], [5, 6]], limits)
    for data in (np.zeros((4, 1)), pd.DataFrame({"a": range(4)}), {"a": [1, 2, 3, 4]}, [{"a": 1}] * 4):
        with pytest.raises(LimitExceededError, match="4 rows, more than the limit of 3"):
            check_limits(data, limits)
    with pytest.raises(LimitExceededError, match="9 values"):
        check_limits(np.zeros((3, 3)), limits)
    for data in (pd.DataFrame({"s": ["hello"]}), {"s": ["hello"]}, [{"s": "hello"}], np.array([["hello"]])):
        with pytest.raises(LimitExceededError, match="a string of 5 characters"):
            check_limits(data, limits)
