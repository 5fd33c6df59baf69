"""The process's one in-memory DuckDB database, and a cursor per call on it.

Opening a database costs tens of milliseconds; a cursor on a shared one costs well under
one. A DuckDB connection must not be used by two threads at once, so every call (the API
runs them on a thread pool) takes a cursor of its own, which it closes when done. The shared
database also shares DuckDB's cache of Parquet footers between calls; batch files are never
rewritten in place, so the cache cannot go stale.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

__all__ = ["cursor"]

_lock = threading.Lock()
_database: duckdb.DuckDBPyConnection | None = None


def _shared_database() -> duckdb.DuckDBPyConnection:
    global _database
    with _lock:
        if _database is None:
            database = duckdb.connect(":memory:")
            # Global, so every cursor inherits them. Without a UTC session time zone a
            # date would widen to the server's local midnight, and timestamps would come
            # back in its zone; nothing here may fetch extensions over the network.
            database.execute("SET GLOBAL TimeZone = 'UTC'")
            database.execute("SET GLOBAL parquet_metadata_cache = true")
            database.execute("SET GLOBAL autoinstall_known_extensions = false")
            _database = database
        return _database


@contextmanager
def cursor() -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection of the caller's own on the shared database, closed on leaving."""
    database = _shared_database()
    with _lock:
        connection = database.cursor()
    try:
        yield connection
    finally:
        connection.close()
