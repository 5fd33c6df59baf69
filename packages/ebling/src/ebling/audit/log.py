"""Writing and reading audit events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from ebling.api.pagination import decode_cursor, encode_cursor
from ebling.db.engine import WRITE
from ebling.db.models import AuditEvent

__all__ = [
    "AuditEntry",
    "AuditFilter",
    "Outcome",
    "is_audited",
    "list_audit_events",
    "outcome_of",
    "record_request",
]

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Columns are bounded; a path or reason beyond them is cut rather than refused.
_PATH_LENGTH = 2048
_REASON_LENGTH = 2000


class Outcome(StrEnum):
    """How a request ended, as the audit log tells it."""

    SUCCESS = "success"
    UNAUTHENTICATED = "unauthenticated"
    DENIED = "denied"
    FAILURE = "failure"


def is_audited(method: str, status: int) -> bool:
    """Whether a request is recorded: every write, and every 401 and 403.

    Successful and otherwise failed reads are not: they would make the log as large as the
    access log and slow down every read by a write.
    """
    return method.upper() in WRITE_METHODS or status in (401, 403)


def outcome_of(status: int) -> Outcome:
    """The outcome an HTTP status stands for."""
    if status == 401:
        return Outcome.UNAUTHENTICATED
    if status == 403:
        return Outcome.DENIED
    return Outcome.SUCCESS if status < 400 else Outcome.FAILURE


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """What is known about a finished request when it is recorded."""

    method: str
    path: str
    route: str | None
    status: int
    auth_kind: str
    subject: str | None = None
    client_id: str | None = None
    reason: str | None = None
    remote_addr: str | None = None


def record_request(session: Session, entry: AuditEntry) -> AuditEvent:
    """Store one audit event in a transaction of its own, and commit it."""
    session.connection(execution_options=WRITE)
    event = AuditEvent(
        occurred_at=datetime.now(UTC),
        subject=entry.subject,
        client_id=entry.client_id,
        auth_kind=entry.auth_kind,
        method=entry.method.upper(),
        path=entry.path[:_PATH_LENGTH],
        route=entry.route,
        status=entry.status,
        outcome=outcome_of(entry.status).value,
        reason=entry.reason[:_REASON_LENGTH] if entry.reason else None,
        remote_addr=entry.remote_addr,
    )
    session.add(event)
    session.commit()
    return event


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which audit events to list."""

    subject: str | None = None
    outcome: Outcome | None = None
    since: datetime | None = None
    until: datetime | None = None


def list_audit_events(
    session: Session, where: AuditFilter, *, limit: int, cursor: str | None
) -> tuple[list[AuditEvent], str | None]:
    """One page of events, newest first, and the cursor of the next page (or None)."""
    statement = select(AuditEvent)
    if where.subject is not None:
        statement = statement.where(AuditEvent.subject == where.subject)
    if where.outcome is not None:
        statement = statement.where(AuditEvent.outcome == where.outcome.value)
    if where.since is not None:
        statement = statement.where(AuditEvent.occurred_at >= where.since)
    if where.until is not None:
        statement = statement.where(AuditEvent.occurred_at < where.until)
    if cursor is not None:
        # Ids grow with time, so the id alone is a stable keyset position.
        (after_id,) = decode_cursor("audit-events", cursor, (int,))
        statement = statement.where(AuditEvent.id < after_id)
    rows = list(session.scalars(statement.order_by(AuditEvent.id.desc()).limit(limit + 1)))
    page = rows[:limit]
    next_cursor = encode_cursor("audit-events", [page[-1].id]) if len(rows) > limit else None
    return page, next_cursor
