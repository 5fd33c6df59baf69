"""Which messages a filter returns, and that each is returned once; on a Maildir and Dovecot."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from arcadia.email import EmailFilter, MaildirMailbox, Message, ProcessedStore
from arcadia.email._filter import _required_literal
from mail_fixtures import (
    CSV_UTF8,
    ETL,
    MONITORING,
    REPORT_SUBJECT,
    ImapDrop,
    MaildirDrop,
    report_message,
)

Drop = ImapDrop | MaildirDrop
NOW = datetime.now(UTC)


def reports_filter(drop: Drop, state: ProcessedStore, **options: object) -> EmailFilter:
    settings: dict[str, object] = {
        "sender": MONITORING,
        "subject": r"^Daily monitoring report",
        "since": NOW - timedelta(days=7),
        "attachment_name": "*.csv",
        "attachment_content_type": "text/csv",
    }
    settings.update(options)
    return EmailFilter(drop.mailbox(), folder=drop.folder, state=state, **settings)  # type: ignore[arg-type]


def subjects(messages: list[Message]) -> list[str]:
    return [message.subject for message in messages]


def test_only_the_wanted_mail_is_returned(drop: Drop, state: ProcessedStore) -> None:
    drop.deliver(report_message(subject="Daily monitoring report: wanted"))
    drop.deliver(report_message(sender="spam@example.org", subject="Daily monitoring report x"))
    drop.deliver(report_message(subject="Re: Daily monitoring report"))
    drop.deliver(report_message(subject="Daily monitoring report (no files)", attachments=[]))
    drop.deliver(
        report_message(
            subject="Daily monitoring report (a PDF)",
            attachments=[("cpu.pdf", "application/pdf", b"%PDF-1.7")],
        )
    )
    drop.deliver(
        report_message(
            subject="Daily monitoring report (CSV by name, not by type)",
            attachments=[("cpu.csv", "application/octet-stream", CSV_UTF8)],
        )
    )
    drop.deliver(
        report_message(subject="Daily monitoring report (old)", sent=NOW - timedelta(days=30))
    )

    messages = reports_filter(drop, state).get_emails()

    assert subjects(messages) == ["Daily monitoring report: wanted"]
    assert messages[0].attachments[0].data == CSV_UTF8


def test_a_domain_matches_every_sender_there(drop: Drop, state: ProcessedStore) -> None:
    drop.deliver(report_message(sender="nagios@monitoring.example.com", subject="a"))
    drop.deliver(report_message(sender="zabbix@Example.COM", subject="b"))
    drop.deliver(report_message(sender="someone@example.community", subject="c"))

    messages = EmailFilter(
        drop.mailbox(), folder=drop.folder, state=state, sender="@example.com"
    ).get_emails()

    assert subjects(messages) == ["b"]


def test_recipient_is_found_in_to_and_cc(drop: Drop, state: ProcessedStore) -> None:
    drop.deliver(report_message(to="reports@example.com", subject="to"))
    copied = report_message(to="someone@example.com", subject="cc")
    copied["Cc"] = "Reports <reports@example.com>"
    drop.deliver(copied)
    drop.deliver(report_message(to="other@example.com", subject="neither"))

    messages = EmailFilter(
        drop.mailbox(), folder=drop.folder, state=state, recipient="reports@example.com"
    ).get_emails()

    assert subjects(messages) == ["to", "cc"]


def test_since_and_until_bound_the_sent_time(drop: Drop, state: ProcessedStore) -> None:
    for day in (1, 2, 3, 4):
        drop.deliver(
            report_message(subject=f"day {day}", sent=datetime(2026, 12, day, 12, tzinfo=UTC))
        )
    # Sent on the 4th at 10:00 in UTC+14, which is the 3rd at 20:00 in UTC.
    kiribati = timezone(timedelta(hours=14))
    drop.deliver(
        report_message(subject="far east", sent=datetime(2026, 12, 4, 10, tzinfo=kiribati))
    )

    messages = EmailFilter(
        drop.mailbox(),
        folder=drop.folder,
        state=state,
        since=date(2026, 12, 2),
        until=datetime(2026, 12, 4, 6),  # naive: UTC
    ).get_emails()

    assert subjects(messages) == ["day 2", "day 3", "far east"]


def test_unread_only_skips_what_someone_read(drop: Drop, state: ProcessedStore) -> None:
    drop.deliver(report_message(subject="Daily monitoring report read"), seen=True)
    drop.deliver(report_message(subject="Daily monitoring report unread"))

    messages = reports_filter(drop, state, unread_only=True).get_emails()

    assert subjects(messages) == ["Daily monitoring report unread"]


def test_each_message_is_returned_once(drop: Drop, state: ProcessedStore) -> None:
    drop.deliver(report_message(subject="Daily monitoring report 1"))
    mail_filter = reports_filter(drop, state)

    first = mail_filter.get_emails()
    drop.deliver(report_message(subject="Daily monitoring report 2"))
    second = mail_filter.get_emails()
    third = mail_filter.get_emails()

    assert subjects(first) == ["Daily monitoring report 1"]
    assert subjects(second) == ["Daily monitoring report 2"]
    assert third == []
    assert drop.count() == 2  # remembered, not removed


def test_reading_does_not_mark_messages_seen(drop: Drop, state: ProcessedStore) -> None:
    drop.deliver(report_message())
    mail_filter = reports_filter(drop, state)

    assert mail_filter.has_new()
    assert len(mail_filter.get_emails()) == 1

    assert drop.flags() == [frozenset()]


def test_without_marking_a_message_comes_again_until_marked(
    drop: Drop, state: ProcessedStore
) -> None:
    drop.deliver(report_message())
    mail_filter = reports_filter(drop, state, mark_processed="flag")

    first = mail_filter.get_emails(mark=False)
    again = mail_filter.get_emails(mark=False)
    # As a later task would: the messages came through JSON.
    mail_filter.mark_processed([Message.from_dict(m.to_dict()) for m in again])

    assert len(first) == len(again) == 1
    assert mail_filter.get_emails() == []
    assert drop.flags() == [frozenset({"$ArcadiaProcessed"})]


def test_flag_mode_marks_the_message_on_the_server(drop: Drop, state: ProcessedStore) -> None:
    drop.deliver(report_message())
    drop.deliver(report_message(subject="Daily monitoring report 2"))

    messages = reports_filter(drop, state, mark_processed="flag").get_emails(limit=1)

    assert len(messages) == 1
    assert drop.flags() == [frozenset({"$ArcadiaProcessed"}), frozenset()]
    # The flag alone keeps a message from coming again, even for a filter that forgot it.
    forgetful = ProcessedStore(state.path.with_name("other.db"))
    again = reports_filter(drop, forgetful, mark_processed="flag").get_emails()
    assert subjects(again) == ["Daily monitoring report 2"]


def test_flag_mode_can_use_seen(drop: Drop, state: ProcessedStore) -> None:
    drop.deliver(report_message())

    reports_filter(drop, state, mark_processed="flag", processed_flag="\\Seen").get_emails()

    assert drop.flags() == [frozenset({"\\Seen"})]


def test_move_mode_moves_the_message(drop: Drop, state: ProcessedStore) -> None:
    drop.deliver(report_message())
    drop.deliver(report_message(subject="Something else"))
    done = f"{drop.folder}-processed"

    messages = reports_filter(
        drop, state, mark_processed="move", processed_folder=done
    ).get_emails()

    assert len(messages) == 1
    assert drop.count() == 1
    assert drop.count(done) == 1
    assert drop.flags(done) == [frozenset()]


def test_move_mode_keeps_keywords_meaning_the_same(drop: Drop, state: ProcessedStore) -> None:
    drop.deliver(report_message())
    done = f"{drop.folder}-processed"
    reports_filter(drop, state, mark_processed="flag").get_emails()

    mover = reports_filter(
        drop, state, mark_processed="move", processed_folder=done, state_scope="mover"
    )
    everything = EmailFilter(
        drop.mailbox(), folder=drop.folder, state=ProcessedStore(state.path.with_name("x.db"))
    )
    mover.mark_processed(everything.get_emails(mark=False))

    assert drop.flags(done) == [frozenset({"$ArcadiaProcessed"})]


def test_attachment_filters_keep_only_matching_attachments(
    drop: Drop, state: ProcessedStore
) -> None:
    drop.deliver(
        report_message(
            attachments=[
                ("cpu_2026-12-03.csv", "text/csv", CSV_UTF8),
                ("logo.png", "image/png", b"\x89PNG\r\n\x1a\n"),
                ("memory_2026-12-03.CSV", "application/vnd.ms-excel", CSV_UTF8),
            ]
        )
    )

    by_glob = EmailFilter(
        drop.mailbox(), folder=drop.folder, state=state, attachment_name="*.csv", state_scope="a"
    ).get_emails()
    by_regex = EmailFilter(
        drop.mailbox(),
        folder=drop.folder,
        state=state,
        attachment_name=re.compile(r"cpu_\d{4}-\d{2}-\d{2}\.csv"),
        state_scope="b",
    ).get_emails()
    by_types = EmailFilter(
        drop.mailbox(),
        folder=drop.folder,
        state=state,
        attachment_content_type=["text/csv", "application/vnd.ms-excel"],
        state_scope="c",
    ).get_emails()
    everything = EmailFilter(
        drop.mailbox(), folder=drop.folder, state=state, has_attachments=True, state_scope="d"
    ).get_emails()

    assert [a.filename for a in by_glob[0].attachments] == [
        "cpu_2026-12-03.csv",
        "memory_2026-12-03.CSV",
    ]
    assert [a.filename for a in by_regex[0].attachments] == ["cpu_2026-12-03.csv"]
    assert len(by_types[0].attachments) == 2
    assert len(everything[0].attachments) == 3


def test_scopes_remember_separately(drop: Drop, state: ProcessedStore) -> None:
    drop.deliver(report_message())

    first = reports_filter(drop, state, state_scope="cpu-reports").get_emails()
    second = reports_filter(drop, state, state_scope="archive").get_emails()
    shared = reports_filter(drop, state, state_scope="cpu-reports").get_emails()

    assert len(first) == len(second) == 1
    assert shared == []


def test_sensor_questions(drop: Drop, state: ProcessedStore) -> None:
    mail_filter = reports_filter(drop, state)
    assert not mail_filter.has_new()
    assert not mail_filter.matches()

    drop.deliver(report_message(attachments=[("cpu.pdf", "application/pdf", b"%PDF")]))
    assert not mail_filter.has_new()

    drop.deliver(report_message())
    assert mail_filter.has_new()
    mail_filter.get_emails()

    assert not mail_filter.has_new()
    assert mail_filter.matches()  # processed, but still there


def test_limit_leaves_the_rest_for_later(drop: Drop, state: ProcessedStore) -> None:
    for number in range(5):
        drop.deliver(report_message(subject=f"Daily monitoring report {number}"))
    mail_filter = reports_filter(drop, state)

    batches = [subjects(mail_filter.get_emails(limit=2)) for _ in range(4)]

    assert batches == [
        ["Daily monitoring report 0", "Daily monitoring report 1"],
        ["Daily monitoring report 2", "Daily monitoring report 3"],
        ["Daily monitoring report 4"],
        [],
    ]


def test_the_same_message_twice_is_returned_once(drop: Drop, state: ProcessedStore) -> None:
    message = report_message()
    drop.deliver(message)
    drop.deliver(message)

    assert len(reports_filter(drop, state, mark_processed="flag").get_emails()) == 1
    assert drop.flags() == [frozenset({"$ArcadiaProcessed"})] * 2  # both copies are done


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({"mark_processed": "delete"}, "mark_processed must be one of none, flag, move"),
        ({"mark_processed": "move"}, "needs processed_folder="),
        ({"processed_folder": "Done"}, "only with mark_processed='move'"),
        ({"mark_processed": "move", "processed_folder": "INBOX"}, "must differ from folder"),
        ({"processed_flag": "two words"}, "is no IMAP flag or keyword"),
        ({"subject": "Daily (report"}, "is no valid regular expression"),
        ({"since": date(2026, 12, 3), "until": date(2026, 12, 1)}, "must be before until"),
    ],
)
def test_impossible_options_are_refused_with_what_to_change(
    options: dict[str, object], complaint: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(complaint)):
        EmailFilter(MaildirMailbox("/nonexistent"), **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("pattern", "literal"),
    [
        ("Daily monitoring report", "Daily monitoring report"),
        (r"^Daily monitoring report \d{4}-\d{2}-\d{2}$", "Daily monitoring report"),
        (r"Report for host\.example\.com", "Report for host.example.com"),
        ("colou?r report", "r report"),
        ("(Daily|Weekly) report", None),
        ("Daily (monitoring)? report", "report"),
        ("[Dd]aily report", "aily report"),
        ("ab", None),
        (r"(?x) Daily \s report", None),
    ],
)
def test_the_server_searches_only_for_text_every_match_contains(
    pattern: str, literal: str | None
) -> None:
    assert _required_literal(re.compile(pattern)) == literal


def test_a_literal_subject_is_also_matched_exactly(drop: Drop, state: ProcessedStore) -> None:
    # The server's SUBJECT search ignores case; the regular expression does not.
    drop.deliver(report_message(subject=REPORT_SUBJECT))
    drop.deliver(report_message(subject=REPORT_SUBJECT.upper()))

    messages = EmailFilter(
        drop.mailbox(), folder=drop.folder, state=state, subject=REPORT_SUBJECT
    ).get_emails()

    assert subjects(messages) == [REPORT_SUBJECT]
    assert messages[0].recipients == (ETL,)
