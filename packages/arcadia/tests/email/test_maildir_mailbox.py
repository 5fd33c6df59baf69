"""The Maildir mailbox: its folders, flags in file names, and keywords as Dovecot keeps them."""

from __future__ import annotations

from pathlib import Path

import pytest
from arcadia.email import (
    EmailFilter,
    MailboxError,
    MailboxUnavailable,
    MaildirMailbox,
    ProcessedStore,
    SearchQuery,
)
from mail_fixtures import MaildirDrop, report_message


def test_a_missing_maildir_is_unavailable_and_says_how_to_create_one(tmp_path: Path) -> None:
    mailbox = MaildirMailbox(tmp_path / "nowhere")

    with pytest.raises(MailboxUnavailable, match="create=True") as caught, mailbox:
        pass

    assert str(tmp_path / "nowhere") in str(caught.value)


def test_create_makes_an_empty_maildir(tmp_path: Path, state: ProcessedStore) -> None:
    mailbox = MaildirMailbox(tmp_path / "new-maildir", create=True)

    assert EmailFilter(mailbox, state=state).get_emails() == []
    assert (tmp_path / "new-maildir" / "cur").is_dir()


def test_a_missing_folder_names_the_existing_ones(tmp_path: Path) -> None:
    drop = MaildirDrop(tmp_path / "Maildir")
    drop.deliver(report_message(), folder="Reports")

    with pytest.raises(MailboxError, match="no folder 'Nope'") as caught:
        EmailFilter(drop.mailbox(), folder="Nope").has_new()

    assert "INBOX, Reports" in str(caught.value)


def test_other_folders_are_read_too(tmp_path: Path, state: ProcessedStore) -> None:
    drop = MaildirDrop(tmp_path / "Maildir")
    drop.deliver(report_message(subject="in the inbox"))
    drop.deliver(report_message(subject="in reports"), folder="Reports")

    messages = EmailFilter(drop.mailbox(), folder="Reports", state=state).get_emails()

    assert [(m.subject, m.folder) for m in messages] == [("in reports", "Reports")]


def test_keywords_are_recorded_as_dovecot_records_them(
    tmp_path: Path, state: ProcessedStore
) -> None:
    drop = MaildirDrop(tmp_path / "Maildir")
    (tmp_path / "Maildir" / "dovecot-keywords").write_text("0 $Label1\n")
    drop.deliver(report_message())

    EmailFilter(drop.mailbox(), state=state, mark_processed="flag").get_emails()

    assert (tmp_path / "Maildir" / "dovecot-keywords").read_text() == (
        "0 $Label1\n1 $ArcadiaProcessed\n"
    )
    [name] = [path.name for path in (tmp_path / "Maildir" / "cur").iterdir()]
    assert name.endswith(":2,b")  # the second keyword's letter; and now in cur/
    with drop.mailbox() as mailbox:
        assert mailbox.search("INBOX", SearchQuery(without_flag="$ArcadiaProcessed")) == []


def test_flags_already_there_are_kept(tmp_path: Path, state: ProcessedStore) -> None:
    drop = MaildirDrop(tmp_path / "Maildir")
    drop.deliver(report_message(), seen=True)

    EmailFilter(drop.mailbox(), state=state, mark_processed="flag").get_emails()

    assert drop.flags() == [frozenset({"\\Seen", "$ArcadiaProcessed"})]


def test_a_message_removed_meanwhile_is_left_out(tmp_path: Path, state: ProcessedStore) -> None:
    drop = MaildirDrop(tmp_path / "Maildir")
    drop.deliver(report_message())
    with drop.mailbox() as mailbox:
        uids = mailbox.search("INBOX", SearchQuery())
        for path in (tmp_path / "Maildir" / "new").iterdir():
            path.unlink()

        assert mailbox.fetch_summaries("INBOX", uids) == []
        assert list(mailbox.fetch_messages("INBOX", uids)) == []
        mailbox.add_flag("INBOX", uids, "\\Seen")  # nothing to flag, and no error


def test_the_mailbox_is_used_inside_with(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="inside `with mailbox:`"):
        MaildirMailbox(tmp_path).search("INBOX", SearchQuery())
