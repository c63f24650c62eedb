"""PMML scored in pure Python (no Java): regression, trees, random forests and gradient boosting.

PMML is XML from elsewhere, so it is parsed with DTDs and entities refused; it
describes arithmetic, never code, so it needs no trust decision.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from modelport.formats.base import package_versions, read_head
from modelport.formats.pmml.document import Document, read
from modelport.formats.pmml.models import score
from modelport.signatures.schema import Signature

__all__ = ["PmmlAdapter", "PmmlPredictor"]


class PmmlPredictor:
    """Scores a batch of rows with the document's model, all rows at once."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.native_signature: Signature = document.signature()

    def _score(self, data: Any) -> Any:
        return score(self.document.model, self.document.environment(data), self.document.context)

    def predict(self, data: Any) -> np.ndarray:
        result = self._score(data)
        if self.document.is_classifier:
            return np.asarray(self.document.typed(result.value))
        return np.asarray(result.value, dtype=float)

    def predict_proba(self, data: Any) -> np.ndarray | None:
        if not self.document.is_classifier:
            return None
        return np.asarray(self._score(data).probabilities)

    @property
    def classes(self) -> list[Any] | None:
        if not self.document.is_classifier:
            return None
        return [self.document.typed(c) for c in self.document.context.categories]


class PmmlAdapter:
    """PMML files (`.pmml`, or XML whose root is <PMML>); exported by nyoka, jpmml, sklearn2pmml, R."""

    flavor: ClassVar[str] = "pmml"
    needs_trust: ClassVar[bool] = False

    def accepts(self, obj: Any) -> bool:
        return False  # PMML is produced by exporters as files; register the file

    def save(self, obj: Any, directory: Path) -> Path:
        raise NotImplementedError("PMML models are registered as files")

    def sniff(self, path: Path) -> bool:
        head = read_head(path, 1024).lstrip(b"\xef\xbb\xbf \t\r\n")
        return (head.startswith((b"<?xml", b"<PMML")) and b"<PMML" in head) or path.suffix.lower() == ".pmml"

    def load(self, path: Path, *, trusted: bool = False) -> PmmlPredictor:
        return PmmlPredictor(Document(read(path)))

    def requirements(self) -> dict[str, str]:
        return package_versions("defusedxml", "numpy", "scipy")
