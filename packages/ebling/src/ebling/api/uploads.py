"""Receiving a file in a request body: streamed to a temporary file, hashed on the way.

The body never sits in memory whole, whatever its size; the limit is enforced while
reading, so an oversized upload is cut off as soon as it crosses it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request

from ebling.api.problems import ProblemError

__all__ = ["UploadTooLarge", "UploadedFile", "receive_upload"]


class UploadTooLarge(ProblemError):
    """An upload over the configured size limit."""

    status = 413
    slug = "upload-too-large"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"The upload is over the limit of {limit:,} bytes (EBLING_MAX_UPLOAD_BYTES)."
        )


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A received body: where it is on disk, its size and SHA-256."""

    path: Path
    size: int
    sha256: str


@asynccontextmanager
async def receive_upload(request: Request, *, limit: int) -> AsyncIterator[UploadedFile]:
    """Stream the request body to a temporary file that is removed when the block ends."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise UploadTooLarge(limit)

    descriptor, name = tempfile.mkstemp(prefix="ebling-upload-")
    path = Path(name)
    try:
        digest = hashlib.sha256()
        size = 0
        with os.fdopen(descriptor, "wb") as target:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise UploadTooLarge(limit)
                digest.update(chunk)
                target.write(chunk)
        yield UploadedFile(path=path, size=size, sha256=digest.hexdigest())
    finally:
        path.unlink(missing_ok=True)
