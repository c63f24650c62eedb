"""modelport: register, serve, roll out, batch-score and monitor machine-learning models.

Importing this package is cheap: no ML or web framework and no I/O. Names are
resolved on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Client": "modelport.client",
    "register": "modelport.client",
    "load": "modelport.client",
    "batch_score": "modelport.batch.job",
    "feedback": "modelport.monitoring.service",
    "Settings": "modelport.foundation.settings",
    "Signature": "modelport.signatures.schema",
    "ModelportError": "modelport.foundation.errors",
    "InvalidInputError": "modelport.foundation.errors",
    "ValidationError": "modelport.foundation.errors",
    "NotFoundError": "modelport.foundation.errors",
    "ConflictError": "modelport.foundation.errors",
    "IntegrityError": "modelport.foundation.errors",
    "UnsafeArtifactError": "modelport.foundation.errors",
    "UnsupportedFormatError": "modelport.foundation.errors",
    "ModelExecutionError": "modelport.foundation.errors",
}

__all__ = sorted([*_EXPORTS, "__version__"])

if TYPE_CHECKING:
    from modelport.batch.job import batch_score
    from modelport.client import Client, load, register
    from modelport.foundation.errors import (
        ConflictError,
        IntegrityError,
        InvalidInputError,
        ModelExecutionError,
        ModelportError,
        NotFoundError,
        UnsafeArtifactError,
        UnsupportedFormatError,
        ValidationError,
    )
    from modelport.foundation.settings import Settings
    from modelport.monitoring.service import feedback
    from modelport.signatures.schema import Signature


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'modelport' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return __all__
