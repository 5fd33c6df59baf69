"""JSON and Parquet to a batch file, read by DuckDB, which streams both and types JSON itself.

JSON values keep the types JSON gives them (numbers, booleans, strings; strings that DuckDB
recognises as ISO dates and timestamps become those); nested objects and arrays are stored
as their JSON text in a string column.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb
import pyarrow as pa

from ebling.reports import _duckdb
from ebling.reports._batch_file import BatchFileWriter
from ebling.reports._csv_layout import size_label
from ebling.reports._text_encoding import looks_binary
from ebling.reports._types import arrow_type, quote_identifier, sql_type
from ebling.reports.errors import InvalidTable
from ebling.reports.schema import (
    Column,
    ColumnType,
    TableSchema,
    clean_column_name,
    column_name_problems,
    is_safe_cast,
)

__all__ = ["DuckDBResult", "convert_with_duckdb"]

_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"}
_FLOATS = {"FLOAT", "DOUBLE", "REAL"}
_BATCH_ROWS = 64 * 1024


@dataclass(frozen=True)
class DuckDBResult:
    """What converting a JSON or Parquet file found."""

    schema: TableSchema
    row_count: int


@dataclass(frozen=True)
class _Planned:
    name: str
    type: ColumnType
    expression: str


def convert_with_duckdb(
    source: Path,
    target: Path,
    fmt: Literal["json", "parquet"],
    *,
    schema_hint: TableSchema | None,
    row_id_start: int,
    max_object_bytes: int,
    max_columns: int,
) -> DuckDBResult:
    """Convert a JSON (array or lines) or Parquet file to a batch file; see ``convert_to_parquet``.

    Raises:
        InvalidTable: the file is not a table in that format.
    """
    if fmt == "parquet":
        _check_parquet_magic(source)
        parquet = _Source("read_parquet(?)", [str(source)])
        return _converted(source, target, parquet, schema_hint, row_id_start, max_columns, fmt)

    if _is_empty_json_array(source):
        schema = schema_hint or TableSchema(())
        with BatchFileWriter(target, schema, row_id_start=row_id_start):
            pass
        return DuckDBResult(schema=schema, row_count=0)
    sampled = _json_source(source, max_object_bytes, sample_all=False)
    try:
        return _convert(source, target, sampled, schema_hint, row_id_start, max_columns)
    except _Unreadable as failure:
        problem = _invalid(failure.error, source, fmt, max_object_bytes=max_object_bytes)
        if _is_about_the_text(problem):
            raise problem from failure.error
    # DuckDB types JSON from a sample of the first rows; a key or a type first seen later
    # fails the read. Typing on every row takes a full extra pass, so it is the fallback.
    everything = _json_source(source, max_object_bytes, sample_all=True)
    try:
        return _convert(source, target, everything, schema_hint, row_id_start, max_columns)
    except _Unreadable as failure:
        raise _invalid(
            failure.error, source, fmt, max_object_bytes=max_object_bytes
        ) from failure.error


class _Unreadable(Exception):
    """DuckDB could not read the file; ``error`` says why."""

    def __init__(self, error: Exception):
        self.error = error


@dataclass(frozen=True)
class _Source:
    """A table function reading the file: SQL with parameters, and how to fix its columns."""

    sql: str
    params: list[object]
    typed_sql: str | None = None

    def typed(self, described: list[tuple[object, ...]]) -> tuple[str, list[object]]:
        """The SQL and parameters reading the file with the columns DESCRIBE found.

        Naming the columns spares DuckDB typing the file again for every statement.
        """
        if self.typed_sql is None:
            return self.sql, self.params
        columns = {str(row[0]): _declarable(str(row[1])) for row in described}
        return self.typed_sql, [*self.params, columns]


def _json_source(source: Path, max_object_bytes: int, *, sample_all: bool) -> _Source:
    options = (
        f"format = 'auto', records = true, sample_size = {-1 if sample_all else 20480}, "
        "maximum_object_size = ?"
    )
    return _Source(
        f"read_json(?, {options})",
        [str(source), max_object_bytes],
        typed_sql=f"read_json(?, {options}, columns = ?)",
    )


def _declarable(duck_type: str) -> str:
    # A key whose values are all null has DuckDB's NULL type, which cannot be declared.
    return "VARCHAR" if duck_type.strip('"') == "NULL" else duck_type


def _is_about_the_text(error: InvalidTable) -> bool:
    return any(
        words in error.problem for words in ("not valid JSON", "must be an object", "larger than")
    )


def _converted(
    source: Path,
    target: Path,
    table: _Source,
    schema_hint: TableSchema | None,
    row_id_start: int,
    max_columns: int,
    fmt: str,
) -> DuckDBResult:
    try:
        return _convert(source, target, table, schema_hint, row_id_start, max_columns)
    except _Unreadable as failure:
        raise _invalid(failure.error, source, fmt) from failure.error


def _convert(
    source: Path,
    target: Path,
    table: _Source,
    schema_hint: TableSchema | None,
    row_id_start: int,
    max_columns: int,
) -> DuckDBResult:
    """Convert the file as ``table`` reads it.

    Raises:
        _Unreadable: DuckDB could not read it.
        InvalidTable: its columns cannot be a report's.
    """
    hints = {column.name: column.type for column in schema_hint.columns} if schema_hint else {}
    try:
        with _duckdb.cursor(converting=True) as connection:
            described = connection.sql(
                f"DESCRIBE {_select('*', table.sql)}", params=table.params
            ).fetchall()
            planned = _plan(described, max_columns=max_columns)
            table_sql, params = table.typed(described)
            planned = _apply_hints(connection, planned, hints, table_sql, params)
            schema = TableSchema(tuple(Column(p.name, p.type) for p in planned))
            select = ", ".join(f"{p.expression} AS {quote_identifier(p.name)}" for p in planned)
            reader = connection.sql(_select(select, table_sql), params=params).to_arrow_reader(
                _BATCH_ROWS
            )
            with BatchFileWriter(target, schema, row_id_start=row_id_start) as writer:
                for batch in _batches(reader):
                    writer.write(
                        [
                            batch.column(index).cast(arrow_type(column.type))
                            for index, column in enumerate(schema.columns)
                        ]
                    )
    except duckdb.Error as error:
        raise _Unreadable(error) from error
    return DuckDBResult(schema=schema, row_count=writer.row_count)


def _batches(reader: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except (OSError, pa.ArrowException) as error:
            # DuckDB's errors while streaming reach Arrow's reader as its I/O errors.
            raise _Unreadable(error) from error
        yield batch


def _select(select: str, table_sql: str) -> str:
    # Both are built here: a table function with parameters, and expressions over quoted
    # identifiers (a JSON key reaches SQL only quoted, never as text of its own).
    return f"SELECT {select} FROM {table_sql}"  # noqa: S608 - see the comment above


def _is_empty_json_array(source: Path) -> bool:
    with source.open("rb") as file:
        prefix = file.read(8192)
    kind = looks_binary(prefix)
    if kind is not None:
        raise InvalidTable(f"this looks like {kind}, not JSON")
    if prefix.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidTable("the file is UTF-16; JSON must be UTF-8")
    text = prefix.removeprefix(b"\xef\xbb\xbf").strip()
    if not text:
        raise InvalidTable("the file is empty; send a JSON array of objects, or JSON Lines")
    return text.startswith(b"[") and text[1:].lstrip().startswith(b"]")


def _check_parquet_magic(source: Path) -> None:
    with source.open("rb") as file:
        magic = file.read(4)
    if magic != b"PAR1":
        raise InvalidTable("this is not a Parquet file (it does not start with 'PAR1')")


def _plan(described: list[tuple[object, ...]], *, max_columns: int) -> list[_Planned]:
    if len(described) > max_columns:
        raise InvalidTable(
            f"the file has {len(described):,} columns; at most {max_columns:,} are allowed"
        )
    raw_names = [str(row[0]) for row in described]
    names = [clean_column_name(name) for name in raw_names]
    problems = column_name_problems(names)
    if problems:
        raise InvalidTable("the file's columns cannot be a report's: " + "; ".join(problems))
    return [
        _Planned(name, *_column_plan(quote_identifier(raw), str(row[1])))
        for raw, name, row in zip(raw_names, names, described, strict=True)
    ]


def _column_plan(column: str, duck_type: str) -> tuple[ColumnType, str]:
    """The report type of a DuckDB column, and the SQL expression that reads it as that type."""
    if duck_type == "BOOLEAN":
        return ColumnType.BOOLEAN, column
    if duck_type in _INTEGERS:
        return ColumnType.INT64, f"CAST({column} AS BIGINT)"
    if duck_type in _FLOATS or duck_type.startswith("DECIMAL"):
        return ColumnType.FLOAT64, f"CAST({column} AS DOUBLE)"
    if duck_type == "DATE":
        return ColumnType.DATE, column
    if duck_type.startswith("TIMESTAMP"):
        # A timestamp without a zone is taken as UTC: the session's time zone is UTC.
        return ColumnType.TIMESTAMP, f"CAST({column} AS TIMESTAMPTZ)"
    if duck_type == "VARCHAR":
        return ColumnType.STRING, column
    if duck_type == "JSON":
        # Values of mixed JSON types: scalars as their text, objects and arrays as JSON.
        return ColumnType.STRING, f"json_extract_string({column}, '$')"
    if duck_type.strip('"') == "NULL":
        return ColumnType.STRING, "CAST(NULL AS VARCHAR)"
    if duck_type.endswith("]") or duck_type.startswith(("STRUCT", "MAP", "UNION")):
        return ColumnType.STRING, f"CAST(to_json({column}) AS VARCHAR)"
    # Anything else (unsigned 64-bit or wider integers, times of day, UUIDs) as its text.
    return ColumnType.STRING, f"CAST({column} AS VARCHAR)"


def _apply_hints(
    connection: duckdb.DuckDBPyConnection,
    planned: list[_Planned],
    hints: dict[str, ColumnType],
    table_sql: str,
    params: list[object],
) -> list[_Planned]:
    """Read a column as the report's type where its values allow, as the CSV reader does."""
    result = list(planned)
    to_check: list[int] = []
    for index, plan in enumerate(planned):
        hint = hints.get(plan.name)
        if hint is None or hint == plan.type:
            continue
        if plan.expression.startswith("CAST(NULL") or is_safe_cast(plan.type, hint):
            result[index] = _Planned(
                plan.name, hint, f"CAST({plan.expression} AS {sql_type(hint)})"
            )
        elif plan.type == ColumnType.STRING:
            to_check.append(index)
    if not to_check:
        return result

    failures = ", ".join(
        f"count_if(({planned[i].expression}) IS NOT NULL AND "
        f"TRY_CAST({planned[i].expression} AS {sql_type(hints[planned[i].name])}) IS NULL)"
        for i in to_check
    )
    counts = connection.sql(_select(failures, table_sql), params=params).fetchall()[0]
    for index, count in zip(to_check, counts, strict=True):
        plan = planned[index]
        if count == 0:
            hint = hints[plan.name]
            result[index] = _Planned(
                plan.name, hint, f"CAST({plan.expression} AS {sql_type(hint)})"
            )
    return result


def _invalid(
    error: Exception, source: Path, fmt: str, *, max_object_bytes: int | None = None
) -> InvalidTable:
    # DuckDB's messages name the server's path to the file and quote the SQL; neither is
    # the sender's business.
    message = str(error).split("\n")[0].replace(str(source), "the file").strip()
    message = re.sub(r"^[A-Za-z ]+ Error: ", "", message)
    if "expected records" in message:
        return InvalidTable("every JSON value must be an object mapping column names to values")
    if "maximum_object_size" in message:
        limit = size_label(max_object_bytes) if max_object_bytes else "the limit"
        return InvalidTable(f"a JSON object is larger than {limit}")
    line = re.search(r"in line (\d+)", message)
    record = re.search(r"in record/value (\d+)", message)
    if "Malformed JSON" in message:
        detail = message.rsplit(": ", 1)[-1].rstrip(". ")
        where = f" (record {record.group(1)})" if record and not line else ""
        return InvalidTable(
            f"the file is not valid JSON: {detail}{where}",
            line=int(line.group(1)) if line else None,
        )
    return InvalidTable(f"the file cannot be read as {fmt}: {message}")
