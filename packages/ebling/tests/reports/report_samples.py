"""Helpers for the report engine's tests: write a table, convert it, read a batch file back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from ebling.reports import (
    Conversion,
    ReadLimits,
    SchemaPolicy,
    TableFormat,
    TableSchema,
    convert_to_parquet,
    reconcile,
)


def convert_bytes(
    tmp_path: Path,
    data: bytes,
    *,
    fmt: TableFormat = TableFormat.CSV,
    name: str = "upload",
    hint: TableSchema | None = None,
    row_id_start: int = 0,
    limits: ReadLimits | None = None,
    **options: Any,
) -> tuple[Conversion, Path]:
    """Write ``data`` to a file, convert it, and return the conversion and the batch file."""
    source = tmp_path / f"{name}.{fmt}"
    source.write_bytes(data)
    target = tmp_path / f"{name}.batch.parquet"
    conversion = convert_to_parquet(
        source, fmt, target, schema_hint=hint, row_id_start=row_id_start, limits=limits, **options
    )
    return conversion, target


def convert_text(tmp_path: Path, text: str, **kwargs: Any) -> tuple[Conversion, Path]:
    """Like ``convert_bytes``, for UTF-8 text."""
    return convert_bytes(tmp_path, text.encode(), **kwargs)


def rows_of(batch_file: Path) -> list[dict[str, Any]]:
    """Every row of a batch file, ``_row_id`` included."""
    return list(pq.read_table(batch_file).to_pylist())


def types_of(conversion: Conversion) -> dict[str, str]:
    """The batch's column types by name."""
    return {column.name: str(column.type) for column in conversion.schema.columns}


class ReportBuilder:
    """A report in a directory: batches appended as the API would, files and schema kept."""

    def __init__(self, directory: Path, *, policy: SchemaPolicy = SchemaPolicy.EVOLVE):
        self.directory = directory
        self.policy = policy
        self.schema: TableSchema | None = None
        self.files: list[Path] = []
        self.row_count = 0

    def append_csv(self, text: str) -> Conversion:
        """Convert a CSV batch with the report's schema as hint and reconcile it."""
        number = len(self.files)
        source = self.directory / f"batch-{number}.csv"
        source.write_text(text)
        target = self.directory / f"batch-{number}.parquet"
        conversion = convert_to_parquet(
            source,
            TableFormat.CSV,
            target,
            schema_hint=self.schema,
            row_id_start=self.row_count,
        )
        self.schema = reconcile(self.schema, conversion.schema, self.policy).schema
        self.files.append(target)
        self.row_count += conversion.row_count
        return conversion

    @property
    def current(self) -> TableSchema:
        """The report's schema; there is one once a batch arrived."""
        assert self.schema is not None
        return self.schema
