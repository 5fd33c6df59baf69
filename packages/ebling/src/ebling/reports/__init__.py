"""Reports: named tables that workflows append batches to, stored as one Parquet file a batch.

This package is the table engine, with no HTTP and no SQL catalogue: it converts an upload
to a batch file (``reading``), reconciles the batch's columns with the report's
(``schema``), and reads the files back as pages (``query``) or exports (``export``). The
catalogue of reports, batches and schemas, and the object store, are the caller's.
"""

from ebling.reports.errors import (
    InvalidQuery,
    InvalidSchema,
    InvalidTable,
    ReportError,
    SchemaMismatch,
    TableReadError,
)
from ebling.reports.export import export_csv, export_parquet
from ebling.reports.query import FilterOp, RowFilter, RowPage, SortKey, count_rows, query_rows
from ebling.reports.reading import Conversion, ReadLimits, TableFormat, convert_to_parquet
from ebling.reports.schema import (
    ROW_ID_COLUMN,
    Column,
    ColumnType,
    SchemaChange,
    SchemaPolicy,
    TableSchema,
    reconcile,
)

__all__ = [
    "ROW_ID_COLUMN",
    "Column",
    "ColumnType",
    "Conversion",
    "FilterOp",
    "InvalidQuery",
    "InvalidSchema",
    "InvalidTable",
    "ReadLimits",
    "ReportError",
    "RowFilter",
    "RowPage",
    "SchemaChange",
    "SchemaMismatch",
    "SchemaPolicy",
    "SortKey",
    "TableFormat",
    "TableReadError",
    "TableSchema",
    "convert_to_parquet",
    "count_rows",
    "export_csv",
    "export_parquet",
    "query_rows",
    "reconcile",
]
