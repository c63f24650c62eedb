"""The one exception tree of modelport.

Every error says what went wrong, where, and how to fix it. Transports map these
classes to status codes (HTTP) or exit codes (CLI) in one place each.
"""

from __future__ import annotations


class ModelportError(Exception):
    """Base class of every error modelport raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInputError(ModelportError):
    """A caller gave a value that breaks a rule (a name, a ref, a flag)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ValidationError(InvalidInputError):
    """Data does not match a model's signature; `field` names the column or input."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"input '{field}': {reason}", field=field)
        self.reason = reason


class LimitExceededError(InvalidInputError):
    """A request is larger than a configured bound (rows, tensor elements, string length)."""


class NotFoundError(ModelportError):
    """A model, version, alias or other named thing does not exist."""


class ConflictError(ModelportError):
    """The action clashes with the current state (a name taken, a version in use)."""


class IntegrityError(ModelportError):
    """Stored bytes do not match the digest they were registered with."""


class UnsafeArtifactError(ModelportError):
    """An artifact would run code or escape the store unless explicitly trusted."""


class UnsupportedFormatError(ModelportError):
    """No adapter knows how to save or load the given model or file."""


class ModelExecutionError(ModelportError):
    """A model raised while predicting; the message names the model and version."""


class PermissionDeniedError(ModelportError):
    """The caller is authenticated but lacks the scope for the action."""


class AuthenticationError(ModelportError):
    """The caller gave no credential, or one that is not valid."""


class OverloadedError(ModelportError):
    """The server is at capacity; retry after `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DeadlineExceededError(ModelportError):
    """A request's deadline passed before it could be answered."""


__all__ = [
    "AuthenticationError",
    "ConflictError",
    "DeadlineExceededError",
    "IntegrityError",
    "InvalidInputError",
    "LimitExceededError",
    "ModelExecutionError",
    "ModelportError",
    "NotFoundError",
    "OverloadedError",
    "PermissionDeniedError",
    "UnsafeArtifactError",
    "UnsupportedFormatError",
    "ValidationError",
]
