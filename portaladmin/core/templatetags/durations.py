"""Durations in words: 'try again in 15 minutes', not 'PT15M'."""

from datetime import timedelta

from django import template

register = template.Library()


@register.filter
def duration_words(value) -> str:
    if not isinstance(value, timedelta):
        return ""
    minutes = max(1, round(value.total_seconds() / 60))
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours, rest = divmod(minutes, 60)
    words = f"{hours} hour{'s' if hours != 1 else ''}"
    return words + (f" {rest} minute{'s' if rest != 1 else ''}" if rest else "")
