"""Server-side sessions: signed ids in the cookie, expiry, renewal."""

from __future__ import annotations

import time

import pytest
from trillian.sessions import SessionStore


def store(**options: float) -> SessionStore:
    return SessionStore(
        b"k" * 32,
        idle_seconds=options.get("idle", 60),
        max_age_seconds=options.get("max_age", 3600),
    )


def test_a_cookie_loads_its_session() -> None:
    sessions = store()
    session = sessions.create()
    assert sessions.load(sessions.cookie_value(session)) is session


@pytest.mark.parametrize(
    "cookie", ["", "nodot", "abc.def", "forged.0123456789abcdef0123456789abcdef"]
)
def test_unknown_or_malformed_cookies_load_nothing(cookie: str) -> None:
    assert store().load(cookie) is None


def test_a_tampered_signature_loads_nothing() -> None:
    sessions = store()
    value = sessions.cookie_value(sessions.create())
    session_id, _, signature = value.rpartition(".")
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    assert sessions.load(f"{session_id}.{flipped}") is None


def test_a_cookie_signed_with_another_secret_loads_nothing() -> None:
    ours, theirs = store(), SessionStore(b"x" * 32, idle_seconds=60, max_age_seconds=60)
    session = ours.create()
    assert theirs.load(ours.cookie_value(session)) is None


def test_the_cookie_holds_no_token() -> None:
    sessions = store()
    session = sessions.create()
    session.access_token = "secret-access-token"
    session.refresh_token = "secret-refresh-token"
    value = sessions.cookie_value(session)
    assert "secret" not in value
    assert value.startswith(session.id + ".")


def test_an_idle_session_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    sessions = store(idle=10)
    session = sessions.create()
    cookie = sessions.cookie_value(session)
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 5)
    assert sessions.load(cookie) is session  # use keeps it alive
    monkeypatch.setattr(time, "time", lambda: now + 14)
    assert sessions.load(cookie) is session
    monkeypatch.setattr(time, "time", lambda: now + 30)
    assert sessions.load(cookie) is None
    assert len(sessions) == 0


def test_an_old_session_expires_however_active(monkeypatch: pytest.MonkeyPatch) -> None:
    sessions = store(idle=100, max_age=150)
    session = sessions.create()
    cookie = sessions.cookie_value(session)
    now = time.time()
    for offset in (60, 120):
        monkeypatch.setattr(time, "time", lambda offset=offset: now + offset)
        assert sessions.load(cookie) is session
    monkeypatch.setattr(time, "time", lambda: now + 160)
    assert sessions.load(cookie) is None


def test_renewal_changes_the_id_and_the_csrf_token() -> None:
    sessions = store()
    session = sessions.create()
    old_cookie, old_csrf = sessions.cookie_value(session), session.csrf_token
    sessions.renew(session)
    assert sessions.load(old_cookie) is None
    assert sessions.load(sessions.cookie_value(session)) is session
    assert session.csrf_token != old_csrf


def test_signing_out_forgets_tokens_and_roles() -> None:
    session = store().create()
    session.access_token, session.id_token = "a", "i"
    session.roles, session.permissions = frozenset({"admin"}), frozenset({"x"})
    session.sign_out()
    assert not session.signed_in
    assert session.id_token is None
    assert not session.can("x")


def test_anonymous_sessions_beyond_the_cap_go_first_oldest_first() -> None:
    sessions = SessionStore(b"k" * 32, idle_seconds=60, max_age_seconds=60, max_sessions=3)
    person = sessions.create()
    person.access_token = "t"
    oldest, newer = sessions.create(), sessions.create()
    oldest.last_seen_at -= 10
    newest = sessions.create()
    assert len(sessions) == 3
    assert sessions.load(sessions.cookie_value(oldest)) is None
    for kept in (person, newer, newest):
        assert sessions.load(sessions.cookie_value(kept)) is kept
