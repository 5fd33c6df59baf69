"""Cross-site request forgery protection, and loading the session every request needs.

Every unsafe request (POST, PUT, PATCH, DELETE) must carry the session's CSRF token, in the
``X-CSRF-Token`` header (HTMX sends it, set once on ``<body>``) or, for a plain form, in a
``csrf_token`` field. The check runs as middleware, before any route, so no route can forget
it. SameSite=Lax cookies already stop most cross-site posts; the token also covers browsers
and subdomain set-ups where they do not.
"""

from __future__ import annotations

import hmac
from urllib.parse import parse_qs

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trillian.sessions import COOKIE_NAME, Session, SessionStore

__all__ = ["CSRF_FIELD", "CSRF_HEADER", "SessionAndCsrfMiddleware", "current_session"]

CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Trillian's own forms are a few fields; anything larger is not one of them.
MAX_FORM_BYTES = 64 * 1024
_SCOPE_KEY = "trillian.session"


def current_session(request: Request) -> Session | None:
    """The live session of ``request``, if its cookie names one."""
    session: Session | None = request.scope.get(_SCOPE_KEY)
    return session


def _refuse(detail: str) -> PlainTextResponse:
    return PlainTextResponse(detail, status_code=403)


class SessionAndCsrfMiddleware:
    """Puts the request's session in its scope and checks CSRF tokens on unsafe methods."""

    def __init__(self, app: ASGIApp, *, store: SessionStore) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Load the session, then check the token of an unsafe request before routing it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        session = self.store.load(request.cookies.get(COOKIE_NAME))
        scope[_SCOPE_KEY] = session
        if scope["method"] not in UNSAFE_METHODS:
            await self.app(scope, receive, send)
            return

        if session is None:
            await _refuse(
                "Your session has ended. Reload the page, sign in again, and repeat the action."
            )(scope, receive, send)
            return
        headers = Headers(scope=scope)
        sent = headers.get(CSRF_HEADER)
        replay = receive
        if sent is None:
            body, replay = await _buffer_form(headers, receive)
            if body is None:
                await _refuse("The form is too large or not a form.")(scope, receive, send)
                return
            sent = (parse_qs(body.decode("utf-8", "replace")).get(CSRF_FIELD) or [""])[0]
        if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
            await _refuse(
                "The form's security token does not match your session. Reload the page and "
                "try again."
            )(scope, receive, send)
            return
        await self.app(scope, replay, send)


async def _buffer_form(headers: Headers, receive: Receive) -> tuple[bytes | None, Receive]:
    """Read a URL-encoded body whole and hand back a ``receive`` that replays it."""
    content_type = headers.get("content-type", "").split(";")[0].strip()
    if content_type != "application/x-www-form-urlencoded":
        return None, receive
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None, receive
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return None, receive
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay
