"""Signing in and out: Ebling's simple login, an API key, or OpenID Connect."""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from trillian.csrf import current_session
from trillian.ebling_client import EblingClient, EblingError, EblingUnauthorized
from trillian.pkce import code_challenge, new_code_verifier
from trillian.sessions import COOKIE_NAME, Session
from trillian.settings import AuthMode
from trillian.signin.oidc import OidcError
from trillian.web import render, services, set_session_cookie

__all__ = ["routes", "safe_next"]

log = logging.getLogger(__name__)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on Trillian only, never another site."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def _session_for_form(request: Request) -> tuple[Session, bool]:
    session = current_session(request)
    if session is not None:
        return session, False
    return services(request).sessions.create(), True


async def login_page(request: Request) -> Response:
    """The sign-in page; creates the anonymous session whose CSRF token the form carries."""
    session, created = _session_for_form(request)
    next_url = safe_next(request.query_params.get("next"))
    if session.signed_in:
        return RedirectResponse(next_url, status_code=303)
    context = {
        "next": next_url,
        "expired": request.query_params.get("expired") == "1",
        "signed_out": request.query_params.get("signed_out") == "1",
        "username": "",
    }
    # The CSRF token of a session created just now is not yet in the base context.
    context["csrf_token"] = session.csrf_token
    response = render(request, "login.html", context)
    if created:
        set_session_cookie(request, response, session)
    return response


async def _identity(ebling: EblingClient, token: str) -> dict[str, Any]:
    me = await ebling.get("/me", token=token)
    if not isinstance(me, dict):
        raise EblingError(502, "Ebling's /me answered with something other than an object.")
    return me


def _sign_in(
    request: Request,
    session: Session,
    me: dict[str, Any],
    *,
    access_token: str,
    access_expires_at: float | None,
    refresh_token: str | None = None,
    refresh_expires_at: float | None = None,
    id_token: str | None = None,
) -> Session:
    session = services(request).sessions.renew(session)
    session.access_token = access_token
    session.access_expires_at = access_expires_at
    session.refresh_token = refresh_token
    session.refresh_expires_at = refresh_expires_at
    session.id_token = id_token
    session.subject = str(me.get("subject", ""))
    session.display_name = str(me.get("display_name") or me.get("subject") or "")
    session.roles = frozenset(str(role) for role in me.get("roles", []))
    session.permissions = frozenset(str(p) for p in me.get("permissions", []))
    log.info("signed in: %s (%s)", session.subject, ", ".join(sorted(session.roles)))
    return session


def _login_failed(request: Request, detail: str, *, username: str, next_url: str) -> Response:
    context = {"error": detail, "username": username, "next": next_url, "expired": False}
    return render(request, "login.html", context, status=401)


async def login_submit(request: Request) -> Response:
    """Check a user name and password with Ebling's login, then sign in."""
    form = await request.form()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    next_url = safe_next(str(form.get("next", "")))
    parts = services(request)
    session = current_session(request)
    if session is None:  # the CSRF check lets no unsafe request without a session through
        return RedirectResponse("/login", status_code=303)
    if parts.settings.auth is not AuthMode.SIMPLE:
        return _login_failed(
            request, "Sign in with the single sign-on button.", username=username, next_url="/"
        )
    if not username or not password:
        return _login_failed(
            request, "Enter your user name and password.", username=username, next_url=next_url
        )
    try:
        answer = await parts.ebling.login(username, password)
        token = str(answer["access_token"])
        me = await _identity(parts.ebling, token)
    except EblingError as error:
        # Wrong password (401), a locked account (429), bad input (422): say so on the form.
        if error.status >= 500:
            raise
        return _login_failed(request, error.detail, username=username, next_url=next_url)
    expires_in = answer.get("expires_in")
    expires_at = time.time() + float(expires_in) if expires_in else None
    session = _sign_in(request, session, me, access_token=token, access_expires_at=expires_at)
    response = RedirectResponse(next_url, status_code=303)
    set_session_cookie(request, response, session)
    return response


