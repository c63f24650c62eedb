"""Custom Python models, packaged with their code: loading runs that code, so trust must be explicit.

The artifact is a plain tar archive (so its first bytes can be sniffed):

    modelport.json      {"flavor": "python", "module": "churn_model", "class": "ChurnModel", ...}
    code/<module>.py    the source file of the module that defines the class
    data/...            optional files; the instance's `load(path)` gets this folder

At load the module source is executed under a private name (so an
`if __name__ == "__main__":` block in a packaged script does not run), the class is
built with no arguments, and `load(data_dir)` is called when the class has one.
The PyTorch state-dict flavor reuses this archive layout for its module class.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import io
import json
import shutil
import sys
import sysconfig
import tarfile
import tempfile
import weakref
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import numpy as np

from modelport.formats.base import package_versions, read_head
from modelport.foundation.errors import InvalidInputError, UnsafeArtifactError
from modelport.storage.archives import extract

MANIFEST = "modelport.json"
ARCHIVE_VERSION = 1


# --- the code archive, shared with the torch state-dict flavor ----------------------------------
def class_source(cls: type) -> tuple[str, str]:
    """The name and source text of the module that defines `cls`, or an error saying why it cannot be packaged."""
    if "<locals>" in cls.__qualname__:
        raise InvalidInputError(
            f"class {cls.__qualname__} is defined inside a function; define it at the top level of a module "
            "so its source can be packaged", field="model")
    module = sys.modules.get(cls.__module__)
    try:
        source = inspect.getsource(module) if module is not None else None
    except (OSError, TypeError):
        source = None
    if module is None or source is None:
        raise InvalidInputError(
            f"cannot read the source of module {cls.__module__!r} (defined in a notebook or an interactive "
            "session?); move the class into a .py file and import it from there", field="model")
    name = cls.__module__
    if name == "__main__":
        name = Path(getattr(module, "__file__", "main_module")).stem
    return name.rpartition(".")[2], source


def is_local_class(cls: type) -> bool:
    """True when `cls` comes from the user's own code, not from an installed package or the standard library."""
    module = sys.modules.get(cls.__module__)
    filename = getattr(module, "__file__", None)
    if not filename:
        return False
    resolved = Path(filename).resolve()
    installed = {sysconfig.get_paths()[key] for key in ("purelib", "platlib", "stdlib", "platstdlib")}
    return not any(resolved.is_relative_to(Path(root).resolve()) for root in installed)


def write_code_archive(path: Path, manifest: Mapping[str, Any], source: str, files: Mapping[str, Path]) -> Path:
    """Write the tar archive: the manifest first (for sniffing), the module source, then `files` (name -> path)."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as archive:
        _add_bytes(archive, MANIFEST, json.dumps(dict(manifest), indent=1).encode())
        _add_bytes(archive, f"code/{manifest['module']}.py", source.encode())
        for name, file in files.items():
            archive.add(file, arcname=name, recursive=True)
    return path


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    archive.addfile(info, io.BytesIO(data))


def sniff_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest of a code archive, read from its first tar block; None for any other file."""
    if read_head(path, 512)[257:262] != b"ustar":
        return None
    try:
        with tarfile.open(path) as archive:
            member = archive.next()  # reads one header (after any PAX header): cheap on a big archive
            if member is None or member.name != MANIFEST or not member.isfile() or member.size > 64 * 1024:
                return None
            handle = archive.extractfile(member)
            data = json.loads(handle.read()) if handle is not None else None
    except (tarfile.TarError, json.JSONDecodeError, UnicodeDecodeError, OSError):
        return None
    return data if isinstance(data, dict) else None


class Unpacked:
    """An extracted code archive in a private temporary folder, removed when this object is collected."""

    def __init__(self, path: Path) -> None:
        self.manifest = sniff_manifest(path)
        if self.manifest is None or "module" not in self.manifest or "class" not in self.manifest:
            raise InvalidInputError(f"{path.name} is not a modelport code archive (no valid {MANIFEST})", field="model")
        self.root = Path(tempfile.mkdtemp(prefix="modelport-code-"))
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.root, True)
        extract(path, self.root)
        self.data_dir.mkdir(exist_ok=True)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def load_class(self) -> type:
        """Execute the packaged module under a private name and return the named class."""
        manifest = self.manifest or {}
        source_file = self.root / "code" / f"{manifest['module']}.py"
        if not source_file.is_file():
            raise InvalidInputError(f"the archive has no code/{manifest['module']}.py", field="model")
        module = _import_file(source_file, manifest["module"])
        target: Any = module
        for part in str(manifest["class"]).split("."):
            target = getattr(target, part, None)
        if not isinstance(target, type):
            raise InvalidInputError(f"module {manifest['module']!r} in the archive defines no class "
                                    f"{manifest['class']!r}", field="model")
        return target


