"""Exporting a report's rows, filtered and sorted, as streamed CSV or as a Parquet file."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from ebling.reports import _duckdb
from ebling.reports._relation import (
    RowFilter,
    SortKey,
    order_clause,
    report_query,
    select_columns,
    source_relation,
    where_clause,
)
from ebling.reports._types import arrow_schema, arrow_type, quote_identifier
from ebling.reports.errors import TableReadError
from ebling.reports.schema import Column, ColumnType, TableSchema

__all__ = ["FORMULA_PREFIXES", "TableReadError", "export_csv", "export_parquet"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""A text cell starting with one of these is a formula to a spreadsheet (OWASP, "CSV
Injection"); the CSV export puts a single quote before it, so it opens as text."""

_BATCH_ROWS = 64 * 1024
_RENDERED_AS_TEXT = (ColumnType.STRING, ColumnType.TIMESTAMP)


def export_csv(
    files: Sequence[Path],
    schema: TableSchema,
    *,
    columns: Sequence[str] | None = None,
    filters: Sequence[RowFilter] = (),
    sort: Sequence[SortKey] = (),
) -> Iterator[bytes]:
    """A report's rows as UTF-8 CSV with a header, in chunks, for streaming.

    Text cells (and header names) that a spreadsheet would run as formulas are prefixed
    with ``'``; numbers are not, so -3.5 stays -3.5. Times are RFC 3339 UTC, nulls empty.
    The query is checked when this is called, so a bad one raises before the first chunk.

    Raises:
        InvalidQuery: an unknown column or operator, or a value that does not fit.
        TableReadError: a batch file cannot be read (possibly once streaming has begun).
    """
    selected = select_columns(schema, columns)
    sql, params = _export_sql(files, schema, selected, filters, sort, as_text=True)
    # Numbers, booleans and dates go to the CSV writer as they are, and are never quoted;
    # text and times arrive as text.
    csv_schema = pa.schema(
        pa.field(
            _neutralised(column.name),
            pa.string() if column.type in _RENDERED_AS_TEXT else arrow_type(column.type),
        )
        for column in selected
    )
    return _csv_chunks(sql, params, csv_schema)


def export_parquet(
    files: Sequence[Path],
    schema: TableSchema,
    *,
    columns: Sequence[str] | None = None,
    filters: Sequence[RowFilter] = (),
    sort: Sequence[SortKey] = (),
    target: Path,
) -> None:
    """Write a report's rows to a Parquet file with the report's column types.

    Raises:
        InvalidQuery: an unknown column or operator, or a value that does not fit.
        TableReadError: a batch file cannot be read.
    """
    selected = select_columns(schema, columns)
    sql, params = _export_sql(files, schema, selected, filters, sort, as_text=False)
    target_schema = arrow_schema(TableSchema(tuple(selected)), with_row_id=False)
    try:
        with pq.ParquetWriter(target, target_schema, compression="zstd") as writer:
            for batch in _batches(sql, params):
                writer.write_batch(batch.cast(target_schema))
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def _export_sql(
    files: Sequence[Path],
    schema: TableSchema,
    selected: list[Column],
    filters: Sequence[RowFilter],
    sort: Sequence[SortKey],
    *,
    as_text: bool,
) -> tuple[str | None, list[object]]:
    conditions, params = where_clause(schema, filters)
    order, _ = order_clause(schema, sort)
    if not files:
        return None, []
    source, source_params = source_relation(files, schema)
    render = _as_text if as_text else _as_is
    select = ", ".join(render(column) for column in selected)
    return report_query(source, select, conditions, order), [*source_params, *params]


def _as_is(column: Column) -> str:
    return quote_identifier(column.name)


def _as_text(column: Column) -> str:
    name = quote_identifier(column.name)
    if column.type == ColumnType.STRING:
        starts = " OR ".join(f"starts_with({name}, {_sql_text(p)})" for p in FORMULA_PREFIXES)
        return f"CASE WHEN {starts} THEN '''' || {name} ELSE {name} END AS {name}"
    if column.type == ColumnType.TIMESTAMP:
        return f"strftime({name}, '%Y-%m-%dT%H:%M:%S.%fZ') AS {name}"
    return name


def _sql_text(text: str) -> str:
    # Only for the fixed prefixes above; chr() keeps tab and carriage return out of the SQL.
    return f"chr({ord(text)})" if not text.isprintable() else "'" + text.replace("'", "''") + "'"


def _neutralised(text: str) -> str:
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def _csv_chunks(sql: str | None, params: list[object], csv_schema: pa.Schema) -> Iterator[bytes]:
    sink = io.BytesIO()
    options = pa_csv.WriteOptions(include_header=True, quoting_style="needed")
    with pa_csv.CSVWriter(sink, csv_schema, write_options=options) as writer:
        for batch in _batches(sql, params):
            writer.write_batch(
                pa.RecordBatch.from_arrays(
                    [
                        column.cast(field.type)
                        for column, field in zip(batch.columns, csv_schema, strict=True)
                    ],
                    schema=csv_schema,
                )
            )
            yield _drain(sink)
    yield _drain(sink)


def _drain(sink: io.BytesIO) -> bytes:
    chunk = sink.getvalue()
    sink.seek(0)
    sink.truncate()
    return chunk


def _batches(sql: str | None, params: list[object]) -> Iterator[pa.RecordBatch]:
    if sql is None:
        return
    try:
        with _duckdb.cursor() as connection:
            yield from connection.sql(sql, params=params).to_arrow_reader(_BATCH_ROWS)
    except duckdb.Error as error:
        raise TableReadError(str(error).split("\n")[0]) from error