async def api_key_submit(request: Request) -> Response:
    """Sign in with an Ebling API key (simple mode): for machines without a password."""
    form = await request.form()
    key = str(form.get("api_key", "")).strip()
    next_url = safe_next(str(form.get("next", "")))
    parts = services(request)
    session = current_session(request)
    if session is None:
        return RedirectResponse("/login", status_code=303)
    if parts.settings.auth is not AuthMode.SIMPLE or not key:
        return _login_failed(request, "Paste an API key.", username="", next_url=next_url)
    try:
        me = await _identity(parts.ebling, key)
    except EblingUnauthorized as error:
        return _login_failed(request, error.detail, username="", next_url=next_url)
    session = _sign_in(request, session, me, access_token=key, access_expires_at=None)
    response = RedirectResponse(next_url, status_code=303)
    set_session_cookie(request, response, session)
    return response


def _redirect_uri(request: Request) -> str:
    return f"{services(request).settings.public_base}/auth/callback"


async def oidc_start(request: Request) -> Response:
    """Send the browser to the identity provider, with PKCE, state and nonce."""
    parts = services(request)
    if parts.oidc is None:
        return RedirectResponse("/login", status_code=303)
    session, created = _session_for_form(request)
    verifier = new_code_verifier()
    session.pending_login = {
        "state": secrets.token_urlsafe(24),
        "nonce": secrets.token_urlsafe(24),
        "verifier": verifier,
        "next": safe_next(request.query_params.get("next")),
    }
    url = await parts.oidc.authorization_url(
        redirect_uri=_redirect_uri(request),
        state=session.pending_login["state"],
        nonce=session.pending_login["nonce"],
        code_challenge=code_challenge(verifier),
    )
    response = RedirectResponse(url, status_code=303)
    if created:
        set_session_cookie(request, response, session)
    return response


async def oidc_callback(request: Request) -> Response:
    """Finish the sign-in: check state, trade the code, verify the id_token, ask Ebling who."""
    parts = services(request)
    session = current_session(request)
    if parts.oidc is None or session is None or not session.pending_login:
        raise OidcError("This sign-in was not started here, or took too long. Sign in again.")
    pending, session.pending_login = session.pending_login, {}
    params = request.query_params
    if "error" in params:
        reason = params.get("error_description") or params["error"]
        raise OidcError(f"The sign-in provider refused: {reason}.")
    if not hmac.compare_digest(params.get("state", ""), pending["state"]):
        raise OidcError("The sign-in answer does not belong to this browser. Sign in again.")
    code = params.get("code")
    if not code:
        raise OidcError("The sign-in provider sent no authorization code. Sign in again.")
    tokens = await parts.oidc.exchange_code(
        code=code,
        redirect_uri=_redirect_uri(request),
        code_verifier=pending["verifier"],
        nonce=pending["nonce"],
    )
    me = await _identity(parts.ebling, tokens.access_token)
    session = _sign_in(
        request,
        session,
        me,
        access_token=tokens.access_token,
        access_expires_at=tokens.access_expires_at,
        refresh_token=tokens.refresh_token,
        refresh_expires_at=tokens.refresh_expires_at,
        id_token=tokens.id_token,
    )
    response = RedirectResponse(pending["next"], status_code=303)
    set_session_cookie(request, response, session)
    return response


async def logout(request: Request) -> Response:
    """End the session here and, with OpenID Connect, at the provider too."""
    parts = services(request)
    session = current_session(request)
    target = "/login?signed_out=1"
    if session is not None:
        if parts.oidc is not None and session.id_token:
            target = await parts.oidc.end_session_url(
                id_token_hint=session.id_token,
                post_logout_uri=f"{parts.settings.public_base}/login?signed_out=1",
            )
        log.info("signed out: %s", session.subject or "anonymous")
        parts.sessions.delete(session)
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response


routes = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login_submit, methods=["POST"]),
    Route("/login/api-key", api_key_submit, methods=["POST"]),
    Route("/login/oidc", oidc_start, methods=["GET"]),
    Route("/auth/callback", oidc_callback, methods=["GET"]),
    Route("/logout", logout, methods=["POST"]),
]
