"""Open Inference Protocol (V2) routes, in-process."""

from __future__ import annotations

import struct

import numpy as np
import pytest

pytestmark = pytest.mark.anyio


def tensor(rows: list[list[float]], name: str = "input-0") -> dict:
    return {"name": name, "shape": [len(rows), len(rows[0])], "datatype": "FP64", "data": rows}


async def test_infer_2d_tensor_answers_version_and_one_id_per_row(client, rows, cancer_models) -> None:
    response = await client.post("/v2/models/cancer/infer", json={"id": "r1", "inputs": [tensor(rows)]})
    assert response.status_code == 200
    body = response.json()
    assert body["model_name"] == "cancer" and body["model_version"] == "1" and body["id"] == "r1"
    ids = body["parameters"]["prediction_ids"]
    assert len(ids) == len(rows) == len(set(ids))
    (output,) = body["outputs"]
    assert output["name"] == "predict" and output["shape"] == [8] and output["datatype"] == "INT64"
    import pandas as pd

    expected = cancer_models[0].predict(pd.DataFrame(rows, columns=cancer_models[0].feature_names_in_))
    assert output["data"] == expected.tolist()


async def test_infer_one_tensor_per_column_as_metadata_advertises(client, rows) -> None:
    meta = (await client.get("/v2/models/cancer")).json()
    columns = [spec["name"] for spec in meta["inputs"]]
    assert len(columns) == 30 and all(spec["shape"] == [-1] and spec["datatype"] == "FP64" for spec in meta["inputs"])
    values = np.asarray(rows)
    inputs = [{"name": c, "shape": [len(rows)], "datatype": "FP64", "data": values[:, i].tolist()}
              for i, c in enumerate(columns)]
    by_column = (await client.post("/v2/models/cancer/infer", json={"inputs": inputs})).json()
    by_matrix = (await client.post("/v2/models/cancer/infer", json={"inputs": [tensor(rows)]})).json()
    assert by_column["outputs"] == by_matrix["outputs"]


async def test_predict_proba_when_asked_in_the_asked_order(client, rows) -> None:
    response = await client.post("/v2/models/cancer/infer", json={
        "inputs": [tensor(rows)], "outputs": [{"name": "predict_proba"}, {"name": "predict"}]})
    outputs = response.json()["outputs"]
    assert [o["name"] for o in outputs] == ["predict_proba", "predict"]
    assert outputs[0]["shape"] == [8, 2] and outputs[0]["datatype"] == "FP64"
    probabilities = np.asarray(outputs[0]["data"]).reshape(8, 2)
    assert np.allclose(probabilities.sum(axis=1), 1.0)


async def test_pinned_version_answers_from_that_version(client, rows) -> None:
    response = await client.post("/v2/models/cancer/versions/2/infer", json={"inputs": [tensor(rows)]})
    assert response.status_code == 200 and response.json()["model_version"] == "2"


async def test_binary_tensor_extension_in_and_out(client, rows) -> None:
    raw = np.asarray(rows, dtype="<f8").tobytes()
    header = {"inputs": [{"name": "x", "shape": [8, 30], "datatype": "FP64", "parameters": {"binary_data_size": len(raw)}}],
              "outputs": [{"name": "predict", "parameters": {"binary_data": True}}]}
    import orjson

    head = orjson.dumps(header)
    response = await client.post("/v2/models/cancer/infer", content=head + raw,
                                 headers={"Inference-Header-Content-Length": str(len(head))})
    assert response.status_code == 200
    length = int(response.headers["inference-header-content-length"])
    meta = orjson.loads(response.content[:length])
    size = meta["outputs"][0]["parameters"]["binary_data_size"]
    values = np.frombuffer(response.content[length:length + size], dtype="<i8")
    plain = (await client.post("/v2/models/cancer/infer", json={"inputs": [tensor(rows)]})).json()
    assert values.tolist() == plain["outputs"][0]["data"]


