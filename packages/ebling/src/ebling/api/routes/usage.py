"""Usage over HTTP: machines record it, billing reads it back and sums it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import select, tuple_
from starlette.concurrency import run_in_threadpool

from ebling.api.dependencies import DbSession, require
from ebling.api.pagination import decode_cursor, encode_cursor
from ebling.api.problems import ProblemError
from ebling.api.routes.lineage import read_limited_body
from ebling.api.schemas import Page, one_or_many_body
from ebling.auth.principal import Permission, Principal
from ebling.db.engine import WRITE
from ebling.db.models import UsageRecord
from ebling.usage import InvalidUsage, UsageConflict, parse_usage, quantity_of, store_usage
from ebling.usage import usage_totals as sum_usage

router = APIRouter(prefix="/api/v1/usage", tags=["usage"])

Since = Annotated[datetime | None, Query(description="Occurred at or after (RFC 3339).")]
Until = Annotated[datetime | None, Query(description="Occurred before (RFC 3339).")]


class UsageSummary(BaseModel):
    """What a usage request stored; ``duplicates`` were known by their keys already."""

    received: int
    stored: int
    duplicates: int


class UsageOut(BaseModel):
    """A stored usage record; ``quantity`` is an exact decimal, written as a string."""

    key: str
    metric: str
    quantity: str
    occurred_at: datetime
    run_id: uuid.UUID | None
    account: str | None
    attributes: dict[str, Any]
    received_at: datetime
    recorded_by: str | None


class UsageTotalOut(BaseModel):
    """The sum of a metric for an account (``null``: usage recorded without one)."""

    metric: str
    account: str | None
    quantity: str
    records: int


def _aware(name: str, moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        raise ProblemError(
            f"'{name}' has no UTC offset; write it as 2026-01-31T00:00:00Z.",
            status=422,
            slug="invalid-request",
        )
    return moment


@router.post(
    "",
    summary="Record usage",
    response_model=UsageSummary,
    openapi_extra=one_or_many_body("One usage record, or an array of up to 1,000 of them."),
)
async def record_usage(
    request: Request,
    session: DbSession,
    principal: Annotated[Principal, Depends(require(Permission.WRITE_USAGE))],
) -> UsageSummary:
    """Store usage records; a key seen before with the same content is counted once.

    All or nothing: if any record is invalid, or reuses a key with other content (409),
    nothing of the request is stored.
    """
    settings = request.app.state.settings
    body = await read_limited_body(request, settings.max_body_bytes)
    try:
        records = parse_usage(body, max_records=settings.max_batch_events)
    except InvalidUsage as invalid:
        raise ProblemError(
            f"{invalid.summary} Nothing was stored.",
            status=422 if invalid.errors else 400,
            slug="invalid-usage",
            errors=invalid.errors,
        ) from invalid

    def write() -> UsageSummary:
        session.connection(execution_options=WRITE)
        result = store_usage(session, records, recorded_by=principal.subject)
        session.commit()
        return UsageSummary(
            received=result.received, stored=result.stored, duplicates=result.duplicates
        )

    try:
        return await run_in_threadpool(write)
    except UsageConflict as conflict:
        session.rollback()
        raise ProblemError(
            f"{conflict} Nothing was stored.",
            status=409,
            slug="usage-key-conflict",
            errors=[
                {"field": "key", "key": key, "message": "recorded before with other content"}
                for key in conflict.keys
            ],
        ) from conflict


@router.get("", summary="Usage records, newest first")
def list_usage(
    session: DbSession,
    _: Annotated[Principal, Depends(require(Permission.READ_USAGE))],
    metric: str | None = None,
    account: str | None = None,
    run_id: uuid.UUID | None = None,
    since: Since = None,
    until: Until = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> Page[UsageOut]:
    """Records by when they occurred, newest first, filtered by metric, account, run, time."""
    statement = select(UsageRecord)
    if metric is not None:
        statement = statement.where(UsageRecord.metric == metric)
    if account is not None:
        statement = statement.where(UsageRecord.account == account)
    if run_id is not None:
        statement = statement.where(UsageRecord.run_id == run_id)
    if (start := _aware("since", since)) is not None:
        statement = statement.where(UsageRecord.occurred_at >= start)
    if (end := _aware("until", until)) is not None:
        statement = statement.where(UsageRecord.occurred_at < end)
    if cursor is not None:
        after = decode_cursor("usage", cursor, (datetime.fromisoformat, int))
        statement = statement.where(
            tuple_(UsageRecord.occurred_at, UsageRecord.id) < tuple_(*after)
        )
    statement = statement.order_by(UsageRecord.occurred_at.desc(), UsageRecord.id.desc())

    found = list(session.scalars(statement.limit(limit + 1)))
    items = [
        UsageOut(
            key=record.key,
            metric=record.metric,
            quantity=format(quantity_of(record.quantity_millionths), "f"),
            occurred_at=record.occurred_at,
            run_id=record.run_id,
            account=record.account,
            attributes=record.attributes,
            received_at=record.received_at,
            recorded_by=record.recorded_by,
        )
        for record in found[:limit]
    ]
    next_cursor = None
    if len(found) > limit:
        last = found[limit - 1]
        next_cursor = encode_cursor("usage", [last.occurred_at.isoformat(), last.id])
    return Page(items=items, next_cursor=next_cursor)


@router.get("/totals", summary="Usage summed per metric and account")
def usage_totals(
    session: DbSession,
    _: Annotated[Principal, Depends(require(Permission.READ_USAGE))],
    metric: str | None = None,
    account: str | None = None,
    since: Since = None,
    until: Until = None,
) -> list[UsageTotalOut]:
    """Exact sums of the usage that occurred in ``[since, until)``, per metric and account."""
    totals = sum_usage(
        session,
        since=_aware("since", since),
        until=_aware("until", until),
        metric=metric,
        account=account,
    )
    return [
        UsageTotalOut(
            metric=total.metric,
            account=total.account,
            quantity=format(total.quantity, "f"),
            records=total.records,
        )
        for total in totals
    ]
