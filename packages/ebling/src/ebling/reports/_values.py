"""Values crossing the API: parsed from a query into a column's type, and back into JSON."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

from ebling.reports.errors import InvalidQuery
from ebling.reports.schema import Column, ColumnType

__all__ = ["cursor_value", "json_value", "parse_value"]

_INT64_RANGE = range(-(2**63), 2**63)
_TRUE = {"true", "1"}
_FALSE = {"false", "0"}
_EXAMPLES = {
    ColumnType.STRING: "any text",
    ColumnType.INT64: "a whole number such as 42",
    ColumnType.FLOAT64: "a number such as 3.5",
    ColumnType.BOOLEAN: "true or false",
    ColumnType.DATE: "a date such as 2024-01-31",
    ColumnType.TIMESTAMP: "a time with an offset such as 2024-01-31T08:00:00Z, or a date",
}


def parse_value(column: Column, value: object, *, role: str) -> Any:
    """``value`` (from a query string or JSON) as a Python value of ``column``'s type.

    None stays None. Text is parsed; a timestamp needs an offset (a bare date means its
    midnight UTC), since a time without one would have to be guessed.

    Args:
        column: the column the value is compared with.
        value: the value as the caller sent it.
        role: what the value is, for the message (``"filter value"``, ``"cursor value"``).

    Raises:
        InvalidQuery: the value is not of the column's type.
    """
    if value is None:
        return None
    try:
        parsed = _parse(column.type, value)
    except (ValueError, TypeError, OverflowError):
        parsed = None
    if parsed is None:
        raise InvalidQuery(
            f"{role} {value!r} does not fit column {column.name!r} ({column.type}): "
            f"expected {_EXAMPLES[column.type]}"
        )
    return parsed


def _parse(column_type: ColumnType, value: object) -> Any:
    text = value.strip() if isinstance(value, str) else None
    if column_type == ColumnType.STRING:
        return value if isinstance(value, str) else None
    if column_type == ColumnType.BOOLEAN:
        if isinstance(value, bool):
            return value
        if text is not None and text.lower() in _TRUE | _FALSE:
            return text.lower() in _TRUE
        return None
    if isinstance(value, bool):
        return None  # True is an int to Python, but not a number to anyone sending it
    if column_type == ColumnType.INT64:
        number = int(text) if text is not None else value
        if isinstance(number, float) and number.is_integer():
            number = int(number)
        return number if isinstance(number, int) and number in _INT64_RANGE else None
    if column_type == ColumnType.FLOAT64:
        if text is not None:
            return float(text)  # also reads the "NaN" and "Infinity" that cursors carry
        return float(value) if isinstance(value, int | float) else None
    if text is None:
        return None
    if column_type == ColumnType.DATE:
        return date.fromisoformat(text)
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
    moment = datetime.fromisoformat(text)
    return moment.astimezone(UTC) if moment.tzinfo is not None else None


def json_value(value: Any) -> Any:
    """A value fetched from DuckDB as JSON has it: RFC 3339 UTC times, ISO dates.

    Non-finite floats, which JSON cannot hold, become None.
    """
    if isinstance(value, datetime):
        return _rfc3339(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def cursor_value(value: Any) -> Any:
    """Like ``json_value``, but exact: a cursor must find its row again, NaN included."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return json_value(value)


def _rfc3339(moment: datetime) -> str:
    text = moment.astimezone(UTC).replace(tzinfo=None).isoformat()
    return f"{text}Z"
