"""A mail message and its attachments, as a task receives them and passes them on.

Both are frozen dataclasses that turn into plain JSON (``to_dict``) and back (``from_dict``),
so that an orchestrator can hand them from one task to the next: Airflow's XCom calls their
``serialize()`` and ``deserialize(data, version)``, anything else can use the dictionaries.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from arcadia.email._charsets import decode_text

__all__ = ["Attachment", "Message"]


@dataclass(frozen=True)
class Attachment:
    """A file attached to a message.

    Attributes:
        filename: The file name, decoded (RFC 2231 and RFC 2047), without any directory part,
            so that it is safe to use as a file name. A part that names no file gets
            ``part-<n>`` with an extension for its content type.
        content_type: The MIME type, lower case, e.g. ``text/csv``.
        data: The content, with its transfer encoding (base64, quoted-printable) undone.
        message_id: The ``Message-ID`` of the message it came with.
        charset: The charset the part declares, if any; ``text()`` tries it first.
    """

    __version__: ClassVar[int] = 1

    filename: str
    content_type: str
    data: bytes = field(repr=False)
    message_id: str
    charset: str | None = None

    @property
    def size(self) -> int:
        """The size of the content in bytes."""
        return len(self.data)

    def text(self, encoding: str | None = None) -> str:
        """The content as text.

        Args:
            encoding: A Python codec to decode with, strictly. Without it the charset is
                found: a byte-order mark, then the part's declared charset, then UTF-16
                (by its zero bytes), UTF-8, Windows-1252 and Latin-1, in that order.

        Returns:
            The text, without a byte-order mark.

        Raises:
            UnicodeDecodeError: ``encoding`` was given and does not fit the content.
            LookupError: ``encoding`` is no codec Python knows.
        """
        if encoding is None:
            return decode_text(self.data, self.charset)
        text = self.data.decode(encoding)
        return text.removeprefix("\ufeff")

    def to_dict(self) -> dict[str, Any]:
        """The attachment as JSON-friendly values, its content in base64."""
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "charset": self.charset,
            "message_id": self.message_id,
            "size": self.size,
            "data": base64.b64encode(self.data).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Attachment:
        """The attachment that ``to_dict`` described.

        Raises:
            ValueError: A field is missing, or the content is no valid base64.
        """
        try:
            content = base64.b64decode(data["data"], validate=True)
            return cls(
                filename=str(data["filename"]),
                content_type=str(data["content_type"]),
                data=content,
                message_id=str(data["message_id"]),
                charset=data.get("charset"),
            )
        except KeyError as error:
            raise ValueError(f"an attachment's dictionary lacks the field {error}") from error
        except binascii.Error as error:
            raise ValueError(f"an attachment's data is no valid base64: {error}") from error

    def serialize(self) -> dict[str, Any]:
        """The dictionary Airflow's XCom stores (its ``serde`` calls this)."""
        return self.to_dict()

    @staticmethod
    def deserialize(data: dict[str, Any], version: int) -> Attachment:
        """The attachment Airflow's XCom stored with ``serialize()``.

        Raises:
            TypeError: ``version`` is newer than this class knows.
        """
        _check_version(Attachment, version)
        return Attachment.from_dict(data)


@dataclass(frozen=True)
class Message:
    """A mail message: the headers a workflow needs, its text, and its attachments.

    Attributes:
        message_id: The ``Message-ID`` header with its angle brackets. A message without one
            gets ``<sha256-of-its-bytes@arcadia.invalid>``, stable for the same bytes.
        subject: The subject, decoded; empty when there is none.
        sender: The address in ``From`` (``monitoring@example.com``), without a display name.
        recipients: The addresses in ``To`` and ``Cc``, in order.
        date: When it was sent (the ``Date`` header), timezone-aware; where that header is
            missing or unreadable, when the mailbox received it; ``None`` if neither is known.
        body_text: The text body: the ``text/plain`` part (of a ``multipart/alternative``,
            the plain one), or the HTML part reduced to text when there is no plain one.
        attachments: The attached files (see ``EmailFilter`` for which of them it keeps).
        folder: The folder it was read from, e.g. ``INBOX``.
        uid: Its id in that folder: the IMAP UID, or the Maildir key.
    """

    __version__: ClassVar[int] = 1

    message_id: str
    subject: str
    sender: str
    recipients: tuple[str, ...]
    date: datetime | None
    body_text: str
    attachments: tuple[Attachment, ...]
    folder: str
    uid: str

    def to_dict(self) -> dict[str, Any]:
        """The message as JSON-friendly values: the date in ISO 8601, attachments in base64."""
        return {
            "message_id": self.message_id,
            "subject": self.subject,
            "sender": self.sender,
            "recipients": list(self.recipients),
            "date": self.date.isoformat() if self.date else None,
            "body_text": self.body_text,
            "attachments": [attachment.to_dict() for attachment in self.attachments],
            "folder": self.folder,
            "uid": self.uid,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Message:
        """The message that ``to_dict`` described.

        Raises:
            ValueError: A field is missing or malformed.
        """
        try:
            date = data["date"]
            return cls(
                message_id=str(data["message_id"]),
                subject=str(data["subject"]),
                sender=str(data["sender"]),
                recipients=tuple(str(recipient) for recipient in data["recipients"]),
                date=datetime.fromisoformat(date) if date else None,
                body_text=str(data["body_text"]),
                attachments=tuple(Attachment.from_dict(a) for a in data["attachments"]),
                folder=str(data["folder"]),
                uid=str(data["uid"]),
            )
        except KeyError as error:
            raise ValueError(f"a message's dictionary lacks the field {error}") from error

    def serialize(self) -> dict[str, Any]:
        """The dictionary Airflow's XCom stores (its ``serde`` calls this)."""
        return self.to_dict()

    @staticmethod
    def deserialize(data: dict[str, Any], version: int) -> Message:
        """The message Airflow's XCom stored with ``serialize()``.

        Raises:
            TypeError: ``version`` is newer than this class knows.
        """
        _check_version(Message, version)
        return Message.from_dict(data)


def _check_version(cls: type[Attachment] | type[Message], version: int) -> None:
    # Airflow raises TypeError for a stored version newer than the class; do the same.
    if int(version) > cls.__version__:
        raise TypeError(
            f"{cls.__name__} was serialised by a newer arcadia (version {version}, this one "
            f"reads up to {cls.__version__}); upgrade arcadia where the task runs"
        )
