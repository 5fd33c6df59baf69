"""Typing text columns: which type every value of a column parses as, and the parsing itself.

Inference and conversion share ``parse_text``, so a type inferred over a whole file always
converts that file: conversion cannot meet a value inference did not accept.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ebling.reports._types import arrow_type
from ebling.reports.schema import ColumnType

__all__ = ["ColumnTyper", "parse_text"]

# Tried in this order for a column's first values; the first that parses them all wins.
_FIRST_GUESSES = (
    ColumnType.INT64,
    ColumnType.FLOAT64,
    ColumnType.BOOLEAN,
    ColumnType.DATE,
    ColumnType.TIMESTAMP,
)

# Where a column goes when a later value does not parse as its type: every value seen
# before parses as each of these too.
_WIDER = {
    ColumnType.INT64: (ColumnType.FLOAT64,),
    ColumnType.FLOAT64: (),
    ColumnType.BOOLEAN: (),
    ColumnType.DATE: (ColumnType.TIMESTAMP,),
    ColumnType.TIMESTAMP: (),
    ColumnType.STRING: (),
}

# A zone after a time of day; a date's own "-01" must not read as an offset.
_TIME_ZONE_SUFFIX = (
    r"[0-9]:[0-9]{2}(?::[0-9]{2})?(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)$"
)
_MANY_DIGITS = r"^[+-]?[0-9]{19,}$"

_TIMESTAMP_NAIVE = pa.timestamp("us")
_TIMESTAMP_UTC = arrow_type(ColumnType.TIMESTAMP)
_NULL_TEXT = pa.scalar(None, pa.string())


def parse_text(values: pa.Array, column_type: ColumnType) -> pa.Array:
    """Parse a string array as ``column_type``; nulls stay null.

    For every type but string, whose values are kept as they are, values are trimmed of
    surrounding white space, and white space alone is null. Numbers with leading zeros are
    codes (postcodes, account numbers) and do not parse as numbers, which would lose the
    zeros; nor do integers of more than 18 digits, which int64 may not hold and float64
    would round. Timestamps without a time zone are taken to be UTC.

    Raises:
        pyarrow.ArrowInvalid: a value does not parse as ``column_type``.
    """
    if column_type == ColumnType.STRING:
        return values
    try:
        return _parse(values, column_type)
    except pa.ArrowInvalid:
        # Trimming costs as much as parsing; only a block that fails untrimmed pays for it.
        trimmed = pc.utf8_trim_whitespace(values)
        return _parse(pc.if_else(pc.equal(trimmed, ""), _NULL_TEXT, trimmed), column_type)


def _parse(values: pa.Array, column_type: ColumnType) -> pa.Array:
    if column_type == ColumnType.TIMESTAMP:
        return _parse_timestamps(values)
    parsed = pc.cast(values, arrow_type(column_type))
    if column_type == ColumnType.INT64:
        # A value that does not print back as itself had leading zeros (or was "-0").
        # min_count=0: a block of nulls alone has nothing wrong with it.
        if not pc.all(pc.equal(pc.cast(parsed, pa.string()), values), min_count=0).as_py():
            raise pa.ArrowInvalid("an integer with leading zeros")
    elif column_type == ColumnType.FLOAT64:
        _reject_number_codes(values)
    return parsed


def _reject_number_codes(values: pa.Array) -> None:
    unsigned = pc.utf8_ltrim(values, characters="+-")
    second = pc.utf8_slice_codeunits(unsigned, 1, 2)
    if pc.any(pc.and_(pc.starts_with(unsigned, "0"), pc.utf8_is_digit(second))).as_py():
        raise pa.ArrowInvalid("a number with leading zeros")
    longest = pc.max(pc.utf8_length(values)).as_py()
    if (
        longest is not None
        and longest > 18
        and pc.any(pc.match_substring_regex(values, _MANY_DIGITS)).as_py()
    ):
        raise pa.ArrowInvalid("an integer of more than 18 digits")


def _parse_timestamps(values: pa.Array) -> pa.Array:
    # Arrow parses a string with an offset only as a zoned timestamp, and one without only
    # as a naive one, so a column mixing both is parsed in two halves.
    try:
        return pc.cast(values, _TIMESTAMP_UTC)
    except pa.ArrowInvalid:
        pass
    try:
        return pc.cast(pc.cast(values, _TIMESTAMP_NAIVE), _TIMESTAMP_UTC)
    except pa.ArrowInvalid:
        pass
    zoned = pc.match_substring_regex(values, _TIME_ZONE_SUFFIX)
    with_zone = pc.cast(pc.if_else(zoned, values, _NULL_TEXT), _TIMESTAMP_UTC)
    naive = pc.cast(pc.if_else(zoned, _NULL_TEXT, values), _TIMESTAMP_NAIVE)
    return pc.if_else(zoned, with_zone, pc.cast(naive, _TIMESTAMP_UTC))


def _blank(values: pa.Array) -> bool:
    """Whether every value is null or white space."""
    if values.null_count == len(values):
        return True
    blank = pc.equal(pc.utf8_trim_whitespace(values), "")
    return bool(pc.all(pc.or_kleene(blank, pc.is_null(values)), min_count=0).as_py())


def _parsed(values: pa.Array, column_type: ColumnType) -> pa.Array | None:
    try:
        return parse_text(values, column_type)
    except pa.ArrowInvalid:
        return None


class ColumnTyper:
    """Narrows one text column's type as its values stream past, block by block.

    A column starts untyped; its first non-null values pick the narrowest type that parses
    them all (trying the hinted type first, if any); a later value that does not parse
    widens it (int64 to float64, date to timestamp), and as a last resort to string, which
    holds anything. So a value at the millionth row changes the type rather than failing.

    Args:
        hint: the type the report already has for this column, preferred when every value
            parses as it.
    """

    def __init__(self, hint: ColumnType | None = None):
        self.hint = hint
        self._type: ColumnType | None = None

    @property
    def column_type(self) -> ColumnType:
        """The type every value seen so far parses as (the hint, or string, if all were null)."""
        return self._type or self.hint or ColumnType.STRING

    def observe(self, values: pa.Array) -> pa.Array:
        """Widen the column's type as far as ``values`` (one block of text) needs.

        Returns:
            The block parsed as the column's type after widening.
        """
        if self._type is None and _blank(values):
            # Nothing to type the column by yet: blank text decides nothing.
            return parse_text(values, self.column_type)
        guesses: tuple[ColumnType, ...]
        if self._type is None:
            guesses = _FIRST_GUESSES if self.hint is None else (self.hint, *_FIRST_GUESSES)
        else:
            guesses = (self._type, *_WIDER[self._type])
        for guess in guesses:
            parsed = _parsed(values, guess)
            if parsed is not None:
                self._type = guess
                return parsed
        self._type = ColumnType.STRING
        return values
