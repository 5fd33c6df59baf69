"""Liveness, readiness and metrics: the endpoints that need no credentials."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ebling.api.problems import ProblemError
from ebling.storage import StorageUnavailable

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    """Answers as long as the process serves requests."""
    return {"status": "ok"}


@router.get("/readyz", summary="The database and the object store are reachable")
def readyz(request: Request) -> dict[str, str]:
    """Answers 503 while the database cannot be queried or the object store does not answer."""
    try:
        with request.app.state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        raise ProblemError(
            f"The database is not reachable: {type(error).__name__}.",
            status=503,
            slug="not-ready",
        ) from error
    try:
        request.app.state.store.check()
    except StorageUnavailable as error:
        raise ProblemError(
            f"The object store is not reachable: {error}", status=503, slug="not-ready"
        ) from error
    return {"status": "ready"}


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """Metrics in the Prometheus text format."""
    return Response(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )
