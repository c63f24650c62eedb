"""prediction log as columnar segments: `prediction_segments`, and `prediction_log` narrowed to an id index

Rows logged before this revision are moved into segments (one per model per 5,000 rows) before the
columns they were stored in are dropped.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_MOVED = ("route", "inputs", "probabilities", "latency_ms", "status", "error")
_CHUNK = 5_000


def upgrade() -> None:
    op.create_table(
        "prediction_segments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_prediction_segments_model_last_at", "prediction_segments", ["model", "last_at"])
    _move_legacy_rows()
    with op.batch_alter_table("prediction_log") as batch:
        for column in _MOVED:
            batch.drop_column(column)


def _move_legacy_rows() -> None:
    # The app's own encoder, so that moved rows read back exactly like new ones.
    import orjson

    from modelport.monitoring.log import segment_rows

    legacy = sa.table("prediction_log", *(sa.column(n) for n in ("prediction_id", "model", "version", "route")),
                      sa.column("at", sa.DateTime(timezone=True)),
                      *(sa.column(n) for n in ("inputs", "outputs", "probabilities", "latency_ms", "status", "error")))
    result = op.get_bind().execute(sa.select(legacy).order_by(legacy.c.model, legacy.c.at))
    while chunk := result.fetchmany(_CHUNK):
        records = [{**row._asdict(), "time": row.at, "inputs": orjson.loads(row.inputs),
                    "outputs": None if row.outputs is None else orjson.loads(row.outputs),
                    "probabilities": None if row.probabilities is None else orjson.loads(row.probabilities)}
                   for row in chunk]
        op.bulk_insert(sa.table("prediction_segments", sa.column("model"), sa.column("first_at"),
                                sa.column("last_at"), sa.column("rows"), sa.column("payload")), segment_rows(records))


def downgrade() -> None:
    with op.batch_alter_table("prediction_log") as batch:
        batch.add_column(sa.Column("route", sa.String(length=16), nullable=False, server_default="primary"))
        batch.add_column(sa.Column("inputs", sa.Text(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("probabilities", sa.Text(), nullable=True))
        batch.add_column(sa.Column("latency_ms", sa.Float(), nullable=True))
        batch.add_column(sa.Column("status", sa.String(length=16), nullable=False, server_default="ok"))
        batch.add_column(sa.Column("error", sa.Text(), nullable=True))
    op.drop_index("ix_prediction_segments_model_last_at", table_name="prediction_segments")
    op.drop_table("prediction_segments")
