"""scikit-learn: skops (safe, the default) and joblib/pickle (only with an explicit trust decision)."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from modelport.formats.base import class_labels, package_versions, read_head
from modelport.formats.forest import ForestPredictor
from modelport.formats.linear import LinearPredictor
from modelport.formats.skops_io import skops_io
from modelport.foundation.errors import UnsafeArtifactError


class EstimatorPredictor:
    """Wraps any object with a scikit-learn style `predict` (and maybe `predict_proba`)."""

    def __init__(self, model: Any, *, wants_names: bool | None = None) -> None:
        self.model = model
        # An estimator fitted on a bare array warns (XGBoost refuses) when given named columns: give it an array.
        self._wants_names = hasattr(model, "feature_names_in_") if wants_names is None else wants_names
        # forests and linear classifiers: the same answers as their own predict, many times faster on
        # few rows (formats/forest.py, formats/linear.py)
        self._fast: ForestPredictor | LinearPredictor | None = (
            ForestPredictor(model) if ForestPredictor.supports(model) else LinearPredictor.of(model))

    def _prepare(self, data: Any) -> Any:
        if isinstance(data, pd.DataFrame) and not self._wants_names:
            return data.to_numpy()
        return data

    def _fast_input(self, data: Any) -> Any:
        """`data` when a fast path may take it: arrays, or frames as arrays (with the fitted column names, if any)."""
        if isinstance(data, pd.DataFrame):
            if self._wants_names:
                names = getattr(self.model, "feature_names_in_", None)
                if names is None or list(data.columns) != list(names):
                    return None  # scikit-learn's own name checks and messages
            # A linear model reads a frame's columns where they lie (batch scoring's frames: one copy fewer);
            # the others get what the model's own path is given (`_prepare`).
            return data if isinstance(self._fast, LinearPredictor) else data.to_numpy()
        if isinstance(data, np.ndarray) and hasattr(self.model, "feature_names_in_"):
            return None  # scikit-learn warns that the array has no feature names: its own path
        return data

    def predict(self, data: Any) -> np.ndarray:
        if self._fast is not None and (ready := self._fast_input(data)) is not None:
            fast = self._fast.predict(ready)
            if fast is not None:
                return fast
        return np.asarray(self.model.predict(self._prepare(data)))

    def predict_proba(self, data: Any) -> np.ndarray | None:
        if not hasattr(self.model, "predict_proba"):
            return None
        if self._fast is not None and (ready := self._fast_input(data)) is not None:
            fast = self._fast.predict_proba(ready)
            if fast is not None:
                return fast
        return np.asarray(self.model.predict_proba(self._prepare(data)))

    @property
    def classes(self) -> list[Any] | None:
        return class_labels(self.model)


def _sklearn_class(name: str) -> bool:
    """Classes defined by scikit-learn itself (e.g. sklearn.tree._tree.Tree), which skops 0.16
    leaves out of its default list; functions and other packages' types stay untrusted."""
    module, _, leaf = name.rpartition(".")
    return module.split(".")[0] == "sklearn" and leaf[:1].isupper()


def is_estimator(obj: Any) -> bool:
    """True for scikit-learn estimators and pipelines (anything with fit and predict)."""
    module = type(obj).__module__
    return hasattr(obj, "predict") and hasattr(obj, "fit") and module.startswith("sklearn")


class SkopsAdapter:
    """The safe default for scikit-learn: skops loads only types it trusts."""

    flavor: ClassVar[str] = "sklearn"
    needs_trust: ClassVar[bool] = False

    def accepts(self, obj: Any) -> bool:
        return is_estimator(obj)

    def save(self, obj: Any, directory: Path) -> Path:
        sio = skops_io()

        path = directory / "model.skops"
        sio.dump(obj, path)
        return path

    def sniff(self, path: Path) -> bool:
        # A skops file is a zip archive holding a schema.json.
        if read_head(path, 4) != b"PK\x03\x04":
            return False
        import zipfile

        try:
            with zipfile.ZipFile(path) as archive:
                return "schema.json" in archive.namelist()
        except zipfile.BadZipFile:  # a truncated or corrupted zip is not a skops file
            return False

    def untrusted_types(self, path: Path) -> list[str]:
        """Types in the file that neither skops nor modelport trusts by default."""
        sio = skops_io()

        return [t for t in sio.get_untrusted_types(file=path) if not _sklearn_class(t)]

    def load(self, path: Path, *, trusted: bool = False) -> EstimatorPredictor:
        sio = skops_io()

        listed = list(sio.get_untrusted_types(file=path))
        extra = [t for t in listed if not _sklearn_class(t)]
        if extra and not trusted:
            raise UnsafeArtifactError(
                f"the skops file holds types that are not trusted by default: {', '.join(extra)}; "
                "register it with trust=True (--trust-pickle) if you trust where it came from"
            )
        return EstimatorPredictor(sio.load(path, trusted=listed or None))

    def requirements(self) -> dict[str, str]:
        return package_versions("scikit-learn", "skops", "numpy")


class PickleAdapter:
    """joblib and pickle files: loading runs arbitrary code, so trust must be explicit."""

    flavor: ClassVar[str] = "pickle"
    needs_trust: ClassVar[bool] = True

    def accepts(self, obj: Any) -> bool:
        return hasattr(obj, "predict")

    def save(self, obj: Any, directory: Path) -> Path:
        import joblib

        path = directory / "model.joblib"
        joblib.dump(obj, path)
        return path

    def sniff(self, path: Path) -> bool:
        head = read_head(path, 2)
        is_pickle = len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5
        return is_pickle or path.suffix.lower() in (".pkl", ".pickle", ".joblib")

    def load(self, path: Path, *, trusted: bool = False) -> EstimatorPredictor:
        if not trusted:
            raise UnsafeArtifactError(
                f"{path.name} is a pickle: loading it can run any code; it loads only when its "
                "version was registered with trust=True (--trust-pickle)"
            )
        try:
            import joblib

            return EstimatorPredictor(joblib.load(path))
        except ImportError:  # joblib ships with scikit-learn; plain pickle otherwise
            with path.open("rb") as handle:
                return EstimatorPredictor(pickle.load(handle))  # noqa: S301 - trusted above

    def requirements(self) -> dict[str, str]:
        return package_versions("scikit-learn", "joblib", "numpy")
