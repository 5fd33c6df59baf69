"""Opaque cursors for keyset pagination.

A cursor carries the sort key of the last item of a page, so the next page starts right
after it without OFFSET (which slows down as it grows) and without skipping or repeating
items when new ones arrive in between.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

import orjson

from ebling.api.problems import ProblemError

__all__ = ["InvalidCursor", "decode_cursor", "encode_cursor"]


class InvalidCursor(ProblemError):
    """A cursor that this endpoint did not hand out."""

    status = 400
    slug = "invalid-cursor"

    def __init__(self) -> None:
        super().__init__("The cursor is not valid here; pass the next_cursor of a previous page.")


def encode_cursor(kind: str, values: list[Any]) -> str:
    """A cursor for a list of ``kind``, positioned after an item with sort key ``values``."""
    raw = orjson.dumps([kind, values])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(kind: str, cursor: str, parsers: tuple[Callable[[Any], Any], ...]) -> list[Any]:
    """The sort key inside ``cursor``, each part read back with its parser.

    Raises:
        InvalidCursor: the cursor was not made by ``encode_cursor`` for ``kind``.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        found_kind, values = orjson.loads(raw)
        if found_kind != kind or not isinstance(values, list) or len(values) != len(parsers):
            raise InvalidCursor
        return [parse(value) for parse, value in zip(parsers, values, strict=True)]
    except (binascii.Error, ValueError, TypeError, AttributeError) as error:
        raise InvalidCursor from error
