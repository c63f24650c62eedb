"""PyTorch: TorchScript and torch.export load without trust; a state dict with its class needs it."""

from __future__ import annotations

import os
import pickle
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from modelport.formats.base import artifact_needs_trust
from modelport.formats.python import MANIFEST
from modelport.formats.torch import STATE_DICT_FILE, TorchAdapter, artifact_kind, package_state_dict
from modelport.foundation.errors import UnsafeArtifactError, UnsupportedFormatError
from modelport.registry.service import Registry

from .conftest import script


def _outputs(module: Any, x: np.ndarray) -> np.ndarray:
    import torch

    with torch.inference_mode():
        return np.asarray(module(torch.tensor(x, dtype=torch.float32)).numpy())


def test_each_variant_is_sniffed_and_only_the_state_dict_needs_trust(iris_net: Any, tmp_path: Path) -> None:
    import torch

    adapter = TorchAdapter()
    exported = torch.export.export(iris_net, (torch.zeros(2, 4),), dynamic_shapes={"x": {0: torch.export.Dim("n")}})
    kinds = {}
    for name, obj in (("script", script(iris_net)), ("export", exported), ("state", iris_net)):
        folder = tmp_path / name
        folder.mkdir()
        path = adapter.save(obj, folder)
        kinds[name] = (artifact_kind(path), artifact_needs_trust(adapter, path))
    assert kinds == {"script": ("torchscript", False), "export": ("export", False), "state": ("state_dict", True)}


def test_state_dict_archive_rebuilds_the_module_with_its_kwargs(iris_net: Any, iris: Any, tmp_path: Path) -> None:
    x = iris[0].to_numpy()
    path = package_state_dict(iris_net, tmp_path / "net.tar")
    loaded = TorchAdapter().load(path, trusted=True)
    np.testing.assert_allclose(loaded.predict(iris[0]), _outputs(iris_net, x), rtol=0, atol=1e-6)
    assert loaded.classes is None and loaded.predict_proba(x) is None


def test_state_dict_without_trust_is_refused_at_registration(iris_net: Any, sqlite_registry: Registry) -> None:
    with pytest.raises(UnsafeArtifactError, match="trust=True"):
        sqlite_registry.register(iris_net, name="net")


def test_state_dict_is_read_weights_only_never_unpickled(iris_net: Any, tmp_path: Path) -> None:
    # A state_dict.pt that pickles an arbitrary callable must fail even when trusted.
    import torch

    path = package_state_dict(iris_net, tmp_path / "net.tar")
    evil = tmp_path / "evil"
    evil.mkdir()
    with tarfile.open(path) as archive:
        archive.extractall(evil, filter="data")
    torch.save(Exploit(tmp_path / "pwned"), evil / STATE_DICT_FILE)
    forged = tmp_path / "forged.tar"
    with tarfile.open(forged, "w", format=tarfile.PAX_FORMAT) as archive:
        for name in (MANIFEST, "code/torch_models.py", STATE_DICT_FILE):
            archive.add(evil / name, arcname=name)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        TorchAdapter().load(forged, trusted=True)
    assert not (tmp_path / "pwned").exists()


class Exploit:
    """Unpickling this would create a folder: its absence proves weights_only refused it."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.mkdir, (str(self.target),))


def test_a_bare_torch_save_file_gets_guidance(iris_net: Any, tmp_path: Path) -> None:
    import torch

    path = tmp_path / "weights.pt"
    torch.save(iris_net.state_dict(), path)
    assert artifact_kind(path) == "pickle"
    with pytest.raises(UnsupportedFormatError, match="package_state_dict"):
        TorchAdapter().load(path)


def test_a_corrupted_torchscript_file_gets_a_clear_error(iris_net: Any, sqlite_registry: Registry,
                                                         tmp_path: Path) -> None:
    good = TorchAdapter().save(script(iris_net), tmp_path)
    broken = tmp_path / "broken.pt"
    broken.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(UnsupportedFormatError, match="not a TorchScript"):
        sqlite_registry.register(broken, name="broken", flavor="torch")
    with pytest.raises(UnsupportedFormatError, match="cannot tell the format"):
        sqlite_registry.register(broken, name="broken")


def test_torch_objects_are_not_claimed_without_torch(iris_net: Any) -> None:
    adapter = TorchAdapter()
    assert adapter.accepts(iris_net)
    assert not adapter.accepts(object())
