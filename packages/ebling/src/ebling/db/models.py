"""The tables Ebling keeps, as SQLAlchemy 2 declarative models.

Raw OpenLineage events are append-only (``lineage_events``); everything else about runs is a
projection of them, updated in the same transaction that stores the event.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ebling.db.types import UTCDateTime

__all__ = [
    "ApiKey",
    "Artifact",
    "AuditEvent",
    "Base",
    "Blob",
    "LineageEvent",
    "LocalAccount",
    "Namespace",
    "Report",
    "ReportBatch",
    "Run",
    "TaskRun",
    "UsageRecord",
    "Workflow",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Job and namespace names are free text chosen by orchestrators (an Airflow task's job name is
# "dag_id.task_id"); this bound is far above what they produce and keeps index entries sane.
NAME_LENGTH = 1024

# SQLite needs a 64-bit integer primary key spelled INTEGER to get its fast rowid alias.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations name constraints predictably."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


class Namespace(Base):
    """One orchestrator instance, such as ``airflow://etl-prod``."""

    __tablename__ = "namespaces"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    created_at: Mapped[datetime]


class Workflow(Base):
    """A job without a parent: an Airflow DAG, a Dagster job, a Prefect flow.

    ``last_run_*`` repeat the newest run so that lists filter and sort on them without a join.
    ``facets_seq`` orders job facets, so an older event never replaces newer metadata.
    """

    __tablename__ = "workflows"
    __table_args__ = (
        UniqueConstraint("namespace_id", "name"),
        Index("ix_workflows_last_run_at", "last_run_at"),
        Index("ix_workflows_name", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    namespace_id: Mapped[int] = mapped_column(ForeignKey("namespaces.id"))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(default=list)
    owners: Mapped[list[str]] = mapped_column(default=list)
    job_facets: Mapped[dict[str, Any]] = mapped_column(default=dict)
    facets_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_run_id: Mapped[uuid.UUID | None]
    last_run_state: Mapped[str | None] = mapped_column(String(16))
    last_run_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class _RunColumns:
    """What runs and task runs share: the state projected from their events.

    ``state_seq`` is the ordering key of the event that set ``state`` (event time in
    microseconds, then a rank of the event type); a newer key always wins, so replayed or
    late events cannot move a run back in time.
    """

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflows.id"))
    state: Mapped[str] = mapped_column(String(16))
    state_seq: Mapped[int] = mapped_column(BigInteger)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    nominal_start_time: Mapped[datetime | None]
    nominal_end_time: Mapped[datetime | None]
    try_number: Mapped[int | None]
    error_message: Mapped[str | None] = mapped_column(Text)
    producer: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    event_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Run(_RunColumns, Base):
    """One run of a workflow."""

    __tablename__ = "runs"
    __table_args__ = (
        # Lists page through runs newest first, keyed on (started_at, id); B-tree indexes are
        # read backwards for that, so they need no DESC.
        Index("ix_runs_started_at_id", "started_at", "id"),
        Index("ix_runs_workflow_started_at", "workflow_id", "started_at", "id"),
        Index("ix_runs_state_started_at", "state", "started_at", "id"),
    )


class TaskRun(_RunColumns, Base):
    """One run of a task inside a workflow run (an OpenLineage run with a ``parent`` facet)."""

    __tablename__ = "task_runs"
    __table_args__ = (
        Index("ix_task_runs_run_id_started_at", "run_id", "started_at"),
        Index("ix_task_runs_workflow_task", "workflow_id", "task_name"),
    )

    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("runs.id"))
    task_name: Mapped[str] = mapped_column(String(NAME_LENGTH))


class LineageEvent(Base):
    """An OpenLineage event exactly as it came in; never updated, never deleted.

    ``event_hash`` is a digest of the event's canonical JSON, so a replayed event is stored
    once. ``root_run_id`` is the workflow run the event belongs to (its own run for a
    workflow, the parent's for a task), which is what "the events of a run" means to a reader.
    """

    __tablename__ = "lineage_events"
    __table_args__ = (Index("ix_lineage_events_root_run_time", "root_run_id", "event_time", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    event_hash: Mapped[bytes] = mapped_column(LargeBinary(16), unique=True)
    run_id: Mapped[uuid.UUID]
    root_run_id: Mapped[uuid.UUID]
    event_type: Mapped[str] = mapped_column(String(16))
    event_time: Mapped[datetime]
    received_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]]


class ApiKey(Base):
    """A credential for scripts and machines. Only a hash of the secret is kept."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    roles: Mapped[list[str]]
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(200))
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class Report(Base):
    """A named table that workflows append batches to, such as a monitoring system's daily CSV.

    Rows live in one Parquet file per batch in the object store; this row is the catalogue
    entry: the current schema, how to treat a batch that does not match it, and totals.
    """

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    columns: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    schema_policy: Mapped[str] = mapped_column(String(16))
    row_count: Mapped[int] = mapped_column(BigInteger, default=0)
    batch_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    last_batch_at: Mapped[datetime | None]


class ReportBatch(Base):
    """One ingestion into a report: which file, from which run and source, with what effect.

    A batch is ``pending`` while its file is converted and stored, ``ready`` once its rows are
    part of the report. The same content is ready at most once per report.
    """

    __tablename__ = "report_batches"
    __table_args__ = (
        Index(
            "uq_report_batches_ready_content",
            "report_id",
            "content_hash",
            unique=True,
            sqlite_where=text("status = 'ready'"),
            postgresql_where=text("status = 'ready'"),
        ),
        Index("ix_report_batches_report_id", "report_id", "id"),
        Index("ix_report_batches_run_id", "run_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    content_hash: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(16))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    row_count: Mapped[int] = mapped_column(BigInteger, default=0)
    object_key: Mapped[str | None] = mapped_column(String(500))
    columns: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    schema_change: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    encoding: Mapped[str | None] = mapped_column(String(40))
    delimiter: Mapped[str | None] = mapped_column(String(4))
    run_id: Mapped[uuid.UUID | None]
    source_message_id: Mapped[str | None] = mapped_column(String(1000))
    source_file_name: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(200))


class Blob(Base):
    """Stored bytes, addressed by their SHA-256, shared by every artifact with that content."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    object_key: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime]


class Artifact(Base):
    """A file a workflow stored: its name, type, labels and the run that made it."""

    __tablename__ = "artifacts"
    __table_args__ = (
        Index("ix_artifacts_run_id", "run_id"),
        Index("ix_artifacts_sha256", "sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    content_type: Mapped[str] = mapped_column(String(200))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    labels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    run_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(200))


class AuditEvent(Base):
    """Who did what: one row for every write and every refused authentication or authorisation.

    Append-only. ``subject`` and ``client_id`` are those of the authenticated caller (null
    when authentication failed); ``reason`` says why a request failed, never with a secret.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_occurred_at", "occurred_at", "id"),
        Index("ix_audit_events_subject", "subject", "id"),
        Index("ix_audit_events_outcome", "outcome", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime]
    subject: Mapped[str | None] = mapped_column(String(255))
    client_id: Mapped[str | None] = mapped_column(String(255))
    auth_kind: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(String(2048))
    route: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[int]
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    remote_addr: Mapped[str | None] = mapped_column(String(64))


class LocalAccount(Base):
    """A person who signs in with a password kept by Ebling itself (``EBLING_AUTH=simple``).

    ``password_hash`` is a scrypt hash with its parameters and salt. ``password_version``
    goes up with each new password, and tokens carry it, so a reset ends every session.
    ``failed_logins`` and ``locked_until`` slow down guessing: each failure past a few locks
    the account for longer.
    """

    __tablename__ = "local_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(200), unique=True)
    password_hash: Mapped[str] = mapped_column(String(500))
    password_version: Mapped[int] = mapped_column(default=1)
    roles: Mapped[list[str]]
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class UsageRecord(Base):
    """One usage claim, stored once per sender-chosen key; quantities in integer millionths."""

    __tablename__ = "usage_records"
    __table_args__ = (
        UniqueConstraint("key"),
        Index("ix_usage_records_occurred_at", "occurred_at"),
        Index("ix_usage_records_metric_account_occurred_at", "metric", "account", "occurred_at"),
        Index("ix_usage_records_run_id", "run_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    content_digest: Mapped[bytes] = mapped_column(LargeBinary(16))
    metric: Mapped[str] = mapped_column(String(100))
    quantity_millionths: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime]
    run_id: Mapped[uuid.UUID | None]
    account: Mapped[str | None] = mapped_column(String(200))
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    received_at: Mapped[datetime]
    recorded_by: Mapped[str | None] = mapped_column(String(200))
