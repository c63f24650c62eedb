"""Exit codes for errors, decided in this one place."""

from __future__ import annotations

from modelport.foundation.errors import (
    AuthenticationError,
    ConflictError,
    IntegrityError,
    InvalidInputError,
    ModelExecutionError,
    ModelportError,
    NotFoundError,
    PermissionDeniedError,
    UnsafeArtifactError,
    UnsupportedFormatError,
)

#: (error class, exit code); the first match wins, so children come before parents.
EXIT_CODES: tuple[tuple[type[ModelportError], int], ...] = (
    (InvalidInputError, 2),
    (NotFoundError, 3),
    (ConflictError, 4),
    (UnsafeArtifactError, 5),
    (IntegrityError, 6),
    (UnsupportedFormatError, 7),
    (ModelExecutionError, 8),
    (AuthenticationError, 9),
    (PermissionDeniedError, 9),
)


def exit_code(error: ModelportError) -> int:
    """The process exit code for an error (1 when none is more specific)."""
    for cls, code in EXIT_CODES:
        if isinstance(error, cls):
            return code
    return 1
