"""Artifacts over HTTP: streamed upload and download, metadata, listing, deletion."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, tuple_
from starlette.concurrency import run_in_threadpool

from ebling.api.dependencies import DbSession, require
from ebling.api.pagination import decode_cursor, encode_cursor
from ebling.api.problems import NotFound, ProblemError
from ebling.api.schemas import Page
from ebling.api.uploads import receive_upload
from ebling.artifacts import (
    ArtifactNotFound,
    blob_key,
    delete_artifact,
    labels_from_query,
    store_artifact,
)
from ebling.auth.principal import Permission, Principal
from ebling.db.engine import WRITE
from ebling.db.models import Artifact
from ebling.storage import ObjectNotFound

router = APIRouter(prefix="/api/v1/artifacts", tags=["artifacts"])

# Names become a download's file name; control characters and path separators have no place.
_FORBIDDEN_NAME_CHARACTERS = frozenset('/\\\x00\r\n"')


class ArtifactOut(BaseModel):
    """An artifact's metadata."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    content_type: str
    size_bytes: int
    sha256: str
    labels: dict[str, Any]
    run_id: uuid.UUID | None
    created_at: datetime
    created_by: str | None


def _invalid(detail: str) -> ProblemError:
    return ProblemError(detail, status=422, slug="invalid-request")


@router.post("", status_code=201, summary="Upload an artifact")
async def upload_artifact(
    request: Request,
    session: DbSession,
    principal: Annotated[Principal, Depends(require(Permission.WRITE_ARTIFACTS))],
    name: Annotated[str, Query(min_length=1, max_length=500, description="File name.")],
    run_id: Annotated[uuid.UUID | None, Query(description="The run that made it.")] = None,
    label: Annotated[list[str] | None, Query(description="key:value; repeatable.")] = None,
) -> ArtifactOut:
    """Store the request body as a file, streamed; its ``Content-Type`` is kept.

    Identical bytes are stored once however many artifacts share them.
    """
    if _FORBIDDEN_NAME_CHARACTERS & set(name):
        raise _invalid("'name' must not contain slashes, quotes or control characters.")
    try:
        labels = labels_from_query(label or [])
    except ValueError as error:
        raise _invalid(f"Invalid label: {error}.") from error
    content_type = request.headers.get("content-type") or "application/octet-stream"
    settings = request.app.state.settings
    store = request.app.state.store

    async with receive_upload(request, limit=settings.max_upload_bytes) as upload:

        def write() -> Artifact:
            session.connection(execution_options=WRITE)
            artifact = store_artifact(
                session,
                store,
                path=upload.path,
                sha256=upload.sha256,
                size=upload.size,
                name=name,
                content_type=content_type,
                labels=labels,
                run_id=run_id,
                created_by=principal.subject,
            )
            session.commit()
            return artifact

        artifact = await run_in_threadpool(write)
    return ArtifactOut.model_validate(artifact)


@router.get("", summary="List artifacts")
def list_artifacts(
    session: DbSession,
    _: Annotated[Principal, Depends(require(Permission.READ_ARTIFACTS))],
    run_id: uuid.UUID | None = None,
    name: str | None = None,
    label: Annotated[list[str] | None, Query(description="key:value; all must match.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[ArtifactOut]:
    """Artifacts newest first, by run, exact name, or labels."""
    statement = select(Artifact)
    if run_id is not None:
        statement = statement.where(Artifact.run_id == run_id)
    if name is not None:
        statement = statement.where(Artifact.name == name)
    try:
        labels = labels_from_query(label or [])
    except ValueError as error:
        raise _invalid(f"Invalid label: {error}.") from error
    for key, value in labels.items():
        statement = statement.where(Artifact.labels[key].as_string() == value)
    if cursor is not None:
        after = decode_cursor("artifacts", cursor, (datetime.fromisoformat, int))
        statement = statement.where(tuple_(Artifact.created_at, Artifact.id) < tuple_(*after))
    statement = statement.order_by(Artifact.created_at.desc(), Artifact.id.desc()).limit(limit + 1)

    found = list(session.scalars(statement))
    items = [ArtifactOut.model_validate(artifact) for artifact in found[:limit]]
    next_cursor = None
    if len(found) > limit:
        last = items[-1]
        next_cursor = encode_cursor("artifacts", [last.created_at.isoformat(), last.id])
    return Page(items=items, next_cursor=next_cursor)


def _artifact(session: DbSession, artifact_id: int) -> Artifact:
    artifact = session.get(Artifact, artifact_id)
    if artifact is None:
        raise NotFound(f"No artifact has id {artifact_id}.")
    return artifact


@router.get("/{artifact_id}", summary="An artifact's metadata")
def get_artifact(
    session: DbSession,
    _: Annotated[Principal, Depends(require(Permission.READ_ARTIFACTS))],
    artifact_id: int,
) -> ArtifactOut:
    """Name, type, size, SHA-256, labels and run of one artifact."""
    return ArtifactOut.model_validate(_artifact(session, artifact_id))


@router.get(
    "/{artifact_id}/content",
    summary="Download an artifact",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def download_artifact(
    request: Request,
    session: DbSession,
    _: Annotated[Principal, Depends(require(Permission.READ_ARTIFACTS))],
    artifact_id: int,
) -> StreamingResponse:
    """The artifact's bytes, streamed, as an attachment with its name and type."""
    artifact = _artifact(session, artifact_id)
    etag = f'"{artifact.sha256}"'
    if request.headers.get("if-none-match") == etag:
        return StreamingResponse(iter(()), status_code=304, headers={"ETag": etag})
    chunks = request.app.state.store.iter_bytes(blob_key(artifact.sha256))
    # Read the first chunk now: once the response has started, a missing object could only
    # break the connection; here it can still be a proper error.
    try:
        first = next(chunks, b"")
    except ObjectNotFound as error:
        raise ProblemError(
            f"The bytes of artifact {artifact_id} are missing from storage.", status=500
        ) from error
    chunks = itertools.chain([first], chunks)
    return StreamingResponse(
        chunks,
        media_type=artifact.content_type,
        headers={
            "Content-Length": str(artifact.size_bytes),
            "Content-Disposition": _attachment(artifact.name),
            "ETag": etag,
            # The type was the uploader's word; never let a browser guess a more active one.
            "X-Content-Type-Options": "nosniff",
        },
    )


def _attachment(name: str) -> str:
    fallback = name.encode("ascii", "replace").decode().replace("?", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


@router.delete("/{artifact_id}", status_code=204, summary="Delete an artifact")
def remove_artifact(
    request: Request,
    session: DbSession,
    _: Annotated[Principal, Depends(require(Permission.DELETE_ARTIFACTS))],
    artifact_id: int,
) -> None:
    """Delete the artifact; its bytes go too unless another artifact has the same content."""
    session.connection(execution_options=WRITE)
    try:
        delete_artifact(session, request.app.state.store, artifact_id)
    except ArtifactNotFound as error:
        raise NotFound(f"No artifact has id {artifact_id}.") from error
    session.commit()
