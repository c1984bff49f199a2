"""Formatting for harvester pages (no service calls)."""

from django import template
from django.utils.dateparse import parse_datetime

register = template.Library()


@register.filter
def isodate(value):
    """An ISO 8601 string from the portal → an aware datetime (None when empty or unreadable)."""
    if not value:
        return None
    try:
        return parse_datetime(str(value))
    except ValueError:
        return None


@register.filter
def get_item(mapping, key):
    return (mapping or {}).get(key)


@register.filter
def plain(value):
    """A configuration value for display: booleans as yes/no, dicts as key = value lines."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {plain(v)}" for k, v in value.items()) or "—"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "—"
    return "—" if value in (None, "") else value
