"""Database tables (SQLAlchemy Core). Changes go through Alembic migrations in storage/migrations."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

models = Table(
    "models",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("description", Text, nullable=False, default=""),
    Column("tags", JSON, nullable=False, default=dict),
    # The last number handed out: versions are never renumbered, even after a delete.
    Column("last_version", Integer, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

versions = Table(
    "versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("flavor", String(32), nullable=False),
    Column("artifact_digest", String(64), nullable=False),
    Column("artifact_size", BigInteger, nullable=False),
    Column("artifact_name", String(200), nullable=False),
    Column("trusted", Boolean, nullable=False, default=False),
    Column("signature", JSON, nullable=True),
    Column("input_example", JSON, nullable=True),
    Column("metrics", JSON, nullable=False, default=dict),
    Column("params", JSON, nullable=False, default=dict),
    Column("tags", JSON, nullable=False, default=dict),
    Column("lineage", JSON, nullable=False, default=dict),
    Column("requirements", JSON, nullable=False, default=dict),
    Column("description", Text, nullable=False, default=""),
    Column("status", String(16), nullable=False, default="ready"),
    Column("registered_by", String(128), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("model_id", "version", name="uq_versions_model_version"),
)

aliases = Table(
    "aliases",
    metadata,
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), primary_key=True),
    Column("alias", String(128), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

alias_history = Table(
    "alias_history",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("alias", String(128), nullable=False),
    Column("from_version", Integer, nullable=True),
    Column("to_version", Integer, nullable=True),
    Column("actor", String(128), nullable=False, default=""),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_alias_history_model_alias", "model_id", "alias"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(300), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("address", String(64), nullable=False, default=""),
    Column("details", JSON, nullable=False, default=dict),
    Index("ix_audit_log_at", "at"),
)

# --- security (migration 0002) ---------------------------------------------------------
api_keys = Table(
    "api_keys",
    metadata,
    # The public half of a key ("mp_<id>_<secret>"): safe to log, list and write in the audit log.
    Column("id", String(32), primary_key=True),
    Column("name", String(128), nullable=False, default=""),
    # SHA-256 of the 256-bit random secret; the secret itself is never stored.
    Column("secret_hash", String(64), nullable=False),
    Column("scopes", JSON, nullable=False, default=list),
    # fnmatch patterns of model names the key may see; empty means every model.
    Column("models", JSON, nullable=False, default=list),
    Column("created_by", String(128), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    # requests per second for this key (migration 0006); NULL: the server's MODELPORT_RATE_LIMIT
    Column("rate_limit", Float, nullable=True),
    Index("ix_api_keys_created_at", "created_at"),
)

# --- monitoring (migrations 0003, 0005) -------------------------------------------------
# The prediction log lives in the database, as columnar segments plus a narrow id index: measured in
# bench/monitoring/log_window.py, it keeps feedback joins, erasure and multi-replica writes
# transactional, and reads a million-row window in seconds (docs/monitoring.md).
prediction_log = Table(
    "prediction_log",
    metadata,
    # One narrow row per prediction: what feedback needs to check and join an id. The rest of the
    # record lives column by column in `prediction_segments` (monitoring/segments.py).
    Column("prediction_id", String(64), primary_key=True),
    Column("model", String(128), nullable=False),
    Column("version", Integer, nullable=True),
    Column("at", DateTime(timezone=True), nullable=False),
    # JSON text written with orjson: faster than the JSON type's per-row json.dumps.
    Column("outputs", Text, nullable=True),
    # No index beyond the id (migration 0008): every logged row paid for one on (model, at), and counts and
    # retention read the segments' times and row counts instead.
)

prediction_segments = Table(
    "prediction_segments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model", String(128), nullable=False),
    Column("first_at", DateTime(timezone=True), nullable=False),
    Column("last_at", DateTime(timezone=True), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Index("ix_prediction_segments_model_last_at", "model", "last_at"),
)

feedback = Table(
    "feedback",
    metadata,
    Column("prediction_id", String(64), primary_key=True),
    Column("model", String(128), nullable=False),
    Column("version", Integer, nullable=True),
    Column("label", Text, nullable=True),
    Column("value", Float, nullable=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Index("ix_feedback_model_received", "model", "received_at"),
)

monitoring_references = Table(
    "monitoring_references",
    metadata,
    Column("model", String(128), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("rows", BigInteger, nullable=False),
    Column("source", String(200), nullable=False, default="registration"),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

alert_rules = Table(
    "alert_rules",
    metadata,
    Column("model", String(128), primary_key=True),
    Column("name", String(128), primary_key=True),
    Column("spec", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

alert_state = Table(
    "alert_state",
    metadata,
    Column("model", String(128), primary_key=True),
    Column("name", String(128), primary_key=True),
    # The last m window outcomes (true = breached), newest last, for the k-of-m persistence rule.
    Column("history", JSON, nullable=False, default=list),
    Column("firing", Boolean, nullable=False, default=False),
    Column("last_fired_at", DateTime(timezone=True), nullable=True),
    Column("last_evaluated_at", DateTime(timezone=True), nullable=True),
    # The value of the last evaluation, so that every replica (not only the evaluator) can show it as a gauge.
    Column("last_value", Float, nullable=True),
)

alert_events = Table(
    "alert_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("model", String(128), nullable=False),
    Column("name", String(128), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("value", Float, nullable=True),
    Column("threshold", Float, nullable=False),
    Column("details", JSON, nullable=False, default=dict),
    Index("ix_alert_events_model_at", "model", "at"),
)

leases = Table(
    "leases",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("holder", String(128), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

# --- deployments and rollouts (migration 0004) -----------------------------------------
# A deployment's policy is one row changed atomically (revision + 1); every change is kept in
# deployment_history. A rollout's `seq` is the compare-and-set counter: a replica applies a
# decision only with `UPDATE ... WHERE seq = <what it read>`, so two replicas never both advance.
deployments = Table(
    "deployments",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("model", String(128), nullable=False),
    Column("policy", JSON, nullable=False),
    Column("revision", Integer, nullable=False, default=1),
    Column("updated_by", String(128), nullable=False, default=""),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

deployment_history = Table(
    "deployment_history",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(128), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("policy", JSON, nullable=False),
    Column("actor", String(128), nullable=False, default=""),
    Column("reason", Text, nullable=False, default=""),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_deployment_history_name", "name", "revision"),
)

rollouts = Table(
    "rollouts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("deployment", String(128), nullable=False),
    Column("strategy", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("step", Integer, nullable=False, default=0),
    Column("seq", Integer, nullable=False, default=0),
    Column("spec", JSON, nullable=False),
    Column("status", JSON, nullable=False, default=dict),
    Column("reason", Text, nullable=False, default=""),
    Column("started_by", String(128), nullable=False, default=""),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("step_started_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_rollouts_deployment_state", "deployment", "state"),
)

rollout_events = Table(
    "rollout_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("rollout_id", Integer, ForeignKey("rollouts.id", ondelete="CASCADE"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("step", Integer, nullable=False),
    Column("decision", String(32), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("actor", String(128), nullable=False, default=""),
    Column("analysis", JSON, nullable=False, default=dict),
    Index("ix_rollout_events_rollout", "rollout_id"),
)