def _import_file(source_file: Path, module: str) -> ModuleType:
    digest = hashlib.sha256(source_file.read_bytes()).hexdigest()[:16]
    name = f"modelport_packaged_{digest}_{module}"
    if name in sys.modules:  # the same code loaded twice: reuse it, classes stay identical
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, source_file)
    if spec is None or spec.loader is None:
        raise InvalidInputError(f"cannot import {source_file.name} from the archive", field="model")
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[name] = loaded  # dataclasses and typing look the module up by name while it runs
    try:
        spec.loader.exec_module(loaded)
    except BaseException:
        del sys.modules[name]
        raise
    return loaded


def refuse_untrusted(path: Path, what: str) -> None:
    """The error for a code archive whose version was registered without trust."""
    raise UnsafeArtifactError(
        f"{path.name} holds {what}: loading it runs that code; it loads only when its version was "
        "registered with trust=True (CLI: --trust-pickle) by someone who trusts its source"
    )


# --- the python flavor --------------------------------------------------------------------------
def package_python_model(model: Any, path: str | Path, *, data: Iterable[str | Path] = ()) -> Path:
    """Package a class (or an instance of it) with its module's source and `data` files as a code archive."""
    cls = model if isinstance(model, type) else type(model)
    if not callable(getattr(cls, "predict", None)):
        raise InvalidInputError(f"class {cls.__qualname__} has no predict(self, data) method", field="model")
    module, source = class_source(cls)
    manifest = {"flavor": "python", "format": ARCHIVE_VERSION, "module": module, "class": cls.__qualname__}
    with tempfile.TemporaryDirectory(prefix="modelport-pack-") as temp:
        files = {f"data/{Path(p).name}": Path(p) for p in data}
        if not isinstance(model, type) and callable(getattr(model, "save", None)):
            saved = Path(temp) / "data"
            saved.mkdir()
            model.save(str(saved))
            files.update({f"data/{p.name}": p for p in saved.iterdir()})
        for file in files.values():
            if not file.exists():
                raise InvalidInputError(f"data file {str(file)!r} does not exist", field="data")
        return write_code_archive(Path(path), manifest, source, files)


class PythonModelPredictor:
    """An instance of the packaged class; its folder of data files lives as long as this object."""

    def __init__(self, instance: Any, unpacked: Unpacked) -> None:
        self.instance = instance
        self._unpacked = unpacked  # keeps the data folder alive for models that read it lazily

    def predict(self, data: Any) -> np.ndarray:
        return np.asarray(self.instance.predict(data))

    def predict_proba(self, data: Any) -> np.ndarray | None:
        method = getattr(self.instance, "predict_proba", None)
        return np.asarray(method(data)) if callable(method) else None

    @property
    def classes(self) -> list[Any] | None:
        labels = getattr(self.instance, "classes_", None)
        return None if labels is None else [v.item() if isinstance(v, np.generic) else v for v in labels]


class PythonModelAdapter:
    """A class with `predict(self, data)` (and optionally `load(self, path)` / `save(self, path)`), with its code."""

    flavor: ClassVar[str] = "python"
    #: the archive carries Python source that is executed at load time
    needs_trust: ClassVar[bool] = True

    def accepts(self, obj: Any) -> bool:
        cls = type(obj)
        if isinstance(obj, type) or not callable(getattr(obj, "predict", None)) or not is_local_class(cls):
            return False
        # Live state is kept only through save()/load(); an instance with other state would be rebuilt wrong.
        return callable(getattr(obj, "load", None)) or not getattr(obj, "__dict__", {})

    def save(self, obj: Any, directory: Path) -> Path:
        return package_python_model(obj, directory / "model.tar")

    def sniff(self, path: Path) -> bool:
        manifest = sniff_manifest(path)
        return manifest is not None and manifest.get("flavor") == "python"

    def load(self, path: Path, *, trusted: bool = False) -> PythonModelPredictor:
        if not trusted:
            refuse_untrusted(path, "Python code")
        unpacked = Unpacked(path)
        instance = unpacked.load_class()()
        if callable(getattr(instance, "load", None)):
            instance.load(str(unpacked.data_dir))
        return PythonModelPredictor(instance, unpacked)

    def requirements(self) -> dict[str, str]:
        return package_versions("numpy", "pandas")
