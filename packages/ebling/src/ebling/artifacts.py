"""Artifacts: files workflows store, content-addressed so the same bytes are kept once.

Every artifact points at a blob, the bytes named by their SHA-256. Uploading content that is
already stored adds only a row; deleting the last artifact of a blob deletes the bytes. Both
lock the blob's row first, so an upload and a delete of the same content cannot interleave
and leave an artifact pointing at deleted bytes.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ebling.db.dialect import insert_for
from ebling.db.models import Artifact, Blob
from ebling.storage import ObjectStore

__all__ = [
    "ArtifactNotFound",
    "blob_key",
    "delete_artifact",
    "labels_from_query",
    "store_artifact",
]


class ArtifactNotFound(LookupError):
    """No artifact has that id."""

    def __init__(self, artifact_id: int) -> None:
        self.artifact_id = artifact_id
        super().__init__(f"no artifact has id {artifact_id}")


def blob_key(sha256: str) -> str:
    """Where a blob's bytes live in the object store; fanned out so no folder grows huge."""
    return f"blobs/sha256/{sha256[:2]}/{sha256}"


def store_artifact(
    session: Session,
    store: ObjectStore,
    *,
    path: Path,
    sha256: str,
    size: int,
    name: str,
    content_type: str,
    labels: dict[str, str],
    run_id: uuid.UUID | None,
    created_by: str | None,
) -> Artifact:
    """Record an artifact for the file at ``path``, uploading its bytes unless already stored.

    The caller commits. The upload happens inside the transaction, under the blob's lock.
    """
    now = datetime.now(UTC)
    key = blob_key(sha256)
    session.execute(
        insert_for(session, Blob).on_conflict_do_nothing(index_elements=["sha256"]),
        {"sha256": sha256, "size_bytes": size, "object_key": key, "created_at": now},
    )
    session.execute(select(Blob.sha256).where(Blob.sha256 == sha256).with_for_update())
    # The row may be older than the bytes (a crash between the two), so the store decides.
    if not store.exists(key):
        store.put_file(key, path, content_type=content_type)

    artifact = Artifact(
        name=name,
        content_type=content_type,
        size_bytes=size,
        sha256=sha256,
        labels=labels,
        run_id=run_id,
        created_at=now,
        created_by=created_by,
    )
    session.add(artifact)
    session.flush()
    return artifact


def delete_artifact(session: Session, store: ObjectStore, artifact_id: int) -> None:
    """Delete an artifact, and its bytes if no other artifact shares them. The caller commits."""
    artifact = session.get(Artifact, artifact_id)
    if artifact is None:
        raise ArtifactNotFound(artifact_id)
    sha256 = artifact.sha256
    session.delete(artifact)
    session.flush()

    blob = session.scalars(select(Blob).where(Blob.sha256 == sha256).with_for_update()).one()
    remaining = session.scalar(
        select(func.count()).select_from(Artifact).where(Artifact.sha256 == sha256)
    )
    if not remaining:
        session.delete(blob)
        session.flush()
        store.delete(blob.object_key)


def labels_from_query(values: list[str]) -> dict[str, Any]:
    """Parse ``key:value`` labels; raises ValueError naming the first malformed one."""
    labels: dict[str, Any] = {}
    for value in values:
        key, separator, text = value.partition(":")
        if not separator or not key.strip():
            raise ValueError(f"label {value!r} is not of the form key:value")
        labels[key.strip()] = text.strip()
    return labels