async def test_bytes_tensor_binary_elements_decode() -> None:
    from modelport.http.v2_codec import decode_request

    raw = b"".join(struct.pack("<I", len(s)) + s for s in (b"ab", b"c"))
    head = b'{"inputs": [{"name": "s", "shape": [2], "datatype": "BYTES", "parameters": {"binary_data_size": %d}}]}' % len(raw)
    decoded = decode_request(head + raw, len(head))
    assert decoded.inputs["s"].tolist() == ["ab", "c"]


async def test_health_metadata_and_ready_routes(client) -> None:
    assert (await client.get("/v2/health/live")).status_code == 200
    assert (await client.get("/v2/health/ready")).json() == {"ready": True}
    assert (await client.get("/v2/models/cancer/ready")).status_code == 200
    assert (await client.get("/v2/models/cancer/versions/1/ready")).status_code == 200
    assert (await client.get("/v2/models/cancer/versions/2/ready")).status_code == 503  # not loaded
    server = (await client.get("/v2")).json()
    assert server["name"] == "modelport" and "binary_tensor_data" in server["extensions"]
    meta = (await client.get("/v2/models/cancer")).json()
    assert meta["versions"] == ["1"] and meta["platform"] == "sklearn"
    assert [o["name"] for o in meta["outputs"]] == ["predict", "predict_proba"]
    assert meta["parameters"]["aliases"] == ["champion"]


@pytest.mark.parametrize(("body", "status", "message"), [
    ({"inputs": [{"name": "x", "shape": [1, 30], "datatype": "FP64", "data": [["a"] * 30]}]}, 400, "does not match datatype FP64"),
    ({"inputs": [{"name": "x", "shape": [2, 30], "datatype": "FP64", "data": [[1.0] * 30]}]}, 400, "needs 60 values, got 30"),
    ({"inputs": [{"name": "x", "shape": [1, 30], "datatype": "COMPLEX", "data": [[1.0] * 30]}]}, 400, "unknown datatype"),
    ({"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP64", "data": [[1.0] * 3]}]}, 422, "expected 30 values per row"),
    ({"inputs": [{"name": "x", "shape": [1, 30], "datatype": "FP64", "data": [[1.0] * 30]}], "outputs": [{"name": "logits"}]}, 400, "output 'logits' is unknown"),
    ({"inputs": [{"name": "mean radius", "shape": [1], "datatype": "BYTES", "data": ["big"]}]}, 422, "input 'mean"),
    ({"inputs": []}, 400, "non-empty 'inputs'"),
    ([1, 2], 400, "non-empty 'inputs'"),
])
async def test_bad_input_is_4xx_naming_the_problem(client, body, status, message) -> None:
    response = await client.post("/v2/models/cancer/infer", json=body)
    assert response.status_code == status
    assert message in response.json()["error"]


async def test_errors_on_every_v2_route_use_the_error_shape(client) -> None:
    missing = await client.post("/v2/models/nope/infer", json={"inputs": [tensor([[1.0]])]})
    assert missing.status_code == 404 and "not served here" in missing.json()["error"]
    assert (await client.get("/v2/models/nope")).status_code == 404
    assert (await client.get("/v2/models/nope/ready")).status_code == 404
    bad_version = await client.get("/v2/models/cancer/versions/zero")
    assert bad_version.status_code == 400 and "invalid version" in bad_version.json()["error"]
    absent_version = await client.post("/v2/models/cancer/versions/9/infer", json={"inputs": [tensor([[1.0] * 30])]})
    assert absent_version.status_code == 404 and "no version 9" in absent_version.json()["error"]
    malformed = await client.post("/v2/models/cancer/infer", content=b"{not json")
    assert malformed.status_code == 400 and "not valid JSON" in malformed.json()["error"]
    pickled = await client.post("/v2/models/cancer/infer", content=b"\x80\x04", headers={"content-type": "application/python-pickle"})
    assert pickled.status_code == 415 and "pickle" in pickled.json()["error"]
    unknown_route = await client.get("/v3/anything")
    assert unknown_route.status_code == 404 and "error" in unknown_route.json()
