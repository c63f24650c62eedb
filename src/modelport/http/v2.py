"""Open Inference Protocol (V2) routes: health, metadata and infer, as Triton, KServe and MLServer speak it."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

import orjson
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from modelport.foundation.errors import InvalidInputError
from modelport.http.context import dataplane_of, deadline_of, version_of
from modelport.http.errors import PayloadError, json_error
from modelport.http.v2_codec import BINARY_HEADER, column_datatype, decode_request, encode_response, model_inputs
from modelport.serving.dataplane import InferenceRequest, ModelInfo

router = APIRouter(tags=["V2 inference protocol"])
_PICKLE_HINTS = ("pickle", "joblib", "x-python-serialize")
_V2_BODY = {"requestBody": {"content": {"application/json": {"schema": {"type": "object", "example": {
    "inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP64", "data": [[5.1, 3.5, 1.4, 0.2]]}],
    "outputs": [{"name": "predict"}, {"name": "predict_proba"}]}}}}}}


def _json(payload: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status, media_type="application/json")


@router.get("/v2")
async def server_metadata() -> Response:
    """Server name, version and supported extensions."""
    try:
        own = version("modelport")
    except PackageNotFoundError:
        own = "0"
    return _json({"name": "modelport", "version": own, "extensions": ["binary_tensor_data", "model_repository"]})


@router.get("/v2/health/live")
async def live() -> Response:
    """200 while the process runs."""
    return _json({"live": True})


@router.get("/v2/health/ready")
async def ready(request: Request) -> Response:
    """200 when every served model is loaded and warm; 503 while loading or draining."""
    ok = dataplane_of(request).ready()
    return _json({"ready": ok}, 200 if ok else 503)


@router.get("/v2/models/{name}/ready")
@router.get("/v2/models/{name}/versions/{version}/ready")
async def model_ready(request: Request, name: str, version: str | None = None) -> Response:
    """200 when the model (or that version) answers without loading first, else 503."""
    plane = dataplane_of(request)
    ok = plane.model_ready(name, version_of(version))
    if not ok and name not in plane.served_models():
        plane.router.route(name)  # raises NotFoundError naming the served models
    return _json({"name": name, "ready": ok}, 200 if ok else 503)


@router.get("/v2/models/{name}")
@router.get("/v2/models/{name}/versions/{version}")
async def model_metadata(request: Request, name: str, version: str | None = None) -> Response:
    """Inputs (one per signature column), outputs, versions and load state of a model."""
    info = await dataplane_of(request).model_info(name, version_of(version))
    return _json(metadata(info))


def metadata(info: ModelInfo) -> dict[str, Any]:
    """The V2 metadata document of one version."""
    record = info.record
    signature = record.signature
    inputs: list[dict[str, Any]] = []
    if signature is not None and signature.tensor is not None:
        spec = signature.tensor
        inputs = [{"name": spec.name, "datatype": column_datatype(spec.dtype), "shape": list(spec.shape)}]
    elif signature is not None:
        inputs = [{"name": c.name, "datatype": column_datatype(c.dtype), "shape": [-1]} for c in signature.columns]
    outputs: list[dict[str, Any]] = [{"name": "predict", "datatype": _output_datatype(info), "shape": [-1]}]
    if info.has_proba:
        width = len(signature.classes) if signature is not None and signature.classes else -1
        outputs.append({"name": "predict_proba", "datatype": "FP64", "shape": [-1, width]})
    parameters: dict[str, Any] = {"version": record.version, "ready": info.ready, "aliases": list(record.aliases),
                                  "loaded_versions": [str(v) for v in info.loaded_versions]}
    if info.load_error:
        parameters["load_error"] = info.load_error
    if signature is not None and signature.classes is not None:
        parameters["classes"] = list(signature.classes)
    return {"name": record.name, "versions": [str(record.version)], "platform": record.flavor,
            "inputs": inputs, "outputs": outputs, "parameters": parameters}


def _output_datatype(info: ModelInfo) -> str:
    spec = info.record.signature.output if info.record.signature is not None else None
    return column_datatype(spec.dtype) if spec is not None else "BYTES"


@router.post("/v2/models/{name}/infer", openapi_extra=_V2_BODY)
@router.post("/v2/models/{name}/versions/{version}/infer", openapi_extra=_V2_BODY)
async def infer(request: Request, name: str, version: str | None = None) -> Response:
    """Predict: inputs as one 2-D tensor (columns in signature order) or one 1-D tensor per column."""
    _check_content_type(request)
    plane = dataplane_of(request)
    pinned = version_of(version)
    decoded = decode_request(await request.body(), _json_length(request))
    signature = await plane.signature(name, pinned)
    want_proba = "predict_proba" in decoded.outputs
    result = await plane.infer(InferenceRequest(
        name, model_inputs(decoded.inputs, signature), version=pinned, want_proba=want_proba,
        deadline=deadline_of(request, plane, decoded.timeout_s), headers=request.headers))
    outputs = [("predict", result.predictions)] if "predict" in decoded.outputs else []
    if want_proba:
        if result.probabilities is None:
            return json_error(400, f"model {name}:{result.version} has no predict_proba output; ask for 'predict'")
        outputs.append(("predict_proba", result.probabilities))
    order = {n: i for i, n in enumerate(decoded.outputs)}
    outputs.sort(key=lambda item: order[item[0]])
    body, json_length = encode_response(result.model, result.version, decoded.id, result.prediction_ids,
                                        outputs, decoded.binary_outputs)
    if json_length is None:
        return Response(body, media_type="application/json")
    return Response(body, media_type="application/octet-stream",
                    headers={"Inference-Header-Content-Length": str(json_length)})


def _json_length(request: Request) -> int | None:
    raw = request.headers.get(BINARY_HEADER)
    if raw is None:
        return None
    if not raw.strip().isdigit():
        raise InvalidInputError(f"header Inference-Header-Content-Length: expected a byte count, got {raw!r}",
                                field="Inference-Header-Content-Length")
    return int(raw)


def _check_content_type(request: Request) -> None:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if any(hint in kind for hint in _PICKLE_HINTS):
        raise PayloadError("pickled request bodies are never accepted; send V2 JSON", status=415)
    if kind not in ("", "application/json", "application/octet-stream", "application/x-www-form-urlencoded"):
        raise PayloadError(f"content type {kind!r} is not V2; send application/json", status=415)


async def _infer_direct(request: Request) -> Response:
    params = request.path_params
    return await infer(request, params["name"], params.get("version"))


def direct_routes() -> list[Route]:
    """The infer routes as plain Starlette routes (FastAPI's per-request dependency solving costs
    more than the rest of a small request); the FastAPI ones above still document them."""
    return [Route("/v2/models/{name}/infer", _infer_direct, methods=["POST"]),
            Route("/v2/models/{name}/versions/{version}/infer", _infer_direct, methods=["POST"])]
