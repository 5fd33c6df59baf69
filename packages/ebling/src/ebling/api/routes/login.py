"""``POST /api/v1/auth/login``: simple sign-in with a password, for ``EBLING_AUTH=simple``."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request

from ebling.api.audit_middleware import AUTH_KIND, PRINCIPAL
from ebling.api.dependencies import DbSession
from ebling.api.problems import NotFound, ProblemError, Unauthenticated
from ebling.api.schemas import LoginRequest, LoginResponse
from ebling.auth.local_accounts import AccountLocked, LoginFailed, check_login
from ebling.auth.principal import Principal, Role
from ebling.auth.simple_tokens import issue_token, subject_of
from ebling.db.engine import WRITE
from ebling.db.models import LocalAccount
from ebling.settings import AuthMode, Settings

router = APIRouter(prefix="/api/v1/auth", tags=["access"])


class TooManyAttempts(ProblemError):
    """Sign-in refused for a while after repeated wrong passwords."""

    status = 429
    slug = "too-many-sign-in-attempts"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            f"Too many failed sign-ins for this account; try again in {retry_after_seconds} s.",
            headers={"Retry-After": str(retry_after_seconds)},
        )


@router.post(
    "/login",
    summary="Sign in with a password (simple auth)",
    responses={401: {"description": "Wrong username or password."}, 429: {}},
)
def login(session: DbSession, request: Request, body: LoginRequest) -> LoginResponse:
    """Trade the admin's username and password for a bearer token.

    Only with ``EBLING_AUTH=simple``; with ``oidc``, people sign in at the identity provider.
    Repeated wrong passwords lock the account for a growing while (429 with Retry-After).
    """
    settings: Settings = request.app.state.settings
    if settings.auth is not AuthMode.SIMPLE:
        raise NotFound(
            "Password sign-in is off with EBLING_AUTH=oidc; sign in at the identity provider "
            f"({settings.oidc_issuer}) and send its access token."
        )
    setattr(request.state, AUTH_KIND, "password")

    session.connection(execution_options=WRITE)
    try:
        account = check_login(session, body.username, body.password)
    except AccountLocked as error:
        _remember_attempt(request, error.account)
        session.commit()
        raise TooManyAttempts(error.retry_after_seconds) from error
    except LoginFailed as error:
        _remember_attempt(request, error.account)
        # The failure count must stick although the request fails.
        session.commit()
        raise Unauthenticated("Wrong username or password.") from error
    session.commit()

    _remember_attempt(request, account)
    lifetime = timedelta(seconds=settings.login_token_lifetime_seconds)
    issued = issue_token(request.app.state.token_signing_key, account, lifetime=lifetime)
    return LoginResponse(
        access_token=issued.token, expires_in=issued.expires_in, roles=issued.roles
    )


def _remember_attempt(request: Request, account: LocalAccount | None) -> None:
    # The audit log names the account an attempt was for, but only an account that exists:
    # a mistyped name may be someone's password.
    if account is not None:
        principal = Principal(
            subject=subject_of(account),
            kind="user",
            roles=frozenset(Role(role) for role in account.roles),
            display_name=account.username,
        )
        setattr(request.state, PRINCIPAL, principal)
