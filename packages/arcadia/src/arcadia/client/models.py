"""What Ebling answers, as frozen dataclasses: runs, report batches, artifacts.

Each type reads itself from Ebling's JSON with ``from_json``. Fields Ebling adds in later
versions are ignored, so an older client keeps working against a newer server.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "Artifact",
    "Column",
    "IngestSummary",
    "Report",
    "ReportBatch",
    "Run",
    "RunState",
    "TaskRun",
    "WorkflowRef",
]


class RunState(StrEnum):
    """The states Ebling gives runs and task runs.

    ``Run.state`` is a plain string so that a state added by a newer Ebling does not break
    this client; being a ``StrEnum``, these compare equal to it.
    """

    NEW = "NEW"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    ABORTED = "ABORTED"


def _time(value: Any) -> datetime | None:
    # Python 3.11's fromisoformat reads RFC 3339, the trailing "Z" included.
    return datetime.fromisoformat(value) if value else None


def _required_time(value: Any) -> datetime:
    return datetime.fromisoformat(value)


def _uuid(value: Any) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


@dataclass(frozen=True, slots=True)
class IngestSummary:
    """What Ebling did with a batch of lineage events.

    Attributes:
        received: Events in the request.
        stored: Events new to Ebling.
        duplicates: Events Ebling had already (a retry or a replayed outbox).
    """

    received: int
    stored: int
    duplicates: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> IngestSummary:
        """Read Ebling's answer to ``POST /api/v1/lineage``."""
        return cls(
            received=int(data["received"]),
            stored=int(data["stored"]),
            duplicates=int(data["duplicates"]),
        )


@dataclass(frozen=True, slots=True)
class WorkflowRef:
    """Enough of a workflow to name it: an Airflow DAG, a Dagster job, a Prefect flow."""

    id: int
    namespace: str
    name: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WorkflowRef:
        """Read a workflow reference."""
        return cls(id=int(data["id"]), namespace=data["namespace"], name=data["name"])


@dataclass(frozen=True, slots=True)
class TaskRun:
    """A task run inside a workflow run.

    Attributes:
        id: The task run's OpenLineage run id.
        task_name: The task's job name, as its events give it.
        state: One of :class:`RunState`'s values.
        started_at: The earliest event heard of it.
        ended_at: When it reached a terminal state, if it did.
        duration_seconds: ``ended_at - started_at``, once ended.
        try_number: The orchestrator's attempt number, when it reports one.
        error_message: The ``errorMessage`` facet's message of a failed run.
        event_count: Events stored for it.
    """

    id: uuid.UUID
    task_name: str
    state: str
    started_at: datetime
    ended_at: datetime | None
    duration_seconds: float | None
    try_number: int | None
    error_message: str | None
    event_count: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TaskRun:
        """Read a task run."""
        return cls(
            id=uuid.UUID(data["id"]),
            task_name=data["task_name"],
            state=data["state"],
            started_at=_required_time(data["started_at"]),
            ended_at=_time(data.get("ended_at")),
            duration_seconds=data.get("duration_seconds"),
            try_number=data.get("try_number"),
            error_message=data.get("error_message"),
            event_count=int(data.get("event_count", 0)),
        )


@dataclass(frozen=True, slots=True)
class Run:
    """A workflow run.

    Attributes:
        id: The run's OpenLineage run id.
        workflow: The workflow it is a run of.
        state: One of :class:`RunState`'s values.
        started_at: The earliest event heard of it.
        ended_at: When it reached a terminal state, if it did.
        duration_seconds: ``ended_at - started_at``, once ended.
        nominal_start_time: When it was scheduled for (the ``nominalTime`` facet).
        nominal_end_time: The end of the scheduled interval.
        try_number: The orchestrator's attempt number, when it reports one.
        error_message: The ``errorMessage`` facet's message of a failed run.
        producer: What sent its events.
        event_count: Events stored for it.
        facets: Its run facets merged in time order; ``None`` in lists, which leave them out.
        task_runs: Its task runs in the order they started; ``None`` in lists, which leave
            them out.
    """

    id: uuid.UUID
    workflow: WorkflowRef
    state: str
    started_at: datetime
    ended_at: datetime | None
    duration_seconds: float | None
    nominal_start_time: datetime | None
    nominal_end_time: datetime | None
    try_number: int | None
    error_message: str | None
    producer: str | None
    event_count: int
    facets: Mapping[str, Any] | None = None
    task_runs: tuple[TaskRun, ...] | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Run:
        """Read a run, from a list (without task runs) or from ``GET /runs/{id}``."""
        listed = data.get("task_runs")
        task_runs = None if listed is None else tuple(TaskRun.from_json(t) for t in listed)
        return cls(
            id=uuid.UUID(data["id"]),
            workflow=WorkflowRef.from_json(data["workflow"]),
            state=data["state"],
            started_at=_required_time(data["started_at"]),
            ended_at=_time(data.get("ended_at")),
            duration_seconds=data.get("duration_seconds"),
            nominal_start_time=_time(data.get("nominal_start_time")),
            nominal_end_time=_time(data.get("nominal_end_time")),
            try_number=data.get("try_number"),
            error_message=data.get("error_message"),
            producer=data.get("producer"),
            event_count=int(data.get("event_count", 0)),
            facets=data.get("facets"),
            task_runs=task_runs,
        )


