"""Turning a bearer credential into a ``Principal``.

Each way of authenticating is an ``Authenticator``; the first that recognises the shape of a
token decides. API keys are one; OpenID Connect access tokens (``ebling.auth.oidc``) and the
tokens of simple sign-in (``ebling.auth.simple_tokens``) are the others.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from ebling.auth.api_keys import looks_like_api_key, verify_api_key
from ebling.auth.principal import Principal

__all__ = [
    "ApiKeyAuthenticator",
    "AuthenticationUnavailable",
    "Authenticator",
    "InvalidCredentials",
]


class InvalidCredentials(Exception):
    """A credential in a known format that did not verify; the message says why."""


class AuthenticationUnavailable(Exception):
    """A credential could not be checked now, e.g. the identity provider did not answer.

    Not the caller's fault, so it is no 401: the caller should try again later.
    """


class Authenticator(Protocol):
    """One way of authenticating callers.

    ``kind`` names the way in the audit log when a credential of this kind is refused.
    """

    kind: str

    def recognises(self, token: str) -> bool:
        """Whether ``token`` is of the kind this authenticator verifies."""
        ...

    def authenticate(self, token: str, session: Session) -> Principal:
        """The caller ``token`` stands for.

        Raises:
            InvalidCredentials: the token is of this kind but does not verify.
            AuthenticationUnavailable: the token could not be checked at the moment.
        """
        ...


class ApiKeyAuthenticator:
    """API keys created with ``ebling api-key create`` or the API."""

    kind = "api_key"

    def recognises(self, token: str) -> bool:
        """API keys start with a fixed prefix."""
        return looks_like_api_key(token)

    def authenticate(self, token: str, session: Session) -> Principal:
        """Look the key up by its prefix and compare hashes."""
        principal = verify_api_key(session, token)
        if principal is None:
            raise InvalidCredentials("the API key is unknown, revoked or expired")
        return principal
