"""The dashboard's overview: runs per state over time, what runs now, what fails most."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ebling.api.schemas import FailingWorkflow, Overview, StateCount, WorkflowRef
from ebling.db.models import Namespace, Run, Workflow
from ebling.db.types import bucket_start, time_bucket
from ebling.lineage.projection import TERMINAL_STATES, RunState

__all__ = ["BUCKET_WIDTH", "overview"]

BUCKET_WIDTH = {"hour": timedelta(hours=1), "day": timedelta(days=1)}


def overview(
    session: Session, *, since: datetime, until: datetime, bucket: str, top: int = 10
) -> Overview:
    """Summarise the runs that started in [since, until), in buckets of an hour or a day."""
    in_range = (Run.started_at >= since, Run.started_at < until)
    bucket_column = time_bucket(bucket, Run.started_at).label("bucket")
    counts: dict[datetime, dict[RunState, int]] = defaultdict(dict)
    by_state: dict[RunState, int] = defaultdict(int)
    rows = session.execute(
        select(bucket_column, Run.state, func.count())
        .where(*in_range)
        .group_by(bucket_column, Run.state)
    )
    for bucket_text, state, count in rows:
        start = bucket_start(bucket_text)
        counts[start][RunState(state)] = count
        by_state[RunState(state)] += count

    running_now = session.scalar(
        select(func.count()).select_from(Run).where(Run.state == RunState.RUNNING.value)
    )
    finished = sum(count for state, count in by_state.items() if state in TERMINAL_STATES)
    return Overview(
        since=since,
        until=until,
        bucket=bucket,
        runs=sum(by_state.values()),
        runs_by_state=dict(by_state),
        success_rate=by_state[RunState.COMPLETED] / finished if finished else None,
        running_now=running_now or 0,
        series=_dense_series(counts, since=since, until=until, width=BUCKET_WIDTH[bucket]),
        top_failing=_top_failing(session, since=since, until=until, top=top),
    )


def _dense_series(
    counts: dict[datetime, dict[RunState, int]],
    *,
    since: datetime,
    until: datetime,
    width: timedelta,
) -> list[StateCount]:
    # Every bucket of the range is listed, empty ones too, so a chart needs no gap-filling.
    start = since.astimezone(UTC)
    if width == timedelta(days=1):
        start = start.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        start = start.replace(minute=0, second=0, microsecond=0)
    series = []
    while start < until:
        series.append(StateCount(bucket=start, counts=counts.get(start, {})))
        start += width
    return series


def _top_failing(
    session: Session, *, since: datetime, until: datetime, top: int
) -> list[FailingWorkflow]:
    failures = func.count().label("failures")
    last_failure = func.max(Run.started_at).label("last_failure_at")
    rows = session.execute(
        select(Workflow.id, Namespace.name, Workflow.name, failures, last_failure)
        .join(Workflow, Workflow.id == Run.workflow_id)
        .join(Namespace, Namespace.id == Workflow.namespace_id)
        .where(Run.state == RunState.FAILED.value, Run.started_at >= since, Run.started_at < until)
        .group_by(Workflow.id, Namespace.name, Workflow.name)
        .order_by(failures.desc(), last_failure.desc())
        .limit(top)
    )
    return [
        FailingWorkflow(
            workflow=WorkflowRef(id=workflow_id, namespace=namespace, name=name),
            failures=count,
            last_failure_at=last_at,
        )
        for workflow_id, namespace, name, count, last_at in rows
    ]
