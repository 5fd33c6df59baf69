"""Accounts that sign in with a password Ebling keeps: the admin of ``EBLING_AUTH=simple``.

Like Airflow's simple auth manager, the first start creates the account with a generated
password, which is shown once and saved in the home for the person who started Ebling.
Only a scrypt hash is in the database. Guessing is slowed down per account: after a few
failures in a row each further one locks the account for twice as long as the last, up to a
ceiling, so a script gets a handful of tries an hour while a person who mistypes barely
notices.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ebling.auth.passwords import hash_password, verify_password
from ebling.auth.principal import Role
from ebling.db.models import LocalAccount

__all__ = [
    "ADMIN_USERNAME",
    "PASSWORD_FILE",
    "AccountLocked",
    "LoginFailed",
    "check_login",
    "create_admin_account",
    "reset_password",
    "save_password_file",
]

ADMIN_USERNAME = "admin"
PASSWORD_FILE = "admin-password"  # noqa: S105 - a file name

FREE_FAILURES = 5
MAX_LOCK = timedelta(minutes=15)

# Compared against when the username is unknown, so a wrong name takes as long to refuse as
# a wrong password and timing tells no names apart.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


class LoginFailed(Exception):
    """The username or the password is wrong (which of them is not said)."""

    def __init__(self, account: LocalAccount | None) -> None:
        self.account = account
        super().__init__("wrong username or password")


class AccountLocked(Exception):
    """Too many wrong passwords in a row: the account refuses sign-in for a while."""

    def __init__(self, account: LocalAccount, retry_after: timedelta) -> None:
        self.account = account
        self.retry_after_seconds = max(1, int(retry_after.total_seconds() + 0.999))
        super().__init__(
            f"too many failed sign-ins; try again in {self.retry_after_seconds} seconds"
        )


@dataclass(frozen=True, slots=True)
class NewPassword:
    """An account and its new password, which is shown once."""

    account: LocalAccount
    password: str


def create_admin_account(session: Session) -> NewPassword | None:
    """Create the admin account with a generated password, unless it exists; caller commits."""
    if session.scalar(select(LocalAccount).where(LocalAccount.username == ADMIN_USERNAME)):
        return None
    password = _generate_password()
    now = datetime.now(UTC)
    account = LocalAccount(
        username=ADMIN_USERNAME,
        password_hash=hash_password(password),
        password_version=1,
        roles=[Role.ADMIN.value],
        failed_logins=0,
        created_at=now,
        updated_at=now,
    )
    session.add(account)
    session.flush()
    return NewPassword(account=account, password=password)


def reset_password(session: Session, username: str = ADMIN_USERNAME) -> NewPassword:
    """Give an account a new generated password, ending its sessions; caller commits.

    Raises:
        LookupError: no account has that name.
    """
    account = session.scalar(select(LocalAccount).where(LocalAccount.username == username))
    if account is None:
        raise LookupError(f"no account is named {username!r}")
    password = _generate_password()
    account.password_hash = hash_password(password)
    account.password_version += 1
    account.failed_logins = 0
    account.locked_until = None
    account.updated_at = datetime.now(UTC)
    return NewPassword(account=account, password=password)


def check_login(session: Session, username: str, password: str) -> LocalAccount:
    """The account if ``password`` is right; the caller commits either way.

    A failure is counted on the account (and may lock it), so the caller must commit after
    these errors too.

    Raises:
        AccountLocked: the account is locked after too many failures.
        LoginFailed: the username or password is wrong.
    """
    account = session.scalar(select(LocalAccount).where(LocalAccount.username == username))
    if account is None:
        verify_password(password, _DUMMY_HASH)
        raise LoginFailed(None)
    now = datetime.now(UTC)
    if account.locked_until is not None and account.locked_until > now:
        raise AccountLocked(account, account.locked_until - now)

    if not verify_password(password, account.password_hash):
        account.failed_logins += 1
        beyond = account.failed_logins - FREE_FAILURES
        if beyond > 0:
            lock = min(timedelta(seconds=2 ** min(beyond - 1, 20)), MAX_LOCK)
            account.locked_until = now + lock
        raise LoginFailed(account)
    account.failed_logins = 0
    account.locked_until = None
    account.last_login_at = now
    return account


def save_password_file(home: Path, password: str) -> Path:
    """Write ``password`` to the home's password file, readable by its owner only."""
    path = home / PASSWORD_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(password + "\n")
    return path


def _generate_password() -> str:
    return secrets.token_urlsafe(18)
