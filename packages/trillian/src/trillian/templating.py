"""The Jinja environment: templates, and the filters that format Ebling's values for people."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup, escape
from starlette.templating import Jinja2Templates

__all__ = ["format_duration", "parse_time", "templates", "time_tag"]

STATES = ("COMPLETED", "FAILED", "RUNNING", "ABORTED", "NEW")


def parse_time(value: str | datetime | None) -> datetime | None:
    """An RFC 3339 time from Ebling as an aware ``datetime``."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def time_tag(value: str | datetime | None, style: str = "datetime") -> Markup:
    """A ``<time>`` element in UTC, which the browser rewrites into the viewer's zone.

    Args:
        value: the time, as Ebling sent it.
        style: ``datetime``, ``date`` or ``time``: what the browser shows.
    """
    moment = parse_time(value)
    if moment is None:
        return Markup("<span class='muted'>—</span>")
    iso = moment.isoformat().replace("+00:00", "Z")
    text = moment.strftime("%Y-%m-%d %H:%M UTC")
    return Markup('<time datetime="{}" data-style="{}">{}</time>').format(iso, style, text)


def format_duration(seconds: float | None) -> str:
    """A duration people read at a glance: ``850 ms``, ``12.4 s``, ``3 min 5 s``, ``2 h 4 min``."""
    if seconds is None:
        return "—"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def percent(value: float | None) -> str:
    """A ratio as a percentage, ``—`` when there is none."""
    return "—" if value is None else f"{value * 100:.1f} %"


def state_badge(state: str | None) -> Markup:
    """A run state as a badge: a colour and its name, so it never relies on colour alone."""
    if not state:
        return Markup("")
    return Markup('<span class="badge state-{}">{}</span>').format(
        escape(state.lower()), state.capitalize()
    )


def _query(params: dict[str, Any], **changes: Any) -> str:
    """The query string of ``params`` with ``changes``; ``None`` removes a parameter."""
    merged = {**params, **changes}
    pairs: list[tuple[str, str]] = []
    for name, value in merged.items():
        if value is None or value == "":
            continue
        if isinstance(value, list | tuple):
            pairs.extend((name, str(item)) for item in value)
        else:
            pairs.append((name, str(value)))
    return "?" + urlencode(pairs) if pairs else "?"


templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters.update(
    time=time_tag,
    duration=format_duration,
    percent=percent,
    state=state_badge,
)
templates.env.globals.update(query=_query, STATES=STATES)
