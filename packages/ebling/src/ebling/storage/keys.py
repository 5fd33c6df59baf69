"""Object keys: the one syntax every backend accepts, so a key that works on one works on all."""

from __future__ import annotations

from ebling.storage.errors import InvalidKey

__all__ = ["MAX_KEY_BYTES", "MAX_SEGMENT_BYTES", "validate_key"]

# S3's limit on a whole key, and the usual file systems' limit on one name in a path.
MAX_KEY_BYTES = 1024
MAX_SEGMENT_BYTES = 255


def validate_key(key: str) -> str:
    """Return ``key`` if it is a valid object key, else raise ``InvalidKey``.

    A key is a relative path of non-empty segments joined by '/'. Empty, '.' and '..'
    segments are refused as well as leading and trailing slashes: a local directory would
    fold ``a//b`` into ``a/b`` while S3 keeps them apart, and '..' could escape the store.

    Lengths are limited to what both backends can hold: ``MAX_KEY_BYTES`` for the key and
    ``MAX_SEGMENT_BYTES`` for each segment, in UTF-8.

    Raises:
        InvalidKey: for an empty, absolute or too long key, a bad or too long segment, a
            backslash or a NUL.
    """
    if not key:
        raise InvalidKey(key, reason="the key is empty")
    if "\x00" in key:
        raise InvalidKey(key, reason="the key contains a NUL character")
    if "\\" in key:
        raise InvalidKey(key, reason="the key contains a backslash; separate segments with '/'")
    if key.startswith("/"):
        raise InvalidKey(key, reason="the key is absolute; keys are relative to the store")
    if len(key.encode()) > MAX_KEY_BYTES:
        raise InvalidKey(key, reason=f"the key is longer than {MAX_KEY_BYTES} bytes in UTF-8")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidKey(key, reason=f"the key has an empty, '.' or '..' segment ({segment!r})")
        if len(segment.encode()) > MAX_SEGMENT_BYTES:
            reason = f"a segment is longer than {MAX_SEGMENT_BYTES} bytes in UTF-8"
            raise InvalidKey(key, reason=reason)
    return key
