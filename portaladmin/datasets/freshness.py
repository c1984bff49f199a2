"""Freshness: is a dataset's data late against its expected update frequency? (pure functions, no I/O)

The expected period comes from the dataset's schedules when portaladmin knows them (the shortest interval between
the next runs of its crons), else from its metadata: `dcat.accrualperiodicity` (the EU frequency vocabulary, its
URI or its code, an ISO 8601 duration, or a plain word in English or French) or a `frequency` field. The data's
last update is the metadata `default.modified` date. A dataset is late once that date is older than its period
times LATE_FACTOR (a daily dataset is late after 36 h: a run that slips by a few hours is not an alarm).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from croniter import croniter

LATE_FACTOR = 1.5

DAY = timedelta(days=1)
# EU "frequency" authority codes (http://publications.europa.eu/resource/authority/frequency/…) and plain words.
# Irregular, unknown, never, continuous… have no period: they are never late.
WORDS: dict[str, timedelta] = {
    "hourly": timedelta(hours=1), "1hour": timedelta(hours=1), "horaire": timedelta(hours=1),
    "daily": DAY, "day": DAY, "quotidien": DAY, "quotidienne": DAY, "journalier": DAY, "journaliere": DAY,
    "daily_2": DAY / 2, "bidaily": DAY * 2, "daily_w": DAY,
    "weekly": DAY * 7, "week": DAY * 7, "hebdomadaire": DAY * 7, "weekly_2": DAY * 4, "biweekly": DAY * 14,
    "weekly_3": DAY * 3,
    "monthly": DAY * 31, "month": DAY * 31, "mensuel": DAY * 31, "mensuelle": DAY * 31, "monthly_2": DAY * 16,
    "bimonthly": DAY * 62, "monthly_3": DAY * 11,
    "quarterly": DAY * 92, "trimestriel": DAY * 92, "trimestrielle": DAY * 92,
    "annual": DAY * 366, "annually": DAY * 366, "yearly": DAY * 366, "annuel": DAY * 366, "annuelle": DAY * 366,
    "annual_2": DAY * 183, "semiannual": DAY * 183, "semestriel": DAY * 183, "semestrielle": DAY * 183,
    "annual_3": DAY * 122, "biennial": DAY * 731, "triennial": DAY * 1096,
}
ISO_DURATION = re.compile(r"^(?:R\d*/)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$")


def period_from_frequency(value: object) -> timedelta | None:
    """The expected period of a frequency metadata value, or None (absent, irregular or not understood)."""
    if isinstance(value, dict):
        value = value.get("value") or value.get("code") or value.get("label")
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    match = ISO_DURATION.match(text.upper())
    if match and any(match.groups()):
        y, mo, w, d, h, mi = (int(g or 0) for g in match.groups())
        period = timedelta(days=y * 366 + mo * 31 + w * 7 + d, hours=h, minutes=mi)
        return period if period >= timedelta(minutes=5) else None
    code = text.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]  # a URI's last segment
    key = (code.lower().replace("-", "").replace(" ", "")
           .replace("é", "e").replace("è", "e"))
    return WORDS.get(key) or WORDS.get(key.rstrip("s"))


def period_from_crons(crons: list[str], *, now: datetime) -> timedelta | None:
    """The shortest interval between the next runs of these crons (None without a valid one)."""
    best = None
    for cron in crons:
        try:
            it = croniter(cron, now)
            runs = [it.get_next(datetime) for _ in range(8)]
        except (ValueError, KeyError, TypeError):
            continue
        gap = max(b - a for a, b in zip(runs, runs[1:], strict=False))  # the longest gap: a weekday cron skips the weekend
        best = gap if best is None else min(best, gap)
    return best


def late_at(*, modified: datetime | None, period: timedelta | None) -> datetime | None:
    """When the dataset becomes late (None: no expected period or no known last update)."""
    if modified is None or period is None:
        return None
    return modified + period * LATE_FACTOR
