"""The floor: a bare ASGI app that parses JSON and calls the model per request, nothing else."""

from __future__ import annotations

import argparse
from typing import Any

import joblib
import orjson
import pandas as pd
import uvicorn


def make_app(model: Any, columns: list[str]) -> Any:
    """An ASGI app answering every POST with the model's predictions for `{"instances": [...]}`."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        rows = orjson.loads(body)["instances"]
        predictions = model.predict(pd.DataFrame(rows, columns=columns))
        out = orjson.dumps({"predictions": predictions.tolist()})
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(out)).encode())]})
        await send({"type": "http.response.body", "body": out})

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    model = joblib.load(args.model)
    app = make_app(model, list(model.feature_names_in_))
    uvicorn.run(app, host="127.0.0.1", port=args.port, loop="uvloop", http="httptools", access_log=False,
                log_level="warning", lifespan="on")


if __name__ == "__main__":
    main()
