"""What a message delivered to a real mailbox reads as: attachments in every encoding,
file names in every form, bodies in any charset. Each test runs on a Maildir and on Dovecot.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from arcadia.email import EmailFilter, Message, ProcessedStore
from mail_fixtures import (
    CSV_CP1252,
    CSV_TEXT,
    CSV_UTF8,
    CSV_UTF8_BOM,
    CSV_UTF16,
    ETL,
    MONITORING,
    ImapDrop,
    MaildirDrop,
    legacy_message,
    report_message,
    with_charset,
)

Drop = ImapDrop | MaildirDrop


def only_message(drop: Drop, state: ProcessedStore, **options: object) -> Message:
    messages = EmailFilter(
        drop.mailbox(),
        folder=drop.folder,
        state=state,
        **options,  # type: ignore[arg-type]
    ).get_emails()
    assert len(messages) == 1
    return messages[0]


def test_csv_attachments_in_each_encoding_keep_their_bytes_and_read_as_text(
    drop: Drop, state: ProcessedStore
) -> None:
    message = report_message(
        attachments=[
            ("utf8.csv", "text/csv", CSV_UTF8),
            ("utf8-bom.csv", "text/csv", CSV_UTF8_BOM),
            ("cp1252.csv", "text/csv", CSV_CP1252),
            ("utf16.csv", "text/csv", CSV_UTF16),
            ("declared.csv", "text/csv", CSV_CP1252),
        ]
    )
    drop.deliver(with_charset(message, "declared.csv", "windows-1252"))

    received = only_message(drop, state)

    by_name = {attachment.filename: attachment for attachment in received.attachments}
    assert list(by_name) == ["utf8.csv", "utf8-bom.csv", "cp1252.csv", "utf16.csv", "declared.csv"]
    assert by_name["utf8.csv"].data == CSV_UTF8
    assert by_name["utf8-bom.csv"].data == CSV_UTF8_BOM
    assert by_name["utf16.csv"].data == CSV_UTF16
    assert by_name["cp1252.csv"].data == CSV_CP1252
    assert by_name["utf8.csv"].text() == CSV_TEXT
    assert by_name["utf8-bom.csv"].text() == CSV_TEXT  # the BOM is not text
    assert by_name["utf16.csv"].text() == CSV_TEXT
    assert by_name["cp1252.csv"].text() == CSV_CP1252.decode("cp1252")  # sniffed: not UTF-8
    assert by_name["declared.csv"].charset == "windows-1252"
    assert "Besançon – €" in by_name["declared.csv"].text()
    assert by_name["utf8.csv"].text("utf-8") == CSV_TEXT
    for attachment in received.attachments:
        assert attachment.content_type == "text/csv"
        assert attachment.size == len(attachment.data)
        assert attachment.message_id == received.message_id


def test_non_ascii_file_names_in_rfc_2231_and_rfc_2047_forms(
    drop: Drop, state: ProcessedStore
) -> None:
    long_name = "Überwachung_Prozessorauslastung_aller_Rechenzentren_Zürich_Malmö_2026-12-03.csv"
    message = report_message(
        attachments=[
            (long_name, "text/csv", CSV_UTF8),  # RFC 2231 continuations, UTF-8
            ("плотность.csv", "text/csv", CSV_UTF8),
        ]
    )
    # RFC 2231 with a Latin-1 charset and a language, as some mailers still write.
    message.add_attachment(
        CSV_CP1252,
        maintype="text",
        subtype="csv",
        filename=("iso-8859-1", "de", "Übersicht.csv"),
    )
    drop.deliver(message)
    drop.deliver(legacy_message(filename="Auslastung März.csv", data=CSV_UTF8))
    drop.deliver(legacy_message(filename="Übersicht € 2026.csv", data=CSV_UTF8, charset="cp1252"))

    messages = EmailFilter(drop.mailbox(), folder=drop.folder, state=state).get_emails()

    names = [[attachment.filename for attachment in m.attachments] for m in messages]
    assert names == [
        [long_name, "плотность.csv", "Übersicht.csv"],
        ["Auslastung März.csv"],
        ["Übersicht € 2026.csv"],
    ]
    assert messages[1].attachments[0].data == CSV_UTF8


def test_attachment_name_filter_sees_decoded_names(drop: Drop, state: ProcessedStore) -> None:
    drop.deliver(legacy_message(filename="Auslastung März.csv", data=CSV_UTF8))

    received = only_message(drop, state, attachment_name="*märz.csv")

    assert received.attachments[0].filename == "Auslastung März.csv"


@pytest.mark.parametrize(
    ("charset", "text"),
    [
        ("koi8-r", "Отчёт о загрузке процессоров за ночь.\n"),
        ("iso-8859-1", "Bericht über die Auslastung; Grüße aus Zürich.\n"),
        ("windows-1252", "Rapport de la nuit – coût total 12 €.\n"),
        ("utf-8", "Rapport 📈 de la nuit.\n"),
    ],
)
def test_bodies_in_any_charset_are_decoded(
    drop: Drop, state: ProcessedStore, charset: str, text: str
) -> None:
    message = report_message(body="placeholder")
    message.get_body().set_content(text, charset=charset)  # type: ignore[union-attr]
    drop.deliver(message)

    received = only_message(drop, state)

    assert received.body_text.strip() == text.strip()


def test_headers_are_decoded(drop: Drop, state: ProcessedStore) -> None:
    sent = datetime(2026, 12, 3, 6, 30, tzinfo=UTC)
    message = report_message(subject="Überwachung: Bericht für 03.12.", sent=sent)
    del message["From"], message["To"]
    message["From"] = "Überwachung GmbH <monitoring@example.com>"
    message["To"] = "Team ETL <etl@example.com>, ops@example.com"
    message["Cc"] = "Zoë <zoe@example.com>"
    drop.deliver(message)

    received = only_message(drop, state)

    assert received.subject == "Überwachung: Bericht für 03.12."
    assert received.sender == MONITORING
    assert received.recipients == (ETL, "ops@example.com", "zoe@example.com")
    assert received.date == sent
    assert received.message_id == message["Message-ID"]
    assert received.folder == drop.folder
    assert received.uid


def test_multipart_alternative_prefers_the_plain_text(drop: Drop, state: ProcessedStore) -> None:
    message = report_message(body="Plain words.\n")
    message.get_body().add_alternative(  # type: ignore[union-attr]
        "<html><body><p>Rich <b>words</b>.</p></body></html>", subtype="html"
    )
    drop.deliver(message)

    received = only_message(drop, state)

    assert received.body_text.strip() == "Plain words."
    assert [a.filename for a in received.attachments] == ["cpu.csv"]


def test_an_html_only_message_reads_as_its_text(drop: Drop, state: ProcessedStore) -> None:
    message = report_message()
    message.get_body().set_content(  # type: ignore[union-attr]
        "<html><head><style>p {color: red}</style></head>"
        "<body><p>CPU &amp; memory</p><p>were fine.</p></body></html>",
        subtype="html",
    )
    drop.deliver(message)

    received = only_message(drop, state)

    assert received.body_text == "CPU & memory\nwere fine."


def test_a_message_without_message_id_gets_one_from_its_content(
    drop: Drop, state: ProcessedStore
) -> None:
    drop.deliver(report_message(message_id=False))
    mail_filter = EmailFilter(drop.mailbox(), folder=drop.folder, state=state)

    first = mail_filter.get_emails()
    again = mail_filter.get_emails()

    assert len(first) == 1
    assert first[0].message_id.endswith("@arcadia.invalid>")
    assert again == []  # it too is handled once


def test_a_large_attachment_arrives_whole(drop: Drop, state: ProcessedStore) -> None:
    row = b"2026-12-03T00:00:00Z;web-1;cpu;12.5;memory;1024\n"
    data = row * (20 * 1024 * 1024 // len(row))
    drop.deliver(report_message(attachments=[("big.csv", "text/csv", data)]))

    received = only_message(drop, state, attachment_name="big.csv")

    attachment = received.attachments[0]
    assert attachment.size == len(data) > 20_000_000
    assert hashlib.sha256(attachment.data).digest() == hashlib.sha256(data).digest()
