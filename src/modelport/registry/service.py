"""The registry service: register a model (saved, checked, stored, recorded) and load it back verified."""

from __future__ import annotations

import platform
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modelport.formats import catalog
from modelport.formats.base import FormatAdapter, Predictor, artifact_needs_trust
from modelport.foundation.clock import Clock
from modelport.foundation.errors import InvalidInputError, ModelportError, UnsafeArtifactError
from modelport.foundation.names import Ref, parse_ref, validate_name
from modelport.foundation.settings import Settings
from modelport.registry.examples import example_from_json, example_to_json
from modelport.registry.loaded import LoadedModel
from modelport.registry.records import VersionRecord
from modelport.registry.store import RegistryStore
from modelport.signatures.schema import Signature, infer_signature
from modelport.storage.artifacts import ArtifactStore, StoredArtifact, file_digest
from modelport.storage.database import make_engine, upgrade


class Registry:
    """Models, versions and aliases over one database and one artifact store."""

    def __init__(self, store: RegistryStore, artifacts: ArtifactStore, *, actor: str = "local") -> None:
        self.store = store
        self.artifacts = artifacts
        self.actor = actor

    @classmethod
    def open(cls, settings: Settings | None = None, *, clock: Clock | None = None, actor: str = "local") -> Registry:
        """Open (and migrate) the registry named by `settings` (default: the environment)."""
        settings = settings or Settings.from_env()
        engine = make_engine(settings.db_url)
        upgrade(engine)
        artifacts = ArtifactStore(settings.artifacts_url, settings.home / "cache")
        return cls(RegistryStore(engine, clock), artifacts, actor=actor)

    def close(self) -> None:
        self.store.engine.dispose()

    # --- register -----------------------------------------------------------------------
    def register(
        self,
        model: Any,
        *,
        name: str,
        input_example: Any = None,
        alias: str | None = None,
        metrics: Mapping[str, float] | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        trust: bool = False,
        flavor: str = "auto",
        description: str = "",
        signature: Signature | Mapping[str, Any] | None = None,
        training_data: Any = None,
        code_revision: str | None = None,
        actor: str | None = None,
    ) -> VersionRecord:
        """Save, check and store `model` (a live object or a file path) as the next version of `name`."""
        validate_name(name)
        if alias is not None:
            validate_name(alias, what="alias")
        fields: dict[str, Any] = {
            "metrics": _metrics(metrics),
            "params": _json_map(params, "params"),
            "tags": _tags(tags),
            "description": str(description),
        }
        with tempfile.TemporaryDirectory(prefix="modelport-register-") as temp:
            path, adapter = self._materialise(model, flavor, Path(temp))
            predictor = self._check_trust_and_load(adapter, path, trust)
            sig = _signature(signature, input_example, predictor)
            stored = self.artifacts.put(path)
        fields.update(
            flavor=adapter.flavor,
            artifact_digest=stored.digest,
            artifact_size=stored.size,
            artifact_name=stored.name,
            trusted=bool(trust),
            signature=sig.to_dict() if sig else None,
            input_example=example_to_json(input_example) if input_example is not None else None,
            lineage=_lineage(training_data, code_revision),
            requirements={"python": platform.python_version(), **adapter.requirements()},
        )
        return self.store.create_version(name, fields, alias=alias, actor=actor or self.actor)

    def _materialise(self, model: Any, flavor: str, temp: Path) -> tuple[Path, FormatAdapter]:
        if isinstance(model, (str, Path)):
            path = Path(model)
            if not path.is_file():
                raise InvalidInputError(f"model file {str(model)!r} does not exist or is not a file", field="model")
            adapter = catalog.for_file(path) if flavor == "auto" else catalog.adapter(flavor)
            return path, adapter
        adapter = catalog.for_object(model) if flavor == "auto" else catalog.adapter(flavor)
        if not adapter.accepts(model):
            raise InvalidInputError(
                f"flavor {adapter.flavor!r} cannot save an object of type {type(model).__qualname__}", field="flavor"
            )
        return adapter.save(model, temp), adapter

    def _check_trust_and_load(self, adapter: FormatAdapter, path: Path, trust: bool) -> Predictor:
        if artifact_needs_trust(adapter, path) and not trust:
            raise UnsafeArtifactError(
                f"a {adapter.flavor} artifact can run arbitrary code when loaded, so it is registered only "
                "with an explicit trust decision: pass trust=True (CLI: --trust-pickle) if you trust its source, "
                "or save the model in a safe format (skops for scikit-learn, ONNX, the native XGBoost/LightGBM formats)"
            )
        try:
            return adapter.load(path, trusted=trust)
        except ModelportError:
            raise
        except Exception as exc:
            raise InvalidInputError(
                f"the file does not load as flavor {adapter.flavor!r}: {type(exc).__name__}: {exc}", field="model"
            ) from exc

    # --- read and load ------------------------------------------------------------------
    def resolve(self, ref: str | Ref) -> VersionRecord:
        """The version a ref (`name`, `name@alias`, `name:3`) points at."""
        return self.store.resolve(parse_ref(ref) if isinstance(ref, str) else ref)

    def load(self, ref: str | Ref | VersionRecord) -> LoadedModel:
        """Load a version after checking its artifact's SHA-256."""
        record = ref if isinstance(ref, VersionRecord) else self.resolve(ref)
        artifact = StoredArtifact(record.artifact_digest, record.artifact_size, record.artifact_name)
        path = self.artifacts.open_verified(artifact, label=f"model {record.ref}")
        predictor = catalog.adapter(record.flavor).load(path, trusted=record.trusted)
        return LoadedModel(record, predictor)

    def input_example(self, record: VersionRecord) -> Any:
        """The version's stored input example as data, or None."""
        if record.input_example is None:
            return None
        return example_from_json(record.input_example, record.signature)

    # --- lifecycle ----------------------------------------------------------------------
    def set_alias(self, name: str, version: int, alias: str, *, actor: str | None = None) -> None:
        validate_name(alias, what="alias")
        self.store.set_alias(validate_name(name), alias, version, actor or self.actor)

    def remove_alias(self, name: str, alias: str, *, actor: str | None = None) -> None:
        self.store.set_alias(validate_name(name), validate_name(alias, what="alias"), None, actor or self.actor)

    def archive(self, ref: str, *, actor: str | None = None) -> VersionRecord:
        record = self.resolve(ref)
        return self.store.set_status(record.name, record.version, "archived", actor or self.actor)

    def delete(self, ref: str, *, actor: str | None = None) -> list[str]:
        """Delete a version (`name:3`) or a whole model (`name`); free artifacts no version uses."""
        parsed = parse_ref(ref)
        who = actor or self.actor
        if parsed.alias is not None:
            raise InvalidInputError("delete takes NAME or NAME:VERSION, not an alias", field="ref")
        if parsed.version is not None:
            digests = [self.store.delete_version(parsed.name, parsed.version, who)]
        else:
            digests = self.store.delete_model(parsed.name, who)
        for digest in set(digests):
            if not self.store.digest_in_use(digest):
                self.artifacts.delete(digest)
        return [f"{parsed}"]


