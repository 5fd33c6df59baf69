"""Storing a batch of OpenLineage events and projecting it, in one transaction.

The steps, each one statement for the whole batch:

1. insert the raw events, skipping those already stored (by content hash);
2. fold only the new ones into patches (``ebling.lineage.projection``);
3. upsert namespaces and workflows, which on PostgreSQL also locks each workflow row, so that
   concurrent batches for one workflow apply one after the other;
4. upsert runs, then task runs, merging each patch into the stored row in SQL with the same
   order-independent rules the patches were built with;
5. refresh each touched workflow's newest run.

Locks are always taken in a sorted order (events by hash, workflows by name), so concurrent
batches wait for each other but never dead-lock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, case

from ebling.db.bulk import bulk_insert
from ebling.db.dialect import insert_for
from ebling.db.models import LineageEvent, Namespace, Run, TaskRun, Workflow
from ebling.db.types import greatest, least
from ebling.lineage.events import ParsedEvent
from ebling.lineage.projection import RunPatch, WorkflowPatch, project, root_run_id

__all__ = ["IngestResult", "event_hash", "store_events"]


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What happened to a batch: how many events were new and how many were replays."""

    received: int
    stored: int

    @property
    def duplicates(self) -> int:
        """Events that had been stored before (or twice in the same batch)."""
        return self.received - self.stored


def event_hash(raw: dict[str, Any]) -> bytes:
    """A digest of the event's canonical JSON: the same event hashes the same however sent."""
    return hashlib.blake2b(orjson.dumps(raw, option=orjson.OPT_SORT_KEYS), digest_size=16).digest()


def store_events(session: Session, events: Sequence[ParsedEvent]) -> IngestResult:
    """Store new events and project them into workflows, runs and task runs.

    The caller owns the transaction and commits it; nothing here commits.
    """
    now = datetime.now(UTC)
    by_hash = {event_hash(parsed.raw): parsed for parsed in events}
    inserted = _insert_raw_events(session, by_hash, now)
    new_events = [by_hash[digest].event for digest in sorted(inserted)]
    if not new_events:
        return IngestResult(received=len(events), stored=0)

    projection = project(new_events)
    workflow_ids = _upsert_workflows(session, projection.workflows.values(), now)
    _upsert_runs(session, Run, projection.runs.values(), workflow_ids, now)
    _upsert_runs(session, TaskRun, projection.task_runs.values(), workflow_ids, now)
    _refresh_last_runs(session, sorted(workflow_ids.values()))
    return IngestResult(received=len(events), stored=len(new_events))


def _insert_raw_events(
    session: Session, by_hash: dict[bytes, ParsedEvent], now: datetime
) -> set[bytes]:
    rows = [
        {
            "event_hash": digest,
            "run_id": parsed.event.run.runId,
            "root_run_id": root_run_id(parsed.event),
            "event_type": parsed.event.eventType.value,
            "event_time": parsed.event.eventTime,
            "received_at": now,
            "payload": parsed.raw,
        }
        for digest, parsed in sorted(by_hash.items())
    ]
    bulk = bulk_insert(session, LineageEvent.__table__, rows, order_by=("event_hash",))  # type: ignore[arg-type]
    statement = bulk.statement.on_conflict_do_nothing(index_elements=["event_hash"]).returning(
        LineageEvent.__table__.c.event_hash
    )
    return {bytes(digest) for digest in bulk.execute(session, statement).scalars()}


def _namespace_ids(session: Session, names: set[str], now: datetime) -> dict[str, int]:
    statement = insert_for(session, Namespace).on_conflict_do_nothing(index_elements=["name"])
    session.execute(statement, [{"name": name, "created_at": now} for name in sorted(names)])
    found = session.execute(select(Namespace.name, Namespace.id).where(Namespace.name.in_(names)))
    return dict(found.all())


