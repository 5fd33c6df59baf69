"""``POST /api/v1/lineage``: where every orchestrator reports its runs."""

from __future__ import annotations

import zlib
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from ebling.api.dependencies import DbSession, require
from ebling.api.problems import ProblemError
from ebling.api.schemas import IngestSummary, one_or_many_body
from ebling.auth.principal import Permission, Principal
from ebling.db.engine import WRITE
from ebling.lineage.events import BatchProblem, InvalidEvents, parse_events
from ebling.lineage.store import store_events

router = APIRouter(prefix="/api/v1", tags=["lineage"])


class RequestTooLarge(ProblemError):
    """A body over the configured limit."""

    status = 413
    slug = "request-too-large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body is over {limit} bytes; send fewer events per request.")


async def read_limited_body(request: Request, limit: int) -> bytes:
    """The request body, decompressed if gzip-encoded, never more than ``limit`` bytes of it.

    The limit applies to the decompressed size too, so a small compressed bomb is refused
    as early as a large plain body.
    """
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip"):
        raise ProblemError(
            f"Content-Encoding '{encoding}' is not supported; send gzip or no encoding.",
            status=415,
            slug="unsupported-encoding",
        )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestTooLarge(limit)

    # wbits=31: a gzip header and trailer around a deflate stream.
    decompressor = zlib.decompressobj(wbits=31) if encoding == "gzip" else None
    chunks = []
    size = 0
    try:
        async for chunk in request.stream():
            if decompressor is not None:
                chunk = decompressor.decompress(chunk, limit + 1 - size)
                if decompressor.unconsumed_tail:
                    raise RequestTooLarge(limit)
            size += len(chunk)
            if size > limit:
                raise RequestTooLarge(limit)
            chunks.append(chunk)
        if decompressor is not None and not decompressor.eof:
            raise zlib.error("the gzip stream ends early")
    except zlib.error as error:
        raise ProblemError(
            f"The body is not valid gzip: {error}.", status=400, slug="invalid-encoding"
        ) from error
    return b"".join(chunks)


@router.post(
    "/lineage",
    summary="Ingest OpenLineage run events",
    response_model=IngestSummary,
    openapi_extra=one_or_many_body(
        "One OpenLineage 2-0-2 RunEvent, or an array of up to 1,000 of them."
    ),
)
async def ingest_lineage(
    request: Request,
    session: DbSession,
    _: Annotated[Principal, Depends(require(Permission.WRITE_LINEAGE))],
) -> IngestSummary:
    """Store events and update the runs they describe; replays are counted, not stored.

    A batch is all or nothing: if any event is invalid, none is stored, and the problem
    document lists every error by the event's index and field.
    """
    settings = request.app.state.settings
    metrics = request.app.state.metrics
    body = await read_limited_body(request, settings.max_body_bytes)
    try:
        events = parse_events(body, max_events=settings.max_batch_events)
    except InvalidEvents as invalid:
        metrics.events.labels("rejected").inc()
        raise ProblemError(
            f"{invalid.summary} Nothing was stored.",
            status=400 if invalid.problem is BatchProblem.SYNTAX else 422,
            slug="invalid-events",
            errors=[error.as_dict() for error in invalid.errors],
        ) from invalid

    def write() -> IngestSummary:
        session.connection(execution_options=WRITE)
        result = store_events(session, events)
        session.commit()
        return IngestSummary(
            received=result.received, stored=result.stored, duplicates=result.duplicates
        )

    summary = await run_in_threadpool(write)
    metrics.events.labels("stored").inc(summary.stored)
    metrics.events.labels("duplicate").inc(summary.duplicates)
    return summary
