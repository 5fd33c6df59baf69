"""Request bodies that can be sent again: bytes, a file on disk, or an open binary stream.

A file is streamed in chunks, never read into memory whole, and every attempt starts it
from the beginning, so a retried upload sends the same bytes. A stream that cannot seek
can be sent only once, so calls with one are not retried.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import BinaryIO

import anyio
import anyio.to_thread

__all__ = ["Body", "UploadData"]

UploadData = bytes | BinaryIO | Path

# Large enough that the async client's hop to a thread per chunk costs nothing noticeable.
CHUNK_BYTES = 256 * 1024


class Body:
    """A request body with the headers that describe it."""

    def __init__(
        self, data: UploadData, *, content_type: str, content_encoding: str | None = None
    ) -> None:
        if not isinstance(data, bytes | Path) and not hasattr(data, "read"):
            raise TypeError(
                "Upload data is bytes, a pathlib.Path, or a file opened in binary mode; "
                "wrap a file name in Path(...)."
            )
        self.data = data
        self.headers = {"Content-Type": content_type}
        if content_encoding:
            self.headers["Content-Encoding"] = content_encoding

        self._start = 0
        length: int | None = None
        if isinstance(data, bytes):
            length = len(data)
        elif isinstance(data, Path):
            # Fails here, before any request, if the file is missing.
            length = data.stat().st_size
        elif _seekable(data):
            self._start = data.tell()
            length = data.seek(0, io.SEEK_END) - self._start
            data.seek(self._start)
        # With a length, Ebling refuses an oversized upload before a byte of it is sent.
        if length is not None:
            self.headers["Content-Length"] = str(length)

    @property
    def replayable(self) -> bool:
        """Whether the body can be sent again for a retry."""
        return isinstance(self.data, bytes | Path) or _seekable(self.data)

    def sync_content(self) -> bytes | Iterator[bytes]:
        """The body for one attempt with a synchronous client."""
        if isinstance(self.data, bytes):
            return self.data
        if isinstance(self.data, Path):
            return _path_chunks(self.data)
        self._rewind(self.data)
        return _stream_chunks(self.data)

    def async_content(self) -> bytes | AsyncIterator[bytes]:
        """The body for one attempt with an asynchronous client; disk reads run in threads."""
        if isinstance(self.data, bytes):
            return self.data
        if isinstance(self.data, Path):
            return _async_path_chunks(self.data)
        self._rewind(self.data)
        return _async_stream_chunks(self.data)

    def _rewind(self, stream: BinaryIO) -> None:
        if _seekable(stream):
            stream.seek(self._start)


def _seekable(stream: object) -> bool:
    seekable = getattr(stream, "seekable", None)
    return bool(seekable and seekable())


def _path_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as file:
        yield from _stream_chunks(file)


def _stream_chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK_BYTES):
        yield chunk


async def _async_path_chunks(path: Path) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as file:
        while chunk := await file.read(CHUNK_BYTES):
            yield chunk


async def _async_stream_chunks(stream: BinaryIO) -> AsyncIterator[bytes]:
    while chunk := await anyio.to_thread.run_sync(stream.read, CHUNK_BYTES):
        yield chunk
