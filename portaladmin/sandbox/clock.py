"""The sandbox's only clock. Tests replace `now` (see tests/sandbox/conftest.py) so no test sleeps."""

import datetime as dt


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse(value: str) -> dt.datetime:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def portal_iso(portal, value: str | None) -> str | None:
    """A timestamp as this portal shows it: on its own clock (clock_offset_seconds off ours) and, when the portal
    has whole-second precision, truncated to the second."""
    if not value:
        return value
    when = parse(value) + dt.timedelta(seconds=float(getattr(portal, "clock_offset_seconds", 0.0) or 0.0))
    if getattr(portal, "whole_second_since", False):
        return when.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return iso(when)


def portal_now(portal) -> dt.datetime:
    return now() + dt.timedelta(seconds=float(getattr(portal, "clock_offset_seconds", 0.0) or 0.0))
