"""``GET /api/v1/audit-events``: the audit log, for admins."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from ebling.api.dependencies import DbSession, require
from ebling.api.problems import ProblemError
from ebling.api.schemas import AuditEventOut, Page
from ebling.audit import AuditFilter, Outcome, list_audit_events
from ebling.auth.principal import Permission

router = APIRouter(
    prefix="/api/v1",
    tags=["access"],
    dependencies=[Depends(require(Permission.READ_AUDIT))],
)


def _aware(name: str, moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ProblemError(
            f"'{name}' has no UTC offset; write it as 2026-01-31T00:00:00Z.",
            status=422,
            slug="invalid-request",
        )
    return moment.astimezone(UTC)


@router.get("/audit-events", summary="The audit log")
def list_events(
    session: DbSession,
    subject: Annotated[str | None, Query(max_length=255, description="Exact subject.")] = None,
    outcome: Outcome | None = None,
    since: Annotated[datetime | None, Query(description="From this time (RFC 3339).")] = None,
    until: Annotated[
        datetime | None, Query(description="Before this time, exclusive (RFC 3339).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Items per page.")] = 50,
    cursor: Annotated[str | None, Query(description="The previous page's next_cursor.")] = None,
) -> Page[AuditEventOut]:
    """Every write and every refused request, newest first."""
    start, end = _aware("since", since), _aware("until", until)
    if start is not None and end is not None and start >= end:
        raise ProblemError("'since' must be before 'until'.", status=422, slug="invalid-request")
    where = AuditFilter(subject=subject, outcome=outcome, since=start, until=end)
    events, next_cursor = list_audit_events(session, where, limit=limit, cursor=cursor)
    return Page(
        items=[AuditEventOut.model_validate(event) for event in events], next_cursor=next_cursor
    )
