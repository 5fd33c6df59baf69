"""Connecting to the database: one engine per process, tuned for each dialect."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["WRITE", "create_database_engine", "json_dumps", "session_factory"]

# Execution options for a transaction that will write; pass them before its first statement:
# ``session.connection(execution_options=WRITE)``. Only SQLite acts on them.
WRITE = {"sqlite_begin": "IMMEDIATE"}


def json_dumps(value: Any) -> str:
    """Serialise JSON columns; orjson is several times faster than the standard library."""
    return orjson.dumps(value).decode()


def create_database_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> Engine:
    """Create the engine for ``url``: SQLite (embedded) or PostgreSQL (production).

    A ``postgresql://`` URL is given the psycopg 3 driver, since that is the one installed.
    """
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")

    options: dict[str, Any] = {
        "echo": echo,
        "json_serializer": json_dumps,
        "json_deserializer": orjson.loads,
    }
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, **options)
        _configure_sqlite(engine)
        return engine
    return create_engine(
        parsed,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        **options,
    )


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (the API serialises them later)."""
    return sessionmaker(engine, expire_on_commit=False)


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite opens transactions lazily and as DEFERRED, so two writers can both read and then
    # dead-lock on upgrade. A writer asks for BEGIN IMMEDIATE (see ``WRITE``) and so takes the
    # write lock first, which busy_timeout turns into queueing rather than an error; readers
    # stay DEFERRED and, with WAL, never wait for writers.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")
