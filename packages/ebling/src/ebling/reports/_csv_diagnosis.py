"""Finding the line a CSV problem is on, once the fast parser has said there is one.

Arrow's parser says what is wrong but, reading in parallel blocks, not where; this reads the
file again, slowly, with Python's csv module, counting physical lines (a quoted value can
span several). It runs only for a file that has already failed, or whose double quotes do
not pair up.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ebling.reports._csv_layout import CsvLayout, size_label
from ebling.reports.errors import InvalidTable

__all__ = ["diagnose"]


class _LongLine(Exception):
    def __init__(self, line: int):
        self.line = line


class _Lines:
    """The file's lines for csv.reader, numbered, length-checked, and kept per row."""

    def __init__(self, stream: IO[str], *, first_line: int, codec: str, limit: int):
        self.number = first_line - 1
        self.row_first_line = first_line
        self.row_lines: list[str] = []
        self.row_length = 0
        self._stream = stream
        self._codec = codec
        self._limit = limit

    def start_row(self) -> None:
        self.row_first_line = self.number + 1
        self.row_lines = []
        self.row_length = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        # Reading at most one character over the limit keeps a 10 MB line out of memory.
        line = self._stream.readline(self._limit + 1)
        if not line:
            raise StopIteration
        self.number += 1
        if self._too_long(line):
            raise _LongLine(self.number)
        self.row_length += len(line)
        if self.row_length <= self._limit:
            self.row_lines.append(line)
        return line

    @property
    def row_too_long(self) -> bool:
        return self.row_length > self._limit or self._too_long("".join(self.row_lines))

    def _too_long(self, text: str) -> bool:
        # Characters take one to four bytes; encode only when the count alone cannot tell.
        return len(text) > self._limit or (
            len(text) * 4 > self._limit and len(text.encode(self._codec)) > self._limit
        )


def _opens_quote_at_end(text: str, delimiter: str) -> bool:
    try:
        list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as error:
        return "unexpected end of data" in str(error)
    return False


def diagnose(path: Path, layout: CsvLayout, *, max_line_bytes: int) -> InvalidTable | None:
    """The first problem in the CSV file's rows, with its line, or None if none is found.

    Problems looked for: a line longer than ``max_line_bytes``, a row (a quoted value
    spanning lines) longer than that, a row with more or fewer fields than the header, and
    a quoted value opened and never closed.
    """
    # The csv module's per-field limit is process-wide; it is only ever raised here, to the
    # longest line allowed, so that a long but allowed value is not reported as a problem.
    csv.field_size_limit(max(csv.field_size_limit(), max_line_bytes + 1))
    expected = len(layout.header)
    label = size_label(max_line_bytes)

    with path.open("rb") as raw:
        raw.seek(layout.data_offset)
        stream = io.TextIOWrapper(raw, encoding=layout.encoding.codec, newline="")
        lines = _Lines(
            stream,
            first_line=layout.header_lines + 1,
            codec=layout.encoding.codec,
            limit=max_line_bytes,
        )
        reader = csv.reader(lines, delimiter=layout.delimiter)
        last_row_text = ""
        last_row_line = lines.row_first_line
        while True:
            lines.start_row()
            try:
                row = next(reader, None)
            except _LongLine as long_line:
                return InvalidTable(f"the line is longer than {label}", line=long_line.line)
            except csv.Error as error:
                if lines.row_too_long:
                    break
                return InvalidTable(f"the row cannot be read: {error}", line=lines.row_first_line)
            if row is None:
                break
            if lines.row_too_long:
                break
            if not row:
                continue
            last_row_text = "".join(lines.row_lines)
            last_row_line = lines.row_first_line
            if len(row) != expected:
                if _opens_quote_at_end(last_row_text, layout.delimiter):
                    break
                return InvalidTable(
                    f"the row has {len(row)} fields, but the header has {expected}",
                    line=lines.row_first_line,
                )

    if lines.row_too_long:
        return InvalidTable(
            f"the row starting on this line is longer than {label}; is a quoted value "
            "left open there?",
            line=lines.row_first_line,
        )
    if last_row_text and _opens_quote_at_end(last_row_text, layout.delimiter):
        return InvalidTable(
            "a quoted value opens on this line and is never closed", line=last_row_line
        )
    return None
