"""Converting an uploaded table (CSV, JSON, Parquet) to one batch file of a report.

A batch file is Parquet: the data columns, typed, plus ``_row_id``, an int64 numbering the
rows from a start the caller picks (the report's row count so far), which gives every row a
stable identity for cursor pagination. Conversion streams: memory stays bounded by the
block size, not the file's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pyarrow as pa

from ebling.reports._csv_conversion import convert_csv
from ebling.reports._duckdb_conversion import convert_with_duckdb
from ebling.reports.errors import InvalidTable
from ebling.reports.schema import TableSchema

__all__ = ["Conversion", "InvalidTable", "ReadLimits", "TableFormat", "convert_to_parquet"]


class TableFormat(StrEnum):
    """The formats a batch can be sent in."""

    CSV = "csv"
    JSON = "json"
    """A JSON array of objects, or JSON Lines (one object per line)."""
    PARQUET = "parquet"


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on what one file may hold, which also bound the memory reading it takes.

    Attributes:
        max_line_bytes: the longest CSV line (or row, for a quoted value spanning lines)
            and the largest JSON object. CSV is parsed in blocks of this size, and a row is
            refused once it cannot fit a block; one up to twice as long may fit two.
        max_columns: the most columns a table may have.
    """

    max_line_bytes: int = 1 << 20
    max_columns: int = 1000


@dataclass(frozen=True)
class Conversion:
    """What converting one batch found.

    Attributes:
        schema: the batch's own schema: each column's inferred type, or the hint's type
            for a column the hint names when all its values read as that type.
        row_count: the rows written; ``_row_id`` ran from ``row_id_start`` to
            ``row_id_start + row_count - 1``.
        encoding: the CSV file's text encoding (``utf-8-sig`` when it opened with a byte
            order mark); None for other formats.
        delimiter: the CSV file's delimiter; None for other formats.
    """

    schema: TableSchema
    row_count: int
    encoding: str | None = None
    delimiter: str | None = None


def convert_to_parquet(
    source: Path,
    fmt: TableFormat,
    target: Path,
    *,
    schema_hint: TableSchema | None,
    row_id_start: int,
    encoding: str | None = None,
    delimiter: str | None = None,
    limits: ReadLimits | None = None,
) -> Conversion:
    """Convert an uploaded table to a batch file.

    A CSV file needs a header row; its encoding (UTF-8 with or without a byte order mark,
    UTF-16 with one, else detected) and delimiter (``,`` ``;`` tab ``|``) are detected
    unless given. Every column's type is inferred over all of its values: the narrowest of
    int64, float64, boolean, date, timestamp (ISO 8601; without an offset, UTC) and string
    that holds them all. Empty cells and ``NA``, ``N/A``, ``NULL``, ``NaN``, ``None`` are
    null; numbers with leading zeros stay strings. A header with no rows is a batch of no
    rows.

    JSON keeps JSON's own types (and DuckDB's reading of ISO date and time strings);
    nested objects and arrays are stored as their JSON text, in a string column. Parquet
    types map to the nearest report type: integers to int64 (unsigned 64-bit ones, which
    may not fit, to string), decimals to float64, any timestamp to UTC.

    Args:
        source: the uploaded file.
        fmt: its format.
        target: where to write the batch file; on failure nothing is left there.
        schema_hint: the report's current (or declared) schema, if it has one, whatever its
            policy: a column it names is read as its type when all the column's values
            allow, so whole numbers in a float64 column stay float64, codes like "007" in
            a string column keep their zeros, and an all-empty column takes the report's
            type rather than string. A column whose values do not fit keeps its own type,
            for ``reconcile`` to judge; the hint never makes conversion fail.
        row_id_start: the ``_row_id`` of the batch's first row.
        encoding: the CSV file's encoding, if the sender knows it (a byte order mark wins).
        delimiter: the CSV file's delimiter, if the sender knows it.
        limits: bounds on lines and columns; the defaults allow 1 MiB and 1,000.

    Returns:
        What was written: the batch's schema (to reconcile with the report's), its row
        count, and the CSV dialect found.

    Raises:
        InvalidTable: the file is not a table in ``fmt``; the message says what is wrong
            and, where it can, on which line.
    """
    limits = limits or ReadLimits()
    try:
        if fmt == TableFormat.CSV:
            result = convert_csv(
                source,
                target,
                schema_hint=schema_hint,
                row_id_start=row_id_start,
                encoding=encoding,
                delimiter=delimiter,
                max_line_bytes=limits.max_line_bytes,
                max_columns=limits.max_columns,
            )
            return Conversion(
                schema=result.schema,
                row_count=result.row_count,
                encoding=result.encoding,
                delimiter=result.delimiter,
            )
        converted = convert_with_duckdb(
            source,
            target,
            "json" if fmt == TableFormat.JSON else "parquet",
            schema_hint=schema_hint,
            row_id_start=row_id_start,
            max_object_bytes=limits.max_line_bytes,
            max_columns=limits.max_columns,
        )
    except pa.ArrowException as error:
        # Each reader maps the errors it expects; anything else Arrow raises is still about
        # the file, and must not escape as Arrow's own.
        target.unlink(missing_ok=True)
        raise InvalidTable(f"the file cannot be read as {fmt}: {error}") from error
    return Conversion(schema=converted.schema, row_count=converted.row_count)
