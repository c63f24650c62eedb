"""The registry's database layer: every read and write of models, versions, aliases and audit."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, Engine, Row, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError as DBIntegrityError

from modelport.foundation.clock import Clock, SystemClock
from modelport.foundation.errors import ConflictError, NotFoundError
from modelport.foundation.names import Ref
from modelport.registry.records import AliasMove, AuditEntry, ModelRecord, VersionRecord
from modelport.signatures.schema import Signature
from modelport.storage.database import reader
from modelport.storage.schema import alias_history, aliases, audit_log, deployments, models, versions

DEFAULT_ALIAS = "champion"


def _deployments_using(conn: Connection, model: str, number: int) -> list[str]:
    """Deployments of `model` whose current policy routes or shadows traffic to version `number`."""
    rows = conn.execute(select(deployments.c.name, deployments.c.policy).where(deployments.c.model == model)).all()
    using = []
    for name, policy in rows:
        entries = [*(policy or {}).get("routes", []), *(policy or {}).get("shadows", [])]
        if any(int(entry.get("version", -1)) == number for entry in entries):
            using.append(str(name))
    return using


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class RegistryStore:
    """Transactions over the registry tables; returns plain records."""

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self._read = reader(engine)
        self.clock = clock or SystemClock()

    # --- models -------------------------------------------------------------------------
    def _model_id(self, conn: Connection, name: str) -> int:
        found = conn.execute(select(models.c.id).where(models.c.name == name)).scalar()
        if found is None:
            raise NotFoundError(f"model {name!r} is not registered (see: modelport models list)")
        return int(found)

    def _ensure_model(self, conn: Connection, name: str, description: str, tags: Mapping[str, str]) -> int:
        now = self.clock.now()
        existing = conn.execute(select(models.c.id).where(models.c.name == name)).scalar()
        if existing is not None:
            return int(existing)
        try:
            with conn.begin_nested():
                result = conn.execute(
                    insert(models).values(
                        name=name,
                        description=description,
                        tags=dict(tags),
                        last_version=0,
                        created_at=now,
                        updated_at=now,
                    )
                )
                return int(result.inserted_primary_key[0])  # type: ignore[index]
        except DBIntegrityError:  # created by a concurrent registration: use that one
            return self._model_id(conn, name)

    def get_model(self, name: str) -> ModelRecord:
        with self._read.connect() as conn:
            row = conn.execute(select(models).where(models.c.name == name)).first()
            if row is None:
                raise NotFoundError(f"model {name!r} is not registered (see: modelport models list)")
            return self._model_record(conn, row)

    def list_models(self) -> list[ModelRecord]:
        with self._read.connect() as conn:
            rows = conn.execute(select(models).order_by(models.c.name)).all()
            return [self._model_record(conn, row) for row in rows]

    def _model_record(self, conn: Connection, row: Row[Any]) -> ModelRecord:
        alias_rows = conn.execute(select(aliases.c.alias, aliases.c.version).where(aliases.c.model_id == row.id))
        latest = conn.execute(
            select(func.max(versions.c.version)).where(versions.c.model_id == row.id, versions.c.status == "ready")
        ).scalar()
        return ModelRecord(
            name=row.name,
            description=row.description,
            tags=dict(row.tags or {}),
            created_at=_utc(row.created_at),
            updated_at=_utc(row.updated_at),
            aliases={a: int(v) for a, v in alias_rows},
            latest_version=latest,
        )

    def update_model(self, name: str, *, description: str | None = None, tags: Mapping[str, str] | None = None) -> None:
        values: dict[str, Any] = {"updated_at": self.clock.now()}
        if description is not None:
            values["description"] = description
        if tags is not None:
            values["tags"] = dict(tags)
        with self.engine.begin() as conn:
            conn.execute(update(models).where(models.c.id == self._model_id(conn, name)).values(**values))

    # --- versions -----------------------------------------------------------------------
    def create_version(
        self,
        name: str,
        fields: Mapping[str, Any],
        *,
        alias: str | None,
        actor: str,
        description: str = "",
        model_tags: Mapping[str, str] | None = None,
    ) -> VersionRecord:
        """Allocate the next number and insert the version (and alias) in one transaction."""
        with self.engine.begin() as conn:
            model_id = self._ensure_model(conn, name, description, model_tags or {})
            conn.execute(
                update(models)
                .where(models.c.id == model_id)
                .values(last_version=models.c.last_version + 1, updated_at=self.clock.now())
            )
            number = int(conn.execute(select(models.c.last_version).where(models.c.id == model_id)).scalar_one())
            conn.execute(
                insert(versions).values(
                    model_id=model_id,
                    version=number,
                    status="ready",
                    registered_by=actor,
                    created_at=self.clock.now(),
                    **fields,
                )
            )
            if alias:
                self._move_alias(conn, model_id, alias, number, actor)
            self._audit(
                conn,
                actor,
                "register",
                f"{name}:{number}",
                {
                    "digest": fields["artifact_digest"],
                    "flavor": fields["flavor"],
                    "trusted": fields["trusted"],
                    "alias": alias,
                },
            )
        return self.get_version(name, number)

    def get_version(self, name: str, number: int) -> VersionRecord:
        with self._read.connect() as conn:
            model_id = self._model_id(conn, name)
            row = conn.execute(
                select(versions).where(versions.c.model_id == model_id, versions.c.version == number)
            ).first()
            if row is None:
                raise NotFoundError(f"model {name!r} has no version {number}")
            return self._version_record(conn, name, row)

    def list_versions(self, name: str, *, include_archived: bool = False) -> list[VersionRecord]:
        with self._read.connect() as conn:
            query = select(versions).where(versions.c.model_id == self._model_id(conn, name))
            if not include_archived:
                query = query.where(versions.c.status != "archived")
            rows = conn.execute(query.order_by(versions.c.version)).all()
            return [self._version_record(conn, name, row) for row in rows]

    def _version_record(self, conn: Connection, name: str, row: Row[Any]) -> VersionRecord:
        names = conn.execute(
            select(aliases.c.alias).where(aliases.c.model_id == row.model_id, aliases.c.version == row.version)
        ).scalars()
        return VersionRecord(
            name=name,
            version=row.version,
            flavor=row.flavor,
            artifact_digest=row.artifact_digest,
            artifact_size=row.artifact_size,
            artifact_name=row.artifact_name,
            trusted=bool(row.trusted),
            signature=Signature.from_dict(row.signature) if row.signature else None,
            input_example=row.input_example,
            metrics=dict(row.metrics or {}),
            params=dict(row.params or {}),
            tags=dict(row.tags or {}),
            lineage=dict(row.lineage or {}),
            requirements=dict(row.requirements or {}),
            description=row.description,
            status=row.status,
            registered_by=row.registered_by,
            created_at=_utc(row.created_at),
            aliases=tuple(sorted(names)),
        )

    def resolve(self, ref: Ref) -> VersionRecord:
        """The version a ref names: pinned, through an alias, or champion-else-latest."""
        if ref.version is not None:
            return self.get_version(ref.name, ref.version)
        with self._read.connect() as conn:
            model_id = self._model_id(conn, ref.name)
            alias = ref.alias or DEFAULT_ALIAS
            number = conn.execute(
                select(aliases.c.version).where(aliases.c.model_id == model_id, aliases.c.alias == alias)
            ).scalar()
            if number is None and ref.alias is not None:
                raise NotFoundError(f"model {ref.name!r} has no alias {ref.alias!r}")
            if number is None:
                number = conn.execute(
                    select(func.max(versions.c.version)).where(
                        versions.c.model_id == model_id, versions.c.status == "ready"
                    )
                ).scalar()
            if number is None:
                raise NotFoundError(f"model {ref.name!r} has no ready version")
        return self.get_version(ref.name, int(number))

    def set_status(self, name: str, number: int, status: str, actor: str) -> VersionRecord:
        with self.engine.begin() as conn:
            model_id = self._model_id(conn, name)
            result = conn.execute(
                update(versions)
                .where(versions.c.model_id == model_id, versions.c.version == number)
                .values(status=status)
            )
            if result.rowcount == 0:
                raise NotFoundError(f"model {name!r} has no version {number}")
            self._audit(conn, actor, "archive" if status == "archived" else "restore", f"{name}:{number}", {})
        return self.get_version(name, number)

    def delete_version(self, name: str, number: int, actor: str) -> str:
        """Delete a version no alias points at; return its artifact digest."""
        with self.engine.begin() as conn:
            model_id = self._model_id(conn, name)
            digest = conn.execute(
                select(versions.c.artifact_digest).where(versions.c.model_id == model_id, versions.c.version == number)
            ).scalar()
            if digest is None:
                raise NotFoundError(f"model {name!r} has no version {number}")
            pointing = (
                conn.execute(select(aliases.c.alias).where(aliases.c.model_id == model_id, aliases.c.version == number))
                .scalars()
                .all()
            )
            if pointing:
                raise ConflictError(
                    f"cannot delete {name}:{number}: alias {', '.join(repr(a) for a in pointing)} points at it; "
                    f"move the alias first (modelport models alias {name} OTHER_VERSION {pointing[0]})"
                )
            routed = _deployments_using(conn, name, number)
            if routed:
                raise ConflictError(
                    f"cannot delete {name}:{number}: deployment {', '.join(map(repr, routed))} routes traffic to it; "
                    "change the deployment first (modelport rollout abort/promote, or modelport deploy)"
                )
            conn.execute(delete(versions).where(versions.c.model_id == model_id, versions.c.version == number))
            self._audit(conn, actor, "delete", f"{name}:{number}", {"digest": digest})
            return str(digest)

    def delete_model(self, name: str, actor: str) -> list[str]:
        """Delete a model with all its versions, refused while any alias exists; return digests."""
        with self.engine.begin() as conn:
            model_id = self._model_id(conn, name)
            pointing = conn.execute(
                select(aliases.c.alias, aliases.c.version).where(aliases.c.model_id == model_id)
            ).all()
            if pointing:
                listed = ", ".join(f"{a!r} -> {v}" for a, v in pointing)
                raise ConflictError(
                    f"cannot delete model {name!r}: aliases point at its versions ({listed}); "
                    f"remove them first (modelport models unalias {name} ALIAS)"
                )
            numbers = conn.execute(select(versions.c.version).where(versions.c.model_id == model_id)).scalars().all()
            routed = sorted({d for n in numbers for d in _deployments_using(conn, name, int(n))})
            if routed:
                raise ConflictError(f"cannot delete model {name!r}: deployment {', '.join(map(repr, routed))} routes "
                                    "traffic to its versions; change or remove the deployment first")
            digests = conn.execute(select(versions.c.artifact_digest).where(versions.c.model_id == model_id)).scalars()
            found = [str(d) for d in digests]
            conn.execute(delete(alias_history).where(alias_history.c.model_id == model_id))
            conn.execute(delete(versions).where(versions.c.model_id == model_id))
            conn.execute(delete(models).where(models.c.id == model_id))
            self._audit(conn, actor, "delete", name, {"versions": len(found)})
            return found

    def digest_in_use(self, digest: str) -> bool:
        with self._read.connect() as conn:
            return conn.execute(select(func.count()).where(versions.c.artifact_digest == digest)).scalar_one() > 0

    # --- aliases ------------------------------------------------------------------------
    def set_alias(self, name: str, alias: str, number: int | None, actor: str) -> AliasMove:
        """Point `alias` at version `number` (None removes it), atomically, keeping history."""
        with self.engine.begin() as conn:
            model_id = self._model_id(conn, name)
            if number is not None:
                status = conn.execute(
                    select(versions.c.status).where(versions.c.model_id == model_id, versions.c.version == number)
                ).scalar()
                if status is None:
                    raise NotFoundError(f"model {name!r} has no version {number}")
            move = self._move_alias(conn, model_id, alias, number, actor)
            self._audit(
                conn,
                actor,
                "alias" if number is not None else "unalias",
                f"{name}@{alias}",
                {"from": move.from_version, "to": number},
            )
            return move

    def _move_alias(self, conn: Connection, model_id: int, alias: str, number: int | None, actor: str) -> AliasMove:
        now = self.clock.now()
        previous = conn.execute(
            select(aliases.c.version).where(aliases.c.model_id == model_id, aliases.c.alias == alias)
        ).scalar()
        if number is None and previous is None:
            raise NotFoundError(f"there is no alias {alias!r} to remove")
        conn.execute(delete(aliases).where(aliases.c.model_id == model_id, aliases.c.alias == alias))
        if number is not None:
            conn.execute(insert(aliases).values(model_id=model_id, alias=alias, version=number, updated_at=now))
        conn.execute(
            insert(alias_history).values(
                model_id=model_id, alias=alias, from_version=previous, to_version=number, actor=actor, at=now
            )
        )
        return AliasMove(alias, previous, number, actor, now)

    def set_alias_within(self, conn: Connection, name: str, alias: str, number: int, actor: str) -> AliasMove:
        """Move an alias inside the caller's transaction (a rollout's promotion commits with its decision)."""
        move = self._move_alias(conn, self._model_id(conn, name), alias, number, actor)
        self._audit(conn, actor, "alias", f"{name}@{alias}", {"from": move.from_version, "to": number})
        return move

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasMove]:
        with self._read.connect() as conn:
            query = select(alias_history).where(alias_history.c.model_id == self._model_id(conn, name))
            if alias is not None:
                query = query.where(alias_history.c.alias == alias)
            rows = conn.execute(query.order_by(alias_history.c.id)).all()
        return [AliasMove(r.alias, r.from_version, r.to_version, r.actor, _utc(r.at)) for r in rows]

    # --- audit --------------------------------------------------------------------------
    def _audit(
        self,
        conn: Connection,
        actor: str,
        action: str,
        target: str,
        details: Mapping[str, Any],
        outcome: str = "ok",
        address: str = "",
    ) -> None:
        conn.execute(
            insert(audit_log).values(
                at=self.clock.now(),
                actor=actor,
                action=action,
                target=target,
                outcome=outcome,
                address=address,
                details=dict(details),
            )
        )

    def audit_within(self, conn: Connection, actor: str, action: str, target: str, details: Mapping[str, Any]) -> None:
        """Append one audit entry inside the caller's transaction (it commits with the change it records)."""
        self._audit(conn, actor, action, target, details)

    def record_audit(
        self,
        actor: str,
        action: str,
        target: str,
        details: Mapping[str, Any],
        *,
        outcome: str = "ok",
        address: str = "",
    ) -> None:
        """Append one entry to the audit log in its own transaction."""
        with self.engine.begin() as conn:
            self._audit(conn, actor, action, target, details, outcome, address)

    def audit_entries(self, limit: int = 100) -> list[AuditEntry]:
        with self._read.connect() as conn:
            rows = conn.execute(select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)).all()
        return [
            AuditEntry(_utc(r.at), r.actor, r.action, r.target, r.outcome, r.address, dict(r.details or {}))
            for r in rows
        ]
