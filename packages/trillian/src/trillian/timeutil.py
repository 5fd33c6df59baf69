"""Times as Ebling wants them in query strings."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["rfc3339"]


def rfc3339(moment: datetime) -> str:
    """``moment`` in UTC with a ``Z``, the way Ebling's filters take it."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
