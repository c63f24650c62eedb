"""The list of known formats, imported lazily so that `import modelport` stays light."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from modelport.formats.base import FormatAdapter
from modelport.foundation.errors import UnsupportedFormatError

#: flavor -> "module:Class"; the order is the order of detection.
#: Cheap, certain content checks come first; `pickle` is last because it accepts any object
#: with `predict` (XGBoost and LightGBM wrappers too), and `onnx`'s check is a heuristic.
ADAPTERS: dict[str, str] = {
    "sklearn": "modelport.formats.sklearn:SkopsAdapter",
    "xgboost": "modelport.formats.xgboost:XGBoostAdapter",
    "lightgbm": "modelport.formats.lightgbm:LightGBMAdapter",
    "pmml": "modelport.formats.pmml:PmmlAdapter",
    "torch": "modelport.formats.torch:TorchAdapter",
    "python": "modelport.formats.python:PythonModelAdapter",
    "onnx": "modelport.formats.onnx:OnnxAdapter",
    "pickle": "modelport.formats.sklearn:PickleAdapter",
}


def adapter(flavor: str) -> FormatAdapter:
    """The adapter for `flavor`, or an error listing the supported ones."""
    target = ADAPTERS.get(flavor)
    if target is None:
        raise UnsupportedFormatError(f"unknown flavor {flavor!r}; supported: {', '.join(ADAPTERS)}")
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UnsupportedFormatError(
            f"flavor {flavor!r} needs a package that is not installed ({exc.name}); "
            f"install it with: pip install 'modelport[{_extra(flavor)}]'"
        ) from exc
    instance: FormatAdapter = getattr(module, class_name)()
    return instance


def _extra(flavor: str) -> str:
    return {"pickle": "sklearn", "python": "sklearn"}.get(flavor, flavor)


def _available() -> Iterator[FormatAdapter]:
    """Adapters in detection order, imported one at a time so a match stops the imports."""
    for flavor in ADAPTERS:
        try:
            yield adapter(flavor)
        except UnsupportedFormatError:
            continue


def for_object(obj: Any) -> FormatAdapter:
    """The adapter that can save this live object."""
    for candidate in _available():
        if candidate.accepts(obj):
            return candidate
    raise UnsupportedFormatError(
        f"cannot register an object of type {type(obj).__module__}.{type(obj).__qualname__}; "
        f"supported: {', '.join(ADAPTERS)} (or save it to a file and pass --flavor)"
    )


def for_file(path: Path) -> FormatAdapter:
    """The adapter whose format this file is in, detected from content and name."""
    for candidate in _available():
        if candidate.sniff(path):
            return candidate
    raise UnsupportedFormatError(
        f"cannot tell the format of {path.name!r}; supported flavors: {', '.join(ADAPTERS)}; "
        "pass --flavor to choose one"
    )
