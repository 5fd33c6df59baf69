r"""An IMAP account as a ``Mailbox``, on the standard library's ``imaplib``.

Reading never changes a message: folders are opened with ``EXAMINE`` (read-only) and
messages fetched with ``BODY.PEEK``, so nothing is marked ``\Seen`` until a filter marks it
processed. Searches run on the server; the filter checks their answers again exactly.
"""

from __future__ import annotations

import imaplib
import ipaddress
import logging
import ssl
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from functools import partial
from types import TracebackType
from typing import Any, Literal, Self

from arcadia.email._errors import MailboxAuthError, MailboxError, MailboxUnavailable
from arcadia.email._imap_syntax import (
    Value,
    decode_folder,
    encode_folder,
    imap_date,
    parse_fetch_response,
    parse_internal_date,
    parse_list_line,
    quote,
    tree_from_bodystructure,
    uid_set,
)
from arcadia.email._mailbox import AttachmentInfo, MessageSummary, SearchQuery
from arcadia.email._message import Message
from arcadia.email._parsing import attachment_infos, parse_message, summary_from_headers

__all__ = ["ImapMailbox", "Security"]

logger = logging.getLogger(__name__)

Security = Literal["tls", "starttls", "none"]
_SECURITIES = ("tls", "starttls", "none")

# Enough uids per FETCH to keep round trips few, few enough to keep one answer small.
_SUMMARY_BATCH = 200
_SYSTEM_FLAGS = {"\\seen", "\\answered", "\\flagged", "\\deleted", "\\draft"}

_Response = tuple[str, list[Any]]


