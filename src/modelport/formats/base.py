"""The small protocol every model-format adapter obeys."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Predictor(Protocol):
    """A loaded model: what serving, batch and `modelport.load` call."""

    def predict(self, data: Any) -> np.ndarray:
        """Predictions for a batch (a DataFrame for tabular models, an array for tensors)."""
        ...

    def predict_proba(self, data: Any) -> np.ndarray | None:
        """Class probabilities, or None when the model has none."""
        ...

    @property
    def classes(self) -> list[Any] | None:
        """Class labels in the order of `predict_proba`'s columns, or None."""
        ...


class FormatAdapter(Protocol):
    """Saves live objects to one artifact file, recognises files, and loads them."""

    flavor: ClassVar[str]
    #: True when loading can execute code that came with the artifact.
    needs_trust: ClassVar[bool]

    def accepts(self, obj: Any) -> bool:
        """True when `save` knows how to write this live object."""
        ...

    def save(self, obj: Any, directory: Path) -> Path:
        """Write `obj` as one file in `directory` and return its path."""
        ...

    def sniff(self, path: Path) -> bool:
        """True when the file at `path` is in this format (by content, then name)."""
        ...

    def load(self, path: Path, *, trusted: bool = False) -> Predictor:
        """Load the artifact at `path`; `trusted` is the trust decision recorded at registration."""
        ...

    def requirements(self) -> dict[str, str]:
        """The framework packages and versions this format needs at load time."""
        ...


def artifact_needs_trust(adapter: FormatAdapter, path: Path) -> bool:
    """Whether loading this artifact runs code from it: the adapter's per-file answer when it has one.

    Adapters whose formats mix safe and code-carrying variants (torch: graphs vs. a state dict with
    its module class) define `needs_trust_for(path)`; the rest answer with the class-level `needs_trust`.
    """
    per_file = getattr(adapter, "needs_trust_for", None)
    return bool(per_file(path)) if callable(per_file) else bool(adapter.needs_trust)


def require(module: str, extra: str) -> Any:
    """Import a framework module, or say which extra installs it."""
    import importlib

    from modelport.foundation.errors import UnsupportedFormatError

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise UnsupportedFormatError(
            f"this model needs {module!r}, which is not installed; install it with: pip install 'modelport[{extra}]'"
        ) from exc


def read_head(path: Path, size: int = 512) -> bytes:
    """The first bytes of a file, for content sniffing."""
    with path.open("rb") as handle:
        return handle.read(size)


def package_versions(*names: str) -> dict[str, str]:
    """Installed versions of the named distributions (missing ones are left out)."""
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str] = {}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def class_labels(model: Any) -> list[Any] | None:
    """A classifier's labels as plain Python values, or None."""
    classes = getattr(model, "classes_", None)
    if classes is None:
        return None
    return [c.item() if isinstance(c, np.generic) else c for c in np.asarray(classes)]
