"""Read endpoints for monitoring: namespaces, workflows, runs, their events, the overview."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from ebling.api.dependencies import DbSession, require
from ebling.api.problems import NotFound, ProblemError
from ebling.api.schemas import (
    NamespaceOut,
    Overview,
    Page,
    RunDetail,
    RunEventOut,
    RunOut,
    WorkflowDetail,
    WorkflowOut,
)
from ebling.auth.principal import Permission
from ebling.lineage.projection import RunState
from ebling.queries import overview as overview_queries
from ebling.queries import runs as run_queries
from ebling.queries import workflows as workflow_queries

router = APIRouter(
    prefix="/api/v1",
    tags=["monitoring"],
    dependencies=[Depends(require(Permission.READ_MONITORING))],
)

Limit = Annotated[int, Query(ge=1, le=500, description="Items per page.")]
Cursor = Annotated[str | None, Query(description="The next_cursor of the previous page.")]
Since = Annotated[datetime | None, Query(description="Start of the range (RFC 3339).")]
Until = Annotated[datetime | None, Query(description="End of the range, exclusive (RFC 3339).")]

# Hourly buckets over years would answer with tens of thousands of points nobody can chart.
MAX_BUCKETS = 2_000


def _range(
    since: datetime | None, until: datetime | None, default: timedelta
) -> tuple[datetime, datetime]:
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and moment.tzinfo is None:
            raise ProblemError(
                f"'{name}' has no UTC offset; write it as 2026-01-31T00:00:00Z.",
                status=422,
                slug="invalid-request",
            )
    end = until or datetime.now(UTC)
    start = since or end - default
    if start >= end:
        raise ProblemError("'since' must be before 'until'.", status=422, slug="invalid-request")
    return start.astimezone(UTC), end.astimezone(UTC)


@router.get("/namespaces", summary="Orchestrator instances")
def list_namespaces(session: DbSession) -> list[NamespaceOut]:
    """Every namespace (orchestrator instance) that has reported, with its workflow count."""
    return workflow_queries.list_namespaces(session)


@router.get("/workflows", summary="Workflows")
def list_workflows(
    session: DbSession,
    namespace: str | None = None,
    name: str | None = None,
    tag: str | None = None,
    last_state: RunState | None = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in the name.")] = None,
    sort: workflow_queries.WorkflowSort = workflow_queries.WorkflowSort.NAME,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[WorkflowOut]:
    """Workflows, filtered by namespace, exact name, tag, state of the last run, or text."""
    where = workflow_queries.WorkflowFilter(
        namespace=namespace, name=name, tag=tag, last_state=last_state, search=q
    )
    return workflow_queries.list_workflows(session, where, sort=sort, limit=limit, cursor=cursor)


@router.get("/workflows/{workflow_id}", summary="One workflow with statistics")
def get_workflow(
    session: DbSession, workflow_id: int, since: Since = None, until: Until = None
) -> WorkflowDetail:
    """A workflow and how its runs went in a window (the last 7 days unless given)."""
    start, end = _range(since, until, timedelta(days=7))
    workflow = workflow_queries.get_workflow(session, workflow_id, since=start, until=end)
    if workflow is None:
        raise NotFound(f"No workflow has id {workflow_id}.")
    return workflow


@router.get("/runs", summary="Workflow runs")
def list_runs(
    session: DbSession,
    workflow_id: int | None = None,
    namespace: str | None = None,
    state: Annotated[list[RunState] | None, Query(description="One or more states.")] = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[RunOut]:
    """Runs newest first, by workflow, namespace, state and start time."""
    if since is not None or until is not None:
        since, until = _range(since, until, timedelta(days=36_500))
    where = run_queries.RunFilter(
        workflow_id=workflow_id,
        namespace=namespace,
        states=tuple(state or ()),
        since=since,
        until=until,
    )
    return run_queries.list_runs(session, where, limit=limit, cursor=cursor)


@router.get("/runs/{run_id}", summary="One run with its task runs")
def get_run(session: DbSession, run_id: uuid.UUID) -> RunDetail:
    """A run, its task runs in the order they started, and its merged run facets."""
    run = run_queries.get_run(session, run_id)
    if run is None:
        raise NotFound(f"No run has id {run_id}.")
    return run


@router.get("/runs/{run_id}/events", summary="The raw events of a run")
def list_run_events(
    session: DbSession, run_id: uuid.UUID, limit: Limit = 100, cursor: Cursor = None
) -> Page[RunEventOut]:
    """The OpenLineage events of a run and its task runs, oldest first, as they were sent."""
    if run_queries.get_run_state(session, run_id) is None:
        raise NotFound(f"No run has id {run_id}.")
    return run_queries.list_run_events(session, run_id, limit=limit, cursor=cursor)


@router.get("/overview", summary="Summary for the dashboard")
def get_overview(
    session: DbSession,
    since: Since = None,
    until: Until = None,
    bucket: Literal["hour", "day"] = "hour",
) -> Overview:
    """Runs per state per hour or day, running now, and the workflows that fail most.

    The range defaults to the last 24 hours.
    """
    start, end = _range(since, until, timedelta(hours=24))
    buckets = (end - start) / overview_queries.BUCKET_WIDTH[bucket]
    if buckets > MAX_BUCKETS:
        raise ProblemError(
            f"The range holds {int(buckets)} {bucket}s; at most {MAX_BUCKETS} buckets are "
            "returned. Use bucket=day or a shorter range.",
            status=422,
            slug="invalid-request",
        )
    return overview_queries.overview(session, since=start, until=end, bucket=bucket)
