"""Real mail for the e-mail tests: messages built with the standard library, and two places
to deliver them to, a Dovecot account (IMAP APPEND) and a Maildir directory.

Both drops offer the same few operations, so one test runs against each.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import imaplib
import json
import ssl
import time
import uuid
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from mailbox import Maildir, MaildirMessage
from pathlib import Path

from arcadia.email import ImapMailbox, Mailbox, MaildirMailbox

MONITORING = "monitoring@example.com"
ETL = "etl@example.com"
REPORT_SUBJECT = "Daily monitoring report"

CSV_TEXT = "host;cpu;city\nweb-1;12,5;Zürich\nweb-2;7,25;Malmö\n"
CSV_UTF8 = CSV_TEXT.encode("utf-8")
CSV_UTF8_BOM = CSV_TEXT.encode("utf-8-sig")
CSV_CP1252 = (CSV_TEXT + "db-1;3;Besançon – €\n").encode("cp1252")
CSV_UTF16 = CSV_TEXT.encode("utf-16")  # with its byte-order mark, as Excel writes it


@dataclass(frozen=True)
class ImapServer:
    """The Dovecot the test command started: where it is, and how to sign in."""

    host: str
    port: int  # plain IMAP, upgraded with STARTTLS
    imaps_port: int
    user: str
    password: str
    directory: Path  # where dovecot.sh left cert.pem and oauth2-hs256.key

    def ssl_context(self) -> ssl.SSLContext:
        """A context that trusts the server's self-signed certificate."""
        return ssl.create_default_context(cafile=str(self.directory / "cert.pem"))

    def oauth2_token(self, user: str, *, expires_in: int = 600) -> str:
        """An OAuth2 access token for ``user``: a JWT the server checks with its HS256 key."""
        key = base64.b64decode((self.directory / "oauth2-hs256.key").read_text())
        now = int(time.time())
        header = _base64url({"alg": "HS256", "typ": "JWT"})
        claims = _base64url({"sub": user, "iat": now, "nbf": now, "exp": now + expires_in})
        signature = hmac.new(key, f"{header}.{claims}".encode(), hashlib.sha256).digest()
        return f"{header}.{claims}.{base64.urlsafe_b64encode(signature).decode().rstrip('=')}"


