"""Plain records the registry hands out (no ORM objects leak past the store)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from modelport.signatures.schema import Signature


@dataclass(frozen=True)
class ModelRecord:
    """A registered model name."""

    name: str
    description: str
    tags: dict[str, str]
    created_at: datetime
    updated_at: datetime
    aliases: dict[str, int] = field(default_factory=dict)
    latest_version: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "tags": self.tags,
            "aliases": self.aliases,
            "latest_version": self.latest_version,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass(frozen=True)
class VersionRecord:
    """One immutable version of a model."""

    name: str
    version: int
    flavor: str
    artifact_digest: str
    artifact_size: int
    artifact_name: str
    trusted: bool
    signature: Signature | None
    input_example: Any
    metrics: dict[str, float]
    params: dict[str, Any]
    tags: dict[str, str]
    lineage: dict[str, Any]
    requirements: dict[str, str]
    description: str
    status: str
    registered_by: str
    created_at: datetime
    aliases: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "flavor": self.flavor,
            "artifact": {
                "digest": f"sha256:{self.artifact_digest}",
                "size": self.artifact_size,
                "file": self.artifact_name,
            },
            "trusted": self.trusted,
            "signature": self.signature.to_dict() if self.signature else None,
            "input_example": self.input_example,
            "metrics": self.metrics,
            "params": self.params,
            "tags": self.tags,
            "lineage": self.lineage,
            "requirements": self.requirements,
            "description": self.description,
            "status": self.status,
            "registered_by": self.registered_by,
            "created_at": self.created_at.isoformat(),
            "aliases": list(self.aliases),
        }


@dataclass(frozen=True)
class AliasMove:
    """One move of an alias, kept in its history."""

    alias: str
    from_version: int | None
    to_version: int | None
    actor: str
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "alias": self.alias,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "actor": self.actor,
            "at": self.at.isoformat(),
        }


@dataclass(frozen=True)
class AuditEntry:
    """One management action, as written to the append-only audit log."""

    at: datetime
    actor: str
    action: str
    target: str
    outcome: str
    address: str
    details: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "outcome": self.outcome,
            "address": self.address,
            "details": self.details,
        }
