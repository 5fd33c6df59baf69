"""A report's rows as one SQL relation over its batch files, and the clauses that query it.

Every identifier comes from the report's schema (checked against it, then quoted), and every
value is a parameter: nothing a caller sends is put into SQL text.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ebling.reports._types import quote_identifier, sql_type
from ebling.reports._values import parse_value
from ebling.reports.errors import InvalidQuery, TableReadError
from ebling.reports.schema import ROW_ID_COLUMN, Column, ColumnType, TableSchema

__all__ = [
    "ROW_ID",
    "FilterOp",
    "RowFilter",
    "SortKey",
    "keyset_clause",
    "order_clause",
    "report_query",
    "select_columns",
    "source_relation",
    "where_clause",
]

ROW_ID = quote_identifier(ROW_ID_COLUMN)


class FilterOp(StrEnum):
    """How a filter compares a column with its value."""

    EQ = "eq"
    NE = "ne"
    LT = "lt"
    LTE = "lte"
    GT = "gt"
    GTE = "gte"
    CONTAINS = "contains"
    """Case-insensitive text contains; string columns only."""


_COMPARISONS = {
    FilterOp.EQ: "=",
    FilterOp.NE: "IS DISTINCT FROM",
    FilterOp.LT: "<",
    FilterOp.LTE: "<=",
    FilterOp.GT: ">",
    FilterOp.GTE: ">=",
}


@dataclass(frozen=True)
class RowFilter:
    """Keep the rows whose ``column`` compares with ``value`` as ``op`` says.

    ``value`` is text (as from a query string) or a JSON scalar, parsed to the column's type.
    A None value matches nulls with ``eq`` and non-nulls with ``ne``; ``ne`` with a value
    keeps the nulls too (a null is not equal to 5).
    """

    column: str
    op: FilterOp | str
    value: object = None


@dataclass(frozen=True)
class SortKey:
    """Order by ``column``, ascending unless ``descending``; nulls come last either way."""

    column: str
    descending: bool = False


def select_columns(schema: TableSchema, names: Sequence[str] | None) -> list[Column]:
    """The schema's columns called ``names``, in that order; all of them for None.

    Raises:
        InvalidQuery: a name is not a column, is repeated, or none is given.
    """
    if names is None:
        return list(schema.columns)
    if not names:
        raise InvalidQuery("select at least one column")
    if len(set(names)) != len(names):
        raise InvalidQuery("a column is selected twice")
    return [_column(schema, name, role="selected column") for name in names]


def source_relation(files: Sequence[Path], schema: TableSchema) -> tuple[str, list[object]]:
    """SQL reading the batch files as rows of ``schema`` (plus ``_row_id``), and its parameters.

    A file written under an older schema may lack a column (it reads as null) or hold a
    narrower type (it is cast). Files are grouped by their own columns and types, each group
    read by one ``read_parquet`` with explicit casts, so no value is converted by DuckDB's
    guess at a common type.

    Raises:
        TableReadError: a file is missing or is not Parquet.
    """
    groups: dict[tuple[tuple[str, ColumnType | None], ...], list[str]] = {}
    for path in files:
        groups.setdefault(_file_columns(path), []).append(str(path))
    selects = []
    for layout in groups:
        present = dict(layout)
        columns = ", ".join([*(_read_as(column, present) for column in schema.columns), ROW_ID])
        selects.append(f"SELECT {columns} FROM read_parquet(?)")  # noqa: S608 - see the module docstring
    return " UNION ALL ".join(selects), list(groups.values())


def _read_as(column: Column, present: dict[str, ColumnType | None]) -> str:
    name = quote_identifier(column.name)
    if column.name not in present:
        return f"CAST(NULL AS {sql_type(column.type)}) AS {name}"
    if present[column.name] == column.type:
        return name
    return f"CAST({name} AS {sql_type(column.type)}) AS {name}"


def _file_columns(path: Path) -> tuple[tuple[str, ColumnType | None], ...]:
    try:
        status = path.stat()
        return _columns_of(str(path), status.st_mtime_ns, status.st_size)
    except (OSError, pa.ArrowException) as error:
        raise TableReadError(f"batch file {path.name}: {error}") from error


_ARROW_TO_COLUMN_TYPE = {
    pa.string(): ColumnType.STRING,
    pa.large_string(): ColumnType.STRING,
    pa.int64(): ColumnType.INT64,
    pa.float64(): ColumnType.FLOAT64,
    pa.bool_(): ColumnType.BOOLEAN,
    pa.date32(): ColumnType.DATE,
    pa.timestamp("us", tz="UTC"): ColumnType.TIMESTAMP,
}


# Keyed by modification time and size as well as path, so a replaced file is read again.
@functools.lru_cache(maxsize=4096)
def _columns_of(path: str, mtime_ns: int, size: int) -> tuple[tuple[str, ColumnType | None], ...]:
    del mtime_ns, size  # only part of the cache key
    schema = pq.read_schema(path)
    return tuple(
        (field.name, _ARROW_TO_COLUMN_TYPE.get(field.type))
        for field in schema
        if field.name != ROW_ID_COLUMN
    )


def report_query(source: str, select: str, conditions: Sequence[str], tail: str = "") -> str:
    """A query of ``select`` over the rows of ``source`` that meet all ``conditions``.

    Every piece is SQL built in this module from schema-checked, quoted identifiers.
    """
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    return f"WITH report AS ({source}) SELECT {select} FROM report {where} {tail}"  # noqa: S608 - see the docstring


def where_clause(
    schema: TableSchema, filters: Sequence[RowFilter]
) -> tuple[list[str], list[object]]:
    """The SQL conditions for ``filters`` (all must hold) and their parameters.

    Raises:
        InvalidQuery: an unknown column or operator, or a value not of the column's type.
    """
    conditions: list[str] = []
    params: list[object] = []
    for row_filter in filters:
        column = _column(schema, row_filter.column, role="filter column")
        try:
            op = FilterOp(row_filter.op)
        except ValueError:
            allowed = ", ".join(str(op) for op in FilterOp)
            raise InvalidQuery(
                f"unknown filter operator {row_filter.op!r}; use one of {allowed}"
            ) from None
        name = quote_identifier(column.name)
        if op == FilterOp.CONTAINS:
            if column.type != ColumnType.STRING or not isinstance(row_filter.value, str):
                raise InvalidQuery(
                    f"'contains' needs a text value and a string column; {column.name!r} is "
                    f"{column.type}"
                )
            conditions.append(f"contains(lower({name}), lower(CAST(? AS VARCHAR)))")
            params.append(row_filter.value)
            continue
        value = parse_value(column, row_filter.value, role="filter value")
        if value is None:
            if op not in (FilterOp.EQ, FilterOp.NE):
                raise InvalidQuery(f"filter {op!s} on column {column.name!r} needs a value")
            conditions.append(f"{name} IS {'NOT ' if op == FilterOp.NE else ''}NULL")
            continue
        conditions.append(f"{name} {_COMPARISONS[op]} CAST(? AS {sql_type(column.type)})")
        params.append(value)
    return conditions, params


def order_clause(
    schema: TableSchema, sort: Sequence[SortKey]
) -> tuple[str, list[tuple[Column, bool]]]:
    """``ORDER BY`` text for ``sort`` then ``_row_id``, and the sort's columns and directions.

    Raises:
        InvalidQuery: an unknown column, or one sorted by twice.
    """
    keys = [(_column(schema, key.column, role="sort column"), key.descending) for key in sort]
    if len({column.name for column, _ in keys}) != len(keys):
        raise InvalidQuery("a column appears twice in the sort")
    terms = [
        f"{quote_identifier(column.name)} {'DESC' if descending else 'ASC'} NULLS LAST"
        for column, descending in keys
    ]
    return "ORDER BY " + ", ".join([*terms, f"{ROW_ID} ASC"]), keys


def keyset_clause(
    keys: Sequence[tuple[Column, bool]], after: Sequence[object]
) -> tuple[str, list[object]]:
    """The condition for rows after the row whose sort values and ``_row_id`` are ``after``.

    Consistent with ``order_clause``'s nulls-last ordering: after a value come the values
    beyond it, then the nulls; after a null come only the nulls, by the next key.

    Raises:
        InvalidQuery: ``after`` does not fit the sort (a cursor from another query).
    """
    if len(after) != len(keys) + 1:
        raise InvalidQuery("the cursor does not belong to this sort order; start without one")
    row_id = parse_value(Column(ROW_ID_COLUMN, ColumnType.INT64), after[-1], role="cursor row id")
    clause = f"{ROW_ID} > ?"
    params: list[object] = [row_id]
    for (column, descending), raw in zip(reversed(keys), reversed(after[:-1]), strict=True):
        value = parse_value(column, raw, role="cursor value")
        name = quote_identifier(column.name)
        if value is None:
            clause = f"({name} IS NULL AND {clause})"
            continue
        cast = f"CAST(? AS {sql_type(column.type)})"
        beyond = f"{name} {'<' if descending else '>'} {cast}"
        clause = f"({beyond} OR {name} IS NULL OR ({name} = {cast} AND {clause}))"
        params = [value, value, *params]
    return clause, params


def _column(schema: TableSchema, name: str, *, role: str) -> Column:
    column = schema.get(name)
    if column is None:
        known = ", ".join(repr(n) for n in schema.names[:20])
        more = ", ..." if len(schema.names) > 20 else ""
        raise InvalidQuery(f"unknown {role} {name!r}; the report's columns are {known}{more}")
    return column
