"""Formatting only (no service calls): the portal's ISO dates as readable local times."""

from django import template
from django.utils import timezone
from django.utils.dateparse import parse_datetime

register = template.Library()


@register.filter
def isodate(value) -> str:
    """'2026-01-02T03:04:05.678Z' → '2026-01-02 03:04' (in the current time zone); anything else unchanged."""
    if not value:
        return ""
    try:
        parsed = parse_datetime(str(value))
    except ValueError:
        return str(value)
    if parsed is None:
        return str(value)
    if timezone.is_aware(parsed):
        parsed = timezone.localtime(parsed)
    return parsed.strftime("%Y-%m-%d %H:%M")


@register.filter
def reads(resource) -> str:
    """What a resource reads (its URL with secrets masked, its connection's path, its file), not the portal's
    display_name, which for a URL may be the path alone."""
    from portaladmin.datasets.services.resources import source_reads

    return source_reads(getattr(resource, "datasource", None) or {}, fallback=getattr(resource, "display_name", ""))
