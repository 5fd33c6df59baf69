"""Local file helpers shared by the backends: chunked reads and atomic, durable writes."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["check_chunk_size", "read_chunks", "write_atomically"]


def check_chunk_size(chunk_size: int) -> int:
    """Return ``chunk_size`` if it is positive, else raise ``ValueError``."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive number of bytes, got {chunk_size}")
    return chunk_size


def read_chunks(handle: BinaryIO, chunk_size: int) -> Iterator[bytes]:
    """Yield the rest of ``handle`` in chunks of at most ``chunk_size`` bytes, then close it."""
    with handle:
        while chunk := handle.read(chunk_size):
            yield chunk


def write_atomically(path: Path, chunks: Iterable[bytes]) -> None:
    """Write ``chunks`` to ``path`` so that it is either untouched or complete, and durable.

    The bytes go to a temporary file in the same directory (a rename is atomic only within
    one file system), which is flushed to disk and then renamed over ``path``. On any error,
    including one raised by ``chunks``, the temporary file is removed and ``path`` is left as
    it was. Missing parent directories are created.

    Raises:
        OSError: the directory or file cannot be written.
    """
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    # Opened with "x" rather than by tempfile.mkstemp so that the file gets the usual
    # permissions (0o666 less the umask), not 0o600, once it takes the final name.
    temp = directory / f".ebling-{secrets.token_hex(8)}.part"
    try:
        with temp.open("xb") as out:
            for chunk in chunks:
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        temp.replace(path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    # A rename is only durable once the directory entry is on disk; outside POSIX a directory
    # cannot be opened to flush it.
    if os.name != "posix":
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
