"""What the object store raises: one base class, and one subclass per thing a caller handles."""

from __future__ import annotations

__all__ = ["InvalidKey", "ObjectNotFound", "StorageError", "StorageUnavailable"]


class StorageError(Exception):
    """Base of every error the object store raises."""


class ObjectNotFound(StorageError):
    """No object is stored under the key."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"no object is stored under the key {key!r}")


class StorageUnavailable(StorageError):
    """The store cannot serve the request: unreachable, refused, misconfigured or full."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"object storage is unavailable: {detail}")


_KEY_RULES = (
    "keys are '/'-separated relative paths of non-empty segments, "
    "without '.' or '..' segments, backslashes or NUL characters"
)


class InvalidKey(StorageError, ValueError):
    """The key is not one the store accepts; nothing was read or written.

    It is also a ``ValueError``, since a bad key is bad input rather than a storage failure.
    """

    def __init__(self, key: str, *, reason: str = _KEY_RULES) -> None:
        self.key = key
        self.reason = reason
        super().__init__(f"invalid object key {key!r}: {reason}")
