"""Reference profiles in the artifact store, keyed by digest, recorded per model version."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from modelport.foundation.clock import Clock, SystemClock
from modelport.foundation.errors import InvalidInputError, ModelportError, NotFoundError
from modelport.monitoring.outputs import output_frame
from modelport.monitoring.profiles import (
    ReferenceProfile,
    as_frame,
    build_profile,
    profile_from_bytes,
    profile_to_bytes,
)
from modelport.registry.records import VersionRecord
from modelport.registry.service import Registry
from modelport.storage.artifacts import ArtifactStore, StoredArtifact
from modelport.storage.schema import monitoring_references

PROFILE_FILE = "reference-profile.npz"


@dataclass(frozen=True)
class ReferenceInfo:
    """Where a version's reference profile is stored."""

    model: str
    version: int
    digest: str
    size: int
    rows: int
    source: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "version": self.version, "digest": f"sha256:{self.digest}", "size": self.size,
                "rows": self.rows, "source": self.source, "created_at": self.created_at.isoformat()}


class ReferenceStore:
    """Save and load reference profiles (artifact store + the `monitoring_references` table)."""

    def __init__(self, engine: Engine, artifacts: ArtifactStore, clock: Clock | None = None) -> None:
        self.engine = engine
        self.artifacts = artifacts
        self.clock = clock or SystemClock()

    def save(self, model: str, version: int, profile: ReferenceProfile, *, source: str = "registration") -> ReferenceInfo:
        """Store `profile` as the reference of `model:version` (replacing any earlier one)."""
        with tempfile.TemporaryDirectory(prefix="modelport-profile-") as temp:
            path = Path(temp) / PROFILE_FILE
            path.write_bytes(profile_to_bytes(profile))
            stored = self.artifacts.put(path)
        info = ReferenceInfo(model, version, stored.digest, stored.size, profile.rows, source[:200], self.clock.now())
        table = monitoring_references
        with self.engine.begin() as conn:
            conn.execute(delete(table).where(table.c.model == model, table.c.version == version))
            conn.execute(insert(table).values(model=model, version=version, digest=info.digest, size=info.size,
                                              rows=info.rows, source=info.source, created_at=info.created_at))
        return info

    def info(self, model: str, version: int | None = None) -> ReferenceInfo:
        """The reference of `model:version`, or of the newest version that has one."""
        table = monitoring_references
        query = select(table).where(table.c.model == model).order_by(table.c.version.desc()).limit(1)
        if version is not None:
            query = query.where(table.c.version == version)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            target = f"{model}:{version}" if version is not None else model
            raise NotFoundError(
                f"no reference data for {target}: register the version with reference_data=DATAFRAME "
                "(CLI: models register --reference FILE) or set one from a window of the log")
        return ReferenceInfo(row["model"], row["version"], row["digest"], row["size"], row["rows"], row["source"],
                             row["created_at"])

    def load(self, model: str, version: int | None = None) -> tuple[ReferenceInfo, ReferenceProfile]:
        """The reference profile of `model:version` (or the newest one), its digest verified."""
        info = self.info(model, version)
        artifact = StoredArtifact(info.digest, info.size, PROFILE_FILE)
        path = self.artifacts.open_verified(artifact, label=f"reference profile of {model}:{info.version}")
        return info, profile_from_bytes(path.read_bytes())


def profile_with_outputs(registry: Registry, record: VersionRecord, data: Any,
                         categorical: set[str] | None = None) -> ReferenceProfile:
    """Profile `data` together with the version's predictions on it (for prediction drift)."""
    frame = as_frame(data, "reference_data")
    loaded = registry.load(record)
    try:
        predictions = loaded.predict(frame)
        probabilities = loaded.predict_proba(frame)
    except ModelportError as exc:
        raise InvalidInputError(f"reference_data does not fit model {record.ref}: {exc}", field="reference_data") from exc
    outputs = output_frame(predictions, probabilities, loaded.classes)
    return build_profile(frame, outputs=outputs, categorical=categorical)


def attach_reference(registry: Registry, record: VersionRecord, data: Any, *,
                     categorical: set[str] | None = None, source: str = "registration") -> ReferenceInfo:
    """Profile `data` (and the model's outputs on it) and store it as the reference of `record`.

    Called right after `Registry.register(...)` by `modelport.register(..., reference_data=df)` and
    `modelport models register --reference FILE`.
    """
    profile = profile_with_outputs(registry, record, data, categorical)
    store = ReferenceStore(registry.store.engine, registry.artifacts, registry.store.clock)
    return store.save(record.name, record.version, profile, source=source)


def check_reference(data: Any, input_example: Any = None, signature: Any = None) -> None:
    """Refuse reference data that the version's signature would refuse, before anything is registered."""
    from modelport.foundation.errors import InvalidInputError, ValidationError
    from modelport.signatures.schema import Signature, as_frame, infer_signature
    from modelport.signatures.validate import validate

    try:
        frame = as_frame(data)
    except InvalidInputError as exc:
        raise InvalidInputError(f"reference_data: {exc.message}", field="reference_data") from exc
    if len(frame) == 0:
        raise InvalidInputError("reference_data: no rows; give a sample of the training inputs", field="reference_data")
    if isinstance(signature, Signature):
        expected = signature
    elif signature is not None:
        expected = Signature.from_dict(dict(signature))
    else:
        expected = infer_signature(input_example if input_example is not None else frame)
    if expected.tensor is not None:
        return
    try:
        validate(expected, frame, collect=True)  # only structural problems refuse a reference
    except ValidationError as exc:
        raise InvalidInputError(f"reference_data: {exc.message}", field="reference_data") from exc
