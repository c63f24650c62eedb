"""KServe v1 / TF Serving `:predict` routes and MLflow's `/invocations`."""

from __future__ import annotations

import orjson
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from modelport.http.context import dataplane_of, deadline_of, version_of
from modelport.http.v1_codec import decode_rows, encode_predictions
from modelport.serving.dataplane import InferenceRequest

router = APIRouter(tags=["KServe v1 and MLflow"])
_EXAMPLE = {"requestBody": {"content": {
    "application/json": {"schema": {"type": "object", "example": {"instances": [[5.1, 3.5, 1.4, 0.2]]}}},
    "text/csv": {"schema": {"type": "string"}}}}}


@router.post("/v1/models/{name}:predict", openapi_extra=_EXAMPLE)
@router.post("/v1/models/{name}/versions/{version}:predict", openapi_extra=_EXAMPLE)
async def predict(request: Request, name: str, version: str | None = None) -> Response:
    """`{"instances": [...]}` (or MLflow's dataframe_split / dataframe_records / inputs) -> predictions."""
    return await _answer(request, name, version_of(version))


@router.post("/invocations", openapi_extra=_EXAMPLE)
async def invocations(request: Request) -> Response:
    """MLflow's scoring route, for the server's default model; JSON as above or text/csv."""
    return await _answer(request, dataplane_of(request).default_model(), None)


@router.get("/ping")
@router.get("/health")
async def mlflow_ping(request: Request) -> Response:
    """MLflow's health probe: 200 when every served model is ready, else 503 (MLflow clients poll it)."""
    ok = dataplane_of(request).ready()
    return Response("\n" if ok else orjson.dumps({"ready": False}), 200 if ok else 503, media_type="application/json")


@router.get("/v1/models")
async def model_list(request: Request) -> Response:
    """KServe v1 model list: `{"models": [...]}`."""
    return Response(orjson.dumps({"models": sorted(dataplane_of(request).served_models())}),
                    media_type="application/json")


@router.get("/v1/models/{name}")
@router.get("/v1/models/{name}/versions/{version}")
async def model_status(request: Request, name: str, version: str | None = None) -> Response:
    """Model status as KServe v1 (`name`, `ready`) and TF Serving (`model_version_status`) both read it."""
    plane = dataplane_of(request)
    if name not in plane.served_models():
        plane.router.route(name)  # raises NotFoundError naming the served models
    number = version_of(version)
    ready = plane.model_ready(name, number)
    if number is not None and not ready:
        await plane.model_info(name, number)  # raises NotFoundError for a version the registry lacks
    answering = plane.router.current(name) if number is None else number
    states = [] if answering is None else [{"version": str(answering), "state": "AVAILABLE" if ready else "LOADING",
                                            "status": {"error_code": "OK", "error_message": ""}}]
    return Response(orjson.dumps({"name": name, "ready": ready, "model_version_status": states}),
                    media_type="application/json")


async def _answer(request: Request, name: str, version: int | None) -> Response:
    plane = dataplane_of(request)
    signature = await plane.signature(name, version)
    rows = decode_rows(await request.body(), request.headers.get("content-type", ""), signature)
    result = await plane.infer(InferenceRequest(name, rows, version=version, deadline=deadline_of(request, plane),
                                               headers=request.headers))
    body = encode_predictions(result.model, result.version, result.prediction_ids, result.predictions)
    return Response(body, media_type="application/json")


async def _predict_direct(request: Request) -> Response:
    params = request.path_params
    return await _answer(request, params["name"], version_of(params.get("version")))


async def _invocations_direct(request: Request) -> Response:
    return await invocations(request)


def direct_routes() -> list[Route]:
    """The prediction routes as plain Starlette routes (see `v2.direct_routes`)."""
    return [Route("/v1/models/{name}:predict", _predict_direct, methods=["POST"]),
            Route("/v1/models/{name}/versions/{version}:predict", _predict_direct, methods=["POST"]),
            Route("/invocations", _invocations_direct, methods=["POST"])]
