"""A CSV file's layout: its encoding, delimiter, header, and where its data rows start."""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from ebling.reports._text_encoding import TextEncoding, looks_binary, resolve_encoding
from ebling.reports.errors import InvalidTable

__all__ = ["DELIMITERS", "CsvLayout", "read_layout", "size_label"]

DELIMITERS = (",", ";", "\t", "|")

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)?")
_SNIFF_CHARS = 64 * 1024
_SNIFF_ROWS = 50


@dataclass(frozen=True)
class CsvLayout:
    """Where things are in a CSV file.

    Attributes:
        encoding: the file's text encoding.
        delimiter: the field separator.
        header: the header's names as the file spells them.
        data_offset: the byte offset where the first row after the header starts.
        header_lines: how many lines the header (and blank lines before it) take.
    """

    encoding: TextEncoding
    delimiter: str
    header: tuple[str, ...]
    data_offset: int
    header_lines: int


def size_label(size: int) -> str:
    """A byte count for a message: ``1 MiB``, ``64 KiB`` or ``100 bytes``."""
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size:,} bytes"


def read_layout(
    path: Path, *, encoding: str | None, delimiter: str | None, max_line_bytes: int
) -> CsvLayout:
    """Read a CSV file's layout from its start, and check that all of it decodes.

    Args:
        path: the file.
        encoding: the encoding the sender declared, or None to detect it.
        delimiter: the delimiter the sender declared, or None to detect it among
            ``DELIMITERS`` from the first rows.
        max_line_bytes: the longest header allowed.

    Raises:
        InvalidTable: the file is empty, binary, not decodable, or its header is unreadable.
    """
    if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n'):
        raise InvalidTable(f"delimiter {delimiter!r} must be one character, not a quote or newline")
    with path.open("rb") as file:
        prefix = file.read(max_line_bytes + 4)
        complete = not file.read(1)
    if not prefix:
        raise InvalidTable("the file is empty; a CSV file needs at least a header row")
    kind = looks_binary(prefix[:8192])
    if kind is not None:
        raise InvalidTable(f"this looks like {kind}, not CSV")

    text_encoding = resolve_encoding(path, prefix, declared=encoding)
    decoder = codecs.getincrementaldecoder(text_encoding.codec)("strict")
    text = decoder.decode(prefix[text_encoding.bom_length :], final=complete)
    header_text, header_lines = _header_text(text, complete=complete, limit=max_line_bytes)

    chosen = delimiter or _sniff_delimiter(text if complete else text[: text.rfind("\n") + 1])
    try:
        header_row = io.StringIO(header_text.lstrip("\r\n"), newline="")
        names = next(csv.reader(header_row, delimiter=chosen), [])
    except csv.Error as error:
        raise InvalidTable(f"the header cannot be read: {error}", line=1) from error
    return CsvLayout(
        encoding=text_encoding,
        delimiter=chosen,
        header=tuple(names),
        data_offset=text_encoding.bom_length + len(header_text.encode(text_encoding.codec)),
        header_lines=header_lines,
    )


def _header_text(text: str, *, complete: bool, limit: int) -> tuple[str, int]:
    """The text of the header row (with blank lines before it) and the lines it spans."""
    quotes = 0
    end = 0
    started = False
    for lines, match in enumerate(_LINE.finditer(text), start=1):
        line = match.group()
        if not line:
            break
        end = match.end()
        started = started or bool(line.strip("\r\n"))
        quotes += line.count('"')
        ends_row = line.endswith(("\n", "\r")) or (complete and end == len(text))
        if started and ends_row and quotes % 2 == 0:
            return text[:end], lines
    if not started:
        raise InvalidTable("the file has no header row, only blank lines")
    if complete:
        raise InvalidTable("a quoted value in the header is never closed", line=1)
    raise InvalidTable(f"the header is longer than {size_label(limit)}", line=1)


def _sniff_delimiter(sample: str) -> str:
    """The candidate delimiter that splits the first rows into the same number of fields."""
    sample = sample[:_SNIFF_CHARS]
    best: tuple[float, int] = (0.0, 1)
    chosen = DELIMITERS[0]
    for candidate in DELIMITERS:
        try:
            rows = [
                row
                for row in islice(
                    csv.reader(io.StringIO(sample, newline=""), delimiter=candidate), _SNIFF_ROWS
                )
                if row
            ]
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        agreeing = sum(1 for row in rows[1:] if len(row) == width)
        score = (agreeing / (len(rows) - 1) if len(rows) > 1 else 1.0, width)
        if score > best:
            best, chosen = score, candidate
    return chosen
