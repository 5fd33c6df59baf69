"""The errors a mailbox raises, each building its message from its fields.

Errors of ``imaplib``, ``ssl``, ``sqlite3`` and the operating system never escape a mailbox:
they are caught where the library is called and raised again as one of these, ``from`` the
original.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MailboxAuthError", "MailboxError", "MailboxUnavailable"]


class MailboxError(Exception):
    """The base of every error of ``arcadia.email``; raised itself for a refused command.

    Attributes:
        location: The mailbox: ``host:port`` for a server, a path for a Maildir.
        reason: What went wrong.
        hint: What to check, when something more specific than the reason can be said.
    """

    def __init__(self, location: str, reason: str, *, hint: str = "") -> None:
        self.location = location
        self.reason = reason
        self.hint = hint
        super().__init__(self._message())

    def _message(self) -> str:
        message = f"mailbox {self.location}: {self.reason}"
        return f"{message}; {self.hint}" if self.hint else message

    def __reduce__(self) -> tuple[Any, ...]:
        # The default rebuilds an exception from its message alone, which these constructors
        # do not take; keep the fields, so that the error survives pickling (multiprocessing).
        return _rebuild, (type(self), self.args, self.__dict__)


class MailboxAuthError(MailboxError):
    """The server refused the credentials.

    Attributes:
        username: Who tried to sign in.
    """

    def __init__(self, location: str, username: str, reason: str) -> None:
        self.username = username
        super().__init__(
            location,
            f"the server refused the credentials of {username!r} ({reason})",
            hint="check the user name, the password or OAuth2 token, and that the account "
            "may use IMAP",
        )


class MailboxUnavailable(MailboxError):
    """The mailbox cannot be reached: nothing listens, the network or TLS failed, or it is gone."""

    def _message(self) -> str:
        message = f"mailbox {self.location} is unavailable: {self.reason}"
        return f"{message}; {self.hint}" if self.hint else message


def _rebuild(
    cls: type[MailboxError], args: tuple[Any, ...], fields: dict[str, Any]
) -> MailboxError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(fields)
    return error