class ImapMailbox:
    r"""An IMAP account, e.g. a Dovecot, Exchange or Gmail mailbox.

    Connects when its ``with`` block begins (an ``EmailFilter`` opens it for each call), so
    creating one in a DAG file costs nothing. Give either a ``password`` or an OAuth2
    access token (``xoauth2_token``, for Gmail and Microsoft 365, which refuse passwords).

    Args:
        host: The server's name or address.
        port: The port; 993 with ``security="tls"``, else 143.
        username: The account.
        password: Its password (sent with ``LOGIN``, or ``AUTHENTICATE PLAIN`` when it is
            not ASCII). Never logged or shown.
        xoauth2_token: An OAuth2 access token, sent with ``AUTHENTICATE XOAUTH2``.
        security: ``"tls"`` (TLS from the first byte, port 993), ``"starttls"`` (plain
            connection upgraded before signing in, port 143) or ``"none"`` (no encryption:
            only for a server on this machine).
        ssl_context: How to verify the server; by default the system's trusted
            certificates. For a private CA: ``ssl.create_default_context(cafile=...)``.
        timeout: Seconds to wait for the server on each operation.

    Raises:
        ValueError: Neither or both of ``password`` and ``xoauth2_token``, or an unknown
            ``security``.
    """

    def __init__(
        self,
        host: str,
        port: int | None = None,
        *,
        username: str,
        password: str | None = None,
        xoauth2_token: str | None = None,
        security: Security = "tls",
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = 30,
    ) -> None:
        if (password is None) == (xoauth2_token is None):
            raise ValueError("give ImapMailbox exactly one of password= or xoauth2_token=")
        if security not in _SECURITIES:
            raise ValueError(f"security must be one of {', '.join(_SECURITIES)}, not {security!r}")
        self.host = host
        self.port = port if port is not None else (993 if security == "tls" else 143)
        self.username = username
        self.security = security
        self.timeout = timeout
        self._password = password
        self._xoauth2_token = xoauth2_token
        self._ssl_context = ssl_context
        self._connection: imaplib.IMAP4 | None = None
        self._depth = 0
        self._selected: tuple[str, bool] | None = None
        self._capabilities: frozenset[str] = frozenset()

    def __repr__(self) -> str:
        return (
            f"ImapMailbox({self.host!r}, {self.port}, username={self.username!r}, "
            f"security={self.security!r})"
        )

    def to_config(self) -> dict[str, Any]:
        """The account as JSON data, secret included, for :meth:`from_config` elsewhere.

        Raises:
            ValueError: The mailbox verifies the server with an ``ssl_context`` of its own,
                which cannot be written down.
        """
        if self._ssl_context is not None:
            raise ValueError(
                "an ImapMailbox with its own ssl_context cannot be rebuilt in another process"
            )
        return {
            "kind": "imap",
            "host": self.host,
            "port": self.port,
            "username": self.username,
            "password": self._password,
            "xoauth2_token": self._xoauth2_token,
            "security": self.security,
            "timeout": self.timeout,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ImapMailbox:
        """The mailbox :meth:`to_config` described."""
        return cls(
            config["host"],
            config["port"],
            username=config["username"],
            password=config["password"],
            xoauth2_token=config["xoauth2_token"],
            security=config["security"],
            timeout=config["timeout"],
        )

    @property
    def identity(self) -> str:
        """``imap://user@host:port``: what processed messages are remembered under."""
        return f"imap://{self.username}@{self.host}:{self.port}"

    @property
    def _server(self) -> str:
        return f"{self.host}:{self.port}"

    def __enter__(self) -> Self:
        if self._depth == 0:
            self._connection = self._connect()
        self._depth += 1
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._disconnect()

    def _connect(self) -> imaplib.IMAP4:
        connection = self._open()
        try:
            self._sign_in(connection)
            # Servers announce more after signing in (MOVE, UIDPLUS) than in their greeting.
            self._connection = connection
            answer = self._run("CAPABILITY", connection.capability)
            self._capabilities = frozenset(_text(answer).upper().split())
        except BaseException:
            self._connection = None
            _close_quietly(connection)
            raise
        logger.debug("Signed in to %s as %s", self._server, self.username)
        return connection

    def _open(self) -> imaplib.IMAP4:
        context = self._ssl_context or ssl.create_default_context()
        try:
            if self.security == "tls":
                return imaplib.IMAP4_SSL(
                    self.host, self.port, ssl_context=context, timeout=self.timeout
                )
            connection = imaplib.IMAP4(self.host, self.port, timeout=self.timeout)
            if self.security == "starttls":
                try:
                    connection.starttls(ssl_context=context)
                except BaseException:
                    _close_quietly(connection)
                    raise
            elif not _is_loopback(self.host):
                logger.warning(
                    "Signing in to %s without encryption (security='none'); use 'tls' or "
                    "'starttls' for any server not on this machine",
                    self._server,
                )
            return connection
        except ssl.SSLCertVerificationError as error:
            raise MailboxUnavailable(
                self._server,
                f"its certificate is not trusted ({error.verify_message})",
                hint="for a private CA pass ssl_context=ssl.create_default_context(cafile=...)",
            ) from error
        except ssl.SSLError as error:
            raise MailboxUnavailable(
                self._server,
                f"the TLS handshake failed ({error.reason or error})",
                hint="does the port match security= ('tls' for 993, 'starttls' for 143)?",
            ) from error
        except imaplib.IMAP4.error as error:
            raise MailboxUnavailable(
                self._server,
                f"the server does not speak IMAP as expected ({_reason(error)})",
                hint="does the port match security= ('tls' for 993, 'starttls' for 143)?",
            ) from error
        except OSError as error:
            raise MailboxUnavailable(
                self._server,
                _os_reason(error),
                hint="is the server running, and are the host and port right?",
            ) from error

    def _sign_in(self, connection: imaplib.IMAP4) -> None:
        try:
            if self._xoauth2_token is not None:
                connection.authenticate("XOAUTH2", self._xoauth2_response(self._xoauth2_token))
            elif self._password is not None and self._password.isascii():
                connection.login(self.username, self._password)
            elif self._password is not None:
                # LOGIN takes ASCII only; SASL PLAIN carries UTF-8.
                plain = f"\0{self.username}\0{self._password}".encode()
                connection.authenticate("PLAIN", lambda _challenge: plain)
        except imaplib.IMAP4.abort as error:
            raise MailboxUnavailable(self._server, f"the connection broke ({error})") from error
        except imaplib.IMAP4.error as error:
            raise MailboxAuthError(self._server, self.username, _reason(error)) from error
        except OSError as error:
            raise MailboxUnavailable(self._server, _os_reason(error)) from error

    def _xoauth2_response(self, token: str) -> Callable[[bytes], bytes]:
        initial = f"user={self.username}\x01auth=Bearer {token}\x01\x01".encode()
        sent = False

        def respond(_challenge: bytes) -> bytes:
            nonlocal sent
            # On failure the server sends its error as a challenge and waits for an empty
            # answer before its NO; answering with the token again would loop.
            if sent:
                return b""
            sent = True
            return initial

        return respond

    def _disconnect(self) -> None:
        connection, self._connection, self._selected = self._connection, None, None
        if connection is not None:
            _close_quietly(connection)

    @property
    def _conn(self) -> imaplib.IMAP4:
        if self._connection is None:
            raise RuntimeError("use the mailbox inside `with mailbox:`")
        return self._connection

    def _run(self, what: str, command: Callable[[], _Response]) -> list[Any]:
        status, data = self._run_raw(what, command)
        if status != "OK":
            raise MailboxError(self._server, f"{what} was refused: {_text(data)}")
        return data

    def _run_raw(self, what: str, command: Callable[[], _Response]) -> _Response:
        # The status is the caller's to judge; broken connections and errors are ours.
        try:
            return command()
        except imaplib.IMAP4.abort as error:
            self._selected = None
            raise MailboxUnavailable(
                self._server, f"the connection broke during {what} ({_reason(error)})"
            ) from error
        except imaplib.IMAP4.error as error:
            raise MailboxError(self._server, f"{what} was refused: {_reason(error)}") from error
        except OSError as error:
            self._selected = None
            raise MailboxUnavailable(self._server, f"{what} failed: {_os_reason(error)}") from error

    def _select(self, folder: str, *, writable: bool) -> None:
        if self._selected == (folder, writable):
            return
        connection = self._conn
        # EXAMINE (read-only) where only reading: the server then sets no flag at all.
        status, data = self._run_raw(
            f"opening {folder!r}",
            lambda: connection.select(encode_folder(folder), readonly=not writable),
        )
        if status != "OK":
            self._selected = None
            raise MailboxError(
                self._server,
                f"cannot open the folder {folder!r} ({_text(data)})",
                hint=f"its folders are: {', '.join(self.list_folders())}",
            )
        self._selected = (folder, writable)

    def list_folders(self) -> list[str]:
        """The names of the account's folders."""
        data = self._run("LIST", lambda: self._conn.list())
        names = (parse_list_line(line) for line in data if isinstance(line, bytes))
        return sorted(decode_folder(name) for name in names if name is not None)

    def search(self, folder: str, query: SearchQuery) -> list[str]:
        """The uids in ``folder`` that the server finds for ``query``, oldest first.

        Text the server cannot be sent as a quoted string (anything not ASCII) is left to the
        filter's exact check, which follows.
        """
        self._select(folder, writable=False)
        criteria: list[str] = []
        if query.sender and _sendable(query.sender):
            criteria += ["FROM", quote(query.sender)]
        if query.recipient and _sendable(query.recipient):
            criteria += ["OR", "TO", quote(query.recipient), "CC", quote(query.recipient)]
        if query.subject and _sendable(query.subject):
            criteria += ["SUBJECT", quote(query.subject)]
        if query.sent_since:
            criteria += ["SENTSINCE", imap_date(query.sent_since)]
        if query.sent_before:
            criteria += ["SENTBEFORE", imap_date(query.sent_before)]
        if query.unseen:
            criteria.append("UNSEEN")
        if query.without_flag:
            criteria += _without_flag(query.without_flag)
        connection = self._conn
        data = self._run("SEARCH", lambda: connection.uid("SEARCH", *(criteria or ["ALL"])))
        uids = b" ".join(line for line in data if isinstance(line, bytes)).split()
        return [str(uid) for uid in sorted(int(uid) for uid in uids)]

    def fetch_summaries(self, folder: str, uids: Sequence[str]) -> list[MessageSummary]:
        """Headers, flags and structure of these messages, read without marking them."""
        self._select(folder, writable=False)
        connection = self._conn
        summaries: list[MessageSummary] = []
        for start in range(0, len(uids), _SUMMARY_BATCH):
            batch = uid_set(uids[start : start + _SUMMARY_BATCH])
            data = self._run(
                "FETCH",
                partial(
                    connection.uid,
                    "FETCH",
                    batch,
                    "(UID FLAGS INTERNALDATE BODYSTRUCTURE BODY.PEEK[HEADER])",
                ),
            )
            for items in parse_fetch_response(data):
                header = items.get("BODY[HEADER]")
                uid = items.get("UID")
                # Other sessions' flag changes arrive as FETCH answers too; they carry no header.
                if not isinstance(header, bytes) or not isinstance(uid, str):
                    continue
                flags = items.get("FLAGS")
                summaries.append(
                    summary_from_headers(
                        header,
                        uid=uid,
                        folder=folder,
                        flags=frozenset(f for f in flags if isinstance(f, str))
                        if isinstance(flags, list)
                        else frozenset(),
                        received=parse_internal_date(items.get("INTERNALDATE")),
                        attachments=_attachments(items.get("BODYSTRUCTURE")),
                    )
                )
        summaries.sort(key=lambda summary: int(summary.uid))
        return summaries

    def fetch_messages(self, folder: str, uids: Sequence[str]) -> Iterator[Message]:
        """These messages whole, one at a time (an attachment may be large), unmarked."""
        for uid in uids:
            self._select(folder, writable=False)
            connection = self._conn
            data = self._run(
                "FETCH", partial(connection.uid, "FETCH", uid, "(UID INTERNALDATE BODY.PEEK[])")
            )
            for items in parse_fetch_response(data):
                raw = items.get("BODY[]")
                if isinstance(raw, bytes) and items.get("UID") == uid:
                    received = parse_internal_date(items.get("INTERNALDATE"))
                    yield parse_message(raw, folder=folder, uid=uid, received=received)
                    break

    def add_flag(self, folder: str, uids: Sequence[str], flag: str) -> None:
        r"""Add a flag (``\Seen``) or a keyword (``$ArcadiaProcessed``) to these messages."""
        if not uids:
            return
        self._select(folder, writable=True)
        connection = self._conn
        self._run(
            "STORE", lambda: connection.uid("STORE", uid_set(uids), "+FLAGS.SILENT", f"({flag})")
        )

    def move(self, folder: str, uids: Sequence[str], destination: str) -> None:
        """Move these messages to ``destination``, which is created if it is missing."""
        if not uids:
            return
        connection = self._conn
        status, data = self._run_raw(
            "CREATE", lambda: connection.create(encode_folder(destination))
        )
        exists = status == "OK" or "ALREADYEXISTS" in _text(data)
        if not exists and destination not in self.list_folders():
            raise MailboxError(
                self._server, f"cannot create the folder {destination!r} ({_text(data)})"
            )
        self._select(folder, writable=True)
        target = uid_set(uids)
        if "MOVE" in self._capabilities:
            self._run("MOVE", lambda: connection.uid("MOVE", target, encode_folder(destination)))
            return
        # Without MOVE (RFC 6851): copy, then delete. UID EXPUNGE (UIDPLUS) removes only ours;
        # a plain EXPUNGE also removes what others marked deleted, so it is the last resort.
        self._run("COPY", lambda: connection.uid("COPY", target, encode_folder(destination)))
        self._run("STORE", lambda: connection.uid("STORE", target, "+FLAGS.SILENT", "(\\Deleted)"))
        if "UIDPLUS" in self._capabilities:
            self._run("EXPUNGE", lambda: connection.uid("EXPUNGE", target))
        else:
            self._run("EXPUNGE", connection.expunge)


def _attachments(structure: Value) -> tuple[AttachmentInfo, ...] | None:
    tree = tree_from_bodystructure(structure)
    return attachment_infos(tree) if tree is not None else None


def _without_flag(flag: str) -> list[str]:
    if flag.lower() in _SYSTEM_FLAGS:
        return [f"UN{flag[1:].upper()}"]  # \Seen -> UNSEEN, \Flagged -> UNFLAGGED
    return ["UNKEYWORD", flag]


def _sendable(text: str) -> bool:
    return text.isascii() and text.isprintable()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _close_quietly(connection: imaplib.IMAP4) -> None:
    # Saying goodbye is a courtesy: a connection that already broke needs no LOGOUT. (Not
    # CLOSE, which would also expunge whatever is marked \Deleted in the folder.)
    try:
        connection.logout()
    except (imaplib.IMAP4.error, OSError):
        with suppress(OSError):
            connection.shutdown()


def _reason(error: BaseException) -> str:
    return _text(list(error.args)) or type(error).__name__


def _os_reason(error: OSError) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "the connection was refused (nothing listens on that port)"
    if isinstance(error, TimeoutError):
        return "the server did not answer in time"
    return error.strerror or str(error) or type(error).__name__


def _text(data: Sequence[object]) -> str:
    parts = []
    for item in data:
        if isinstance(item, bytes):
            parts.append(item.decode("utf-8", errors="replace"))
        elif item is not None:
            parts.append(str(item))
    return " ".join(parts).strip()
