"""Turning the bytes of mail into text: bodies, attachments and headers in any charset.

Mail in the wild is often mislabelled: text declared ``us-ascii`` that is UTF-8, ``iso-8859-1``
that uses Windows' extra characters, raw UTF-8 in headers. Every function here returns text
rather than raising, trying the declared charset first and then the likely ones.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re

__all__ = ["decode_header_text", "decode_text", "lookup_codec", "repair_8bit"]

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE, whose BOM is its prefix
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Labels that senders use for text written in a larger charset (the WHATWG Encoding
# Standard makes the same substitutions): decoding with the larger one loses nothing.
_SUPERSETS = {
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc_kr": "cp949",
    "shift_jis": "cp932",
}

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_FOLDING = re.compile(r"\r?\n(?=[ \t])")
_SURROGATE = re.compile("[\udc80-\udcff]")


def lookup_codec(charset: str | None) -> str | None:
    """Python's name for a MIME charset label, or ``None`` for a missing or unknown one."""
    if not charset:
        return None
    label = charset.strip().strip("\"'").lower()
    # Python knows "utf8" and "cp1252" but mail also says "x-" this and "unicode-1-1-utf-8".
    label = {"unicode-1-1-utf-8": "utf-8", "x-user-defined": "cp1252"}.get(label, label)
    if label.startswith("x-") and not _known(label):
        label = label[2:]
    return codecs.lookup(label).name if _known(label) else None


def _known(label: str) -> bool:
    try:
        codecs.lookup(label)
    except LookupError:
        return False
    return True


def decode_text(data: bytes, charset: str | None = None) -> str:
    """Decode ``data``, trusting a byte-order mark, then ``charset``, then the likely charsets.

    Args:
        data: The bytes of a body or an attachment, transfer encoding already undone.
        charset: The declared charset, if any (a MIME label such as ``windows-1252``).

    Returns:
        The text, without a byte-order mark. It never fails: bytes that no candidate accepts
        are read as Latin-1, where every byte is a character.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(codec)
            except UnicodeDecodeError:
                break

    declared = lookup_codec(charset)
    candidates: list[str] = []
    if declared and declared != "ascii":
        candidates.append(_SUPERSETS.get(declared, declared))
    # Before UTF-8, which accepts the zero bytes of UTF-16 as characters.
    utf16 = _utf16_without_bom(data)
    if utf16:
        candidates.append(utf16)
    candidates.append("utf-8")
    for codec in candidates:
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue

    # A declared multi-byte charset with one bad sequence is still closer than a guess.
    if declared and declared not in ("ascii", "utf-8"):
        return data.decode(declared, errors="replace")
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _utf16_without_bom(data: bytes) -> str | None:
    # Text in UTF-16 that is mostly ASCII has a zero byte in every other position.
    sample = data[:4096]
    if len(sample) < 4 or len(sample) % 2:
        return None
    half = len(sample) // 2
    odd_zeros = sample[1::2].count(0)
    even_zeros = sample[0::2].count(0)
    if odd_zeros > 0.3 * half and even_zeros == 0:
        return "utf-16-le"
    if even_zeros > 0.3 * half and odd_zeros == 0:
        return "utf-16-be"
    return None


def repair_8bit(text: str) -> str:
    """Turn raw 8-bit header bytes (carried by the parser as surrogates) into characters.

    Headers should be ASCII, but many mailers write UTF-8 (or their local charset) into them;
    the standard library keeps such bytes as lone surrogates.
    """
    if not _SURROGATE.search(text):
        return text
    return decode_text(text.encode("ascii", errors="surrogateescape"))


def decode_header_text(value: str) -> str:
    """A header's value as text: unfolded, 8-bit bytes repaired, RFC 2047 words decoded.

    Encoded words are also decoded where RFC 2047 forbids them but mailers put them anyway,
    such as inside a quoted file name. Adjacent encoded words in one charset are joined
    before decoding, since a sender may split a multi-byte character between two of them.
    """
    text = repair_8bit(_FOLDING.sub("", value))
    if "=?" not in text:
        return text.strip()

    pieces: list[str] = []
    pending = b""
    pending_charset: str | None = None
    position = 0
    for match in _ENCODED_WORD.finditer(text):
        gap = text[position : match.start()]
        decoded = _decode_word(match.group(2), match.group(3))
        charset = match.group(1).split("*", 1)[0]  # RFC 2231 adds *language to the charset
        if decoded is None:  # not a valid encoded word after all: keep it as it came
            pieces.append(_flush(pending, pending_charset) + gap + match.group(0))
            pending, pending_charset = b"", None
        elif pending_charset is not None and not gap.strip() and charset == pending_charset:
            pending += decoded  # whitespace between encoded words is not text (RFC 2047 §6.2)
        elif pending_charset is not None and not gap.strip():
            pieces.append(_flush(pending, pending_charset))
            pending, pending_charset = decoded, charset
        else:
            pieces.append(_flush(pending, pending_charset) + gap)
            pending, pending_charset = decoded, charset
        position = match.end()
    pieces.append(_flush(pending, pending_charset) + text[position:])
    return "".join(pieces).strip()


def _decode_word(encoding: str, payload: str) -> bytes | None:
    try:
        if encoding in "bB":
            return base64.b64decode(payload + "=" * (-len(payload) % 4))
        return binascii.a2b_qp(payload.encode("ascii"), header=True)
    except (binascii.Error, ValueError):
        return None


def _flush(data: bytes, charset: str | None) -> str:
    return decode_text(data, charset) if charset is not None else ""
