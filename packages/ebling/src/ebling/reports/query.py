"""Pages of a report's rows: filtered, sorted, and paginated by keyset, read with DuckDB."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from ebling.reports import _duckdb
from ebling.reports._relation import (
    ROW_ID,
    FilterOp,
    RowFilter,
    SortKey,
    keyset_clause,
    order_clause,
    report_query,
    select_columns,
    source_relation,
    where_clause,
)
from ebling.reports._types import quote_identifier
from ebling.reports._values import cursor_value, json_value
from ebling.reports.errors import InvalidQuery, TableReadError
from ebling.reports.schema import TableSchema

__all__ = [
    "FilterOp",
    "InvalidQuery",
    "RowFilter",
    "RowPage",
    "SortKey",
    "TableReadError",
    "count_rows",
    "query_rows",
]


@dataclass(frozen=True)
class RowPage:
    """One page of rows.

    Attributes:
        rows: each row as a dict of the selected columns, with JSON values: times as RFC 3339
            UTC strings, dates as ISO dates, non-finite floats as None.
        next_after: what to pass as ``after`` for the next page (the sort values and
            ``_row_id`` of this page's last row, JSON-able); None on the last page.
    """

    rows: list[dict[str, Any]]
    next_after: list[Any] | None


def query_rows(
    files: Sequence[Path],
    schema: TableSchema,
    *,
    columns: Sequence[str] | None = None,
    filters: Sequence[RowFilter] = (),
    sort: Sequence[SortKey] = (),
    limit: int = 100,
    after: Sequence[object] | None = None,
) -> RowPage:
    """Read one page of a report's rows.

    Rows are ordered by ``sort`` (nulls last), then by ``_row_id``, so the order is total
    and pages neither skip nor repeat rows, even while new batches arrive.

    Args:
        files: the report's batch files.
        schema: the report's schema; each file's columns are read as its types.
        columns: the columns to return, in order; None for all.
        filters: conditions every row must meet.
        sort: the sort keys, most significant first.
        limit: the most rows to return (at least 1).
        after: the previous page's ``next_after``; None for the first page.

    Raises:
        InvalidQuery: an unknown column or operator, a value or cursor that does not fit.
        TableReadError: a batch file cannot be read.
    """
    if limit < 1:
        raise InvalidQuery(f"limit must be at least 1, not {limit}")
    selected = select_columns(schema, columns)
    conditions, params = where_clause(schema, filters)
    order, keys = order_clause(schema, sort)
    if after is not None:
        keyset, keyset_params = keyset_clause(keys, after)
        conditions.append(keyset)
        params += keyset_params
    if not files:
        return RowPage(rows=[], next_after=None)

    source, source_params = source_relation(files, schema)
    extra = [column for column, _ in keys if column not in selected]
    fetched = [*selected, *extra]
    select = ", ".join([*(quote_identifier(c.name) for c in fetched), ROW_ID])
    sql = report_query(source, select, conditions, f"{order} LIMIT ?")
    records = _fetch(sql, [*source_params, *params, limit + 1])

    rows = [
        {column.name: json_value(value) for column, value in zip(selected, record, strict=False)}
        for record in records[:limit]
    ]
    if len(records) <= limit:
        return RowPage(rows=rows, next_after=None)
    last = records[limit - 1]
    positions = [fetched.index(column) for column, _ in keys]
    return RowPage(rows=rows, next_after=[*(cursor_value(last[p]) for p in positions), last[-1]])


def count_rows(
    files: Sequence[Path], schema: TableSchema, *, filters: Sequence[RowFilter] = ()
) -> int:
    """How many of a report's rows meet ``filters``.

    Raises:
        InvalidQuery: an unknown column or operator, or a value that does not fit.
        TableReadError: a batch file cannot be read.
    """
    conditions, params = where_clause(schema, filters)
    if not files:
        return 0
    source, source_params = source_relation(files, schema)
    records = _fetch(report_query(source, "count(*)", conditions), [*source_params, *params])
    return int(records[0][0])


def _fetch(sql: str, params: list[object]) -> list[tuple[Any, ...]]:
    try:
        with _duckdb.cursor() as connection:
            return connection.sql(sql, params=params).fetchall()
    except duckdb.Error as error:
        raise TableReadError(str(error).split("\n")[0]) from error
