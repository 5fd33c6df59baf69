"""Column types and SQL functions that read the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Float
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement, FunctionElement
from sqlalchemy.types import NullType, TypeDecorator

__all__ = [
    "UTCDateTime",
    "bucket_start",
    "greatest",
    "json_array_contains",
    "least",
    "seconds_between",
    "time_bucket",
]


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python.

    PostgreSQL keeps it as ``timestamptz``. SQLite has no such type, so it is stored as
    naive UTC text in one fixed format, which also makes text comparison order by time.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC on the way in; refuse naive times rather than guess their zone."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given; Ebling stores aware UTC times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Hand back aware UTC times from either database."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class greatest(FunctionElement[Any]):
    """The larger of two values, ignoring NULLs (PostgreSQL ``GREATEST`` semantics)."""

    inherit_cache = True
    name = "greatest"


class least(FunctionElement[Any]):
    """The smaller of two values, ignoring NULLs (PostgreSQL ``LEAST`` semantics)."""

    inherit_cache = True
    name = "least"


@compiles(greatest)
@compiles(least)
def _extreme(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
    return f"{element.name}({compiler.process(element.clauses, **kw)})"


@compiles(greatest, "sqlite")
@compiles(least, "sqlite")
def _sqlite_extreme(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite's scalar MIN/MAX return NULL if any argument is NULL; COALESCE restores
    # PostgreSQL's behaviour of ignoring NULLs.
    function = "max" if isinstance(element, greatest) else "min"
    args = compiler.process(element.clauses, **kw)
    return f"coalesce({function}({args}), {args})"


class seconds_between(FunctionElement[float]):
    """Seconds from a start to an end timestamp, to the millisecond: ``(end, start)``."""

    inherit_cache = True
    type = Float()
    name = "seconds_between"


@compiles(seconds_between, "postgresql")
def _pg_seconds_between(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    end, start = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"extract(epoch from ({end} - {start}))"


@compiles(seconds_between, "sqlite")
def _sqlite_seconds_between(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    end, start = (compiler.process(clause, **kw) for clause in element.clauses)
    # julianday is a float of days, exact to about 10 microseconds; round that noise away.
    return f"round((julianday({end}) - julianday({start})) * 86400.0, 3)"


class _bucket(FunctionElement[Any]):
    """The start of the period a timestamp falls in, in UTC.

    PostgreSQL answers with a timestamp (truncated, so grouping compares numbers rather than
    formatted text), SQLite with ISO text; :func:`bucket_start` reads either. One class per
    period, since SQLAlchemy caches compiled SQL per class and arguments, not per attribute.
    """

    inherit_cache = True
    type = NullType()
    pg_unit = ""
    sqlite_pattern = ""


class _hour_bucket(_bucket):
    inherit_cache = True
    name = "hour_bucket"
    pg_unit = "hour"
    sqlite_pattern = "%Y-%m-%dT%H:00:00"


class _day_bucket(_bucket):
    inherit_cache = True
    name = "day_bucket"
    pg_unit = "day"
    sqlite_pattern = "%Y-%m-%dT00:00:00"


_BUCKETS: dict[str, type[_bucket]] = {"hour": _hour_bucket, "day": _day_bucket}


def bucket_start(value: datetime | str) -> datetime:
    """The aware UTC start of a bucket, from what either database returned for it."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC)


def time_bucket(unit: str, column: ColumnElement[Any] | InstrumentedAttribute[Any]) -> _bucket:
    """The hour or day (``unit``) a timestamp column falls in; read it with bucket_start."""
    if unit not in _BUCKETS:
        raise ValueError(f"unit must be one of {sorted(_BUCKETS)}, not {unit!r}")
    return _BUCKETS[unit](column)


@compiles(_bucket, "postgresql")
def _pg_bucket(element: _bucket, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"date_trunc('{element.pg_unit}', {column} at time zone 'UTC')"


@compiles(_bucket, "sqlite")
def _sqlite_bucket(element: _bucket, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"strftime('{element.sqlite_pattern}', {column})"


class json_array_contains(FunctionElement[bool]):
    """True where a JSON array column holds the given string."""

    inherit_cache = True
    name = "json_array_contains"


@compiles(json_array_contains, "postgresql")
def _pg_json_contains(element: json_array_contains, compiler: SQLCompiler, **kw: Any) -> str:
    column, value = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(({column})::jsonb ? {value})"


@compiles(json_array_contains, "sqlite")
def _sqlite_json_contains(element: json_array_contains, compiler: SQLCompiler, **kw: Any) -> str:
    column, value = (compiler.process(clause, **kw) for clause in element.clauses)
    # Both parts are compiled SQL (a column and a bound parameter), never user text.
    return f"exists (select 1 from json_each({column}) where json_each.value = {value})"  # noqa: S608
