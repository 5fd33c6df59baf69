"""Errors as RFC 9457 problem documents (``application/problem+json``)."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = [
    "PROBLEM_JSON",
    "Forbidden",
    "NotFound",
    "ProblemError",
    "Unauthenticated",
    "install_problem_handlers",
]

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class ProblemError(Exception):
    """An error the API answers with a problem document.

    ``slug`` names the kind of problem; it becomes the document's ``type``
    (``urn:ebling:problem:<slug>``) so clients can branch on it without parsing prose.
    """

    status: int = 400
    slug: str | None = None

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        slug: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.detail = detail
        self.status = status or self.status
        self.slug = slug or self.slug
        self.errors = errors
        self.headers = headers
        super().__init__(detail)

    def document(self, instance: str) -> dict[str, Any]:
        """The problem document for a request to ``instance``."""
        body: dict[str, Any] = {
            "type": f"urn:ebling:problem:{self.slug}" if self.slug else "about:blank",
            "title": HTTPStatus(self.status).phrase,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
        }
        if self.errors is not None:
            body["errors"] = self.errors
        return body


class Unauthenticated(ProblemError):
    """No credentials, or credentials that do not check out."""

    status = 401
    slug = "unauthenticated"

    def __init__(self, detail: str, *, error: str | None = None) -> None:
        # RFC 6750: no error code when no credentials came, "invalid_token" for bad ones.
        challenge = 'Bearer realm="ebling"'
        if error is not None:
            challenge += f', error="{error}"'
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class Forbidden(ProblemError):
    """Valid credentials whose roles do not allow the request."""

    status = 403
    slug = "forbidden"


class NotFound(ProblemError):
    """The thing asked for does not exist."""

    status = 404
    slug = "not-found"


def problem_response(error: ProblemError, request: Request) -> JSONResponse:
    """Render ``error`` for ``request``, leaving its detail for the audit log."""
    # The audit log records why a request failed (AUDIT_REASON in ebling.api.audit_middleware).
    request.state.audit_reason = error.detail
    return JSONResponse(
        error.document(request.url.path),
        status_code=error.status,
        media_type=PROBLEM_JSON,
        headers=error.headers,
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error the app can raise come out as a problem document."""

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, error: ProblemError) -> JSONResponse:
        return problem_response(error, request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(part) for part in detail["loc"]), "message": detail["msg"]}
            for detail in error.errors()
        ]
        fields = ", ".join(e["field"] for e in errors)
        problem = ProblemError(
            f"Invalid request: check {fields}.", status=422, slug="invalid-request", errors=errors
        )
        return problem_response(problem, request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        headers = dict(error.headers) if error.headers else None
        problem = ProblemError(str(error.detail), status=error.status_code, headers=headers)
        return problem_response(problem, request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        problem = ProblemError("An unexpected error occurred; it has been logged.", status=500)
        return problem_response(problem, request)
