"""Request-scoped dependencies: the database session and the authenticated caller."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from ebling.api.audit_middleware import AUTH_KIND, PRINCIPAL
from ebling.api.problems import Forbidden, ProblemError, Unauthenticated
from ebling.auth.authenticators import (
    AuthenticationUnavailable,
    Authenticator,
    InvalidCredentials,
)
from ebling.auth.principal import Permission, Principal

__all__ = ["Authenticated", "DbSession", "require"]


def _session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


DbSession = Annotated[Session, Depends(_session)]


def _bearer_token(request: Request) -> str | None:
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    # Some tools can only set a plain header; accept the key there too.
    return request.headers.get("x-api-key") or None


def _authenticate(request: Request, session: DbSession) -> Principal:
    token = _bearer_token(request)
    if token is None:
        raise Unauthenticated("No credentials: send 'Authorization: Bearer <API key or token>'.")
    authenticators: list[Authenticator] = request.app.state.authenticators
    for authenticator in authenticators:
        if authenticator.recognises(token):
            setattr(request.state, AUTH_KIND, authenticator.kind)
            try:
                principal = authenticator.authenticate(token, session)
            except InvalidCredentials as error:
                raise Unauthenticated(
                    f"Invalid credentials: {error}.", error="invalid_token"
                ) from error
            except AuthenticationUnavailable as error:
                raise ProblemError(
                    f"Credentials cannot be checked right now: {error}.",
                    status=503,
                    slug="authentication-unavailable",
                    headers={"Retry-After": "5"},
                ) from error
            # End the transaction authentication read in, so the endpoint starts its own (a
            # writer's must begin as such on SQLite; see ebling.db.engine.WRITE).
            session.commit()
            setattr(request.state, PRINCIPAL, principal)
            return principal
    setattr(request.state, AUTH_KIND, "unknown")
    raise Unauthenticated(
        "Invalid credentials: the bearer token is of no kind Ebling accepts.",
        error="invalid_token",
    )


Authenticated = Annotated[Principal, Depends(_authenticate)]
"""The caller, whatever their roles; 401 without valid credentials."""


def require(permission: Permission) -> Callable[..., Principal]:
    """A dependency that lets a request through only if its caller has ``permission``."""

    def _check(principal: Annotated[Principal, Depends(_authenticate)]) -> Principal:
        if not principal.can(permission):
            roles = ", ".join(sorted(principal.roles)) or "none"
            raise Forbidden(f"Your roles ({roles}) do not allow this; it needs '{permission}'.")
        return principal

    return _check
