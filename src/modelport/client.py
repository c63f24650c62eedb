"""The Python API: `modelport.register`, `modelport.load` and `modelport.Client`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modelport.foundation.settings import Settings
from modelport.registry.loaded import LoadedModel
from modelport.registry.records import AliasMove, AuditEntry, ModelRecord, VersionRecord
from modelport.registry.service import Registry


class Client:
    """Lists, shows, aliases, archives and deletes registered models.

    >>> client = modelport.Client()            # MODELPORT_HOME / MODELPORT_DB_URL
    >>> client.set_alias("churn", 2, "champion")
    """

    def __init__(
        self, settings: Settings | None = None, *, home: str | Path | None = None, actor: str = "local"
    ) -> None:
        if home is not None:
            settings = Settings.at(home)
        self.registry = Registry.open(settings, actor=actor)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release database connections."""
        self.registry.close()

    def register(self, model: Any, *, reference_data: Any = None, **options: Any) -> VersionRecord:
        """Register a model; see `modelport.register` for the options."""
        return register_into(self.registry, model, reference_data=reference_data, **options)

    def load(self, ref: str) -> LoadedModel:
        """Load a version by ref, its artifact digest verified."""
        return self.registry.load(ref)

    def list_models(self) -> list[ModelRecord]:
        return self.registry.store.list_models()

    def get_model(self, name: str) -> ModelRecord:
        return self.registry.store.get_model(name)

    def list_versions(self, name: str, *, include_archived: bool = False) -> list[VersionRecord]:
        return self.registry.store.list_versions(name, include_archived=include_archived)

    def get_version(self, ref: str) -> VersionRecord:
        """The version a ref (`name`, `name@alias`, `name:3`) points at."""
        return self.registry.resolve(ref)

    def set_alias(self, name: str, version: int, alias: str) -> None:
        """Point `alias` at `version`, atomically."""
        self.registry.set_alias(name, version, alias)

    def remove_alias(self, name: str, alias: str) -> None:
        self.registry.remove_alias(name, alias)

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasMove]:
        return self.registry.store.alias_history(name, alias)

    def update_model(self, name: str, *, description: str | None = None, tags: Mapping[str, str] | None = None) -> None:
        self.registry.store.update_model(name, description=description, tags=tags)

    def archive(self, ref: str) -> VersionRecord:
        """Hide a version from default listings without deleting it."""
        return self.registry.archive(ref)

    def delete(self, ref: str) -> None:
        """Delete `name:N`, or a whole model; refused while an alias points at it."""
        self.registry.delete(ref)

    def audit(self, limit: int = 100) -> list[AuditEntry]:
        return self.registry.store.audit_entries(limit)


def register_into(registry: Registry, model: Any, *, reference_data: Any = None, **options: Any) -> VersionRecord:
    """Register into an open registry, with the drift reference profiled and stored when given."""
    if reference_data is None:
        return registry.register(model, **options)
    from modelport.monitoring.references import attach_reference, check_reference

    check_reference(reference_data, options.get("input_example"), options.get("signature"))
    record = registry.register(model, **options)
    attach_reference(registry, record, reference_data)
    return record


def register(model: Any, *, name: str, **options: Any) -> VersionRecord:
    """Register `model` (a live estimator or a file path) as the next version of `name`.

    Options: input_example, alias, metrics, params, tags, trust, flavor, description,
    signature, training_data, code_revision, reference_data (a sample of the training
    inputs, profiled and kept as the drift reference of this version).
    """
    with Client() as client:
        return client.register(model, name=name, **options)


def load(ref: str) -> LoadedModel:
    """Load `name`, `name@alias` or `name:3`; the model has `.predict`, `.signature`, `.version`."""
    with Client() as client:
        return client.load(ref)
