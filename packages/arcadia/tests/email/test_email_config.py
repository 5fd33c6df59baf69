"""A filter written down as JSON comes back, in another process, as the same filter."""

from __future__ import annotations

import json
import re
import ssl
from datetime import UTC, datetime

import pytest
from arcadia.email import (
    EmailFilter,
    ImapMailbox,
    MaildirMailbox,
    ProcessedStore,
    filter_from_config,
    filter_to_config,
)
from mail_fixtures import ImapDrop, MaildirDrop, report_message


def through_json(email_filter: EmailFilter) -> EmailFilter:
    return filter_from_config(json.loads(json.dumps(filter_to_config(email_filter))))


def test_every_condition_survives(state: ProcessedStore) -> None:
    original = EmailFilter(
        ImapMailbox("mail.example.org", 143, username="etl", password="pw", security="starttls"),
        sender="@monitoring.example.org",
        recipient="etl@example.org",
        subject=re.compile(r"daily (cpu|disk) report", re.IGNORECASE),
        since=datetime(2026, 12, 1, tzinfo=UTC),
        until=datetime(2026, 12, 4, 6, 30, tzinfo=UTC),
        unread_only=True,
        has_attachments=True,
        attachment_name="cpu_*.csv",
        attachment_content_type=["text/csv", "application/octet-stream"],
        folder="Reports",
        mark_processed="move",
        processed_folder="Reports/Done",
        state=state,
        state_scope="cpu-reports",
    )

    again = through_json(original)

    assert isinstance(again.mailbox, ImapMailbox)
    assert again.mailbox.to_config() == original.mailbox.to_config()  # type: ignore[attr-defined]
    assert again.subject == original.subject
    assert again.subject is not None
    assert again.subject.flags & re.IGNORECASE
    for name in (
        "sender",
        "recipient",
        "since",
        "until",
        "unread_only",
        "has_attachments",
        "attachment_name",
        "attachment_content_types",
        "folder",
        "mark_mode",
        "processed_folder",
        "processed_flag",
        "state_scope",
        "scope",
    ):
        assert getattr(again, name) == getattr(original, name), name
    assert again.state.path == state.path


def test_the_rebuilt_filter_sees_what_the_original_sees(
    drop: ImapDrop | MaildirDrop, state: ProcessedStore
) -> None:
    # The triggerer cannot check certificates against a context object it was not given,
    # so the round trip uses the test Dovecot's plain port.
    options = {"security": "none", "ssl_context": None} if drop.kind == "imap" else {}
    folder = getattr(drop, "folder", "INBOX")
    original = EmailFilter(
        drop.mailbox(**options), subject="Daily", folder=folder, has_attachments=True, state=state
    )
    again = through_json(original)
    assert not again.has_new()

    drop.deliver(report_message())

    assert again.has_new()
    assert [m.subject for m in again.get_emails()] == ["Daily monitoring report"]
    # Both remember in the same place: what one processed, the other does not see again.
    assert not original.has_new()


def test_what_cannot_be_rebuilt_is_refused(state: ProcessedStore) -> None:
    custom_tls = ImapMailbox(
        "mail.example.org", username="etl", password="pw", ssl_context=ssl.create_default_context()
    )
    with pytest.raises(ValueError, match="ssl_context"):
        filter_to_config(EmailFilter(custom_tls, state=state))

    config = filter_to_config(EmailFilter(MaildirMailbox("/srv/mail"), state=state))
    with pytest.raises(ValueError, match="version"):
        filter_from_config({**config, "version": 99})
