"""An ``EmailFilter`` as plain JSON data, so another process can rebuild it.

An orchestrator's deferred sensor hands its waiting to a separate process (Airflow's
triggerer), which cannot import the DAG file the filter was made in. What crosses over is
this config: every condition, the mailbox's address and credentials, and where processed
messages are remembered. It holds the mailbox's password, so it belongs only in a store that
encrypts it (Airflow encrypts a trigger's arguments at rest with its Fernet key).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from arcadia.email._filter import EmailFilter
from arcadia.email._imap import ImapMailbox
from arcadia.email._mailbox import Mailbox
from arcadia.email._maildir import MaildirMailbox
from arcadia.email._state import ProcessedStore

__all__ = ["filter_from_config", "filter_to_config"]

CONFIG_VERSION = 1


def filter_to_config(email_filter: EmailFilter) -> dict[str, Any]:
    """The filter as JSON-compatible data that :func:`filter_from_config` turns back into it.

    Raises:
        ValueError: The filter cannot be rebuilt elsewhere: its mailbox is neither an
            ``ImapMailbox`` nor a ``MaildirMailbox``, or it verifies the server with an
            ``ssl_context`` of its own, or its processed store is an object, not a file.
    """
    if type(email_filter.state) is not ProcessedStore:
        raise ValueError("only a filter whose state is a ProcessedStore file can be rebuilt")
    return {
        "version": CONFIG_VERSION,
        "mailbox": _mailbox_to_config(email_filter.mailbox),
        "sender": email_filter.sender,
        "recipient": email_filter.recipient,
        "subject": _pattern_to_config(email_filter.subject),
        "since": _time_to_config(email_filter.since),
        "until": _time_to_config(email_filter.until),
        "unread_only": email_filter.unread_only,
        "has_attachments": email_filter.has_attachments,
        "attachment_name": _pattern_to_config(email_filter.attachment_name),
        "attachment_content_type": list(email_filter.attachment_content_types),
        "folder": email_filter.folder,
        "mark_processed": email_filter.mark_mode,
        "processed_folder": email_filter.processed_folder,
        "processed_flag": email_filter.processed_flag,
        "state": str(email_filter.state.path),
        "state_scope": email_filter.state_scope,
    }


def filter_from_config(config: dict[str, Any]) -> EmailFilter:
    """The filter that :func:`filter_to_config` described.

    Raises:
        ValueError: The config is of another version, or describes an unknown mailbox.
    """
    if config.get("version") != CONFIG_VERSION:
        raise ValueError(
            f"e-mail filter config version {config.get('version')!r} is not "
            f"{CONFIG_VERSION}: it was written by another version of Arcadia"
        )
    return EmailFilter(
        _mailbox_from_config(config["mailbox"]),
        sender=config["sender"],
        recipient=config["recipient"],
        subject=_pattern_from_config(config["subject"]),
        since=_time_from_config(config["since"]),
        until=_time_from_config(config["until"]),
        unread_only=config["unread_only"],
        has_attachments=config["has_attachments"],
        attachment_name=_pattern_from_config(config["attachment_name"]),
        attachment_content_type=config["attachment_content_type"] or None,
        folder=config["folder"],
        mark_processed=config["mark_processed"],
        processed_folder=config["processed_folder"],
        processed_flag=config["processed_flag"],
        state=config["state"],
        state_scope=config["state_scope"],
    )


def _mailbox_to_config(mailbox: Mailbox) -> dict[str, Any]:
    if isinstance(mailbox, MaildirMailbox):
        return {"kind": "maildir", "path": str(mailbox.path), "create": mailbox.create}
    if isinstance(mailbox, ImapMailbox):
        return mailbox.to_config()
    raise ValueError(
        f"a {type(mailbox).__name__} cannot be rebuilt in another process; "
        "use an ImapMailbox or a MaildirMailbox"
    )


def _mailbox_from_config(config: dict[str, Any]) -> Mailbox:
    kind = config.get("kind")
    if kind == "maildir":
        return MaildirMailbox(config["path"], create=config["create"])
    if kind == "imap":
        return ImapMailbox.from_config(config)
    raise ValueError(f"unknown mailbox kind {kind!r}: expected 'imap' or 'maildir'")


# A glob stays a string; a compiled expression keeps its flags, so either comes back as given.
def _pattern_to_config(pattern: str | re.Pattern[str] | None) -> dict[str, Any] | None:
    if pattern is None:
        return None
    if isinstance(pattern, re.Pattern):
        return {"regex": pattern.pattern, "flags": int(pattern.flags)}
    return {"glob": pattern}


def _pattern_from_config(config: dict[str, Any] | None) -> str | re.Pattern[str] | None:
    if config is None:
        return None
    if "glob" in config:
        return str(config["glob"])
    return re.compile(config["regex"], config["flags"])


def _time_to_config(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _time_from_config(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
