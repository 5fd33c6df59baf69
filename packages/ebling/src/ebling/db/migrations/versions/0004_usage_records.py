"""Usage records: what automations consumed, once per sender-chosen key.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import ebling.db.types
import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "usage_records",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("content_digest", sa.LargeBinary(length=16), nullable=False),
        sa.Column("metric", sa.String(length=100), nullable=False),
        sa.Column("quantity_millionths", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", ebling.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=True),
        sa.Column("account", sa.String(length=200), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("received_at", ebling.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_records")),
        sa.UniqueConstraint("key", name=op.f("uq_usage_records_key")),
    )
    op.create_index("ix_usage_records_occurred_at", "usage_records", ["occurred_at"])
    op.create_index(
        "ix_usage_records_metric_account_occurred_at",
        "usage_records",
        ["metric", "account", "occurred_at"],
    )
    op.create_index("ix_usage_records_run_id", "usage_records", ["run_id"])


def downgrade() -> None:
    op.drop_table("usage_records")
