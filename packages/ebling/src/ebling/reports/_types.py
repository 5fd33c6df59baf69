"""How each report column type is stored in Arrow and Parquet, and named in DuckDB's SQL."""

from __future__ import annotations

import pyarrow as pa

from ebling.reports.schema import ROW_ID_COLUMN, ColumnType, TableSchema

__all__ = ["arrow_schema", "arrow_type", "quote_identifier", "sql_type"]

_ARROW_TYPES: dict[ColumnType, pa.DataType] = {
    ColumnType.STRING: pa.string(),
    ColumnType.INT64: pa.int64(),
    ColumnType.FLOAT64: pa.float64(),
    ColumnType.BOOLEAN: pa.bool_(),
    ColumnType.DATE: pa.date32(),
    ColumnType.TIMESTAMP: pa.timestamp("us", tz="UTC"),
}

_SQL_TYPES: dict[ColumnType, str] = {
    ColumnType.STRING: "VARCHAR",
    ColumnType.INT64: "BIGINT",
    ColumnType.FLOAT64: "DOUBLE",
    ColumnType.BOOLEAN: "BOOLEAN",
    ColumnType.DATE: "DATE",
    ColumnType.TIMESTAMP: "TIMESTAMPTZ",
}


def arrow_type(column_type: ColumnType) -> pa.DataType:
    """The Arrow type that stores ``column_type``."""
    return _ARROW_TYPES[column_type]


def sql_type(column_type: ColumnType) -> str:
    """DuckDB's name for ``column_type``."""
    return _SQL_TYPES[column_type]


def arrow_schema(schema: TableSchema, *, with_row_id: bool) -> pa.Schema:
    """The Arrow schema of a batch file (``with_row_id``) or of an export of ``schema``."""
    fields = [pa.field(column.name, arrow_type(column.type)) for column in schema.columns]
    if with_row_id:
        fields.append(pa.field(ROW_ID_COLUMN, pa.int64(), nullable=False))
    return pa.schema(fields)


def quote_identifier(name: str) -> str:
    """``name`` as a DuckDB identifier: double-quoted, inner quotes doubled."""
    return '"' + name.replace('"', '""') + '"'
