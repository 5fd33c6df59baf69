"""CSV to Parquet in two streaming passes: one to type each column, one to convert.

Both passes read the file as text in blocks of at most the longest line allowed, so memory
stays bounded whatever the file's size; the first pass narrows every column's type over all
of its values, and the second parses each block with exactly the same functions.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv

from ebling.reports._batch_file import BatchFileWriter
from ebling.reports._csv_diagnosis import diagnose
from ebling.reports._csv_layout import CsvLayout, read_layout, size_label
from ebling.reports._inference import ColumnTyper, parse_text
from ebling.reports.errors import InvalidTable
from ebling.reports.schema import Column, TableSchema, clean_column_name, column_name_problems

__all__ = ["CsvResult", "convert_csv"]

logger = logging.getLogger(__name__)

# Cells read as null, whatever the column's type: empty, and the usual spellings of "none".
NULL_VALUES = ["", "NA", "N/A", "n/a", "#N/A", "NULL", "null", "NaN", "nan", "None"]


@dataclass(frozen=True)
class CsvResult:
    """What converting a CSV file found."""

    schema: TableSchema
    row_count: int
    encoding: str
    delimiter: str


def convert_csv(
    source: Path,
    target: Path,
    *,
    schema_hint: TableSchema | None,
    row_id_start: int,
    encoding: str | None,
    delimiter: str | None,
    max_line_bytes: int,
    max_columns: int,
) -> CsvResult:
    """Convert a CSV file with a header row to a batch file; see ``convert_to_parquet``.

    Raises:
        InvalidTable: the file is not a readable CSV table; the message names the line.
    """
    layout = read_layout(
        source, encoding=encoding, delimiter=delimiter, max_line_bytes=max_line_bytes
    )
    names = [clean_column_name(name) for name in layout.header]
    if len(names) > max_columns:
        raise InvalidTable(
            f"the header has {len(names):,} columns; at most {max_columns:,} are allowed", line=1
        )
    problems = column_name_problems(names)
    if problems:
        raise InvalidTable("the header cannot name columns: " + "; ".join(problems), line=1)
    if layout.encoding.quote_count % 2:
        # Quotes that do not pair up may hide an unterminated quoted value, which the fast
        # parser reads to the end of the file without complaint.
        problem = diagnose(source, layout, max_line_bytes=max_line_bytes)
        if problem is not None:
            raise problem

    hints = {column.name: column.type for column in schema_hint.columns} if schema_hint else {}
    typers = [ColumnTyper(hints.get(name)) for name in names]
    blocks = _text_blocks(source, layout, max_line_bytes=max_line_bytes)
    row_count = _convert_in_one_pass(names, typers, blocks, target, row_id_start)
    if row_count is None:
        # A column widened after rows were written as its narrower type: finish typing,
        # then convert everything again with the final types.
        for block in blocks:
            for typer, values in zip(typers, block.columns, strict=True):
                typer.observe(values)
        schema = _schema_of(names, typers)
        with BatchFileWriter(target, schema, row_id_start=row_id_start) as writer:
            for block in _text_blocks(source, layout, max_line_bytes=max_line_bytes):
                writer.write(
                    [
                        parse_text(values, column.type)
                        for values, column in zip(block.columns, schema.columns, strict=True)
                    ]
                )
        row_count = writer.row_count
    schema = _schema_of(names, typers)
    logger.debug("converted %s: %d rows, %d columns", source.name, row_count, len(names))
    return CsvResult(
        schema=schema,
        row_count=row_count,
        encoding=layout.encoding.name,
        delimiter=layout.delimiter,
    )


class _Widened(Exception):
    """A column's type widened after rows were written with the narrower type."""


def _schema_of(names: list[str], typers: list[ColumnTyper]) -> TableSchema:
    return TableSchema(tuple(Column(n, t.column_type) for n, t in zip(names, typers, strict=True)))


def _convert_in_one_pass(
    names: list[str],
    typers: list[ColumnTyper],
    blocks: Iterator[pa.RecordBatch],
    target: Path,
    row_id_start: int,
) -> int | None:
    """Type and write in the same pass, taking the first block's types as final.

    Most files' first block already shows every column's type, so one pass usually does.

    Returns:
        The rows written, or None (and no file) if a later block widened a column's type;
        ``blocks`` then resumes after that block, which the typers have seen.
    """
    first = next(blocks, None)
    parsed = (
        [] if first is None else [t.observe(v) for t, v in zip(typers, first.columns, strict=True)]
    )
    types = [typer.column_type for typer in typers]
    try:
        with BatchFileWriter(
            target, _schema_of(names, typers), row_id_start=row_id_start
        ) as writer:
            writer.write(parsed)
            for block in blocks:
                parsed = [t.observe(v) for t, v in zip(typers, block.columns, strict=True)]
                if [typer.column_type for typer in typers] != types:
                    raise _Widened
                writer.write(parsed)
    except _Widened:
        return None
    return writer.row_count


def _text_blocks(
    source: Path, layout: CsvLayout, *, max_line_bytes: int
) -> Iterator[pa.RecordBatch]:
    """The file's rows after the header, every column as text, one block at a time."""
    if source.stat().st_size <= layout.data_offset:
        return
    # Arrow names columns by position here: the header, already read and checked, may
    # hold names Arrow would choke on, and its own header reading ignores quotes.
    positional = [f"c{index}" for index in range(len(layout.header))]
    read_options = pa_csv.ReadOptions(
        column_names=positional,
        block_size=max_line_bytes,
        # Arrow's parallel parsing measured no faster here (the typing, not the parsing,
        # takes the time), and it reads blocks ahead, which costs memory.
        use_threads=False,
        encoding=layout.encoding.codec,
    )
    parse_options = pa_csv.ParseOptions(
        delimiter=layout.delimiter,
        quote_char='"',
        double_quote=True,
        newlines_in_values=True,
        ignore_empty_lines=True,
    )
    convert_options = pa_csv.ConvertOptions(
        column_types=dict.fromkeys(positional, pa.string()),
        null_values=NULL_VALUES,
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    with pa.OSFile(str(source)) as file:
        file.seek(layout.data_offset)
        try:
            reader = pa_csv.open_csv(
                file,
                read_options=read_options,
                parse_options=parse_options,
                convert_options=convert_options,
            )
            yield from reader
        except (pa.ArrowInvalid, UnicodeDecodeError) as error:
            if "Empty CSV file" in str(error):
                return  # only blank lines after the header: a batch of no rows
            raise _located(source, layout, error, max_line_bytes=max_line_bytes) from error


def _located(
    source: Path, layout: CsvLayout, error: Exception, *, max_line_bytes: int
) -> InvalidTable:
    problem = diagnose(source, layout, max_line_bytes=max_line_bytes)
    if problem is not None:
        return problem
    message = str(error)
    if "straddl" in message:
        return InvalidTable(f"a row is longer than {size_label(max_line_bytes)}")
    return InvalidTable(
        f"the file cannot be read as CSV: {message.removeprefix('CSV parse error: ')}"
    )
