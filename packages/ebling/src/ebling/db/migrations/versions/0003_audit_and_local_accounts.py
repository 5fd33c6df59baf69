"""The audit log, and the accounts of simple (built-in) sign-in.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import ebling.db.types
import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("occurred_at", ebling.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=True),
        sa.Column("client_id", sa.String(length=255), nullable=True),
        sa.Column("auth_kind", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("path", sa.String(length=2048), nullable=False),
        sa.Column("route", sa.String(length=255), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("remote_addr", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_occurred_at", ["occurred_at", "id"], unique=False)
        batch_op.create_index("ix_audit_events_outcome", ["outcome", "id"], unique=False)
        batch_op.create_index("ix_audit_events_subject", ["subject", "id"], unique=False)

    op.create_table(
        "local_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=500), nullable=False),
        sa.Column("password_version", sa.Integer(), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", ebling.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", ebling.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", ebling.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ebling.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_local_accounts")),
        sa.UniqueConstraint("username", name=op.f("uq_local_accounts_username")),
    )


def downgrade() -> None:
    op.drop_table("local_accounts")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_subject")
        batch_op.drop_index("ix_audit_events_outcome")
        batch_op.drop_index("ix_audit_events_occurred_at")

    op.drop_table("audit_events")
