"""Initial schema: namespaces, workflows, runs, task runs, raw lineage events, API keys.

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

import ebling.db.types
import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("created_at", ebling.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.Column("expires_at", ebling.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", ebling.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", ebling.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    op.create_table(
        "lineage_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_hash", sa.LargeBinary(length=16), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("root_run_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=16), nullable=False),
        sa.Column("event_time", ebling.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", ebling.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lineage_events")),
        sa.UniqueConstraint("event_hash", name=op.f("uq_lineage_events_event_hash")),
    )
    with op.batch_alter_table("lineage_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_lineage_events_root_run_time", ["root_run_id", "event_time", "id"], unique=False
        )

    op.create_table(
        "namespaces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=1024), nullable=False),
        sa.Column("created_at", ebling.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_namespaces")),
        sa.UniqueConstraint("name", name=op.f("uq_namespaces_name")),
    )
    op.create_table(
        "workflows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("namespace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=1024), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("owners", sa.JSON(), nullable=False),
        sa.Column("job_facets", sa.JSON(), nullable=False),
        sa.Column("facets_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_run_id", sa.Uuid(), nullable=True),
        sa.Column("last_run_state", sa.String(length=16), nullable=True),
        sa.Column("last_run_at", ebling.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", ebling.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ebling.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["namespace_id"], ["namespaces.id"], name=op.f("fk_workflows_namespace_id_namespaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflows")),
        sa.UniqueConstraint("namespace_id", "name", name=op.f("uq_workflows_namespace_id_name")),
    )
    with op.batch_alter_table("workflows", schema=None) as batch_op:
        batch_op.create_index("ix_workflows_last_run_at", ["last_run_at"], unique=False)
        batch_op.create_index("ix_workflows_name", ["name"], unique=False)

    op.create_table(
        "runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workflow_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_seq", sa.BigInteger(), nullable=False),
        sa.Column("started_at", ebling.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", ebling.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("nominal_start_time", ebling.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("nominal_end_time", ebling.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("try_number", sa.Integer(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("producer", sa.String(length=1024), nullable=True),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("created_at", ebling.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ebling.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workflow_id"], ["workflows.id"], name=op.f("fk_runs_workflow_id_workflows")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index("ix_runs_started_at_id", ["started_at", "id"], unique=False)
        batch_op.create_index(
            "ix_runs_workflow_started_at", ["workflow_id", "started_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_runs_state_started_at", ["state", "started_at", "id"], unique=False
        )
    op.create_table(
        "task_runs",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("task_name", sa.String(length=1024), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workflow_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_seq", sa.BigInteger(), nullable=False),
        sa.Column("started_at", ebling.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", ebling.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("nominal_start_time", ebling.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("nominal_end_time", ebling.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("try_number", sa.Integer(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("producer", sa.String(length=1024), nullable=True),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("created_at", ebling.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ebling.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_task_runs_run_id_runs")),
        sa.ForeignKeyConstraint(
            ["workflow_id"], ["workflows.id"], name=op.f("fk_task_runs_workflow_id_workflows")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_runs")),
    )
    with op.batch_alter_table("task_runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_task_runs_run_id_started_at", ["run_id", "started_at"], unique=False
        )
        batch_op.create_index(
            "ix_task_runs_workflow_task", ["workflow_id", "task_name"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("task_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_task_runs_workflow_task")
        batch_op.drop_index("ix_task_runs_run_id_started_at")

    op.drop_table("task_runs")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index("ix_runs_state_started_at")
        batch_op.drop_index("ix_runs_workflow_started_at")
        batch_op.drop_index("ix_runs_started_at_id")

    op.drop_table("runs")
    with op.batch_alter_table("workflows", schema=None) as batch_op:
        batch_op.drop_index("ix_workflows_name")
        batch_op.drop_index("ix_workflows_last_run_at")

    op.drop_table("workflows")
    op.drop_table("namespaces")
    with op.batch_alter_table("lineage_events", schema=None) as batch_op:
        batch_op.drop_index("ix_lineage_events_root_run_time")

    op.drop_table("lineage_events")
    op.drop_table("api_keys")
