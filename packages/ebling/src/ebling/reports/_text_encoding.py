"""Which text encoding a file is in, checked over the whole file before anything parses it.

A file without a byte order mark is UTF-8 if every byte of it decodes as UTF-8; this is
checked over the whole file, not a prefix, because a spreadsheet export is often plain ASCII
for a million rows and then has one "é" in a legacy code page. Otherwise the encoding is
detected (charset-normalizer) on the text around the first byte that is not UTF-8.
"""

from __future__ import annotations

import codecs
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import charset_normalizer

from ebling.reports.errors import InvalidTable

__all__ = ["TextEncoding", "looks_binary", "resolve_encoding"]

_CHUNK_BYTES = 1 << 20

_BOMS = (
    # UTF-32 first: its little-endian mark starts with UTF-16's.
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a zip archive (an .xlsx workbook is one)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Office document (.xls)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"PAR1", "a Parquet file; send it with the format 'parquet'"),
)

# Candidate encodings for detection; the list leaves out code pages nobody writes any more,
# which charset-normalizer would otherwise pick on short samples.
_DETECTABLE = [
    "cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1257", "iso8859_15", "koi8_r",
    "shift_jis", "euc_jp", "gb18030", "big5", "euc_kr", "cp437", "cp850",
]  # fmt: skip

# Single-byte code pages of Latin scripts, which decode the same bytes to mostly the same
# letters; detection cannot tell them apart on a few accented words (it prefers cp1250 for
# "Crème brûlée"), so among them the one decoding to the most letters wins, cp1252 on a tie.
_LATIN_FAMILY = {
    codecs.lookup(name).name
    for name in ("cp1252", "cp1250", "cp1254", "cp1257", "iso8859_15", "cp437", "cp850")
}


@dataclass(frozen=True)
class TextEncoding:
    """A file's encoding.

    Attributes:
        codec: the Python codec name, without byte order mark handling.
        bom_length: how many bytes of byte order mark open the file.
        quote_count: how many double quotes the whole file holds.
    """

    codec: str
    bom_length: int
    quote_count: int

    @property
    def name(self) -> str:
        """The name to report: ``utf-8-sig`` for UTF-8 with a byte order mark."""
        return "utf-8-sig" if self.codec == "utf-8" and self.bom_length else self.codec


def looks_binary(prefix: bytes) -> str | None:
    """What a file opening with ``prefix`` looks like if it is not text, else None."""
    for signature, kind in _SIGNATURES:
        if prefix.startswith(signature):
            return kind
    if any(prefix.startswith(bom) for bom, _ in _BOMS):
        return None
    if b"\x00" in prefix:
        return "a binary file (it holds NUL bytes)"
    return None


def resolve_encoding(path: Path, prefix: bytes, *, declared: str | None) -> TextEncoding:
    """Find the encoding of the file at ``path`` and check that all of it decodes.

    Args:
        path: the file.
        prefix: the file's first bytes (at least the first few hundred, when it has them).
        declared: an encoding the sender named, used instead of detection (a byte order
            mark still wins).

    Raises:
        InvalidTable: a byte does not decode (naming its line), or the declared encoding is
            unknown.
    """
    for bom, codec in _BOMS:
        if prefix.startswith(bom):
            return _validated(path, codec, len(bom), detected=False)
    if declared is not None:
        try:
            codec = codecs.lookup(declared).name
        except LookupError:
            raise InvalidTable(f"unknown text encoding {declared!r}") from None
        return _validated(path, codec, 0, detected=False)

    failure = _first_undecodable(path, "utf-8", 0)
    if isinstance(failure, int):
        return TextEncoding("utf-8", 0, failure)
    offset, _ = failure
    if not _is_ascii_before(path, offset):
        # Valid UTF-8 beyond ASCII came first, so this is a UTF-8 file with a bad byte.
        return _validated(path, "utf-8", 0, detected=False)
    return _validated(path, _detect_legacy(path, offset), 0, detected=True)


def _validated(path: Path, codec: str, bom_length: int, *, detected: bool) -> TextEncoding:
    failure = _first_undecodable(path, codec, bom_length)
    if isinstance(failure, int):
        return TextEncoding(codec, bom_length, failure)
    offset, byte = failure
    how = "detected" if detected else "from its byte order mark or as declared"
    raise InvalidTable(
        f"byte 0x{byte:02x} is not valid {codec} (the encoding {how}); save the file as "
        "UTF-8, or declare its encoding",
        line=_line_of(path, codec, bom_length, offset),
    )


def _first_undecodable(path: Path, codec: str, start: int) -> int | tuple[int, int]:
    """The number of double quotes in the file, or the offset and value of its first bad byte."""
    decoder = codecs.getincrementaldecoder(codec)("strict")
    # Double quotes are single bytes in UTF-8 and in single-byte code pages, so counting
    # bytes is exact there; other encodings count in the decoded text.
    count_bytes = codec == "utf-8" or codecs.lookup(codec).name.startswith(
        ("cp", "iso8859", "latin")
    )
    quotes = 0
    position = start
    with path.open("rb") as file:
        file.seek(start)
        while True:
            chunk = file.read(_CHUNK_BYTES)
            pending = len(decoder.getstate()[0])
            try:
                if chunk.isascii() and not pending and codec == "utf-8":
                    text = ""  # ASCII is UTF-8; skip building a string of it
                else:
                    text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as error:
                bad = position - pending + error.start
                data = error.object
                return bad, data[error.start] if error.start < len(data) else 0
            if not chunk:
                return quotes
            quotes += chunk.count(b'"') if count_bytes else text.count('"')
            position += len(chunk)


def _is_ascii_before(path: Path, offset: int) -> bool:
    with path.open("rb") as file:
        while offset > 0:
            chunk = file.read(min(_CHUNK_BYTES, offset))
            if not chunk.isascii():
                return False
            offset -= len(chunk)
    return True


def _line_of(path: Path, codec: str, bom_length: int, offset: int) -> int:
    decoder = codecs.getincrementaldecoder(codec)("replace")
    newlines = 0
    with path.open("rb") as file:
        file.seek(bom_length)
        remaining = offset - bom_length
        while remaining > 0:
            chunk = file.read(min(_CHUNK_BYTES, remaining))
            if not chunk:
                break
            newlines += decoder.decode(chunk).count("\n")
            remaining -= len(chunk)
    return newlines + 1


def _detect_legacy(path: Path, offset: int) -> str:
    with path.open("rb") as file:
        file.seek(max(0, offset - 4096))
        sample = file.read(256 * 1024)
    best = charset_normalizer.from_bytes(sample, cp_isolation=_DETECTABLE).best()
    codec = codecs.lookup(best.encoding).name if best is not None else "cp1252"
    if codec not in _LATIN_FAMILY:
        return codec
    candidates = ["cp1252", "cp1250"] + ([codec] if codec not in ("cp1252", "cp1250") else [])
    return max(candidates, key=lambda candidate: _letter_share(sample, candidate))


def _letter_share(sample: bytes, codec: str) -> float:
    text = sample.decode(codec, errors="replace")
    beyond_ascii = [char for char in text if ord(char) > 127]
    if not beyond_ascii:
        return 0.0
    letters = sum(1 for char in beyond_ascii if unicodedata.category(char).startswith("L"))
    return letters / len(beyond_ascii)
