"""The embedded object store: files under a directory on this machine."""

from __future__ import annotations

import os
import stat
from collections.abc import Generator
from contextlib import closing
from pathlib import Path
from typing import BinaryIO

from ebling.storage._files import check_chunk_size, read_chunks, write_atomically
from ebling.storage.base import DEFAULT_CHUNK_SIZE
from ebling.storage.errors import InvalidKey, ObjectNotFound, StorageUnavailable
from ebling.storage.keys import validate_key

__all__ = ["LocalObjectStore"]

# The OS's answers when a key names a folder of other keys, or runs through an object as if
# it were a folder: either way no object is stored under that key.
_NOT_AN_OBJECT = (FileNotFoundError, NotADirectoryError, IsADirectoryError)


class LocalObjectStore:
    """Objects as files under ``root``, one file per key, '/' in a key being a subfolder.

    Writes go to a temporary file in the target's folder, are flushed to disk and renamed
    into place, so a reader never sees part of an object. Folders are created as needed and
    left when emptied: removing them would race with a concurrent write into them. Media
    types are not kept.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()

    def __repr__(self) -> str:
        return f"LocalObjectStore({str(self.root)!r})"

    def put_file(self, key: str, path: Path, *, content_type: str | None = None) -> None:
        """Copy the local file at ``path`` into the store under ``key``, in chunks.

        A copy rather than a hard link, so that a later change to ``path`` cannot change the
        stored object. See ``ObjectStore.put_file``.
        """
        target = self._path(key)
        with path.open("rb") as source:
            try:
                write_atomically(target, read_chunks(source, DEFAULT_CHUNK_SIZE))
            except (NotADirectoryError, IsADirectoryError, FileExistsError) as error:
                reason = "in a local store an object cannot also be the folder of other keys"
                raise InvalidKey(key, reason=reason) from error
            except OSError as error:
                raise self._unavailable("write", key, error) from error

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        target = self._path(key)
        try:
            return stat.S_ISREG(target.stat().st_mode)
        except _NOT_AN_OBJECT:
            return False
        except OSError as error:
            raise self._unavailable("look up", key, error) from error

    def size(self, key: str) -> int:
        """The object's size in bytes; see ``ObjectStore.size``."""
        target = self._path(key)
        try:
            status = target.stat()
        except _NOT_AN_OBJECT as error:
            raise ObjectNotFound(key) from error
        except OSError as error:
            raise self._unavailable("look up", key, error) from error
        if not stat.S_ISREG(status.st_mode):
            raise ObjectNotFound(key)
        return status.st_size

    def iter_bytes(
        self, key: str, *, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> Generator[bytes, None, None]:
        """Stream the object in chunks; see ``ObjectStore.iter_bytes``."""
        target = self._path(key)
        check_chunk_size(chunk_size)
        try:
            handle = target.open("rb")
        except _NOT_AN_OBJECT as error:
            raise ObjectNotFound(key) from error
        except OSError as error:
            raise self._unavailable("read", key, error) from error
        return self._stream(key, handle, chunk_size)

    def download(self, key: str, path: Path) -> None:
        """Copy the object to the local file ``path``; see ``ObjectStore.download``."""
        with closing(self.iter_bytes(key)) as chunks:
            write_atomically(path, chunks)

    def delete(self, key: str) -> None:
        """Remove the object under ``key``, if there is one."""
        target = self._path(key)
        try:
            target.unlink()
        except _NOT_AN_OBJECT:
            return
        except OSError as error:
            raise self._unavailable("delete", key, error) from error

    def check(self) -> None:
        """Create the root folder if needed, and make sure this process may write there."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            detail = f"cannot create the storage folder {self.root}: {error.strerror or error}"
            raise StorageUnavailable(detail) from error
        if not os.access(self.root, os.W_OK | os.X_OK):
            detail = f"this process may not write to the storage folder {self.root}"
            raise StorageUnavailable(f"{detail}; give its user write access or choose another")

    def describe(self) -> str:
        """The root folder as a ``file://`` URL."""
        return self.root.as_uri()

    def _path(self, key: str) -> Path:
        # Validated keys have no empty, '.' or '..' segments, so the path stays under root.
        return self.root.joinpath(*validate_key(key).split("/"))

    def _stream(self, key: str, handle: BinaryIO, chunk_size: int) -> Generator[bytes, None, None]:
        try:
            yield from read_chunks(handle, chunk_size)
        except OSError as error:
            raise self._unavailable("read", key, error) from error

    def _unavailable(self, action: str, key: str, error: OSError) -> StorageUnavailable:
        return StorageUnavailable(f"cannot {action} {key!r} under {self.root}: {error}")