def _upsert_workflows(session: Session, patches: Any, now: datetime) -> dict[tuple[str, str], int]:
    patches = sorted(patches, key=lambda p: (p.identity.namespace, p.identity.name))
    namespace_ids = _namespace_ids(session, {p.identity.namespace for p in patches}, now)
    rows = [_workflow_row(patch, namespace_ids, now) for patch in patches]

    # The table, not the mapped class: the ORM would split the rows into one statement per
    # pattern of empty values; Core sends them all at once.
    table = Workflow.__table__
    bulk = bulk_insert(session, table, rows, order_by=("namespace_id", "name"))  # type: ignore[arg-type]
    statement = bulk.statement
    newer = statement.excluded.facets_seq > table.c.facets_seq
    statement = statement.on_conflict_do_update(
        index_elements=["namespace_id", "name"],
        set_={
            **{
                column: case((newer, statement.excluded[column]), else_=table.c[column])
                for column in ("job_facets", "description", "tags", "owners")
            },
            "facets_seq": greatest(table.c.facets_seq, statement.excluded.facets_seq),
            "updated_at": statement.excluded.updated_at,
        },
    ).returning(Workflow.id, Workflow.namespace_id, Workflow.name)
    names = {namespace_id: name for name, namespace_id in namespace_ids.items()}
    found: list[Any] = list(bulk.execute(session, statement))
    return {(names[row.namespace_id], row.name): row.id for row in found}


def _workflow_row(
    patch: WorkflowPatch, namespace_ids: dict[str, int], now: datetime
) -> dict[str, Any]:
    return {
        "namespace_id": namespace_ids[patch.identity.namespace],
        "name": patch.identity.name,
        "job_facets": patch.job_facets,
        "facets_seq": patch.facets_seq,
        "description": patch.description,
        "tags": patch.tags,
        "owners": patch.owners,
        "created_at": now,
        "updated_at": now,
    }


def _upsert_runs(
    session: Session,
    model: type[Run | TaskRun],
    patches: Any,
    workflow_ids: dict[tuple[str, str], int],
    now: datetime,
) -> None:
    rows = [_run_row(patch, workflow_ids, now) for patch in sorted(patches, key=lambda p: p.id)]
    if not rows:
        return
    table = model.__table__
    bulk = bulk_insert(session, table, rows, order_by=("id",))  # type: ignore[arg-type]
    statement = bulk.statement
    new = statement.excluded
    newer_state: ColumnElement[bool] = new.state_seq > table.c.state_seq

    def follow_state(column: str) -> Any:
        return case((newer_state, new[column]), else_=table.c[column])

    statement = statement.on_conflict_do_update(
        index_elements=["id"],
        set_={
            "state": follow_state("state"),
            "ended_at": follow_state("ended_at"),
            "error_message": follow_state("error_message"),
            "state_seq": greatest(table.c.state_seq, new.state_seq),
            "started_at": least(table.c.started_at, new.started_at),
            # Properties of the run that its events repeat: the first value heard is kept.
            **{
                column: func.coalesce(table.c[column], new[column])
                for column in (
                    "nominal_start_time",
                    "nominal_end_time",
                    "try_number",
                    "producer",
                )
            },
            "event_count": table.c.event_count + new.event_count,
            "updated_at": new.updated_at,
        },
    )
    bulk.execute(session, statement)


def _run_row(
    patch: RunPatch, workflow_ids: dict[tuple[str, str], int], now: datetime
) -> dict[str, Any]:
    row = {
        "id": patch.id,
        "workflow_id": workflow_ids[(patch.workflow.namespace, patch.workflow.name)],
        "state": patch.state.value,
        "state_seq": patch.state_seq,
        "started_at": patch.started_at,
        "ended_at": patch.ended_at,
        "error_message": patch.error_message,
        "nominal_start_time": patch.nominal_start_time,
        "nominal_end_time": patch.nominal_end_time,
        "try_number": patch.try_number,
        "producer": patch.producer,
        "event_count": patch.event_count,
        "created_at": now,
        "updated_at": now,
    }
    if patch.task_name is not None:
        row["run_id"] = patch.root_run_id
        row["task_name"] = patch.task_name
    return row


def _refresh_last_runs(session: Session, workflow_ids: list[int]) -> None:
    newest = (
        select(Run)
        .where(Run.workflow_id == Workflow.id)
        .order_by(Run.started_at.desc(), Run.id.desc())
        .limit(1)
        .correlate(Workflow)
    )
    session.execute(
        update(Workflow)
        .where(Workflow.id.in_(workflow_ids))
        .values(
            last_run_id=newest.with_only_columns(Run.id).scalar_subquery(),
            last_run_state=newest.with_only_columns(Run.state).scalar_subquery(),
            last_run_at=newest.with_only_columns(Run.started_at).scalar_subquery(),
        )
        .execution_options(synchronize_session=False)
    )
