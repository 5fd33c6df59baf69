"""Reading raw mail: headers into fields, the MIME tree into a text body and attachments.

Parsing uses the standard library's ``compat32`` policy, which never raises on a malformed
header, and decodes every header here (see ``_charsets``). Which parts are attachments and
which are the body is decided on a small tree (``MimePart``) that both a parsed message and
an IMAP ``BODYSTRUCTURE`` produce, so the filter's cheap check and the full read agree.
"""

from __future__ import annotations

import email
import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message as MimeMessage
from email.policy import Compat32, compat32
from email.utils import collapse_rfc2231_value, getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

from arcadia.email._charsets import decode_header_text, decode_text, repair_8bit
from arcadia.email._mailbox import AttachmentInfo, MessageSummary
from arcadia.email._message import Attachment, Message

__all__ = [
    "HeaderFields",
    "MimePart",
    "attachment_infos",
    "decode_filename",
    "parse_headers",
    "parse_message",
    "summary_from_headers",
]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class _RawHeaders(Compat32):
    """compat32, except that header values come back as they are in the message.

    compat32 turns a header holding raw 8-bit bytes into a ``Header`` whose text has lost
    them; kept raw (as surrogates), ``repair_8bit`` can still decode them.
    """

    def header_fetch_parse(self, name: str, value: str) -> str:
        return value


_POLICY = _RawHeaders()


@dataclass(frozen=True)
class HeaderFields:
    """The headers a filter looks at, decoded."""

    message_id: str | None
    subject: str
    sender: str
    recipients: tuple[str, ...]
    date: datetime | None


@dataclass
class MimePart:
    """One node of a message's MIME tree, as much as deciding what it is needs."""

    content_type: str
    disposition: str | None = None
    filename: str | None = None
    charset: str | None = None
    children: list[MimePart] = field(default_factory=list)
    source: MimeMessage | None = None


def parse_headers(mime: MimeMessage, *, received: datetime | None = None) -> HeaderFields:
    """The decoded headers of a parsed message; ``received`` stands in for a missing date."""
    message_id = decode_header_text(mime.get("Message-ID", "")) or None
    subject = decode_header_text(mime.get("Subject", ""))
    senders = _addresses(mime, "From") or _addresses(mime, "Sender")
    return HeaderFields(
        message_id=message_id,
        subject=subject,
        sender=senders[0] if senders else "",
        recipients=_addresses(mime, "To") + _addresses(mime, "Cc"),
        date=_date(mime.get("Date")) or received,
    )


def _addresses(mime: MimeMessage, name: str) -> tuple[str, ...]:
    # Addresses are split before encoded words are decoded: a decoded display name may hold
    # commas or angle brackets that would split or swallow an address.
    values = [repair_8bit(str(value)) for value in mime.get_all(name, [])]
    return tuple(address.strip() for _, address in getaddresses(values) if address.strip())


def _date(value: object) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = parsedate_to_datetime(decode_header_text(str(value)))
    except (TypeError, ValueError, IndexError):
        return None
    # RFC 5322's "-0000" (no known zone) parses to a naive time that is in fact UTC.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def summary_from_headers(
    header_bytes: bytes,
    *,
    uid: str,
    folder: str,
    flags: frozenset[str],
    received: datetime | None = None,
    attachments: tuple[AttachmentInfo, ...] | None = None,
) -> MessageSummary:
    """A summary of a message from its header block."""
    mime = email.message_from_bytes(header_bytes, policy=_POLICY)
    fields = parse_headers(mime, received=received)
    return MessageSummary(
        uid=uid,
        folder=folder,
        message_id=fields.message_id,
        subject=fields.subject,
        sender=fields.sender,
        recipients=fields.recipients,
        date=fields.date,
        flags=flags,
        attachments=attachments,
    )


def parse_message(
    raw: bytes, *, folder: str, uid: str, received: datetime | None = None
) -> Message:
    """The message in ``raw`` (RFC 5322 bytes), its body decoded and attachments extracted.

    Args:
        raw: The whole message.
        folder: The folder it was read from.
        uid: Its id in that folder.
        received: When the mailbox received it, the date of a message without one.
    """
    mime = email.message_from_bytes(raw, policy=_POLICY)
    fields = parse_headers(mime, received=received)
    message_id = fields.message_id or f"<{hashlib.sha256(raw).hexdigest()}@arcadia.invalid>"

    attachment_parts, body_parts = split_parts(_tree(mime))
    attachments = tuple(
        Attachment(
            filename=name,
            content_type=part.content_type,
            data=_content(part),
            message_id=message_id,
            charset=part.charset,
        )
        for name, part in _named(attachment_parts)
    )
    return Message(
        message_id=message_id,
        subject=fields.subject,
        sender=fields.sender,
        recipients=fields.recipients,
        date=fields.date,
        body_text=_body_text(body_parts),
        attachments=attachments,
        folder=folder,
        uid=uid,
    )