def _base64url(value: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def report_message(
    *,
    sender: str = MONITORING,
    to: str = ETL,
    subject: str = REPORT_SUBJECT,
    sent: datetime | None = None,
    body: str = "Good morning,\nthe reports of the night are attached.\n",
    attachments: Iterable[tuple[str, str, bytes]] = (("cpu.csv", "text/csv", CSV_UTF8),),
    message_id: bool = True,
) -> EmailMessage:
    """A monitoring system's daily mail; each attachment is (file name, MIME type, bytes)."""
    message = EmailMessage()
    message["From"] = f"Monitoring <{sender}>"
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(sent or datetime.now(UTC))
    if message_id:
        message["Message-ID"] = make_msgid(domain="monitoring.example.com")
    message.set_content(body)
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message


def with_charset(message: EmailMessage, filename: str, charset: str) -> EmailMessage:
    """Declare ``charset`` on the attachment named ``filename``, as careful mailers do."""
    for part in message.iter_attachments():
        if part.get_filename() == filename:
            part.set_param("charset", charset)
    return message


def legacy_message(*, filename: str, data: bytes, charset: str = "utf-8") -> bytes:
    """A message as older Outlook versions write it: RFC 2047 words in a quoted file name.

    RFC 2047 forbids that, but such mail exists, so it is written out by hand here (the
    standard library writes the RFC 2231 form).
    """
    encoded_name = base64.b64encode(filename.encode(charset)).decode()
    content = base64.encodebytes(data).decode()
    return (
        f"From: Monitoring <{MONITORING}>\r\n"
        f"To: {ETL}\r\n"
        f"Subject: {REPORT_SUBJECT}\r\n"
        f"Date: {format_datetime(datetime.now(UTC))}\r\n"
        f"Message-ID: {make_msgid(domain='outlook.example.com')}\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b1"\r\n'
        "\r\n"
        "--b1\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n"
        "\r\n"
        "See attached.\r\n"
        "--b1\r\n"
        f'Content-Type: application/octet-stream; name="=?{charset}?B?{encoded_name}?="\r\n'
        "Content-Transfer-Encoding: base64\r\n"
        f'Content-Disposition: attachment; filename="=?{charset}?B?{encoded_name}?="\r\n'
        "\r\n"
        f"{content}"
        "--b1--\r\n"
    ).encode("ascii")


def as_bytes(message: EmailMessage | bytes) -> bytes:
    """The message's bytes, with CRLF line ends as IMAP carries them."""
    if isinstance(message, bytes):
        return message
    return message.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


class ImapDrop:
    """A fresh folder on the test Dovecot; delivers and inspects with plain imaplib."""

    kind = "imap"

    def __init__(self, server: ImapServer) -> None:
        self.server = server
        self.folder = f"test-{uuid.uuid4().hex[:10]}"
        self._connection = imaplib.IMAP4(server.host, server.port)
        self._connection.starttls(ssl_context=server.ssl_context())
        self._connection.login(server.user, server.password)
        self._check(self._connection.create(self.folder))

    def mailbox(self, **options: object) -> Mailbox:
        """The account as the code under test sees it (STARTTLS unless told otherwise)."""
        settings: dict[str, object] = {
            "username": self.server.user,
            "password": self.server.password,
            "security": "starttls",
            "ssl_context": self.server.ssl_context(),
        }
        settings.update(options)
        port = self.server.imaps_port if settings["security"] == "tls" else self.server.port
        return ImapMailbox(self.server.host, port, **settings)  # type: ignore[arg-type]

    def deliver(
        self,
        message: EmailMessage | bytes,
        *,
        seen: bool = False,
        folder: str | None = None,
        received: datetime | None = None,
    ) -> None:
        """Put a message in the folder, as a mail server's delivery would."""
        received_time = (received or datetime.now(UTC)).timestamp()
        self._check(
            self._connection.append(
                folder or self.folder,
                "(\\Seen)" if seen else "",
                imaplib.Time2Internaldate(received_time),
                as_bytes(message),
            )
        )

    def flags(self, folder: str | None = None) -> list[frozenset[str]]:
        """The flags of each message in the folder, oldest first (without \\Recent)."""
        self._check(self._connection.select(folder or self.folder, readonly=True))
        status, data = self._connection.uid("FETCH", "1:*", "(FLAGS)")
        self._check((status, data))
        result = []
        for line in data:
            if isinstance(line, bytes) and b"FLAGS (" in line:
                inside = line.split(b"FLAGS (", 1)[1].split(b")", 1)[0].decode()
                result.append(frozenset(inside.split()) - {"\\Recent"})
        return result

    def count(self, folder: str | None = None) -> int:
        """How many messages the folder holds (0 for a folder that does not exist)."""
        status, data = self._connection.status(folder or self.folder, "(MESSAGES)")
        if status != "OK":
            return 0
        return int(data[0].split(b"MESSAGES ", 1)[1].split(b")", 1)[0])

    def close(self) -> None:
        """Log out."""
        with suppress(imaplib.IMAP4.error, OSError):
            self._connection.logout()

    @staticmethod
    def _check(answer: tuple[str, Sequence[object]]) -> None:
        status, data = answer
        if status != "OK":
            raise AssertionError(f"the test's own IMAP command failed: {status} {data}")


def _delivered(message: MaildirMessage) -> float:
    return message.get_date()


class MaildirDrop:
    """A Maildir in the test's temporary directory; delivers with ``mailbox.Maildir``."""

    kind = "maildir"
    folder = "INBOX"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._maildir = Maildir(path, create=True)

    def mailbox(self, **options: object) -> Mailbox:
        """The Maildir as the code under test sees it."""
        return MaildirMailbox(self.path)

    def _folder(self, folder: str | None) -> Maildir:
        if folder in (None, "INBOX"):
            return self._maildir
        if folder not in self._maildir.list_folders():
            return self._maildir.add_folder(folder)
        return self._maildir.get_folder(folder)

    def deliver(
        self,
        message: EmailMessage | bytes,
        *,
        seen: bool = False,
        folder: str | None = None,
        received: datetime | None = None,
    ) -> None:
        """Put a message in the folder, as a delivery agent would (new/, or cur/ if seen)."""
        raw = message if isinstance(message, bytes) else message.as_bytes()
        entry = MaildirMessage(raw)
        if seen:
            entry.set_subdir("cur")
            entry.add_flag("S")
        received_at = received or datetime.now(UTC) - timedelta(seconds=1)
        entry.set_date(received_at.timestamp())
        self._folder(folder).add(entry)

    def flags(self, folder: str | None = None) -> list[frozenset[str]]:
        """The flags of each message, oldest first, in IMAP's names."""
        target = self._folder(folder)
        names = {"S": "\\Seen", "F": "\\Flagged", "R": "\\Answered", "T": "\\Deleted"}
        keywords_file = Path(target._path) / "dovecot-keywords"
        if keywords_file.exists():
            for line in keywords_file.read_text().splitlines():
                number, name = line.split(" ", 1)
                names["abcdefghijklmnopqrstuvwxyz"[int(number)]] = name
        # By delivery time: the standard library's keys do not sort as strings in time order
        # (their microseconds are not zero-padded).
        messages = sorted(target.values(), key=_delivered)
        return [frozenset(names[letter] for letter in message.get_flags()) for message in messages]

    def count(self, folder: str | None = None) -> int:
        """How many messages the folder holds (0 for a folder that does not exist)."""
        if folder not in (None, "INBOX") and folder not in self._maildir.list_folders():
            return 0
        return len(self._folder(folder))

    def close(self) -> None:
        """Nothing to close."""
