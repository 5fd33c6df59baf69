"""The process's in-memory DuckDB databases, and a cursor per call on one of them.

Opening a database costs tens of milliseconds; a cursor on a shared one costs well under
one. A DuckDB connection must not be used by two threads at once, so every call (the API
runs them on a thread pool) takes a cursor of its own, which it closes when done. The shared
database also shares DuckDB's cache of Parquet footers between calls; batch files are never
rewritten in place, so the cache cannot go stale.

Queries and conversions use separate databases, because DuckDB's thread count and memory
limit are per database: a query may use every core, while a conversion reads with one
thread, which keeps a large upload's memory bounded (two threads reading JSON take about
twice the buffers) at little cost in time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

__all__ = ["cursor"]

_lock = threading.Lock()
_databases: dict[bool, duckdb.DuckDBPyConnection] = {}


def _shared_database(*, converting: bool) -> duckdb.DuckDBPyConnection:
    with _lock:
        database = _databases.get(converting)
        if database is None:
            # Nothing here may fetch extensions over the network.
            database = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False})
            # Global, so every cursor inherits them. Without a UTC session time zone a
            # date would widen to the server's local midnight, and timestamps would come
            # back in its zone.
            database.execute("SET GLOBAL TimeZone = 'UTC'")
            database.execute("SET GLOBAL parquet_metadata_cache = true")
            if converting:
                database.execute("SET GLOBAL threads = 1")
                database.execute("SET GLOBAL memory_limit = '512MB'")
            _databases[converting] = database
        return database


@contextmanager
def cursor(*, converting: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection of the caller's own on a shared database, closed on leaving.

    Args:
        converting: use the conversions' database (one thread, bounded memory) rather than
            the queries'.
    """
    database = _shared_database(converting=converting)
    with _lock:
        connection = database.cursor()
    try:
        yield connection
    finally:
        connection.close()
