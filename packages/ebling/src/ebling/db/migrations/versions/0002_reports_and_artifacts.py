"""Reports (a catalogue of tables whose rows live in Parquet files) and artifacts (files).

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import ebling.db.types
import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("object_key", sa.String(length=500), nullable=False),
        sa.Column("created_at", ebling.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_blobs")),
    )
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("columns", sa.JSON(), nullable=True),
        sa.Column("schema_policy", sa.String(length=16), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("batch_count", sa.Integer(), nullable=False),
        sa.Column("created_at", ebling.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ebling.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_batch_at", ebling.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("name", name=op.f("uq_reports_name")),
    )
    op.create_table(
        "artifacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", ebling.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["sha256"], ["blobs.sha256"], name=op.f("fk_artifacts_sha256_blobs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_artifacts")),
    )
    with op.batch_alter_table("artifacts", schema=None) as batch_op:
        batch_op.create_index("ix_artifacts_run_id", ["run_id"], unique=False)
        batch_op.create_index("ix_artifacts_sha256", ["sha256"], unique=False)

    op.create_table(
        "report_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("object_key", sa.String(length=500), nullable=True),
        sa.Column("columns", sa.JSON(), nullable=True),
        sa.Column("schema_change", sa.JSON(), nullable=True),
        sa.Column("encoding", sa.String(length=40), nullable=True),
        sa.Column("delimiter", sa.String(length=4), nullable=True),
        sa.Column("run_id", sa.Uuid(), nullable=True),
        sa.Column("source_message_id", sa.String(length=1000), nullable=True),
        sa.Column("source_file_name", sa.String(length=1000), nullable=True),
        sa.Column("created_at", ebling.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_report_batches_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_batches")),
    )
    with op.batch_alter_table("report_batches", schema=None) as batch_op:
        batch_op.create_index("ix_report_batches_report_id", ["report_id", "id"], unique=False)
        batch_op.create_index("ix_report_batches_run_id", ["run_id"], unique=False)
        batch_op.create_index(
            "uq_report_batches_ready_content",
            ["report_id", "content_hash"],
            unique=True,
            sqlite_where=sa.text("status = 'ready'"),
            postgresql_where=sa.text("status = 'ready'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("report_batches", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_report_batches_ready_content",
            sqlite_where=sa.text("status = 'ready'"),
            postgresql_where=sa.text("status = 'ready'"),
        )
        batch_op.drop_index("ix_report_batches_run_id")
        batch_op.drop_index("ix_report_batches_report_id")

    op.drop_table("report_batches")
    with op.batch_alter_table("artifacts", schema=None) as batch_op:
        batch_op.drop_index("ix_artifacts_sha256")
        batch_op.drop_index("ix_artifacts_run_id")

    op.drop_table("artifacts")
    op.drop_table("reports")
    op.drop_table("blobs")
