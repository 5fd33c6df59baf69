"""The public surface of ``arcadia.email`` is what ``__all__`` says, and nothing else moves."""

from __future__ import annotations

import arcadia.email


def test_the_public_names() -> None:
    assert sorted(arcadia.email.__all__) == sorted(
        [
            "PROCESSED_KEYWORD",
            "Attachment",
            "AttachmentInfo",
            "EmailFilter",
            "ImapMailbox",
            "Mailbox",
            "MailboxAuthError",
            "MailboxError",
            "MailboxUnavailable",
            "MaildirMailbox",
            "MarkMode",
            "Message",
            "MessageSummary",
            "ProcessedStore",
            "SearchQuery",
            "Security",
            "default_state_path",
            "filter_from_config",
            "filter_to_config",
        ]
    )
    for name in arcadia.email.__all__:
        assert hasattr(arcadia.email, name)


def test_errors_form_one_family() -> None:
    assert issubclass(arcadia.email.MailboxAuthError, arcadia.email.MailboxError)
    assert issubclass(arcadia.email.MailboxUnavailable, arcadia.email.MailboxError)


def test_both_mailboxes_satisfy_the_protocol() -> None:
    def accepts(mailbox: arcadia.email.Mailbox) -> str:
        return mailbox.identity

    assert accepts(arcadia.email.MaildirMailbox("/srv/mail")) == "maildir:/srv/mail"
    imap = arcadia.email.ImapMailbox("h", username="u", password="p")
    assert accepts(imap) == "imap://u@h:993"
