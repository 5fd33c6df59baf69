"""How failures reach people: a sign-in page, a 403 page, or Ebling's message, readably."""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from trillian.csrf import current_session
from trillian.ebling_client import (
    EblingError,
    EblingForbidden,
    EblingNotFound,
    EblingUnauthorized,
)
from trillian.signin.oidc import OidcError
from trillian.web import Forbidden, SignInRequired, render, sign_in_url

__all__ = ["install_error_pages"]

log = logging.getLogger(__name__)


def _to_sign_in(request: Request, *, expired: bool) -> Response:
    url = sign_in_url(request, expired=expired)
    if request.headers.get("hx-request"):
        # A fragment cannot redirect the page around it; HTMX does it on this header.
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def _error_page(
    request: Request, status: int, title: str, detail: str, errors: list[dict[str, object]]
) -> Response:
    return render(
        request,
        "errors/error.html",
        {"status": status, "title": title, "detail": detail, "errors": errors},
        status=status,
    )


async def _sign_in_required(request: Request, error: Exception) -> Response:
    if not isinstance(error, SignInRequired):
        raise error
    return _to_sign_in(request, expired=error.expired)


async def _ebling_unauthorized(request: Request, error: Exception) -> Response:
    # Ebling no longer accepts the token (expired, revoked, Ebling restarted): sign in again.
    session = current_session(request)
    if session is not None:
        session.sign_out()
    return _to_sign_in(request, expired=True)


async def _forbidden(request: Request, error: Exception) -> Response:
    detail = error.detail if isinstance(error, Forbidden | EblingForbidden) else str(error)
    return _error_page(request, 403, "Not allowed", detail, [])


async def _not_found(request: Request, error: Exception) -> Response:
    detail = error.detail if isinstance(error, EblingNotFound) else "There is no such page."
    return _error_page(request, 404, "Not found", str(detail), [])


async def _ebling_error(request: Request, error: Exception) -> Response:
    if not isinstance(error, EblingError):
        raise error
    status = error.status if 400 <= error.status < 500 else 502
    title = "Ebling could not answer" if status == 502 else "Ebling refused the request"
    return _error_page(request, status, title, error.detail, error.errors)


async def _oidc_error(request: Request, error: Exception) -> Response:
    return _error_page(request, 502, "Sign-in failed", str(error), [])


async def _http_error(request: Request, error: Exception) -> Response:
    if not isinstance(error, HTTPException):
        raise error
    if error.status_code == 404:
        return await _not_found(request, error)
    return _error_page(request, error.status_code, "Request refused", str(error.detail), [])


def install_error_pages(app: Starlette) -> None:
    """Turn every error a page can raise into the page a person should see."""
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(EblingUnauthorized, _ebling_unauthorized)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(EblingForbidden, _forbidden)
    app.add_exception_handler(EblingNotFound, _not_found)
    app.add_exception_handler(EblingError, _ebling_error)
    app.add_exception_handler(OidcError, _oidc_error)
    app.add_exception_handler(HTTPException, _http_error)
