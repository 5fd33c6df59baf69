"""Writing one batch's Parquet file: typed data columns plus the ``_row_id`` identity column."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Self

import pyarrow as pa
import pyarrow.parquet as pq

from ebling.reports._types import arrow_schema
from ebling.reports.schema import ColumnType, TableSchema

__all__ = ["BatchFileWriter"]

# Row groups of this many rows let DuckDB skip and parallelise; buffering them bounds memory.
_ROW_GROUP_ROWS = 128 * 1024
_ROW_GROUP_BYTES = 64 << 20


class BatchFileWriter:
    """Writes a batch file from blocks of typed columns, numbering rows from ``row_id_start``.

    Used as a context manager; if the block raises, the partial file is removed, so a failed
    conversion leaves nothing behind.

    Args:
        target: the Parquet file to write (replaced if it exists).
        schema: the batch's schema; blocks hold its columns, in order, as its Arrow types.
        row_id_start: the ``_row_id`` of the first row.
    """

    def __init__(self, target: Path, schema: TableSchema, *, row_id_start: int):
        self.target = target
        self.row_count = 0
        self._schema = arrow_schema(schema, with_row_id=True)
        # Dictionaries pay off for repetitive text (hosts, categories) and Parquet falls back
        # by itself for text that is not; for numbers and times they cost more than they save.
        self._dictionary_columns = [c.name for c in schema.columns if c.type == ColumnType.STRING]
        self._next_row_id = row_id_start
        self._buffer: list[pa.RecordBatch] = []
        self._buffered_rows = 0
        self._buffered_bytes = 0
        self._writer: pq.ParquetWriter | None = None

    def __enter__(self) -> Self:
        self._writer = pq.ParquetWriter(
            self.target,
            self._schema,
            # Uncompressed: pages of 1M rows sort and filter about a third faster than with
            # zstd (at about twice the size), and query latency is what batch files are for.
            compression="none",
            use_dictionary=self._dictionary_columns,
        )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is None:
            self._flush()
        if self._writer is not None:
            self._writer.close()
        if exc is not None:
            self.target.unlink(missing_ok=True)

    def write(self, columns: list[pa.Array]) -> None:
        """Append one block of rows: one array per schema column, all the same length."""
        rows = len(columns[0]) if columns else 0
        if not rows:
            return
        row_ids = pa.array(range(self._next_row_id, self._next_row_id + rows), pa.int64())
        batch = pa.RecordBatch.from_arrays([*columns, row_ids], schema=self._schema)
        self._buffer.append(batch)
        self._next_row_id += rows
        self.row_count += rows
        self._buffered_rows += rows
        self._buffered_bytes += batch.nbytes
        if self._buffered_rows >= _ROW_GROUP_ROWS or self._buffered_bytes >= _ROW_GROUP_BYTES:
            self._flush()

    def _flush(self) -> None:
        if not self._buffer or self._writer is None:
            return
        self._writer.write_table(
            pa.Table.from_batches(self._buffer, schema=self._schema),
            row_group_size=self._buffered_rows,
        )
        self._buffer = []
        self._buffered_rows = 0
        self._buffered_bytes = 0
