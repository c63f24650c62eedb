"""PyTorch: TorchScript, `torch.export` programs, and state-dict checkpoints packaged with their module class.

TorchScript (`torch.jit.save`) and `.pt2` (`torch.export.save`) archives hold a
graph and tensors, loaded without unpickling arbitrary objects: no trust needed.
A state-dict checkpoint is only tensors (read with `torch.load(weights_only=True)`,
never the unsafe fallback), but the module class that gives them meaning is Python
code shipped in the archive and executed at load: that variant needs trust, which
`needs_trust_for(path)` reports per artifact.

torch is imported inside the functions only, so `import modelport` stays light.
"""

from __future__ import annotations

import json
import sys
import tempfile
import warnings
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from modelport.formats.base import package_versions, read_head, require
from modelport.formats.python import (
    ARCHIVE_VERSION,
    Unpacked,
    class_source,
    refuse_untrusted,
    sniff_manifest,
    write_code_archive,
)
from modelport.foundation.errors import InvalidInputError, UnsupportedFormatError

STATE_DICT_FILE = "state_dict.pt"
#: an instance attribute naming the keyword arguments its class must be rebuilt with
INIT_KWARGS_ATTRIBUTE = "modelport_init_kwargs"


def _torch_loaded() -> Any:
    # An object can only be a torch object if torch is already imported: never import it just to check.
    return sys.modules.get("torch")


def artifact_kind(path: Path) -> str | None:
    """'torchscript', 'export', 'state_dict' (code archive), 'pickle' (a bare torch.save file) or None."""
    manifest = sniff_manifest(path)
    if manifest is not None:
        return "state_dict" if manifest.get("flavor") == "torch" else None
    if read_head(path, 4) != b"PK\x03\x04":
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except zipfile.BadZipFile:
        return None
    tails = {name.split("/", 1)[-1] for name in names}
    if "archive_format" in tails or "models/model.json" in tails:
        return "export"
    if "constants.pkl" in tails and any(t.startswith("code/") for t in tails):
        return "torchscript"
    return "pickle" if "data.pkl" in tails else None


class TorchPredictor:
    """A module run under `torch.inference_mode`; tabular input becomes one float tensor."""

    def __init__(self, module: Any) -> None:
        self.module = module
        self._dtype = _parameter_dtype(module)

    def _tensor(self, data: Any) -> Any:
        import torch

        array = data.to_numpy() if isinstance(data, pd.DataFrame) else np.asarray(data)
        tensor = torch.from_numpy(np.require(array, requirements=["C", "W"]))  # copies only read-only input
        # float64 frames meet float32 weights: cast floats to the weights' dtype, keep integer ids as they are
        return tensor.to(self._dtype) if tensor.is_floating_point() else tensor

    def predict(self, data: Any) -> np.ndarray:
        import torch

        with torch.inference_mode():
            output = self.module(self._tensor(data))
        if isinstance(output, (tuple, list)):
            output = output[0]
        return np.asarray(output.detach().cpu().numpy())

    def predict_proba(self, data: Any) -> np.ndarray | None:
        return None

    @property
    def classes(self) -> list[Any] | None:
        return None


def _parameter_dtype(module: Any) -> Any:
    import torch

    for parameter in module.parameters():
        if parameter.is_floating_point():
            return parameter.dtype
    return torch.float32


def package_state_dict(module: Any, path: str | Path, *, init_kwargs: Mapping[str, Any] | None = None) -> Path:
    """Write `module`'s class source and `torch.save(module.state_dict())` as one code archive at `path`."""
    import torch

    kwargs = dict(init_kwargs if init_kwargs is not None else getattr(module, INIT_KWARGS_ATTRIBUTE, {}) or {})
    try:
        json.dumps(kwargs)
    except TypeError as exc:
        raise InvalidInputError(f"init_kwargs must be JSON values: {exc}", field="init_kwargs") from exc
    cls = type(module)
    name, source = class_source(cls)
    manifest = {"flavor": "torch", "format": ARCHIVE_VERSION, "module": name, "class": cls.__qualname__,
                "init_kwargs": kwargs}
    with tempfile.TemporaryDirectory(prefix="modelport-torch-") as temp:
        weights = Path(temp) / STATE_DICT_FILE
        torch.save(module.state_dict(), weights)
        return write_code_archive(Path(path), manifest, source, {STATE_DICT_FILE: weights})


class TorchAdapter:
    """TorchScript modules, `ExportedProgram`s, and plain `nn.Module`s (as state dict + class source)."""

    flavor: ClassVar[str] = "torch"
    #: the class-level answer is for graphs; state-dict archives need trust (see needs_trust_for)
    needs_trust: ClassVar[bool] = False

    def accepts(self, obj: Any) -> bool:
        torch = _torch_loaded()
        if torch is None:
            return False
        return isinstance(obj, (torch.jit.ScriptModule, torch.export.ExportedProgram, torch.nn.Module))

    def save(self, obj: Any, directory: Path) -> Path:
        import torch

        if isinstance(obj, torch.jit.ScriptModule):
            path = directory / "model.pt"
            with _torchscript_is_supported():
                torch.jit.save(obj, str(path))
            return path
        if isinstance(obj, torch.export.ExportedProgram):
            path = directory / "model.pt2"
            torch.export.save(obj, str(path))
            return path
        return package_state_dict(obj, directory / "model.tar")

    def sniff(self, path: Path) -> bool:
        return artifact_kind(path) is not None

    def needs_trust_for(self, path: Path) -> bool:
        """True for state-dict archives, whose module class is code run at load."""
        return artifact_kind(path) == "state_dict"

    def load(self, path: Path, *, trusted: bool = False) -> TorchPredictor:
        kind = artifact_kind(path)
        if kind == "torchscript":
            return TorchPredictor(_load_torchscript(path))
        if kind == "export":
            return TorchPredictor(_load_exported(path))
        if kind == "state_dict":
            if not trusted:
                refuse_untrusted(path, "a PyTorch module class (Python code) beside its state dict")
            return TorchPredictor(_load_state_dict_archive(path))
        if kind == "pickle":
            raise UnsupportedFormatError(
                f"{path.name} is a bare torch.save file; its meaning needs the module class: save the model "
                "with torch.jit.save / torch.export.save, or package the state dict with its class using "
                "modelport.formats.torch.package_state_dict(module, 'model.tar')")
        raise UnsupportedFormatError(f"{path.name} is not a TorchScript, torch.export (.pt2) or state-dict archive")

    def requirements(self) -> dict[str, str]:
        return package_versions("torch", "numpy")


def _load_torchscript(path: Path) -> Any:
    torch = require("torch", "torch")
    with _torchscript_is_supported():
        module = torch.jit.load(str(path), map_location="cpu")
    module.eval()
    return module


@contextmanager
def _torchscript_is_supported() -> Iterator[None]:
    """Silence torch's deprecation of TorchScript: existing TorchScript files are a format we keep serving."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.jit.*deprecated", category=DeprecationWarning)
        yield


def _load_exported(path: Path) -> Any:
    torch = require("torch", "torch")
    return torch.export.load(str(path)).module()


def _load_state_dict_archive(path: Path) -> Any:
    torch = require("torch", "torch")
    unpacked = Unpacked(path)
    cls = unpacked.load_class()
    kwargs = (unpacked.manifest or {}).get("init_kwargs") or {}
    module = cls(**kwargs)
    state = torch.load(unpacked.root / STATE_DICT_FILE, map_location="cpu", weights_only=True)
    module.load_state_dict(state)
    module.eval()
    return module
