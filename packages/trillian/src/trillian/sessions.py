"""Server-side sessions: the cookie holds a signed random id, never a token.

Sessions live in the memory of the one Trillian process. A restart signs everybody out,
which is the price of keeping tokens off disk and out of the browser; run one process (or
sticky sessions) per deployment.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field

__all__ = ["COOKIE_NAME", "Session", "SessionStore"]

COOKIE_NAME = "trillian_session"


@dataclass(slots=True)
class Session:
    """One browser's session; anonymous until ``access_token`` is set."""

    id: str
    csrf_token: str
    created_at: float
    last_seen_at: float
    access_token: str | None = None
    access_expires_at: float | None = None
    refresh_token: str | None = None
    refresh_expires_at: float | None = None
    id_token: str | None = None
    subject: str = ""
    display_name: str = ""
    roles: frozenset[str] = frozenset()
    permissions: frozenset[str] = frozenset()
    #: What an OpenID Connect sign-in in progress needs back at the callback.
    pending_login: dict[str, str] = field(default_factory=dict)
    #: A message for the next page (e.g. a new API key, shown once).
    flash: dict[str, str] = field(default_factory=dict)

    @property
    def signed_in(self) -> bool:
        """Whether a person is signed in on this session."""
        return self.access_token is not None

    def can(self, permission: str) -> bool:
        """Whether the person's roles grant ``permission`` (as Ebling's /me listed them)."""
        return permission in self.permissions

    def sign_out(self) -> None:
        """Forget the person's tokens and identity, keeping the session for a new sign-in."""
        self.access_token = self.refresh_token = self.id_token = None
        self.access_expires_at = self.refresh_expires_at = None
        self.subject = self.display_name = ""
        self.roles = self.permissions = frozenset()


class SessionStore:
    """Sessions in memory, each with an idle timeout and a maximum age.

    Args:
        secret: key for signing session ids in cookies.
        idle_seconds: a session unused this long is over.
        max_age_seconds: a session this old is over, however active.
        max_sessions: beyond this many, the least recently used anonymous sessions go first,
            so that visitors who never sign in cannot fill the memory.
    """

    def __init__(
        self,
        secret: bytes,
        *,
        idle_seconds: float,
        max_age_seconds: float,
        max_sessions: int = 50_000,
    ) -> None:
        self._secret = secret
        self._idle = idle_seconds
        self._max_age = max_age_seconds
        self._max_sessions = max_sessions
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def _signature(self, session_id: str) -> str:
        return hmac.new(self._secret, session_id.encode(), hashlib.sha256).hexdigest()[:32]

    def cookie_value(self, session: Session) -> str:
        """The cookie for ``session``: its id and a signature over it."""
        return f"{session.id}.{self._signature(session.id)}"

    def create(self) -> Session:
        """A new anonymous session."""
        now = time.time()
        session = Session(
            id=secrets.token_urlsafe(32),
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
        )
        with self._lock:
            self._purge(now)
            self._sessions[session.id] = session
        return session

    def load(self, cookie: str | None) -> Session | None:
        """The live session a cookie names, or ``None`` if it is unknown, forged or over."""
        if not cookie or "." not in cookie:
            return None
        session_id, _, signature = cookie.rpartition(".")
        if not hmac.compare_digest(signature, self._signature(session_id)):
            return None
        now = time.time()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            if self._expired(session, now):
                del self._sessions[session_id]
                return None
            session.last_seen_at = now
            return session

    def renew(self, session: Session) -> Session:
        """Give ``session`` a new id and CSRF token (after sign-in, against session fixation)."""
        with self._lock:
            self._sessions.pop(session.id, None)
            session.id = secrets.token_urlsafe(32)
            session.csrf_token = secrets.token_urlsafe(32)
            self._sessions[session.id] = session
        return session

    def delete(self, session: Session) -> None:
        """End ``session``."""
        with self._lock:
            self._sessions.pop(session.id, None)

    def __len__(self) -> int:
        return len(self._sessions)

    def _expired(self, session: Session, now: float) -> bool:
        return now - session.last_seen_at > self._idle or now - session.created_at > self._max_age

    def _purge(self, now: float) -> None:
        # Called on creation so that abandoned sessions do not pile up in a long-lived process.
        for session_id in [s.id for s in self._sessions.values() if self._expired(s, now)]:
            del self._sessions[session_id]
        excess = len(self._sessions) + 1 - self._max_sessions
        if excess > 0:
            anonymous = sorted(
                (s for s in self._sessions.values() if not s.signed_in),
                key=lambda s: s.last_seen_at,
            )
            for session in anonymous[:excess]:
                del self._sessions[session.id]