def attachment_infos(root: MimePart) -> tuple[AttachmentInfo, ...]:
    """The attachments of a MIME tree, named as ``parse_message`` names them."""
    attachments, _ = split_parts(root)
    return tuple(
        AttachmentInfo(filename=name, content_type=part.content_type)
        for name, part in _named(attachments)
    )


def _tree(mime: MimeMessage) -> MimePart:
    content_type = mime.get_content_type()
    children: list[MimePart] = []
    # compat32 also calls message/rfc822 multipart; an attached message stays one file.
    if content_type.startswith("multipart/") and mime.is_multipart():
        children = [_tree(child) for child in mime.get_payload() if isinstance(child, MimeMessage)]
    raw_name = mime.get_param("filename", None, "content-disposition") or mime.get_param(
        "name", None, "content-type"
    )
    return MimePart(
        content_type=content_type,
        disposition=mime.get_content_disposition(),
        filename=decode_filename(raw_name) if raw_name is not None else None,
        charset=mime.get_content_charset(),
        children=children,
        source=mime,
    )


def decode_filename(raw: str | tuple[str | None, str | None, str]) -> str | None:
    """A file name parameter as text, safe to use as a name; ``None`` if nothing is left.

    Args:
        raw: The parameter after RFC 2231 decoding of continuations (``email.utils``
            gives a ``(charset, language, value)`` triple for an extended value).
    """
    name = collapse_rfc2231_value(raw)
    name = decode_header_text(name)
    # Names such as "../../etc/passwd" or "C:\reports\cpu.csv" keep their last part only.
    name = _CONTROL.sub("", re.split(r"[/\\]", name)[-1]).strip()
    return None if name in ("", ".", "..") else name


def split_parts(root: MimePart) -> tuple[list[MimePart], list[MimePart]]:
    """The attachments and the body parts of a MIME tree, in order."""
    attachments: list[MimePart] = []
    bodies: list[MimePart] = []
    _visit(root, attachments, bodies)
    return attachments, bodies


def _visit(part: MimePart, attachments: list[MimePart], bodies: list[MimePart]) -> None:
    subtype = part.content_type.partition("/")[2]
    if not part.content_type.startswith("multipart/"):
        if _is_attachment(part):
            attachments.append(part)
        else:
            bodies.append(part)
    elif subtype == "alternative":
        chosen_attachments, chosen_bodies = _best_alternative(part.children)
        attachments.extend(chosen_attachments)
        bodies.extend(chosen_bodies)
    elif subtype == "related" and part.children:
        # The first part is the document; the others are what it shows inline (a logo).
        _visit(part.children[0], attachments, bodies)
        for child in part.children[1:]:
            if child.disposition == "attachment":
                _visit(child, attachments, bodies)
    else:
        for child in part.children:
            _visit(child, attachments, bodies)


def _best_alternative(children: list[MimePart]) -> tuple[list[MimePart], list[MimePart]]:
    options = [split_parts(child) for child in children]
    for option in options:
        if any(body.content_type == "text/plain" for body in option[1]):
            return option
    # Otherwise the last with a body, since RFC 2046 orders alternatives plainest first.
    for option in reversed(options):
        if option[1]:
            return option
    return options[-1] if options else ([], [])


def _is_attachment(part: MimePart) -> bool:
    if part.disposition == "attachment" or part.filename:
        return True
    return part.content_type not in ("text/plain", "text/html")


def _named(parts: list[MimePart]) -> list[tuple[str, MimePart]]:
    named = []
    for number, part in enumerate(parts, start=1):
        if part.content_type == "message/rfc822":
            extension = ".eml"
        else:
            extension = mimetypes.guess_extension(part.content_type, strict=False) or ".bin"
        named.append((part.filename or f"part-{number}{extension}", part))
    return named


def _content(part: MimePart) -> bytes:
    mime = part.source
    if mime is None:
        return b""
    if mime.is_multipart():  # an attached message/rfc822
        return b"".join(
            inner.as_bytes(policy=compat32) if isinstance(inner, MimeMessage) else b""
            for inner in mime.get_payload()
        )
    payload = mime.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _body_text(parts: list[MimePart]) -> str:
    plain = [part for part in parts if part.content_type == "text/plain"]
    if plain:
        return "\n".join(decode_text(_content(part), part.charset) for part in plain)
    return "\n".join(_html_to_text(decode_text(_content(part), part.charset)) for part in parts)


def _html_to_text(html: str) -> str:
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    lines = (" ".join(line.split()) for line in "".join(extractor.pieces).splitlines())
    return "\n".join(line for line in lines if line)


class _TextExtractor(HTMLParser):
    _BLOCKS = frozenset(
        {"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "title"}
    )
    _HIDDEN = frozenset({"script", "style", "head"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag in self._BLOCKS:
            self.pieces.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self._BLOCKS:
            self.pieces.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.pieces.append(data)
