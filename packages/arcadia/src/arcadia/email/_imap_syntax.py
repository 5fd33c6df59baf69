"""The bits of IMAP's syntax (RFC 3501) that ``imaplib`` leaves to its caller.

``imaplib`` sends commands and returns responses as raw lines and literals. This module
quotes arguments, encodes folder names (modified UTF-7), writes dates and uid sets, and
parses ``FETCH`` responses, ``BODYSTRUCTURE`` included, into Python values.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta, timezone
from email.utils import decode_params, unquote

from arcadia.email._parsing import MimePart, decode_filename

__all__ = [
    "Literal",
    "Value",
    "decode_folder",
    "encode_folder",
    "imap_date",
    "parse_fetch_response",
    "parse_internal_date",
    "parse_list_line",
    "quote",
    "tree_from_bodystructure",
    "uid_set",
]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_INTERNAL_DATE = re.compile(
    r"\s*(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})"
)
_LITERAL_SUFFIX = re.compile(rb"\{\d+\}\r?\n?$")

# A parsed value: an atom (str), a string or literal (bytes), NIL (None), or a list.
Value = str | bytes | None | list["Value"]


class Literal(bytes):
    """The content of an IMAP literal, told apart from the response text around it."""


def quote(text: str) -> str:
    """``text`` as an IMAP quoted string (ASCII only; callers keep other text off the wire)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def encode_folder(name: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501 §5.1.3), quoted for a command."""
    encoded: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            utf16 = "".join(pending).encode("utf-16-be")
            encoded.append(
                "&" + base64.b64encode(utf16).decode().rstrip("=").replace("/", ",") + "-"
            )
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            encoded.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return quote("".join(encoded))


def decode_folder(name: str) -> str:
    """A folder name as a server lists it (modified UTF-7) in plain text."""
    decoded: list[str] = []
    for index, piece in enumerate(name.split("&")):
        if index == 0:
            decoded.append(piece)
            continue
        encoded, dash, rest = piece.partition("-")
        if not dash:  # not modified UTF-7 after all
            decoded.append("&" + piece)
        elif not encoded:
            decoded.append("&" + rest)
        else:
            utf16 = base64.b64decode(encoded.replace(",", "/") + "=" * (-len(encoded) % 4))
            decoded.append(utf16.decode("utf-16-be", errors="replace") + rest)
    return "".join(decoded)


def parse_list_line(line: bytes) -> str | None:
    r"""The folder name in a ``LIST`` answer line such as ``(\HasNoChildren) "." INBOX``."""
    values = _Tokenizer([line]).values()
    if len(values) < 3:
        return None
    name = values[2]
    if isinstance(name, bytes):
        return name.decode("utf-8", errors="replace")
    return name if isinstance(name, str) else None


def imap_date(day: date) -> str:
    """A day as IMAP's SEARCH wants it, e.g. ``3-Dec-2026`` (English, whatever the locale)."""
    return f"{day.day}-{_MONTHS[day.month - 1]}-{day.year}"


def parse_internal_date(value: Value) -> datetime | None:
    """An ``INTERNALDATE`` such as ``"03-Dec-2026 20:03:20 +0000"``, or ``None``."""
    if not isinstance(value, bytes):
        return None
    match = _INTERNAL_DATE.match(value.decode("ascii", errors="replace"))
    if not match or match.group(2).title() not in _MONTHS:
        return None
    day, month, year, hour, minute, second, sign, zone_hours, zone_minutes = match.groups()
    offset = timedelta(hours=int(zone_hours), minutes=int(zone_minutes))
    return datetime(
        int(year),
        _MONTHS.index(month.title()) + 1,
        int(day),
        int(hour),
        int(minute),
        int(second),
        tzinfo=timezone(-offset if sign == "-" else offset),
    )


def uid_set(uids: Iterable[str]) -> str:
    """A sequence set of uids, runs written as ranges: ``1:4,7,9:10``."""
    numbers = sorted({int(uid) for uid in uids})
    ranges: list[str] = []
    start = previous = numbers[0] if numbers else 0
    for number in numbers[1:]:
        if number != previous + 1:
            ranges.append(f"{start}:{previous}" if previous != start else str(start))
            start = number
        previous = number
    if numbers:
        ranges.append(f"{start}:{previous}" if previous != start else str(start))
    return ",".join(ranges)


def parse_fetch_response(
    data: Sequence[bytes | tuple[bytes, bytes] | None],
) -> list[dict[str, Value]]:
    r"""The items of each message in an ``imaplib`` ``FETCH`` answer, keyed in upper case.

    ``imaplib`` gives a response that contains literals as ``(line, literal)`` pairs
    followed by the rest of the line as bytes; a response without literals is one bytes
    item. Each is reassembled and parsed, e.g. ``{"UID": "7", "FLAGS": ["\\Seen"], ...}``.
    """
    messages: list[dict[str, Value]] = []
    chunks: list[bytes] = []
    for item in data:
        if isinstance(item, tuple):
            chunks.append(_LITERAL_SUFFIX.sub(b"", item[0]))
            chunks.append(Literal(item[1]))
        elif item is not None:
            chunks.append(item)
            messages.append(_fetch_items(chunks))
            chunks = []
    if chunks:
        messages.append(_fetch_items(chunks))
    return messages


