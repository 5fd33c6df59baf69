"""What every source of mail offers the filter: the ``Mailbox`` protocol and its data.

A filter works in two passes. It asks the mailbox for the messages that may match
(``search``, on the server where there is one), reads their headers (``fetch_summaries``) to
check exactly, and only then reads the survivors whole (``fetch_messages``). A mailbox may
answer ``search`` with more than matches; it must not answer with less.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Protocol, Self

from arcadia.email._message import Message

__all__ = ["AttachmentInfo", "Mailbox", "MessageSummary", "SearchQuery"]

SEEN = "\\Seen"


@dataclass(frozen=True)
class SearchQuery:
    r"""What a mailbox may narrow its search by; each field left empty narrows nothing.

    Attributes:
        sender: A substring of the ``From`` header (an address, or ``@domain``).
        recipient: A substring of the ``To`` or ``Cc`` header.
        subject: A substring of the decoded subject, compared without regard to case.
        sent_since: Sent on or after this day (by the ``Date`` header).
        sent_before: Sent before this day.
        unseen: Only messages without the ``\Seen`` flag.
        without_flag: Only messages without this flag or keyword.
    """

    sender: str | None = None
    recipient: str | None = None
    subject: str | None = None
    sent_since: date | None = None
    sent_before: date | None = None
    unseen: bool = False
    without_flag: str | None = None


@dataclass(frozen=True)
class AttachmentInfo:
    """What is known of an attachment before its content is read."""

    filename: str
    content_type: str


@dataclass(frozen=True)
class MessageSummary:
    r"""A message as its headers (and, where the server tells, its structure) describe it.

    Attributes:
        uid: Its id in the folder (the IMAP UID, or the Maildir key).
        folder: The folder it is in.
        message_id: The ``Message-ID`` header; ``None`` when it has none.
        subject: The decoded subject.
        sender: The address in ``From``.
        recipients: The addresses in ``To`` and ``Cc``.
        date: When it was sent (see ``Message.date``).
        flags: IMAP flags and keywords, e.g. ``\Seen`` or ``$ArcadiaProcessed``.
        attachments: Its attachments, where the mailbox knows them without reading the
            message (IMAP's ``BODYSTRUCTURE``); ``None`` where it does not.
    """

    uid: str
    folder: str
    message_id: str | None
    subject: str
    sender: str
    recipients: tuple[str, ...]
    date: datetime | None
    flags: frozenset[str]
    attachments: tuple[AttachmentInfo, ...] | None


class Mailbox(Protocol):
    """A source of mail: an IMAP account, a Maildir folder, or anything that can do the same.

    A mailbox connects when its ``with`` block begins and disconnects when it ends; the
    methods are called inside the block. Folder names are as the user writes them
    (``INBOX``, ``Reports/Processed``).
    """

    @property
    def identity(self) -> str:
        """Names the mailbox, without secrets, e.g. ``imap://user@host:993``.

        What a filter processed is remembered per identity.
        """
        ...

    def __enter__(self) -> Self:
        """Connect (or open)."""
        ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Disconnect."""
        ...

    def search(self, folder: str, query: SearchQuery) -> list[str]:
        """The uids in ``folder`` that may match ``query``, oldest first."""
        ...

    def fetch_summaries(self, folder: str, uids: Sequence[str]) -> list[MessageSummary]:
        """The headers of these messages, without marking them read; gone uids are left out."""
        ...

    def fetch_messages(self, folder: str, uids: Sequence[str]) -> Iterator[Message]:
        """These messages whole, one at a time, without marking them read."""
        ...

    def add_flag(self, folder: str, uids: Sequence[str], flag: str) -> None:
        r"""Give these messages a flag (``\Seen``) or a keyword (``$ArcadiaProcessed``)."""
        ...

    def move(self, folder: str, uids: Sequence[str], destination: str) -> None:
        """Move these messages to ``destination``, creating that folder if it is missing."""
        ...
