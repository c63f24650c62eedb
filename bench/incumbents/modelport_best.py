"""modelport with its best settings for this benchmark, through the public Python serving API.

Differs from `modelport serve REF --no-auth` only in options a user can set: no per-request access
log, no prediction log (no incumbent records predictions; modelport's defaults do, for monitoring)
and WARNING log level; the batcher's options can be given below.
Usage: python -m bench.incumbents.modelport_best REF PORT [MAX_WAIT_MS]
"""

from __future__ import annotations

import sys


def main(ref: str, port: int, max_wait_ms: float = 0.0) -> None:
    """Serve `ref` on 127.0.0.1:`port` until SIGTERM."""
    from modelport.http.server import serve
    from modelport.serving.config import ModelConfig, ServerConfig

    config = ServerConfig(model_defaults=ModelConfig(max_batch_size=64, max_wait_ms=max_wait_ms), access_log=False,
                          prediction_log=False)
    serve([ref], host="127.0.0.1", port=port, config=config, no_auth=True, log_level="WARNING")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]) if len(sys.argv) > 3 else 0.0)
