"""Inserting many rows in one statement, by the fastest route each database offers.

On PostgreSQL the rows are copied (``COPY``) into a temporary table shaped like the target
and inserted from there with ``INSERT ... SELECT``. A multi-row ``INSERT ... VALUES`` of
hundreds of rows is a statement of hundreds of kilobytes and thousands of parameters that
the driver re-parses on every call; ``COPY`` sends the rows as data, and the statement that
follows is short, so it is prepared once per connection. SQLite has no ``COPY``; there the
rows go as the parameters of one executemany.

Either way the caller gets an ``Insert`` to finish with ``on_conflict_do_*`` and to run
with :func:`execute`, so the conflict rules are written once for both databases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import JSON, Column, MetaData, Result, Table, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from ebling.db.dialect import insert_for

__all__ = ["BulkInsert", "bulk_insert"]


@dataclass(frozen=True, slots=True)
class BulkInsert:
    """An INSERT of prepared rows; add conflict handling to ``statement``, then ``execute``."""

    statement: Any
    params: list[dict[str, Any]] | None

    def execute(self, session: Session, statement: Any = None) -> Result[Any]:
        """Run ``statement`` (this insert with conflict handling added) with the rows."""
        return session.execute(statement if statement is not None else self.statement, self.params)


def bulk_insert(
    session: Session, table: Table, rows: list[dict[str, Any]], *, order_by: tuple[str, ...]
) -> BulkInsert:
    """Prepare an INSERT of ``rows`` (dicts with the same keys) into ``table``.

    Rows are inserted in ``order_by`` order, which is the order their row locks are taken
    in: callers sort by a key so that concurrent transactions lock alike and never dead-lock.
    """
    if session.get_bind().dialect.name != "postgresql":
        return BulkInsert(insert_for(session, table), rows)

    columns = list(rows[0])
    stage = _stage(session, table, columns, rows)
    source = select(*(stage.c[name] for name in columns)).order_by(
        *(stage.c[name] for name in order_by)
    )
    return BulkInsert(postgresql.insert(table).from_select(columns, source), None)


def _stage(session: Session, table: Table, columns: list[str], rows: list[dict[str, Any]]) -> Table:
    name = f"{table.name}_staged"
    column_list = ", ".join(columns)
    connection = session.connection().connection.driver_connection
    assert connection is not None  # noqa: S101 - an open session has a driver connection
    # Temporary tables live per connection; ON COMMIT DELETE ROWS empties it for the next
    # transaction on the same pooled connection, so it is created once per connection.
    connection.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {name} ON COMMIT DELETE ROWS AS "  # noqa: S608 - names come from the models
        f"SELECT {column_list} FROM {table.name} WITH NO DATA"
    )
    json_columns = {c for c in columns if isinstance(table.c[c].type, JSON)}
    with connection.cursor().copy(f"COPY {name} ({column_list}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(
                [orjson.dumps(row[c]).decode() if c in json_columns else row[c] for c in columns]
            )
    return Table(name, MetaData(), *(Column(c, table.c[c].type) for c in columns))
