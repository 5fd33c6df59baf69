"""The one key syntax both backends accept."""

from __future__ import annotations

import pytest
from ebling.storage import InvalidKey
from ebling.storage.keys import validate_key


@pytest.mark.parametrize(
    "key",
    [
        "a",
        "a/b/c.csv",
        ".hidden",
        "a..b",
        "..a/b..",
        "with space/ü.txt",
        "x" * 255,
        "a/" * 511 + "bb",
    ],
)
def test_valid_keys_pass(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("", "empty"),
        ("/a", "absolute"),
        ("a/../b", "'..'"),
        ("..", "'..'"),
        ("./a", "'.'"),
        ("a//b", "empty"),
        ("a/", "empty"),
        ("a\\b", "backslash"),
        ("a\x00b", "NUL"),
        ("x" * 256, "segment is longer"),
        ("ü" * 128, "segment is longer"),
        ("a/" * 512 + "b", "key is longer"),
    ],
)
def test_invalid_keys_say_why(key: str, reason: str) -> None:
    with pytest.raises(InvalidKey) as raised:
        validate_key(key)

    assert raised.value.key == key
    assert reason in raised.value.reason
    assert str(raised.value).startswith(f"invalid object key {key!r}: ")
