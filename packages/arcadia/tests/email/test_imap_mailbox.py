"""The IMAP mailbox against the real Dovecot: connecting securely, failing clearly, reading
cheaply."""

from __future__ import annotations

import pickle
import socket
import ssl

import pytest
from arcadia.email import (
    EmailFilter,
    ImapMailbox,
    MailboxAuthError,
    MailboxError,
    MailboxUnavailable,
    ProcessedStore,
    SearchQuery,
)
from mail_fixtures import MONITORING, ImapDrop, ImapServer, report_message


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("security", ["tls", "starttls", "none"])
def test_each_kind_of_connection_reads_mail(
    imap_drop: ImapDrop, state: ProcessedStore, security: str
) -> None:
    imap_drop.deliver(report_message())
    mailbox = imap_drop.mailbox(security=security)

    messages = EmailFilter(mailbox, folder=imap_drop.folder, state=state).get_emails()

    assert [m.sender for m in messages] == [MONITORING]


def test_a_certificate_nobody_trusts_is_refused(imap_server: ImapServer) -> None:
    # The system's trust store does not know the test server's self-signed certificate.
    mailbox = ImapMailbox(
        imap_server.host,
        imap_server.imaps_port,
        username=imap_server.user,
        password=imap_server.password,
    )

    with pytest.raises(MailboxUnavailable, match="certificate is not trusted") as caught:
        mailbox.__enter__()

    assert "cafile" in str(caught.value)
    assert isinstance(caught.value.__cause__, ssl.SSLCertVerificationError)


def test_a_wrong_password_is_an_auth_error_without_the_password(
    imap_server: ImapServer,
) -> None:
    mailbox = ImapMailbox(
        imap_server.host,
        imap_server.port,
        username=imap_server.user,
        password="not-the-password",
        security="starttls",
        ssl_context=imap_server.ssl_context(),
    )

    with pytest.raises(MailboxAuthError) as caught, mailbox:
        pass

    error = caught.value
    assert error.username == imap_server.user
    assert "AUTHENTICATIONFAILED" in str(error)
    assert "not-the-password" not in str(error)
    assert "not-the-password" not in repr(mailbox)
    # Errors keep their fields through pickling (process pools, some orchestrators).
    assert pickle.loads(pickle.dumps(error)).username == imap_server.user  # noqa: S301 (our own bytes)


def test_an_oauth2_token_signs_in(imap_drop: ImapDrop, state: ProcessedStore) -> None:
    imap_drop.deliver(report_message())
    server = imap_drop.server
    mailbox = ImapMailbox(
        server.host,
        server.imaps_port,
        username=server.user,
        xoauth2_token=server.oauth2_token(server.user),
        ssl_context=server.ssl_context(),
    )

    messages = EmailFilter(mailbox, folder=imap_drop.folder, state=state).get_emails()

    assert len(messages) == 1


def test_an_expired_oauth2_token_is_an_auth_error(imap_server: ImapServer) -> None:
    token = imap_server.oauth2_token(imap_server.user, expires_in=-60)
    mailbox = ImapMailbox(
        imap_server.host,
        imap_server.imaps_port,
        username=imap_server.user,
        xoauth2_token=token,
        ssl_context=imap_server.ssl_context(),
        timeout=10,
    )

    # The server answers a bad token with a challenge holding its error, then NO; the
    # client must answer that challenge empty rather than loop.
    with pytest.raises(MailboxAuthError, match="refused the credentials") as caught, mailbox:
        pass

    assert token not in str(caught.value)


def test_a_closed_port_is_unavailable(imap_server: ImapServer) -> None:
    port = free_port()
    mailbox = ImapMailbox(
        "127.0.0.1", port, username="user1", password="pass1", security="none", timeout=5
    )

    with pytest.raises(MailboxUnavailable, match="refused") as caught, mailbox:
        pass

    assert f"127.0.0.1:{port}" in str(caught.value)


def test_tls_on_the_plain_port_says_to_check_the_port(imap_server: ImapServer) -> None:
    mailbox = ImapMailbox(
        imap_server.host,
        imap_server.port,
        username=imap_server.user,
        password=imap_server.password,
        security="tls",
        ssl_context=imap_server.ssl_context(),
        timeout=5,
    )

    with pytest.raises(MailboxUnavailable, match="does the port match security="), mailbox:
        pass


def test_a_missing_folder_names_the_existing_ones(imap_drop: ImapDrop) -> None:
    with pytest.raises(MailboxError, match="cannot open the folder 'Nope'") as caught:
        EmailFilter(imap_drop.mailbox(), folder="Nope").has_new()

    assert imap_drop.folder in str(caught.value)
    assert "INBOX" in str(caught.value)


