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
