"""Decoding what mail in the wild carries, piece by piece: charsets, headers, file names, and
IMAP's response syntax. (The same cases delivered whole are in test_email_content.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from arcadia.email._charsets import decode_header_text, decode_text, lookup_codec
from arcadia.email._imap_syntax import (
    decode_folder,
    encode_folder,
    imap_date,
    parse_fetch_response,
    parse_internal_date,
    parse_list_line,
    tree_from_bodystructure,
    uid_set,
)
from arcadia.email._parsing import attachment_infos, parse_message


@pytest.mark.parametrize(
    ("data", "charset", "text"),
    [
        ("Grüße €".encode("cp1252"), "iso-8859-1", "Grüße €"),  # Latin-1 label, Windows text
        ("Grüße".encode(), "us-ascii", "Grüße"),  # labelled ASCII, written in UTF-8
        ("Grüße".encode("cp1252"), "utf-8", "Grüße"),  # labelled UTF-8, it is not
        ("Привет".encode("koi8-r"), "koi8-r", "Привет"),
        (
            "Привет".encode("koi8-r"),
            "x-unknown-charset",
            "Привет".encode("koi8-r").decode("cp1252"),
        ),
        ("a;b\n1;2\n".encode("utf-16-le"), None, "a;b\n1;2\n"),  # UTF-16 without a BOM
        ("a;b\n".encode("utf-32"), None, "a;b\n"),
        (b"\x81\x8d", None, "\x81\x8d"),  # bytes Windows-1252 leaves undefined: Latin-1
        ("日本語".encode("shift_jis"), "shift_jis", "日本語"),
    ],
)
def test_text_in_any_charset(data: bytes, charset: str | None, text: str) -> None:
    assert decode_text(data, charset) == text


def test_charset_labels() -> None:
    assert lookup_codec('"UTF-8"') == "utf-8"
    assert lookup_codec("x-mac-cyrillic") == "mac-cyrillic"
    assert lookup_codec("no-such-charset") is None
    assert lookup_codec(None) is None


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("=?UTF-8?Q?Bericht_f=C3=BCr_M=C3=A4rz?=", "Bericht für März"),
        ("=?utf-8?B?w5xiZXI=?= =?utf-8?B?c2ljaHQ=?=", "Übersicht"),  # space between words dropped
        # One character split between two encoded words, as some mailers split long subjects.
        ("=?utf-8?B?w4==?=\r\n =?utf-8?B?nGJlcg==?=", "Über"),
        ("Re: =?iso-8859-1?q?Gr=FC=DFe?= aus Zürich", "Re: Grüße aus Zürich"),
        ("=?koi8-r?B?8NLJ18XU?=", "Привет"),
        ("=?utf-8*de?Q?Gr=C3=BC=C3=9Fe?=", "Grüße"),  # RFC 2231's language suffix
        ("=?utf-8?B?not base64!?=", "=?utf-8?B?not base64!?="),  # kept as it came
        ("Plain \udcc3\udcbc header", "Plain ü header"),  # raw UTF-8 bytes in a header
        ("folded\r\n  line", "folded  line"),
    ],
)
def test_header_text(raw: str, text: str) -> None:
    assert decode_header_text(raw) == text


def raw_message(*parts: str, headers: str = "") -> bytes:
    body = "".join(f"--b\r\n{part}\r\n" for part in parts) + "--b--\r\n"
    return (
        "From: a@example.com\r\nSubject: s\r\n"
        f"{headers}"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + body
    ).encode("utf-8", errors="surrogateescape")


@pytest.mark.parametrize(
    ("disposition", "filename"),
    [
        ('attachment; filename="../../etc/passwd"', "passwd"),
        ('attachment; filename="C:\\\\reports\\\\cpu.csv"', "cpu.csv"),
        ('attachment; filename=".."', "part-1.csv"),
        ("attachment; filename*=utf-8''%E2%82%AC%20rates.csv", "€ rates.csv"),
        ("attachment; filename*0*=utf-8''%C3%9C; filename*1=ber.csv", "Über.csv"),
        ('attachment; filename="caf\udcc3\udca9.csv"', "café.csv"),  # raw 8-bit UTF-8
        ("attachment", "part-1.csv"),
    ],
)
def test_file_names_are_decoded_and_made_safe(disposition: str, filename: str) -> None:
    raw = raw_message(f"Content-Type: text/csv\r\nContent-Disposition: {disposition}\r\n\r\na;b")

    message = parse_message(raw, folder="INBOX", uid="1")

    assert [a.filename for a in message.attachments] == [filename]


def test_what_counts_as_an_attachment() -> None:
    raw = raw_message(
        "Content-Type: text/plain\r\n\r\nThe body.",
        "Content-Type: text/plain\r\nContent-Disposition: inline; filename=notes.txt\r\n\r\nn",
        "Content-Type: image/png\r\n\r\npng",
        "Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nforwarded",
        'Content-Type: multipart/related; boundary="r"\r\n\r\n'
        "--r\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n"
        "--r\r\nContent-Type: image/gif\r\nContent-ID: <logo>\r\n\r\ngif\r\n--r--",
    )

    message = parse_message(raw, folder="INBOX", uid="1")

    assert [(a.filename, a.content_type) for a in message.attachments] == [
        ("notes.txt", "text/plain"),
        ("part-2.png", "image/png"),
        ("part-3.eml", "message/rfc822"),
    ]
    assert b"Subject: inner" in message.attachments[2].data
    assert message.body_text == "The body."  # the plain part; the logo is the HTML's own


def test_dates_without_a_zone_and_broken_dates() -> None:
    received = datetime(2026, 12, 3, tzinfo=UTC)
    no_zone = parse_message(b"Date: Thu, 3 Dec 2026 06:30:00 -0000\r\n\r\nx", folder="I", uid="1")
    broken = parse_message(b"Date: yesterday\r\n\r\nx", folder="I", uid="1", received=received)

    assert no_zone.date == datetime(2026, 12, 3, 6, 30, tzinfo=UTC)
    assert broken.date == received


def test_raw_8bit_headers_are_read_as_utf8_or_windows_1252() -> None:
    raw = "From: Zoë <zoe@example.com>\r\nSubject: Grüße aus Zürich\r\n\r\nx".encode() + b"\r\n"
    latin = "Subject: Grüße\r\n\r\nx".encode("cp1252")

    assert parse_message(raw, folder="I", uid="1").subject == "Grüße aus Zürich"
    assert parse_message(raw, folder="I", uid="1").sender == "zoe@example.com"
    assert parse_message(latin, folder="I", uid="1").subject == "Grüße"


def test_addresses_with_encoded_display_names() -> None:
    raw = (
        b"From: =?utf-8?Q?M=C3=BCller=2C_Hans?= <hans@example.com>\r\n"
        b'To: "Ops, Team" <ops@example.com>, etl@example.com\r\n\r\nx'
    )

    message = parse_message(raw, folder="INBOX", uid="1")

    assert message.sender == "hans@example.com"
    assert message.recipients == ("ops@example.com", "etl@example.com")


def test_folder_names_in_modified_utf7() -> None:
    assert encode_folder("INBOX") == '"INBOX"'
    assert encode_folder("Erledigt & geprüft") == '"Erledigt &- gepr&APw-ft"'
    assert encode_folder("日本語") == '"&ZeVnLIqe-"'
    assert decode_folder("Erledigt &- gepr&APw-ft") == "Erledigt & geprüft"
    assert decode_folder("&ZeVnLIqe-") == "日本語"


def test_list_lines() -> None:
    assert parse_list_line(b'(\\HasNoChildren) "." INBOX') == "INBOX"
    assert parse_list_line(b'(\\HasNoChildren) "." "Reports.2026"') == "Reports.2026"
    assert parse_list_line(b"garbage") is None


def test_uid_sets_and_dates() -> None:
    assert uid_set(["1", "2", "3", "7", "9", "10"]) == "1:3,7,9:10"
    assert uid_set(["5"]) == "5"
    assert imap_date(datetime(2026, 3, 1).date()) == "1-Mar-2026"
    assert parse_internal_date(b"03-Dec-2026 20:03:20 -0500") == datetime(
        2026, 12, 3, 20, 3, 20, tzinfo=timezone(-timedelta(hours=5))
    )
    assert parse_internal_date(b"someday") is None


def test_fetch_answers_with_literals_are_reassembled() -> None:
    data: list[bytes | tuple[bytes, bytes]] = [
        (b"1 (UID 7 FLAGS (\\Seen $Label) BODY[HEADER] {18}", b"Subject: a\r\n\r\n(x)"),
        b' INTERNALDATE "03-Dec-2026 20:03:20 +0000")',
        b"2 (UID 9 FLAGS ())",
        (b"3 (UID 11 BODY[] {3}", b"abc"),
        b")",
    ]

    answers = parse_fetch_response(data)

    assert answers[0]["UID"] == "7"
    assert answers[0]["FLAGS"] == ["\\Seen", "$Label"]
    assert answers[0]["BODY[HEADER]"] == b"Subject: a\r\n\r\n(x)"
    assert answers[0]["INTERNALDATE"] == b"03-Dec-2026 20:03:20 +0000"
    assert answers[1] == {"UID": "9", "FLAGS": []}
    assert answers[2]["BODY[]"] == b"abc"


def test_bodystructure_names_attachments_as_the_full_parse_does() -> None:
    # As Dovecot answers for: text, a CSV named in RFC 2231, a forwarded message, a PDF.
    answer = (
        b'1 (UID 1 BODYSTRUCTURE (("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 7 1 NIL'
        b' NIL NIL NIL)("text" "csv" ("charset" "us-ascii") NIL NIL "base64" 14 1 NIL'
        b' ("attachment" ("filename*" "utf-8\'\'%C3%9Cbersicht.csv")) NIL NIL)'
        b'("message" "rfc822" NIL NIL NIL "7bit" 40 ("date" "subj" NIL NIL NIL NIL NIL NIL'
        b' NIL NIL) ("text" "plain" NIL NIL NIL "7bit" 3 1 NIL NIL NIL NIL) 2 NIL'
        b' ("attachment" NIL) NIL NIL)'
        b'("application" "pdf" ("name" "=?utf-8?Q?M=C3=A4rz.pdf?=") NIL NIL "base64" 6 NIL'
        b' NIL NIL NIL) "mixed" ("boundary" "b") NIL NIL NIL))'
    )
    [items] = parse_fetch_response([answer])
    tree = tree_from_bodystructure(items["BODYSTRUCTURE"])

    assert tree is not None
    assert [(a.filename, a.content_type) for a in attachment_infos(tree)] == [
        ("Übersicht.csv", "text/csv"),
        ("part-2.eml", "message/rfc822"),
        ("März.pdf", "application/pdf"),
    ]
    assert tree_from_bodystructure(["nonsense"]) is None
