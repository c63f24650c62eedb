"""KServe v1 `:predict` and MLflow `/invocations`, in-process."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.anyio


async def test_instances_as_lists_and_as_records_agree(client, rows, cancer) -> None:
    columns = list(cancer[0].columns)
    as_lists = await client.post("/v1/models/cancer:predict", json={"instances": rows})
    as_records = await client.post("/v1/models/cancer:predict",
                                   json={"instances": [dict(zip(columns, r)) for r in rows]})
    assert as_lists.status_code == as_records.status_code == 200
    first, second = as_lists.json(), as_records.json()
    assert first["predictions"] == second["predictions"] and len(first["predictions"]) == 8
    assert first["model_version"] == "1" and len(set(first["prediction_ids"])) == 8


@pytest.mark.parametrize("form", ["dataframe_split", "dataframe_split_shuffled", "dataframe_records", "inputs"])
async def test_mlflow_payloads_on_the_v1_route(client, rows, cancer, form) -> None:
    columns = list(cancer[0].columns)
    if form == "dataframe_split":
        payload = {"dataframe_split": {"columns": columns, "data": rows}}
    elif form == "dataframe_split_shuffled":
        order = list(reversed(range(len(columns))))
        payload = {"dataframe_split": {"columns": [columns[i] for i in order], "data": [[r[i] for i in order] for r in rows]}}
    elif form == "dataframe_records":
        payload = {"dataframe_records": [dict(zip(columns, r)) for r in rows]}
    else:
        payload = {"inputs": rows}
    expected = (await client.post("/v1/models/cancer:predict", json={"instances": rows})).json()["predictions"]
    response = await client.post("/v1/models/cancer:predict", json=payload)
    assert response.status_code == 200 and response.json()["predictions"] == expected


async def test_pinned_version_route(client, rows) -> None:
    response = await client.post("/v1/models/cancer/versions/2:predict", json={"instances": rows})
    assert response.status_code == 200 and response.json()["model_version"] == "2"


async def test_invocations_needs_a_default_when_several_models_are_served(client, rows) -> None:
    response = await client.post("/invocations", json={"instances": rows})
    assert response.status_code == 404 and "--default-model" in response.json()["error"]


async def test_invocations_json_and_csv(served_settings, serve_app, rows, cancer) -> None:
    from modelport.http.app import create_app
    from modelport.serving.config import ServerConfig

    app = create_app(served_settings, refs=["cancer"], config=ServerConfig(access_log=False), watch=False,
                     no_auth=True)
    async with serve_app(app) as http:
        as_json = await http.post("/invocations", json={"dataframe_split": {"columns": list(cancer[0].columns), "data": rows}})
        csv = cancer[0].head(8).to_csv(index=False)
        as_csv = await http.post("/invocations", content=csv, headers={"content-type": "text/csv"})
        status = await http.get("/v1/models/cancer")
        bad_csv = await http.post("/invocations", content="mean radius\nbig\n", headers={"content-type": "text/csv"})
        bad_json = await http.post("/invocations", content=b"{", headers={"content-type": "application/json"})
    assert as_json.status_code == as_csv.status_code == 200
    assert as_json.json()["predictions"] == as_csv.json()["predictions"]
    assert {k: status.json()[k] for k in ("name", "ready")} == {"name": "cancer", "ready": True}
    assert bad_csv.status_code == 422 and "missing column" in bad_csv.json()["error"]
    assert bad_json.status_code == 400 and "not valid JSON" in bad_json.json()["error"]


@pytest.mark.parametrize(("content", "ctype", "status", "message"), [
    (b'{"instances": [[1, 2]]}', "application/json", 422, "expected 30 values per row"),
    (b'{"instances": [[true]]}', "application/json", 422, "expected 30 values per row"),
    (b'{"rows": []}', "application/json", 400, "send exactly one of"),
    (b'{"instances": [], "inputs": []}', "application/json", 400, "send exactly one of"),
    (b'{"instances": []}', "application/json", 422, "expected rows of 30 values"),
    (b'{"dataframe_records": [1, 2]}', "application/json", 400, "list of objects"),
    (b'{"dataframe_split": {"columns": ["a"], "data": 3}}', "application/json", 400, "'dataframe_split' must be"),
    (b"[1, 2]", "application/json", 400, "JSON object"),
    (b"", "application/json", 400, "empty"),
    (b"a,b\n1,2\n", "text/csv", 422, "missing column"),
    (b"<x/>", "application/xml", 415, "not supported"),
    (b"\x80\x04K\x01.", "application/x-pickle", 415, "pickled"),
])
async def test_bad_input_on_the_v1_route(client, content, ctype, status, message) -> None:
    response = await client.post("/v1/models/cancer:predict", content=content, headers={"content-type": ctype})
    assert response.status_code == status, response.text
    assert message in response.json()["error"]


async def test_a_row_with_a_boolean_is_refused_like_validate_does(client, rows) -> None:
    bad = [list(rows[0])]
    bad[0][3] = True
    response = await client.post("/v1/models/cancer:predict", json={"instances": bad})
    assert response.status_code == 422 and "input 'mean area'" in response.json()["error"]


async def test_unknown_model_and_bad_version(client, rows) -> None:
    missing = await client.post("/v1/models/nope:predict", json={"instances": rows})
    assert missing.status_code == 404 and "served models: cancer, iris" in missing.json()["error"]
    bad = await client.post("/v1/models/cancer/versions/x:predict", json={"instances": rows})
    assert bad.status_code == 400 and "invalid version" in bad.json()["error"]


async def test_mlflow_health_probes_and_the_kserve_model_list(client) -> None:
    ping, health = await client.get("/ping"), await client.get("/health")
    listed = await client.get("/v1/models")
    assert ping.status_code == health.status_code == 200
    assert listed.status_code == 200 and listed.json() == {"models": ["cancer", "iris"]}


async def test_mlflow_ping_is_503_while_draining(served_settings, serve_app) -> None:
    from modelport.http.app import create_app
    from modelport.serving.config import ServerConfig

    app = create_app(served_settings, refs=["iris"], config=ServerConfig(access_log=False), watch=False, no_auth=True)
    async with serve_app(app) as http:
        before = await http.get("/ping")
        app.state.dataplane.draining = True  # what SIGTERM does first
        after = await http.get("/health")
    assert (before.status_code, after.status_code) == (200, 503)


async def test_model_status_reads_as_kserve_and_as_tf_serving(client) -> None:
    latest, pinned = await client.get("/v1/models/cancer"), await client.get("/v1/models/cancer/versions/2")
    assert latest.json() == {"name": "cancer", "ready": True, "model_version_status": [
        {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}]}
    assert pinned.status_code == 200 and pinned.json()["model_version_status"][0]["version"] == "2"
    missing, bad = await client.get("/v1/models/cancer/versions/99"), await client.get("/v1/models/cancer/versions/x")
    assert missing.status_code == 404 and "99" in missing.json()["error"]
    assert bad.status_code in (400, 422) and "version" in bad.json()["error"]
