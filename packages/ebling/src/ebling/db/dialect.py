"""Statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

__all__ = ["insert_for"]


def insert_for(session: Session, table: Any) -> Any:
    """An INSERT that supports ``on_conflict_do_*`` on the session's database.

    Both dialects spell upserts the same way in SQLAlchemy; only the import differs.
    """
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table)
