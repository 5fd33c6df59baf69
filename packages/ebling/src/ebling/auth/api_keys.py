"""API keys: random secrets for scripts and machines, stored only as hashes.

A key reads ``ebl_<prefix>_<secret>``. The prefix finds the row and is safe to show; the
secret is 256 random bits, so a fast hash (SHA-256) is enough: there is nothing to guess
that a slow password hash would protect.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ebling.auth.principal import Principal, Role
from ebling.db.models import ApiKey

__all__ = [
    "KEY_PREFIX",
    "ApiKeyNotFound",
    "CreatedApiKey",
    "create_api_key",
    "looks_like_api_key",
    "revoke_api_key",
    "verify_api_key",
]

KEY_PREFIX = "ebl_"

# Touching last_used_at on every request would turn each read into a write; once a minute
# is precise enough to tell a live key from a forgotten one.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyNotFound(LookupError):
    """No API key has that id."""

    def __init__(self, key_id: int) -> None:
        self.key_id = key_id
        super().__init__(f"no API key has id {key_id}")


@dataclass(frozen=True, slots=True)
class CreatedApiKey:
    """A new key's row and its secret, which is shown once and never again."""

    record: ApiKey
    token: str


def looks_like_api_key(token: str) -> bool:
    """Whether a bearer token is an API key rather than, say, a JWT."""
    return token.startswith(KEY_PREFIX)


def create_api_key(
    session: Session,
    *,
    name: str,
    roles: list[Role],
    expires_at: datetime | None = None,
    created_by: str | None = None,
) -> CreatedApiKey:
    """Create a key with ``roles``; the caller commits."""
    if not roles:
        raise ValueError("an API key needs at least one role")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    record = ApiKey(
        name=name,
        prefix=prefix,
        secret_hash=_hash(secret),
        roles=sorted({role.value for role in roles}),
        created_at=datetime.now(UTC),
        created_by=created_by,
        expires_at=expires_at,
    )
    session.add(record)
    session.flush()
    return CreatedApiKey(record=record, token=f"{KEY_PREFIX}{prefix}_{secret}")


def verify_api_key(session: Session, token: str) -> Principal | None:
    """The principal a key stands for, or None if it is unknown, revoked or expired."""
    prefix, _, secret = token.removeprefix(KEY_PREFIX).partition("_")
    if not prefix or not secret:
        return None
    record = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if record is None or not hmac.compare_digest(record.secret_hash, _hash(secret)):
        return None
    now = datetime.now(UTC)
    if record.revoked_at is not None or (record.expires_at and record.expires_at <= now):
        return None

    if record.last_used_at is None or now - record.last_used_at >= _LAST_USED_RESOLUTION:
        record.last_used_at = now
        session.commit()
    return Principal(
        subject=f"api-key:{record.id}",
        kind="api_key",
        roles=frozenset(Role(role) for role in record.roles),
        display_name=record.name,
    )


def revoke_api_key(session: Session, key_id: int) -> ApiKey:
    """Revoke a key for good; revoking twice keeps the first time. The caller commits."""
    record = session.get(ApiKey, key_id)
    if record is None:
        raise ApiKeyNotFound(key_id)
    if record.revoked_at is None:
        record.revoked_at = datetime.now(UTC)
    return record


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()
