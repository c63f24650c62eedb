"""`modelport serve`: every registered model (or the refs given) behind one HTTP server."""

from __future__ import annotations

import ipaddress

import typer

from modelport.foundation.errors import InvalidInputError


def serve(
    refs: list[str] | None = typer.Argument(None, help="Refs to serve (NAME, NAME@ALIAS, NAME:VERSION); default: all."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    workers: int = typer.Option(1, "--workers", help="Worker processes (each loads the models it serves)."),
    no_auth: bool = typer.Option(False, "--no-auth", help="Serve without API keys (loopback only)."),
    default_model: str | None = typer.Option(None, "--default-model", help="The model POST /invocations answers for."),
    max_batch_size: int = typer.Option(64, "--max-batch-size", help="Most rows merged into one predict call."),
    max_wait_ms: float = typer.Option(0.0, "--max-wait-ms", help="Extra wait for a fuller batch, only under load."),
    no_batching: bool = typer.Option(False, "--no-batching", help="Call the model once per request."),
    inline_predict_us: float = typer.Option(
        300.0, "--inline-predict-us",
        help="Run a version's predicts on the event loop when a full batch took at most this many µs (0: never)."),
    queue_limit: int = typer.Option(1024, "--queue-limit", help="Requests admitted per model version before 503."),
    cache_size: int = typer.Option(0, "--cache-size", help="Prediction cache entries per version (0: off)."),
    timeout: float = typer.Option(30.0, "--timeout", help="Default request deadline in seconds (504 past it)."),
    body_limit_mb: float = typer.Option(32.0, "--body-limit-mb", help="Largest request body (413 past it)."),
    memory_budget_mb: float | None = typer.Option(None, "--memory-budget-mb", help="Memory for loaded versions (LRU)."),
    max_rows: int = typer.Option(100_000, "--max-rows", help="Most rows in one request (413 past it)."),
    max_elements: int = typer.Option(10_000_000, "--max-elements", help="Most values in one request (413 past it)."),
    max_string_length: int = typer.Option(65_536, "--max-string-length", help="Longest string value (413 past it)."),
    poll_interval: float = typer.Option(0.5, "--poll-interval", help="Seconds between registry polls (hot swap)."),
    log_inputs: bool = typer.Option(False, "--log-inputs", help="Put request bodies (first 4 KiB) in access logs."),
    prediction_log: bool = typer.Option(
        True, "--prediction-log/--no-prediction-log", help="Record every prediction for monitoring (drift, feedback)."),
    tls_cert: str | None = typer.Option(None, "--tls-cert", help="TLS certificate file (PEM)."),
    tls_key: str | None = typer.Option(None, "--tls-key", help="TLS private key file (PEM)."),
    tls_client_ca: str | None = typer.Option(
        None, "--tls-client-ca", help="CA file (PEM): clients must present a certificate it signed (mutual TLS)."),
    auto_rollout: str = typer.Option(
        "off", "--auto-rollout",
        help="Start this rollout (canary, shadow, ab, blue-green) for each new @challenger version; off: never."),
    prefork: bool = typer.Option(
        True, "--prefork/--no-prefork",
        help="With --workers > 1: load models once and fork the workers so they share model memory."),
) -> None:
    """Serve models over HTTP: Open Inference Protocol (V2), KServe v1 and MLflow's /invocations.

    Example: modelport serve cancer --port 8000 --no-auth
    """
    from modelport.http.server import serve as run
    from modelport.rollout.challenger import check_strategy
    from modelport.serving.config import MIB, ModelConfig, ServerConfig

    check_bind(host, no_auth=no_auth)
    check_strategy(auto_rollout)
    if tls_client_ca is not None and tls_cert is None:
        raise InvalidInputError("--tls-client-ca needs --tls-cert and --tls-key (mutual TLS is TLS first)",
                                field="tls_client_ca")
    if workers < 1:
        raise InvalidInputError(f"--workers must be >= 1, got {workers}", field="workers")
    model = ModelConfig(max_batch_size=max_batch_size, max_wait_ms=max_wait_ms, queue_limit=queue_limit,
                        batching=not no_batching, cache_size=cache_size, inline_predict_us=inline_predict_us)
    config = ServerConfig(model_defaults=model, poll_interval_s=poll_interval, request_timeout_s=timeout,
                          body_limit_bytes=int(body_limit_mb * MIB), memory_budget_mb=memory_budget_mb,
                          default_model=default_model, log_inputs=log_inputs, max_rows=max_rows,
                          max_elements=max_elements, max_string_length=max_string_length,
                          prediction_log=prediction_log, auto_rollout=auto_rollout)
    run(refs or [], host=host, port=port, workers=workers, config=config, no_auth=no_auth,
        ssl_certfile=tls_cert, ssl_keyfile=tls_key, prefork=prefork, ssl_ca_certs=tls_client_ca)


def check_bind(host: str, *, no_auth: bool) -> None:
    """Refuse --no-auth on an address others can reach; say loudly when it is used on loopback."""
    if not no_auth:
        return
    if not is_loopback(host):
        raise InvalidInputError(
            f"--host {host}: --no-auth is allowed only on a loopback address (127.0.0.1, ::1, localhost); "
            "create a key instead: modelport keys create --scope admin", field="host")
    from rich.markup import escape

    from modelport.cli.output import error_console

    error_console().print("[bold yellow]WARNING: serving WITHOUT API keys (--no-auth): anyone who can reach "
                          f"{escape(host)} can predict, register and delete models.[/]", highlight=False)


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
