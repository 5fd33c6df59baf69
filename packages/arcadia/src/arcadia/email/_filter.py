"""Which messages a workflow wants, and handling each of them once: ``EmailFilter``.

A filter narrows on the server first (IMAP SEARCH), checks headers exactly, and reads whole
only the messages that survive; then it remembers what it returned (``ProcessedStore``) and,
if asked, flags or moves it on the server too.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, TypeVar

from arcadia.email._mailbox import (
    SEEN,
    AttachmentInfo,
    Mailbox,
    MessageSummary,
    SearchQuery,
)
from arcadia.email._message import Attachment, Message
from arcadia.email._state import ProcessedStore

__all__ = ["PROCESSED_KEYWORD", "EmailFilter", "MarkMode"]

logger = logging.getLogger(__name__)

MarkMode = Literal["none", "flag", "move"]
_MARK_MODES = ("none", "flag", "move")
PROCESSED_KEYWORD = "$ArcadiaProcessed"
_FLAG = re.compile(r"\\?[A-Za-z0-9$_.\-]+")
# Header passes go in batches, so a folder of thousands never sits in memory at once.
_BATCH = 200
_REGEX_META = frozenset(".^$*+?{}[]()|\\")
_AnyAttachment = TypeVar("_AnyAttachment", AttachmentInfo, Attachment)


class EmailFilter:
    r"""The messages of one folder that a workflow wants, each handed out once.

    Creating a filter connects to nothing, so it belongs at the top of a DAG file; every
    call opens the mailbox, does its work and closes it again.

    Text conditions compare without regard to case except ``subject``, a regular expression
    (add ``(?i)`` for that). Times without a timezone are taken as UTC; a ``date`` means its
    midnight in UTC.

    Args:
        mailbox: Where the mail is: an ``ImapMailbox``, a ``MaildirMailbox`` or any
            ``Mailbox``.
        sender: The sender's address, or ``@example.com`` for any address at that domain.
        recipient: An address in ``To`` or ``Cc``, or ``@domain`` likewise.
        subject: A regular expression searched in the decoded subject (``re.search``).
        since: Sent at or after this time (the ``Date`` header).
        until: Sent before this time.
        unread_only: Only messages without the ``\Seen`` flag.
        has_attachments: Only messages with at least one attachment.
        attachment_name: Only messages with an attachment so named: a glob pattern as a
            ``str`` (``"cpu_*.csv"``, case-insensitive), or a compiled ``re.Pattern``
            (matched in full with ``fullmatch``).
        attachment_content_type: Only messages with an attachment of this MIME type, or of
            one of these types; globs allowed (``"text/*"``). Monitoring systems often send
            CSV as ``application/octet-stream`` or ``application/vnd.ms-excel``.
        folder: The folder to read.
        mark_processed: What else to do with a processed message, beyond remembering it:
            ``"none"``, ``"flag"`` (add ``processed_flag``) or ``"move"`` (to
            ``processed_folder``).
        processed_folder: Where ``"move"`` puts processed messages; created if missing.
        processed_flag: The flag ``"flag"`` adds: the keyword ``$ArcadiaProcessed``, or a
            system flag such as ``\Seen``.
        state: Where processed Message-IDs are remembered: a ``ProcessedStore`` or the path
            of its SQLite file; by default ``$ARCADIA_STATE_DIR/state.db`` or
            ``~/.arcadia/state.db``.
        state_scope: The name under which this filter remembers; by default the mailbox's
            identity, shared by every filter on that mailbox. Give filters that must each
            see every message scopes of their own.

    When ``attachment_name`` or ``attachment_content_type`` is given, the messages returned
    carry only the attachments that match them, so a task can save every attachment it is
    given.

    Raises:
        ValueError: A condition or option that cannot work, with what to change.
    """

    def __init__(
        self,
        mailbox: Mailbox,
        *,
        sender: str | None = None,
        recipient: str | None = None,
        subject: str | re.Pattern[str] | None = None,
        since: datetime | date | None = None,
        until: datetime | date | None = None,
        unread_only: bool = False,
        has_attachments: bool = False,
        attachment_name: str | re.Pattern[str] | None = None,
        attachment_content_type: str | Sequence[str] | None = None,
        folder: str = "INBOX",
        mark_processed: MarkMode = "none",
        processed_folder: str | None = None,
        processed_flag: str = PROCESSED_KEYWORD,
        state: ProcessedStore | str | os.PathLike[str] | None = None,
        state_scope: str | None = None,
    ) -> None:
        if mark_processed not in _MARK_MODES:
            raise ValueError(
                f"mark_processed must be one of {', '.join(_MARK_MODES)}, not {mark_processed!r}"
            )
        if mark_processed == "move" and not processed_folder:
            raise ValueError("mark_processed='move' needs processed_folder=, the folder to move to")
        if processed_folder and mark_processed != "move":
            raise ValueError("processed_folder= is used only with mark_processed='move'")
        if processed_folder == folder:
            raise ValueError(f"processed_folder must differ from folder ({folder!r})")
        if not _FLAG.fullmatch(processed_flag):
            raise ValueError(
                f"processed_flag {processed_flag!r} is no IMAP flag or keyword: use letters, "
                "digits and $ _ . - (e.g. $ArcadiaProcessed), or a system flag like \\Seen"
            )

        self.mailbox = mailbox
        self.sender = sender.strip().lower() if sender else None
        self.recipient = recipient.strip().lower() if recipient else None
        self.subject = _compile(subject, "subject") if subject is not None else None
        self.since = _as_utc(since, "since")
        self.until = _as_utc(until, "until")
        if self.since and self.until and self.since >= self.until:
            raise ValueError(f"since ({self.since}) must be before until ({self.until})")
        self.unread_only = unread_only
        self.attachment_name = attachment_name
        if isinstance(attachment_content_type, str):
            attachment_content_type = (attachment_content_type,)
        self.attachment_content_types = tuple(
            content_type.strip().lower() for content_type in attachment_content_type or ()
        )
        self.has_attachments = has_attachments
        self.folder = folder
        self.mark_mode: MarkMode = mark_processed
        self.processed_folder = processed_folder
        self.processed_flag = processed_flag
        self.state = state if isinstance(state, ProcessedStore) else ProcessedStore(state)
        self.state_scope = state_scope

    def __repr__(self) -> str:
        return f"EmailFilter({self.mailbox!r}, folder={self.folder!r})"

    @property
    def scope(self) -> str:
        """The name processed messages are remembered under."""
        return self.state_scope or self.mailbox.identity

    @property
    def _filters_attachments(self) -> bool:
        return bool(self.attachment_name or self.attachment_content_types)

    def get_emails(self, *, mark: bool = True, limit: int | None = None) -> list[Message]:
        """The matching messages not processed yet, oldest first.

        Args:
            mark: Mark the returned messages processed at once (remembered, and flagged or
                moved as the filter says), so the next call does not return them again.
                With ``False``, call ``mark_processed`` once they are safely handled: a
                failure in between then returns them again rather than losing them.
            limit: Return at most this many; the rest wait for the next call.

        Raises:
            MailboxError: The mailbox failed (``MailboxUnavailable``, ``MailboxAuthError``)
                or refused a command; nothing was marked.
        """
        messages: list[Message] = []
        copies: list[Message] = []  # the same message delivered again: marked, not returned
        seen_ids: set[str] = set()
        with self.mailbox as mailbox:
            for summaries in self._batches(mailbox, include_processed=False):
                uids = [summary.uid for summary in summaries]
                for message in mailbox.fetch_messages(self.folder, uids):
                    kept = self._keep(message)
                    if kept is None:
                        continue
                    if kept.message_id in seen_ids:
                        copies.append(kept)
                        continue
                    seen_ids.add(kept.message_id)
                    messages.append(kept)
                    if limit is not None and len(messages) >= limit:
                        break
                if limit is not None and len(messages) >= limit:
                    break
            # A message without a Message-ID is only known processed by its content's hash.
            done = self.state.processed(self.scope, (message.message_id for message in messages))
            messages = [message for message in messages if message.message_id not in done]
            if mark and messages:
                returned = {message.message_id for message in messages}
                self._mark(mailbox, messages + [c for c in copies if c.message_id in returned])
        logger.info(
            "%d new message(s) in %s %s matched the filter",
            len(messages),
            self.mailbox.identity,
            self.folder,
        )
        return messages

    def has_new(self) -> bool:
        """Whether a matching message waits that was not processed yet: what a sensor asks.

        Reads headers (and, over IMAP, each message's structure) only; it reads a message
        whole only where those cannot tell, such as attachment conditions on a Maildir.
        """
        return self._any(include_processed=False)

    def matches(self) -> bool:
        """Whether any message in the folder matches the filter, processed or not."""
        return self._any(include_processed=True)

    def mark_processed(self, messages: Iterable[Message]) -> None:
        """Mark messages processed: remember them, and flag or move them as configured.

        For messages from ``get_emails(mark=False)``, once they are safely handled; they may
        come from another process (``Message.from_dict``).
        """
        pending = list(messages)
        if not pending:
            return
        if self.mark_mode == "none":
            self.state.record(self.scope, (message.message_id for message in pending))
            return
        with self.mailbox as mailbox:
            self._mark(mailbox, pending)

    def _mark(self, mailbox: Mailbox, messages: list[Message]) -> None:
        by_folder: dict[str, list[str]] = {}
        for message in messages:
            by_folder.setdefault(message.folder, []).append(message.uid)
        for folder, uids in by_folder.items():
            if self.mark_mode == "flag":
                mailbox.add_flag(folder, uids, self.processed_flag)
            elif self.mark_mode == "move" and self.processed_folder:
                mailbox.move(folder, uids, self.processed_folder)
        # Remembered last: if flagging or moving failed, the messages come again next time
        # rather than being lost.
        self.state.record(self.scope, (message.message_id for message in messages))

    def _any(self, *, include_processed: bool) -> bool:
        with self.mailbox as mailbox:
            for summaries in self._batches(mailbox, include_processed=include_processed):
                need_body = []
                for summary in summaries:
                    exact = summary.message_id is not None or include_processed
                    if exact and (summary.attachments is not None or not self._needs_parts):
                        return True
                    need_body.append(summary.uid)
                for message in mailbox.fetch_messages(self.folder, need_body):
                    kept = self._keep(message)
                    if kept is not None and (
                        include_processed or not self.state.processed(self.scope, [kept.message_id])
                    ):
                        return True
        return False

    @property
    def _needs_parts(self) -> bool:
        return self.has_attachments or self._filters_attachments

    def _batches(
        self, mailbox: Mailbox, *, include_processed: bool
    ) -> Iterator[list[MessageSummary]]:
        """Summaries of the messages whose headers match, in batches, oldest first."""
        uids = mailbox.search(self.folder, self._query(include_processed=include_processed))
        for start in range(0, len(uids), _BATCH):
            summaries = mailbox.fetch_summaries(self.folder, uids[start : start + _BATCH])
            matching = [summary for summary in summaries if self._summary_matches(summary)]
            if not include_processed:
                done = self.state.processed(
                    self.scope, (s.message_id for s in matching if s.message_id)
                )
                matching = [s for s in matching if s.message_id not in done]
                if self.mark_mode == "flag":
                    matching = [s for s in matching if not _has(s.flags, self.processed_flag)]
            if matching:
                yield matching

    def _query(self, *, include_processed: bool) -> SearchQuery:
        # The server's search must find at least what the exact checks accept: subjects by a
        # literal part of the pattern, dates by whole days with a day to spare either side
        # (SENTSINCE and SENTBEFORE ignore the time and the timezone).
        return SearchQuery(
            sender=self.sender,
            recipient=self.recipient,
            subject=_required_literal(self.subject) if self.subject else None,
            sent_since=(self.since.date() - timedelta(days=1)) if self.since else None,
            sent_before=(self.until.date() + timedelta(days=2)) if self.until else None,
            unseen=self.unread_only,
            without_flag=self.processed_flag
            if self.mark_mode == "flag" and not include_processed
            else None,
        )

    def _summary_matches(self, summary: MessageSummary) -> bool:
        if not self._headers_match(summary.sender, summary.recipients, summary.subject):
            return False
        if not self._date_matches(summary.date):
            return False
        if self.unread_only and _has(summary.flags, SEEN):
            return False
        if summary.attachments is not None and self._needs_parts:
            return bool(self._matching(summary.attachments))
        return True

    def _keep(self, message: Message) -> Message | None:
        """The message as returned (only its matching attachments), or None if it fails."""
        if not self._headers_match(message.sender, message.recipients, message.subject):
            return None
        if not self._date_matches(message.date):
            return None
        if not self._needs_parts:
            return message
        attachments = self._matching(message.attachments)
        if not attachments:
            return None
        if self._filters_attachments:
            return replace(message, attachments=tuple(attachments))
        return message

    def _headers_match(self, sender: str, recipients: Sequence[str], subject: str) -> bool:
        if self.sender and not _address_matches(sender, self.sender):
            return False
        if self.recipient and not any(_address_matches(r, self.recipient) for r in recipients):
            return False
        return not (self.subject and not self.subject.search(subject))

    def _date_matches(self, sent: datetime | None) -> bool:
        if self.since is None and self.until is None:
            return True
        if sent is None:
            return False
        if self.since and sent < self.since:
            return False
        return not (self.until and sent >= self.until)

    def _matching(self, attachments: Sequence[_AnyAttachment]) -> list[_AnyAttachment]:
        return [a for a in attachments if self._attachment_matches(a.filename, a.content_type)]

    def _attachment_matches(self, filename: str, content_type: str) -> bool:
        name = self.attachment_name
        if isinstance(name, re.Pattern) and not name.fullmatch(filename):
            return False
        if isinstance(name, str) and not fnmatch.fnmatch(filename.lower(), name.lower()):
            return False
        return not self.attachment_content_types or any(
            fnmatch.fnmatch(content_type, pattern) for pattern in self.attachment_content_types
        )


def _address_matches(address: str, wanted: str) -> bool:
    address = address.lower()
    return address.endswith(wanted) if wanted.startswith("@") else address == wanted


def _has(flags: Iterable[str], flag: str) -> bool:
    return flag.lower() in {present.lower() for present in flags}


def _compile(pattern: str | re.Pattern[str], name: str) -> re.Pattern[str]:
    if isinstance(pattern, re.Pattern):
        return pattern
    try:
        return re.compile(pattern)
    except re.error as error:
        raise ValueError(f"{name} {pattern!r} is no valid regular expression: {error}") from error


def _as_utc(value: datetime | date | None, name: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    raise ValueError(f"{name} must be a datetime or a date, not {type(value).__name__}")


def _required_literal(pattern: re.Pattern[str]) -> str | None:
    """The longest text that every match of ``pattern`` contains, if simple to tell.

    Only runs of plain characters outside groups and classes count, and only in patterns
    without alternation or verbose mode; a run ends at a repetition, and loses its last
    character to an optional one (``?``, ``*``, ``{``). Where in doubt, None: the server
    then does not search by subject.
    """
    source = pattern.pattern
    if pattern.flags & re.VERBOSE or "|" in source:
        return None
    runs: list[str] = []
    current: list[str] = []
    depth = 0
    index = 0

    def end_run() -> None:
        if current:
            runs.append("".join(current))
            current.clear()

    while index < len(source):
        char = source[index]
        if char == "\\" and index + 1 < len(source):
            escaped = source[index + 1]
            if depth == 0 and not escaped.isalnum():
                current.append(escaped)
            else:
                end_run()
            index += 2
            continue
        if char == "[":
            end_run()
            closing = source.find("]", index + 2)
            index = closing + 1 if closing != -1 else len(source)
            continue
        if char in "?*+{":
            if char != "+" and current:
                current.pop()  # the character before is optional
            end_run()
            if char == "{":  # skip the repetition's bounds
                closing = source.find("}", index)
                index = closing if closing != -1 else len(source)
            index += 1
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        if char in _REGEX_META:
            end_run()
        elif depth == 0:
            current.append(char)
        index += 1
    end_run()
    best = max(runs, key=len, default="")
    return best.strip() if len(best.strip()) >= 3 else None
