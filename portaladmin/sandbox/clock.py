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
