"""The bearer tokens of simple sign-in: short-lived JWTs that Ebling signs itself.

``POST /api/v1/auth/login`` hands one out for a right password. They are HMAC-signed
(HS256) with a random key generated once and kept in Ebling's home, carry the account's
``password_version``, and so stop working when the password is reset.
"""

from __future__ import annotations

import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from ebling.auth.authenticators import InvalidCredentials
from ebling.auth.oidc import looks_like_jwt
from ebling.auth.principal import Principal, Role
from ebling.db.models import LocalAccount

__all__ = [
    "ISSUER",
    "SIGNING_KEY_FILE",
    "IssuedToken",
    "SimpleTokenAuthenticator",
    "issue_token",
    "load_or_create_signing_key",
    "subject_of",
]

ISSUER = "urn:ebling:simple-auth"
AUDIENCE = "ebling"
SIGNING_KEY_FILE = "token-signing-key"
_ALGORITHM = "HS256"
_ROLE_NAMES = frozenset(role.value for role in Role)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token for an account, how long it lasts, and the roles it grants."""

    token: str
    expires_in: int
    roles: list[str]


def subject_of(account: LocalAccount) -> str:
    """The subject an account's requests carry, in tokens and the audit log."""
    return f"local:{account.username}"


def load_or_create_signing_key(home: Path) -> bytes:
    """The home's token-signing key, made on first use (safe with several workers)."""
    path = home / SIGNING_KEY_FILE
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        # Written under a private name, then linked into place: a concurrent worker either
        # wins the link or reads the complete key of the one that did, never a partial file.
        tmp = home / f".{SIGNING_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(32) + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    key = bytes.fromhex(path.read_text().strip())
    if len(key) < 32:
        raise ValueError(f"{path} holds a key shorter than 256 bits; delete it to make anew")
    return key


def issue_token(key: bytes, account: LocalAccount, *, lifetime: timedelta) -> IssuedToken:
    """A signed token for ``account``, valid for ``lifetime``."""
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject_of(account),
        "name": account.username,
        "roles": sorted(account.roles),
        "ver": account.password_version,
        "iat": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
    }
    token = jwt.encode(claims, key, algorithm=_ALGORITHM)
    return IssuedToken(
        token=token, expires_in=int(lifetime.total_seconds()), roles=sorted(account.roles)
    )


class SimpleTokenAuthenticator:
    """Tokens from ``POST /api/v1/auth/login``.

    Args:
        key: The signing key, from :func:`load_or_create_signing_key`.
    """

    kind = "simple"

    def __init__(self, key: bytes) -> None:
        self._key = key

    def recognises(self, token: str) -> bool:
        """Anything shaped like a JWT."""
        return looks_like_jwt(token)

    def authenticate(self, token: str, session: Session) -> Principal:
        """Check the signature, the expiry and that the password has not changed since.

        Raises:
            InvalidCredentials: the token does not verify, has expired, or outlived a
                password reset.
        """
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[_ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "ver"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise InvalidCredentials("the token has expired; sign in again") from error
        except jwt.PyJWTError as error:
            raise InvalidCredentials("the token does not verify") from error

        username = str(claims["sub"]).removeprefix("local:")
        account = session.scalar(select(LocalAccount).where(LocalAccount.username == username))
        if account is None or account.password_version != claims["ver"]:
            raise InvalidCredentials("the token was issued before a password change")
        # The account's roles now, not those in the token: a change takes effect at once.
        return Principal(
            subject=subject_of(account),
            kind="user",
            roles=frozenset(Role(role) for role in account.roles if role in _ROLE_NAMES),
            display_name=account.username,
        )
