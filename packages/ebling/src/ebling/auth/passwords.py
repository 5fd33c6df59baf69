"""Password hashes with scrypt, a memory-hard function from the standard library.

A hash reads ``scrypt$<n>$<r>$<p>$<salt>$<digest>`` (salt and digest in base64), so the
cost can be raised later and old hashes still verify with the parameters they were made with.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = ["hash_password", "verify_password"]

# About 50 ms and 32 MiB per hash on a current core: slow for a guesser, fine for a login.
_N = 2**15
_R = 8
_P = 1
_DIGEST_BYTES = 32
_MAX_MEMORY = 128 * 1024 * 1024


def hash_password(password: str) -> str:
    """A salted scrypt hash of ``password``, with its parameters."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, _N, _R, _P)
    return "$".join(["scrypt", str(_N), str(_R), str(_P), _b64(salt), _b64(digest)])


def verify_password(password: str, encoded: str) -> bool:
    """Whether ``password`` matches the hash ``encoded``; False for a malformed hash."""
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAX_MEMORY, dklen=_DIGEST_BYTES
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
