"""The object store's interface, which every backend implements."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

__all__ = ["DEFAULT_CHUNK_SIZE", "ObjectStore"]

DEFAULT_CHUNK_SIZE = 1 << 20


@runtime_checkable
class ObjectStore(Protocol):
    """Files (objects) stored under keys: a local directory, or a bucket on an S3 server.

    Every method blocks; async callers run them in a thread pool. Keys are '/'-separated
    relative paths (see ``ebling.storage.keys.validate_key``); every method raises
    ``InvalidKey`` for a bad one before touching the store. A failure of the store itself is
    raised as ``StorageUnavailable``. Writes are atomic: a reader sees the old object or the
    new one, never part of either.
    """

    def put_file(self, key: str, path: Path, *, content_type: str | None = None) -> None:
        """Store the local file at ``path`` under ``key``, replacing any object there.

        The file is streamed (large ones in parts on S3), never read whole into memory.

        Args:
            key: where to store it.
            path: the local file to upload.
            content_type: the media type to record with the object, where the backend keeps one.

        Raises:
            OSError: ``path`` cannot be opened (raised before anything is written).
        """
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        ...

    def size(self, key: str) -> int:
        """The object's size in bytes.

        Raises:
            ObjectNotFound: no object is stored under ``key``.
        """
        ...

    def iter_bytes(self, key: str, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        """Stream the object's bytes in chunks of at most ``chunk_size`` bytes.

        The object is opened by the call itself, so a missing one raises here, before the
        caller has sent anything on. The backends return generators: a reader that stops
        early should ``close()`` it, so that the file or connection is released at once
        rather than when the generator is garbage-collected.

        Raises:
            ObjectNotFound: no object is stored under ``key``.
        """
        ...

    def download(self, key: str, path: Path) -> None:
        """Write the object to the local file ``path``, streamed, replacing it atomically.

        Bytes go to a temporary file beside ``path`` that is renamed over it once complete, so
        ``path`` is either untouched or whole, and nothing is left behind on failure.

        Raises:
            ObjectNotFound: no object is stored under ``key`` (``path`` is left as it was).
            OSError: ``path`` cannot be written.
        """
        ...

    def delete(self, key: str) -> None:
        """Remove the object under ``key``; removing a missing object is not an error."""
        ...

    def check(self) -> None:
        """Readiness probe: return if the store can serve requests now.

        Raises:
            StorageUnavailable: with what is wrong and what to do about it.
        """
        ...

    def describe(self) -> str:
        """Where the objects live, for logs and status pages; never includes credentials."""
        ...