def _fetch_items(chunks: list[bytes]) -> dict[str, Value]:
    values = _Tokenizer(chunks).values()
    # "<sequence number> (KEY value KEY value ...)"
    items = next((value for value in values if isinstance(value, list)), [])
    result: dict[str, Value] = {}
    for index in range(0, len(items) - 1, 2):
        key = items[index]
        if isinstance(key, str):
            result[key.upper()] = items[index + 1]
    return result


class _Tokenizer:
    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = chunks

    def values(self) -> list[Value]:
        stack: list[list[Value]] = [[]]
        for chunk in self._chunks:
            if isinstance(chunk, Literal):
                stack[-1].append(bytes(chunk))
                continue
            self._scan(chunk, stack)
        while len(stack) > 1:  # a truncated response: keep what arrived
            inner = stack.pop()
            stack[-1].append(inner)
        return stack[0]

    @staticmethod
    def _scan(text: bytes, stack: list[list[Value]]) -> None:
        position = 0
        length = len(text)
        while position < length:
            char = text[position : position + 1]
            if char in b" \r\n":
                position += 1
            elif char == b"(":
                stack.append([])
                position += 1
            elif char == b")":
                if len(stack) > 1:
                    inner = stack.pop()
                    stack[-1].append(inner)
                position += 1
            elif char == b'"':
                position, value = _quoted(text, position + 1)
                stack[-1].append(value)
            else:
                position, atom = _atom(text, position)
                stack[-1].append(None if atom.upper() == "NIL" else atom)


def _quoted(text: bytes, position: int) -> tuple[int, bytes]:
    value = bytearray()
    while position < len(text):
        byte = text[position]
        if byte == 0x5C and position + 1 < len(text):  # backslash escapes the next byte
            value.append(text[position + 1])
            position += 2
        elif byte == 0x22:
            return position + 1, bytes(value)
        else:
            value.append(byte)
            position += 1
    return position, bytes(value)


def _atom(text: bytes, position: int) -> tuple[int, str]:
    start = position
    depth = 0  # a section such as BODY[HEADER.FIELDS (FROM)] holds spaces and parentheses
    while position < len(text):
        char = text[position : position + 1]
        if char == b"[":
            depth += 1
        elif char == b"]":
            depth -= 1
        elif depth <= 0 and char in b' ()\r\n"':
            break
        position += 1
    return position, text[start:position].decode("ascii", errors="surrogateescape")


def tree_from_bodystructure(structure: Value) -> MimePart | None:
    """The MIME tree a ``BODYSTRUCTURE`` describes, or ``None`` where it makes no sense."""
    if not isinstance(structure, list) or not structure:
        return None
    if isinstance(structure[0], list):
        # multipart: (part)(part)... "subtype" [params [disposition ...]]
        children = []
        index = 0
        while index < len(structure) and isinstance(structure[index], list):
            child = tree_from_bodystructure(structure[index])
            if child is None:
                return None
            children.append(child)
            index += 1
        subtype = _text(structure[index]) if index < len(structure) else "mixed"
        disposition = structure[index + 2] if index + 2 < len(structure) else None
        return MimePart(
            content_type=f"multipart/{(subtype or 'mixed').lower()}",
            disposition=_disposition(disposition)[0],
            children=children,
        )

    if len(structure) < 7:
        return None
    main, sub = _text(structure[0]), _text(structure[1])
    if main is None or sub is None:
        return None
    content_type = f"{main}/{sub}".lower()
    parameters = _pairs(structure[2])
    # The extension fields (md5, disposition) follow the type's own: text has a line count,
    # message/rfc822 an envelope, a body and a line count.
    md5_index = 7
    if content_type.startswith("text/"):
        md5_index = 8
    elif content_type == "message/rfc822":
        md5_index = 10
    disposition_value = structure[md5_index + 1] if md5_index + 1 < len(structure) else None
    disposition, disposition_parameters = _disposition(disposition_value)
    filename = _filename(disposition_parameters) or _filename(parameters, "name")
    charset = next((value for key, value in parameters if key.lower() == "charset"), None)
    return MimePart(
        content_type=content_type,
        disposition=disposition,
        filename=filename,
        charset=charset.lower() if charset else None,
    )


def _text(value: Value) -> str | None:
    if isinstance(value, bytes):
        return value.decode("ascii", errors="surrogateescape")
    return value if isinstance(value, str) else None


def _pairs(value: Value) -> list[tuple[str, str]]:
    if not isinstance(value, list):
        return []
    texts = [_text(item) or "" for item in value]
    return list(zip(texts[0::2], texts[1::2], strict=False))


def _disposition(value: Value) -> tuple[str | None, list[tuple[str, str]]]:
    if not isinstance(value, list) or not value:
        return None, []
    kind = _text(value[0])
    return (kind.lower() if kind else None), _pairs(value[1] if len(value) > 1 else None)


def _filename(parameters: list[tuple[str, str]], name: str = "filename") -> str | None:
    if not parameters:
        return None
    # The same RFC 2231 decoding (continuations, charsets) that parsed messages get.
    quoted = [
        (key, '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"')
        for key, value in parameters
    ]
    for key, value in decode_params([("", ""), *quoted])[1:]:
        if key.lower() == name:
            if isinstance(value, tuple):  # (charset, language, "quoted text")
                value = (value[0], value[1], unquote(value[2]))
            return decode_filename(value)
    return None
