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
    "AuditEventOut",
    "IngestSummary",
    "LoginRequest",
    "LoginResponse",
    "Me",
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


class Me(_Out):
    """The caller, as Ebling sees them: who, how authenticated, and what they may do."""

    subject: str = Field(description="The token's subject, or api-key:<id> for a key.")
    kind: str = Field(description="user, service_account or api_key.")
    display_name: str
    client_id: str | None = Field(description="The OAuth client the token was issued to.")
    roles: list[str]
    permissions: list[str]


class LoginRequest(BaseModel):
    """A username and password for simple sign-in."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024, repr=False)


class LoginResponse(_Out):
    """A bearer token for the API, as OAuth 2 token endpoints answer."""

    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the OAuth 2 token type, not a secret
    expires_in: int = Field(description="Seconds until the token expires.")
    roles: list[str]


class AuditEventOut(_Out):
    """One audited request: who, what, when, from where, and how it ended."""

    id: int
    occurred_at: datetime
    subject: str | None
    client_id: str | None
    auth_kind: str = Field(description="api_key, oidc, simple, password, unknown or none.")
    method: str
    path: str
    route: str | None = Field(description="The route template, e.g. /api/v1/runs/{run_id}.")
    status: int
    outcome: str = Field(description="success, unauthenticated, denied or failure.")
    reason: str | None = Field(description="Why the request failed.")
    remote_addr: str | None


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
