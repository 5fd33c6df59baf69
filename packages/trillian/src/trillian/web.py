"""What every page handler needs: the app's parts, the signed-in person, rendering."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from trillian.access import visible_navigation
from trillian.csrf import current_session
from trillian.ebling_client import EblingClient
from trillian.sessions import COOKIE_NAME, Session, SessionStore
from trillian.settings import AuthMode, Settings
from trillian.signin.oidc import OidcClient, OidcError
from trillian.templating import templates

__all__ = [
    "Forbidden",
    "Services",
    "SignInRequired",
    "access_token",
    "render",
    "require",
    "services",
    "set_session_cookie",
    "sign_in_url",
    "viewer_zone",
]

log = logging.getLogger(__name__)

#: Refresh an access token this many seconds before it expires, so a page never races it.
REFRESH_MARGIN_SECONDS = 30


@dataclass(slots=True)
class Services:
    """The long-lived parts of the app, shared by every request."""

    settings: Settings
    ebling: EblingClient
    sessions: SessionStore
    oidc: OidcClient | None


class SignInRequired(Exception):
    """The request needs a signed-in person; ``expired`` when they were signed in before."""

    def __init__(self, *, expired: bool = False) -> None:
        self.expired = expired
        super().__init__("the session has expired" if expired else "sign-in required")


class Forbidden(Exception):
    """The person is signed in, but their roles do not allow this page."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


def services(request: Request) -> Services:
    """The app's shared parts."""
    found: Services = request.app.state.services
    return found


def require(request: Request, permission: str | None = None) -> Session:
    """The signed-in session of ``request``, allowed ``permission``.

    Raises:
        SignInRequired: nobody is signed in, or the session is over.
        Forbidden: the person's roles do not grant ``permission``.
    """
    session = current_session(request)
    if session is None or not session.signed_in:
        raise SignInRequired()
    if permission is not None and not session.can(permission):
        roles = ", ".join(sorted(session.roles)) or "none"
        raise Forbidden(f"Your roles ({roles}) do not allow this page; it needs '{permission}'.")
    return session


async def access_token(request: Request, session: Session) -> str:
    """The person's access token for Ebling, refreshed first when it is about to expire.

    Raises:
        SignInRequired: the token expired and cannot be refreshed.
    """
    token = session.access_token
    if token is None:
        raise SignInRequired()
    expires_at = session.access_expires_at
    if expires_at is None or time.time() < expires_at - REFRESH_MARGIN_SECONDS:
        return token

    oidc = services(request).oidc
    refresh = session.refresh_token
    still_refreshable = session.refresh_expires_at is None or time.time() < (
        session.refresh_expires_at
    )
    if oidc is None or refresh is None or not still_refreshable:
        session.sign_out()
        raise SignInRequired(expired=True)
    try:
        tokens = await oidc.refresh(refresh)
    except OidcError as error:
        log.info("refreshing the access token failed: %s", error)
        session.sign_out()
        raise SignInRequired(expired=True) from error
    session.access_token = tokens.access_token
    session.access_expires_at = tokens.access_expires_at
    session.refresh_token = tokens.refresh_token or refresh
    session.refresh_expires_at = tokens.refresh_expires_at
    session.id_token = tokens.id_token or session.id_token
    log.info("refreshed the access token of %s", session.subject)
    return tokens.access_token


def viewer_zone(request: Request) -> ZoneInfo:
    """The viewer's time zone, which the browser reports in the ``tz`` cookie; UTC if none."""
    name = request.cookies.get("tz", "UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> HTMLResponse:
    """Render ``template`` with what every page shows: the person, their menu, the CSRF token."""
    session = current_session(request)
    settings = services(request).settings
    base = {
        "session": session,
        "navigation": visible_navigation(session),
        "csrf_token": session.csrf_token if session else "",
        "auth_mode": settings.auth.value,
        "is_oidc": settings.auth is AuthMode.OIDC,
        "path": request.url.path,
    }
    return templates.TemplateResponse(
        request, template, {**base, **(context or {})}, status_code=status
    )


def set_session_cookie(request: Request, response: Response, session: Session) -> None:
    """Point the browser's cookie at ``session``: HttpOnly, SameSite=Lax, Secure over https."""
    parts = services(request)
    response.set_cookie(
        COOKIE_NAME,
        parts.sessions.cookie_value(session),
        httponly=True,
        samesite="lax",
        secure=parts.settings.secure_cookies,
        path="/",
    )


def sign_in_url(request: Request, *, expired: bool = False) -> str:
    """The sign-in page, coming back afterwards to the page asked for.

    The page that explains why is chosen by a code, never by text in the URL, so a link
    cannot put words of its own on Trillian's sign-in page.
    """
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.headers.get("hx-request"):
        # A fragment's URL is no page to come back to; the page around it is.
        target = request.headers.get("hx-current-url", "/")
        target = "/" + target.split("/", 3)[3] if target.count("/") >= 3 else "/"
    url = f"/login?next={quote(target, safe='')}"
    return url + "&expired=1" if expired else url