def test_folders_with_any_name(imap_drop: ImapDrop, state: ProcessedStore) -> None:
    imap_drop.deliver(report_message())
    done = f"{imap_drop.folder} Erledigt & geprüft"

    EmailFilter(
        imap_drop.mailbox(),
        folder=imap_drop.folder,
        state=state,
        mark_processed="move",
        processed_folder=done,
    ).get_emails()

    with imap_drop.mailbox() as mailbox:
        assert done in mailbox.list_folders()  # type: ignore[attr-defined]
        assert len(mailbox.search(done, SearchQuery())) == 1


def test_sensors_read_no_message_whole(
    imap_drop: ImapDrop, state: ProcessedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    imap_drop.deliver(report_message(attachments=[("cpu.pdf", "application/pdf", b"%PDF")]))
    imap_drop.deliver(report_message(attachments=[("Überwachung.csv", "text/csv", b"a;b")]))
    mail_filter = EmailFilter(
        imap_drop.mailbox(),
        folder=imap_drop.folder,
        state=state,
        attachment_name="überwachung*.csv",  # the name is in RFC 2231 form in the message
    )

    def fail(*args: object) -> None:
        raise AssertionError("the sensor read a message whole")

    # BODYSTRUCTURE tells the server's view of the attachments; bodies stay on the server.
    monkeypatch.setattr(ImapMailbox, "fetch_messages", fail)
    assert mail_filter.has_new()
    assert mail_filter.matches()


def test_the_server_search_narrows_before_headers_are_read(imap_drop: ImapDrop) -> None:
    imap_drop.deliver(report_message(subject="Daily monitoring report"))
    imap_drop.deliver(report_message(subject="Something else"))
    imap_drop.deliver(report_message(sender="other@example.org"))
    imap_drop.deliver(report_message(), seen=True)

    with imap_drop.mailbox() as mailbox:
        everything = mailbox.search(imap_drop.folder, SearchQuery())
        narrowed = mailbox.search(
            imap_drop.folder,
            SearchQuery(sender=MONITORING, subject="monitoring report", unseen=True),
        )

    assert len(everything) == 4
    assert narrowed == everything[:1]


def test_one_connection_serves_a_whole_call(
    imap_drop: ImapDrop, state: ProcessedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    imap_drop.deliver(report_message())
    connects = []
    original = ImapMailbox._connect

    def counting(self: ImapMailbox) -> object:
        connects.append(1)
        return original(self)

    monkeypatch.setattr(ImapMailbox, "_connect", counting)
    EmailFilter(
        imap_drop.mailbox(), folder=imap_drop.folder, state=state, mark_processed="flag"
    ).get_emails()

    assert len(connects) == 1


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({}, "exactly one of password= or xoauth2_token="),
        ({"password": "a", "xoauth2_token": "b"}, "exactly one of password= or xoauth2_token="),
        ({"password": "a", "security": "ssl"}, "security must be one of tls, starttls, none"),
    ],
)
def test_impossible_settings_are_refused(options: dict[str, object], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        ImapMailbox("imap.example.com", username="etl", **options)  # type: ignore[arg-type]


def test_default_ports_follow_security() -> None:
    assert ImapMailbox("h", username="u", password="p").port == 993
    assert ImapMailbox("h", username="u", password="p", security="starttls").port == 143
    assert ImapMailbox("h", 1143, username="u", password="p").identity == "imap://u@h:1143"


@pytest.mark.parametrize("missing", [{"MOVE"}, {"MOVE", "UIDPLUS"}])
def test_move_works_on_servers_without_the_move_extension(
    imap_drop: ImapDrop,
    state: ProcessedStore,
    monkeypatch: pytest.MonkeyPatch,
    missing: set[str],
) -> None:
    imap_drop.deliver(report_message())
    imap_drop.deliver(report_message(subject="stays"))
    original = ImapMailbox._connect

    def older_server(self: ImapMailbox) -> object:
        connection = original(self)
        self._capabilities -= missing  # as a server without RFC 6851 (and RFC 4315) says
        return connection

    monkeypatch.setattr(ImapMailbox, "_connect", older_server)
    done = f"{imap_drop.folder}-done"
    EmailFilter(
        imap_drop.mailbox(),
        folder=imap_drop.folder,
        state=state,
        subject="Daily",
        mark_processed="move",
        processed_folder=done,
    ).get_emails()

    assert imap_drop.count() == 1
    assert imap_drop.count(done) == 1
