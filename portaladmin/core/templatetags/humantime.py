"""Times and durations in words, in the person's time zone (set by accounts.middleware from their profile).

`{{ value|when }}` → `<time datetime="…" title="exact local time">3 min ago</time>`, for datetimes and the
portal's ISO strings alike (`|when_text` the same in plain text, for attributes); `{{ value|elapsed }}` → "3 min 5 s" since then; `{{ value|duration }}` → "12 s", "3 min 5 s", "2 h 4 min". Unknown values → "—".
Loaded for every template (TEMPLATES builtins).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html

register = template.Library()
UNKNOWN = "—"


def as_datetime(value) -> datetime | None:
    """A datetime from a datetime or an ISO 8601 string (the portal's), aware in UTC when it had no zone."""
    if isinstance(value, datetime):
        parsed = value
    elif value:
        try:
            parsed = parse_datetime(str(value))
        except ValueError:
            return None
        if parsed is None:
            return None
    else:
        return None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, timezone.UTC)


def duration_text(seconds: float | int | None) -> str:
    if seconds is None:
        return UNKNOWN
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} days {hours} h" if hours else f"{days} days"


def relative_text(moment: datetime, now: datetime) -> str:
    delta = (now - moment).total_seconds()
    if abs(delta) < 45:
        return "just now"
    if abs(delta) >= 30 * 86400:  # a month away, "5 weeks ago" reads worse than the date
        local = timezone.localtime(moment)
        return f"{local.day} {local.strftime('%b %Y')}"
    amount = duration_text(abs(delta)).split(" ", 2)
    words = " ".join(amount[:2])  # the largest unit is enough: "3 min ago", not "3 min 5 s ago"
    return f"{words} ago" if delta > 0 else f"in {words}"


@register.filter(is_safe=True)
def when(value) -> str:
    moment = as_datetime(value)
    if moment is None:
        return UNKNOWN
    local = timezone.localtime(moment)
    return format_html('<time datetime="{}" title="{}">{}</time>', moment.isoformat(),
                       local.strftime("%Y-%m-%d %H:%M:%S %Z"), relative_text(moment, timezone.now()))


@register.filter
def when_text(value) -> str:
    """`when` without markup, for an attribute (a confirm text, a title): "12 min ago (2026-12-01 01:58 UTC)".
    `when` inside an attribute would end it at the first quote of its <time> element."""
    moment = as_datetime(value)
    if moment is None:
        return UNKNOWN
    local = timezone.localtime(moment)
    return f"{relative_text(moment, timezone.now())} ({local.strftime('%Y-%m-%d %H:%M %Z')})"


@register.filter(is_safe=True)
def elapsed(value) -> str:
    """How long since a moment ("3 min"), the moment itself on hover: for "in this state for …"."""
    moment = as_datetime(value)
    if moment is None:
        return UNKNOWN
    return format_html('<time datetime="{}" title="since {}">{}</time>', moment.isoformat(),
                       timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %Z"),
                       duration_text((timezone.now() - moment).total_seconds()))


@register.filter
def duration(value) -> str:
    """A timedelta or a number of seconds in words; a (start, end) pair is not needed: subtract in the view."""
    if isinstance(value, timedelta):
        return duration_text(value.total_seconds())
    if isinstance(value, int | float) and not isinstance(value, bool):
        return duration_text(value)
    return UNKNOWN


@register.simple_tag
def took(start, end) -> str:
    """The time between two moments ("took {% took a b %}"), a dash when either is unknown."""
    a, b = as_datetime(start), as_datetime(end)
    return duration_text((b - a).total_seconds()) if a and b else UNKNOWN


@register.filter(name="safe_html")
def safe_html_filter(value) -> str:
    """HTML from a portal or a person, drawn as HTML after the allowlist sanitiser (core.sanitize)."""
    from portaladmin.core.sanitize import safe_html

    return safe_html(value if isinstance(value, str) else "")
