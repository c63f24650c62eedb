"""skops.io, imported without pulling in PyTorch.

Importing skops.io builds its list of trusted types with scikit-learn's `all_estimators`, which walks
every scikit-learn package with pkgutil and so imports `sklearn.externals.array_api_compat.torch`, which
imports torch whenever it is installed, only for `all_estimators` to skip it (externals are ignored).
Measured here (torch 2.13 installed): importing skops.io took 3.96 s and 386 MiB with torch, 2.54 s and
207 MiB without, the same trusted types either way. Every process that serves or batch-scores a
scikit-learn model paid that.

So while skops.io is first imported, imports of torch *from this thread* fail as if it were missing
(pkgutil ignores ImportError); other threads import as usual, and torch stays importable afterwards.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

log = logging.getLogger("modelport.formats")
_first_import = threading.Lock()


class _NoTorchInThisThread:
    """A meta path finder that hides torch from one thread."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if threading.get_ident() == self.thread and (name == "torch" or name.startswith("torch.")):
            raise ModuleNotFoundError(f"No module named {name!r} (hidden while skops.io is imported)", name=name)
        return None


def skops_io() -> ModuleType:
    """The `skops.io` module (imported once per process, without torch unless torch is already loaded)."""
    if "skops.io" in sys.modules or "torch" in sys.modules:
        return importlib.import_module("skops.io")
    with _first_import:
        finder = _NoTorchInThisThread()
        sys.meta_path.insert(0, finder)
        try:
            return importlib.import_module("skops.io")
        except Exception as exc:  # an unforeseen reaction to the hidden torch: import as usual below
            log.warning("importing skops.io without torch failed (%s); importing it as usual", exc)
        finally:
            sys.meta_path.remove(finder)
    return importlib.import_module("skops.io")
