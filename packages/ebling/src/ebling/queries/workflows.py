"""Reading workflows: the searchable list, and one workflow with its statistics."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, func, select, tuple_
from sqlalchemy.orm import Session

from ebling.api.pagination import decode_cursor, encode_cursor
from ebling.api.schemas import (
    LastRun,
    NamespaceOut,
    Page,
    WorkflowDetail,
    WorkflowOut,
    WorkflowStats,
)
from ebling.db.models import Namespace, Run, Workflow
from ebling.db.types import json_array_contains
from ebling.lineage.projection import TERMINAL_STATES, RunState
from ebling.queries.common import duration_seconds, escape_like, page_of

__all__ = [
    "WorkflowFilter",
    "WorkflowSort",
    "get_workflow",
    "list_namespaces",
    "list_workflows",
    "workflow_stats",
]


class WorkflowSort(StrEnum):
    """Orders a workflow list can take; a leading ``-`` means descending."""

    NAME = "name"
    NAME_DESC = "-name"
    LAST_RUN = "last_run_at"
    LAST_RUN_DESC = "-last_run_at"


@dataclass(frozen=True, slots=True)
class WorkflowFilter:
    """What a list of workflows may be narrowed to; every field is optional."""

    namespace: str | None = None
    name: str | None = None
    tag: str | None = None
    last_state: RunState | None = None
    search: str | None = None


def _sort_key(sort: WorkflowSort) -> tuple[Any, str]:
    # (column, how a cursor value is read back). Workflows always have a last run, since a
    # workflow row is only ever created together with one.
    if sort in (WorkflowSort.NAME, WorkflowSort.NAME_DESC):
        return Workflow.name, "text"
    return Workflow.last_run_at, "time"


def list_workflows(
    session: Session,
    where: WorkflowFilter,
    *,
    sort: WorkflowSort,
    limit: int,
    cursor: str | None,
) -> Page[WorkflowOut]:
    """Workflows matching ``where``, in ``sort`` order, a page at a time."""
    statement = select(Workflow, Namespace.name).join(
        Namespace, Namespace.id == Workflow.namespace_id
    )
    for condition in _conditions(where):
        statement = statement.where(condition)

    column, kind = _sort_key(sort)
    descending = sort.value.startswith("-")
    if cursor is not None:
        parse = datetime.fromisoformat if kind == "time" else str
        after = tuple_(*decode_cursor(f"workflows{sort.value}", cursor, (parse, int)))
        key = tuple_(column, Workflow.id)
        statement = statement.where(key < after if descending else key > after)
    order = (column.desc(), Workflow.id.desc()) if descending else (column.asc(), Workflow.id.asc())
    statement = statement.order_by(*order).limit(limit + 1)

    rows, more = page_of(list(session.execute(statement)), limit)
    items = [_workflow_out(workflow, namespace) for workflow, namespace in rows]
    next_cursor = None
    if more:
        last_workflow = rows[-1][0]
        value = getattr(last_workflow, column.key)
        value = value.isoformat() if kind == "time" else value
        next_cursor = encode_cursor(f"workflows{sort.value}", [value, last_workflow.id])
    return Page(items=items, next_cursor=next_cursor)


def _conditions(where: WorkflowFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if where.namespace is not None:
        conditions.append(Namespace.name == where.namespace)
    if where.name is not None:
        conditions.append(Workflow.name == where.name)
    if where.tag is not None:
        conditions.append(json_array_contains(Workflow.tags, where.tag))
    if where.last_state is not None:
        conditions.append(Workflow.last_run_state == where.last_state.value)
    if where.search:
        pattern = f"%{escape_like(where.search.lower())}%"
        conditions.append(func.lower(Workflow.name).like(pattern, escape="\\"))
    return conditions


def _workflow_out(workflow: Workflow, namespace: str) -> WorkflowOut:
    return WorkflowOut(**_workflow_fields(workflow, namespace))


def _workflow_fields(workflow: Workflow, namespace: str) -> dict[str, Any]:
    last_run = None
    if workflow.last_run_id and workflow.last_run_at and workflow.last_run_state:
        last_run = LastRun(
            id=workflow.last_run_id,
            state=RunState(workflow.last_run_state),
            started_at=workflow.last_run_at,
        )
    return {
        "id": workflow.id,
        "namespace": namespace,
        "name": workflow.name,
        "description": workflow.description,
        "tags": workflow.tags,
        "owners": workflow.owners,
        "last_run": last_run,
        "created_at": workflow.created_at,
        "updated_at": workflow.updated_at,
    }


def get_workflow(
    session: Session, workflow_id: int, *, since: datetime, until: datetime
) -> WorkflowDetail | None:
    """One workflow, with the statistics of its runs that started in [since, until)."""
    row = session.execute(
        select(Workflow, Namespace.name)
        .join(Namespace, Namespace.id == Workflow.namespace_id)
        .where(Workflow.id == workflow_id)
    ).first()
    if row is None:
        return None
    workflow, namespace = row
    return WorkflowDetail(
        **_workflow_fields(workflow, namespace),
        job_facets=workflow.job_facets,
        stats=workflow_stats(session, workflow_id, since=since, until=until),
    )


def workflow_stats(
    session: Session, workflow_id: int, *, since: datetime, until: datetime
) -> WorkflowStats:
    """Counts per state, success rate, and duration percentiles of finished runs."""
    in_window = (
        Run.workflow_id == workflow_id,
        Run.started_at >= since,
        Run.started_at < until,
    )
    by_state = {
        RunState(state): count
        for state, count in session.execute(
            select(Run.state, func.count()).where(*in_window).group_by(Run.state)
        )
    }
    # Durations are fetched and ranked here rather than with percentile_cont, which SQLite
    # lacks; the (workflow_id, started_at) index bounds the scan to the window.
    durations = sorted(
        duration
        for duration in session.scalars(
            select(duration_seconds(Run)).where(*in_window, Run.ended_at.is_not(None))
        )
        if duration is not None
    )
    finished = sum(count for state, count in by_state.items() if state in TERMINAL_STATES)
    completed = by_state.get(RunState.COMPLETED, 0)
    return WorkflowStats(
        since=since,
        until=until,
        runs=sum(by_state.values()),
        runs_by_state=by_state,
        success_rate=completed / finished if finished else None,
        duration_p50_seconds=_percentile(durations, 50),
        duration_p95_seconds=_percentile(durations, 95),
    )


def _percentile(ordered: list[float], percent: int) -> float | None:
    if not ordered:
        return None
    if len(ordered) == 1:
        return ordered[0]
    # "inclusive" interpolates between ranks as PostgreSQL's percentile_cont does.
    return statistics.quantiles(ordered, n=100, method="inclusive")[percent - 1]


def list_namespaces(session: Session) -> list[NamespaceOut]:
    """Every namespace with how many workflows it holds."""
    rows = session.execute(
        select(Namespace.id, Namespace.name, func.count(Workflow.id))
        .outerjoin(Workflow, Workflow.namespace_id == Namespace.id)
        .group_by(Namespace.id, Namespace.name)
        .order_by(Namespace.name)
    )
    return [NamespaceOut(id=i, name=name, workflow_count=count) for i, name, count in rows]
