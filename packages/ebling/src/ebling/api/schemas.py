"""The JSON shapes the REST API answers with: snake_case, times in RFC 3339 UTC."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ebling.auth.principal import Role
from ebling.lineage.projection import RunState

__all__ = [
    "ApiKeyCreate",
    "ApiKeyCreated",
    "ApiKeyOut",
    "IngestSummary",
    "NamespaceOut",
    "Overview",
    "Page",
    "RunDetail",
    "RunEventOut",
    "RunOut",
    "TaskRunOut",
    "WorkflowDetail",
    "WorkflowOut",
    "WorkflowRef",
    "WorkflowStats",
    "one_or_many_body",
]

T = TypeVar("T")


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(_Out, Generic[T]):
    """One page of a list; pass ``next_cursor`` as ``cursor`` for the next, until it is null."""

    items: list[T]
    next_cursor: str | None


class IngestSummary(_Out):
    """What a lineage request stored."""

    received: int
    stored: int
    duplicates: int


class NamespaceOut(_Out):
    """An orchestrator instance."""

    id: int
    name: str
    workflow_count: int


class LastRun(_Out):
    """The newest run of a workflow."""

    id: uuid.UUID
    state: RunState
    started_at: datetime


class WorkflowRef(_Out):
    """Enough of a workflow to name it."""

    id: int
    namespace: str
    name: str


class WorkflowOut(WorkflowRef):
    """A workflow in a list."""

    description: str | None
    tags: list[str]
    owners: list[str]
    last_run: LastRun | None
    created_at: datetime
    updated_at: datetime


class WorkflowStats(_Out):
    """How a workflow's runs went in a window of time."""

    since: datetime
    until: datetime
    runs: int
    runs_by_state: dict[RunState, int]
    success_rate: float | None = Field(
        description="completed / finished runs; null if none finished"
    )
    duration_p50_seconds: float | None
    duration_p95_seconds: float | None


class WorkflowDetail(WorkflowOut):
    """One workflow with its statistics and its latest job facets."""

    job_facets: dict[str, Any]
    stats: WorkflowStats


class _RunFields(_Out):
    id: uuid.UUID
    state: RunState
    started_at: datetime
    ended_at: datetime | None
    duration_seconds: float | None
    nominal_start_time: datetime | None
    nominal_end_time: datetime | None
    try_number: int | None
    error_message: str | None
    producer: str | None
    event_count: int


class RunOut(_RunFields):
    """A workflow run in a list."""

    workflow: WorkflowRef


class TaskRunOut(_RunFields):
    """A task run inside a workflow run."""

    task_name: str


class RunDetail(RunOut):
    """One run with its task runs in time order and its merged run facets."""

    facets: dict[str, Any]
    task_runs: list[TaskRunOut]


class RunEventOut(_Out):
    """A stored OpenLineage event, exactly as it was sent."""

    id: int
    run_id: uuid.UUID
    event_type: str
    event_time: datetime
    received_at: datetime
    payload: dict[str, Any]


class StateCount(_Out):
    """Runs per state in one time bucket."""

    bucket: datetime
    counts: dict[RunState, int]


class FailingWorkflow(_Out):
    """A workflow that failed in the range, with how often."""

    workflow: WorkflowRef
    failures: int
    last_failure_at: datetime


class Overview(_Out):
    """The dashboard's summary of a time range."""

    since: datetime
    until: datetime
    bucket: str
    runs: int
    runs_by_state: dict[RunState, int]
    success_rate: float | None
    running_now: int
    series: list[StateCount]
    top_failing: list[FailingWorkflow]


class ApiKeyCreate(BaseModel):
    """A request for a new API key."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    roles: list[Role] = Field(min_length=1)
    expires_at: datetime | None = None


class ApiKeyOut(_Out):
    """An API key as listed: never its secret."""

    id: int
    name: str
    prefix: str
    roles: list[Role]
    created_at: datetime
    created_by: str | None
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    """A new API key, with the secret shown this once."""

    key: str


def one_or_many_body(description: str) -> dict[str, Any]:
    """The OpenAPI request body of an endpoint that takes one JSON object or an array of them.

    Such endpoints read their body themselves (to bound its size and decompress it), so
    FastAPI cannot describe it from a parameter.
    """
    schema = {
        "description": description,
        "oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}],
    }
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}