def _signature(given: Signature | Mapping[str, Any] | None, example: Any, predictor: Predictor) -> Signature | None:
    if isinstance(given, Signature):
        return given
    if given is not None:
        return Signature.from_dict(dict(given))
    if example is None:
        native = getattr(predictor, "native_signature", None)
        return native if isinstance(native, Signature) else None
    inferred = infer_signature(example, classes=predictor.classes)
    from modelport.signatures.validate import validate

    data = validate(inferred, example).data
    try:
        output = predictor.predict(data)
    except Exception as exc:
        raise InvalidInputError(
            f"the model fails to predict on its input example: {type(exc).__name__}: {exc}", field="input_example"
        ) from exc
    return infer_signature(example, output=output, classes=predictor.classes)


def _metrics(metrics: Mapping[str, float] | None) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in (metrics or {}).items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidInputError(f"metric {key!r}: expected a number, got {value!r}", field=f"metrics.{key}")
        out[str(key)] = float(value)
    return out


def _tags(tags: Mapping[str, str] | None) -> dict[str, str]:
    if tags is not None and not isinstance(tags, Mapping):
        raise InvalidInputError("tags: expected a mapping of strings", field="tags")
    return {str(k): str(v) for k, v in (tags or {}).items()}


def _json_map(values: Mapping[str, Any] | None, field: str) -> dict[str, Any]:
    import orjson

    try:
        return dict(orjson.loads(orjson.dumps(dict(values or {}), option=orjson.OPT_SERIALIZE_NUMPY)))
    except (TypeError, orjson.JSONEncodeError) as exc:
        raise InvalidInputError(f"{field}: values must be JSON-serialisable ({exc})", field=field) from exc


def _lineage(training_data: Any, code_revision: str | None) -> dict[str, Any]:
    lineage: dict[str, Any] = {"code_revision": code_revision or _git_revision()}
    if isinstance(training_data, (str, Path)) and Path(training_data).is_file():
        digest, size = file_digest(Path(training_data))
        lineage.update(data_uri=str(Path(training_data).resolve()), data_digest=f"sha256:{digest}", data_bytes=size)
    elif isinstance(training_data, str):
        lineage["data_uri"] = training_data
    elif training_data is not None:
        lineage["data_digest"] = _frame_digest(training_data)
    return lineage


def _frame_digest(data: Any) -> str:
    import hashlib

    import numpy as np
    import pandas as pd

    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(np.asarray(data))
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    names = ",".join(map(str, frame.columns)).encode()
    return "sha256:" + hashlib.sha256(names + hashed.tobytes()).hexdigest()


def _git_revision() -> str | None:
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None
