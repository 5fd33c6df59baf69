"""Reading runs, task runs and the raw events of a run."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from ebling.api.pagination import decode_cursor, encode_cursor
from ebling.api.schemas import Page, RunDetail, RunEventOut, RunOut, TaskRunOut, WorkflowRef
from ebling.db.models import LineageEvent, Namespace, Run, TaskRun, Workflow
from ebling.lineage.projection import RunState
from ebling.queries.common import duration_seconds, page_of, with_run_joins, workflow_ref_columns

__all__ = [
    "RunFilter",
    "get_run",
    "get_run_state",
    "list_run_events",
    "list_runs",
    "workflow_exists",
]

_RUN_FIELDS = (
    "id",
    "state",
    "started_at",
    "ended_at",
    "nominal_start_time",
    "nominal_end_time",
    "try_number",
    "error_message",
    "producer",
    "event_count",
)


@dataclass(frozen=True, slots=True)
class RunFilter:
    """What a list of runs may be narrowed to; every field is optional."""

    workflow_id: int | None = None
    namespace: str | None = None
    states: tuple[RunState, ...] = ()
    since: datetime | None = None
    until: datetime | None = None


def _run_columns(table: Any) -> list[Any]:
    return [getattr(table, name) for name in _RUN_FIELDS] + [
        duration_seconds(table).label("duration_seconds")
    ]


def _run_out(row: Any) -> RunOut:
    mapping = row._mapping
    return RunOut(
        **{name: mapping[name] for name in (*_RUN_FIELDS, "duration_seconds")},
        workflow=WorkflowRef(
            id=mapping["workflow_id"],
            namespace=mapping["workflow_namespace"],
            name=mapping["workflow_name"],
        ),
    )


def list_runs(
    session: Session, where: RunFilter, *, limit: int, cursor: str | None
) -> Page[RunOut]:
    """Runs newest first (by start), narrowed by ``where``."""
    statement = with_run_joins(select(*_run_columns(Run), *workflow_ref_columns()))
    if where.workflow_id is not None:
        statement = statement.where(Run.workflow_id == where.workflow_id)
    if where.namespace is not None:
        statement = statement.where(Namespace.name == where.namespace)
    if where.states:
        statement = statement.where(Run.state.in_([state.value for state in where.states]))
    if where.since is not None:
        statement = statement.where(Run.started_at >= where.since)
    if where.until is not None:
        statement = statement.where(Run.started_at < where.until)
    if cursor is not None:
        after = decode_cursor("runs", cursor, (datetime.fromisoformat, uuid.UUID))
        statement = statement.where(tuple_(Run.started_at, Run.id) < tuple_(*after))

    statement = statement.order_by(Run.started_at.desc(), Run.id.desc()).limit(limit + 1)
    rows, more = page_of(list(session.execute(statement)), limit)
    items = [_run_out(row) for row in rows]
    next_cursor = None
    if more:
        last = items[-1]
        next_cursor = encode_cursor("runs", [last.started_at.isoformat(), str(last.id)])
    return Page(items=items, next_cursor=next_cursor)


def get_run(session: Session, run_id: uuid.UUID) -> RunDetail | None:
    """One run with its task runs, in the order they started, and its merged facets."""
    statement = with_run_joins(select(*_run_columns(Run), *workflow_ref_columns())).where(
        Run.id == run_id
    )
    row = session.execute(statement).first()
    if row is None:
        return None

    task_rows = session.execute(
        select(*_run_columns(TaskRun), TaskRun.task_name)
        .where(TaskRun.run_id == run_id)
        .order_by(TaskRun.started_at, TaskRun.task_name, TaskRun.id)
    )
    task_runs = [TaskRunOut.model_validate(task._mapping) for task in task_rows]
    return RunDetail(
        **_run_out(row).model_dump(),
        facets=_merged_run_facets(session, run_id),
        task_runs=task_runs,
    )


def _merged_run_facets(session: Session, run_id: uuid.UUID) -> dict[str, Any]:
    # Facets are read back from the raw events, in time order, rather than kept on the run
    # row: merging them per facet in SQL would need a timestamp per facet. A run has few
    # events, and the index on (root_run_id, event_time) finds them directly.
    payloads = session.scalars(
        select(LineageEvent.payload)
        .where(LineageEvent.root_run_id == run_id, LineageEvent.run_id == run_id)
        .order_by(LineageEvent.event_time, LineageEvent.id)
    )
    merged: dict[str, Any] = {}
    for payload in payloads:
        facets = payload.get("run", {}).get("facets") or {}
        merged.update(facets)
    return merged


def list_run_events(
    session: Session, run_id: uuid.UUID, *, limit: int, cursor: str | None
) -> Page[RunEventOut]:
    """The raw events of a run and of its task runs, oldest first."""
    statement = select(LineageEvent).where(LineageEvent.root_run_id == run_id)
    if cursor is not None:
        after = decode_cursor("run-events", cursor, (datetime.fromisoformat, int))
        statement = statement.where(
            tuple_(LineageEvent.event_time, LineageEvent.id) > tuple_(*after)
        )
    statement = statement.order_by(LineageEvent.event_time, LineageEvent.id).limit(limit + 1)
    events, more = page_of(list(session.scalars(statement)), limit)
    items = [RunEventOut.model_validate(event) for event in events]
    next_cursor = None
    if more:
        last = items[-1]
        next_cursor = encode_cursor("run-events", [last.event_time.isoformat(), last.id])
    return Page(items=items, next_cursor=next_cursor)


def workflow_exists(session: Session, workflow_id: int) -> bool:
    """Whether a workflow with that id exists."""
    return session.get(Workflow, workflow_id) is not None


def get_run_state(session: Session, run_id: uuid.UUID) -> str | None:
    """The state of a run, or None if there is no such run."""
    return session.scalar(select(Run.state).where(Run.id == run_id))