@dataclass(frozen=True, slots=True)
class Column:
    """A column of a report: its name and its type (``string``, ``int64``, ``date``, ...)."""

    name: str
    type: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Column:
        """Read a column."""
        return cls(name=data["name"], type=data["type"])


def _columns(value: Any) -> tuple[Column, ...]:
    return tuple(Column.from_json(column) for column in value or ())


@dataclass(frozen=True, slots=True)
class Report:
    """A report: a named table that workflows append batches to.

    Attributes:
        id: Ebling's id of the report.
        name: The report's name.
        description: What it holds, if someone said.
        columns: Its current schema.
        schema_policy: ``evolve`` or ``reject``: what a batch with other columns does.
        row_count: Rows over all batches.
        batch_count: Batches appended.
        created_at: When the report was created.
        last_batch_at: When the newest batch arrived.
    """

    id: int
    name: str
    description: str | None
    columns: tuple[Column, ...]
    schema_policy: str
    row_count: int
    batch_count: int
    created_at: datetime
    last_batch_at: datetime | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Report:
        """Read a report."""
        return cls(
            id=int(data["id"]),
            name=data["name"],
            description=data.get("description"),
            columns=_columns(data.get("columns")),
            schema_policy=data["schema_policy"],
            row_count=int(data["row_count"]),
            batch_count=int(data["batch_count"]),
            created_at=_required_time(data["created_at"]),
            last_batch_at=_time(data.get("last_batch_at")),
        )


@dataclass(frozen=True, slots=True)
class ReportBatch:
    """One file appended to a report, or the earlier batch with the same content.

    Attributes:
        id: Ebling's id of the batch.
        report: The report after the upload.
        duplicate: True when the same content had been sent to this report before; then
            nothing changed and this is the earlier batch.
        format: ``csv``, ``json`` or ``parquet``.
        size_bytes: The file's size.
        row_count: Rows in the file.
        content_hash: The file's SHA-256.
        columns: The file's columns, as read.
        schema_change: Whether the report's columns evolved, and which were added,
            missing or retyped.
        encoding: The detected text encoding of a CSV file.
        delimiter: The detected delimiter of a CSV file.
        run_id: The run that sent it.
        source_message_id: The message it came from (an e-mail's Message-ID).
        source_file_name: The file name it came as.
        created_at: When it was stored.
    """

    id: int
    report: Report
    duplicate: bool
    format: str
    size_bytes: int
    row_count: int
    content_hash: str
    columns: tuple[Column, ...]
    schema_change: Mapping[str, Any] | None
    encoding: str | None
    delimiter: str | None
    run_id: uuid.UUID | None
    source_message_id: str | None
    source_file_name: str | None
    created_at: datetime

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReportBatch:
        """Read Ebling's answer to ``POST /api/v1/reports/{name}/batches``."""
        batch = data["batch"]
        return cls(
            id=int(batch["id"]),
            report=Report.from_json(data["report"]),
            duplicate=bool(data["duplicate"]),
            format=batch["format"],
            size_bytes=int(batch["size_bytes"]),
            row_count=int(batch["row_count"]),
            content_hash=batch["content_hash"],
            columns=_columns(batch.get("columns")),
            schema_change=batch.get("schema_change"),
            encoding=batch.get("encoding"),
            delimiter=batch.get("delimiter"),
            run_id=_uuid(batch.get("run_id")),
            source_message_id=batch.get("source_message_id"),
            source_file_name=batch.get("source_file_name"),
            created_at=_required_time(batch["created_at"]),
        )


@dataclass(frozen=True, slots=True)
class Artifact:
    """A file kept by Ebling.

    Attributes:
        id: Ebling's id of the artifact.
        name: Its file name.
        content_type: Its media type, as uploaded.
        size_bytes: Its size.
        sha256: Its SHA-256, hex.
        labels: Its ``key: value`` labels.
        run_id: The run that made it.
        created_at: When it was stored.
    """

    id: int
    name: str
    content_type: str
    size_bytes: int
    sha256: str
    labels: Mapping[str, Any]
    run_id: uuid.UUID | None
    created_at: datetime

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Artifact:
        """Read an artifact's metadata."""
        return cls(
            id=int(data["id"]),
            name=data["name"],
            content_type=data["content_type"],
            size_bytes=int(data["size_bytes"]),
            sha256=data["sha256"],
            labels=data.get("labels") or {},
            run_id=_uuid(data.get("run_id")),
            created_at=_required_time(data["created_at"]),
        )
