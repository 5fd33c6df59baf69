"""Fixtures: the test Dovecot (from the environment), and a fresh drop for mail per test.

The Dovecot comes from ``ARCADIA_TEST_IMAP_*`` (the test command starts one with
``scripts/services/dovecot.sh`` and sets them; ``ARCADIA_TEST_IMAP_DIR`` is the directory
the script was given, where it left the certificate and the OAuth2 signing key). Without
them the IMAP cases skip, except in CI, where they fail: CI must test against a real IMAP
server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from arcadia.email import ProcessedStore
from mail_fixtures import ImapDrop, ImapServer, MaildirDrop

IN_CI = os.environ.get("CI") == "true"


def imap_server_or_skip() -> ImapServer:
    """The test Dovecot, from ``ARCADIA_TEST_IMAP_*``."""
    host = os.environ.get("ARCADIA_TEST_IMAP_HOST")
    directory = os.environ.get("ARCADIA_TEST_IMAP_DIR")
    if host and not directory:
        pytest.fail("ARCADIA_TEST_IMAP_DIR must name the directory given to dovecot.sh start")
    if host and directory:
        return ImapServer(
            host=host,
            port=int(os.environ.get("ARCADIA_TEST_IMAP_PORT", "10143")),
            imaps_port=int(os.environ.get("ARCADIA_TEST_IMAPS_PORT", "10993")),
            user=os.environ.get("ARCADIA_TEST_IMAP_USER", "user1"),
            password=os.environ.get("ARCADIA_TEST_IMAP_PASSWORD", "pass1"),
            directory=Path(directory),
        )
    if IN_CI:
        pytest.fail("ARCADIA_TEST_IMAP_HOST is not set; CI must test against a real Dovecot")
    pytest.skip("ARCADIA_TEST_IMAP_HOST is not set (the README's test command sets it)")


@pytest.fixture(scope="session")
def imap_server() -> ImapServer:
    """The Dovecot the test command started."""
    return imap_server_or_skip()


@pytest.fixture
def imap_drop(imap_server: ImapServer) -> Iterator[ImapDrop]:
    """A fresh folder on the test Dovecot."""
    drop = ImapDrop(imap_server)
    yield drop
    drop.close()


@pytest.fixture(params=["maildir", "imap"])
def drop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ImapDrop | MaildirDrop]:
    """Somewhere to deliver mail to: a Maildir, and a folder on the real Dovecot."""
    if request.param == "maildir":
        yield MaildirDrop(tmp_path / "Maildir")
        return
    imap_drop: ImapDrop = request.getfixturevalue("imap_drop")
    yield imap_drop


@pytest.fixture
def state(tmp_path: Path) -> ProcessedStore:
    """A processed-message store of the test's own."""
    return ProcessedStore(tmp_path / "state.db")
