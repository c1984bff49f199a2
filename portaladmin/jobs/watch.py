"""Who is watching which job, in the cache (no database write per browser poll).

The job page and the progress fragment poll the server every 2 s while a job runs: each poll records "watched
until now + JOBS_WATCH_SECONDS" for that job. The poller reads its items every tick while that holds
(schedule.next_delay) and before unwatched ones. When watching starts, the job's waiting items fall due at once
(one UPDATE per start of watching, not per poll), so the screen changes when the portal changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone


def watch_seconds() -> float:
    return float(getattr(settings, "JOBS_WATCH_SECONDS", 10.0))


def _key(job_id: int) -> str:
    return f"jobs:watched:{job_id}"


def job_watched(job_id: int, *, now: datetime | None = None) -> bool:
    """Record that someone looks at the job now. Returns True when nobody was watching it before."""
    from portaladmin.jobs.models import ItemStatus, JobItem

    now = now or timezone.now()
    ttl = watch_seconds()
    started = (cache.get(_key(job_id)) or 0) <= now.timestamp()
    cache.set(_key(job_id), now.timestamp() + ttl, timeout=ttl)
    if started:  # read its items at the next tick instead of at their (possibly distant) scheduled read
        JobItem.objects.filter(job_id=job_id, status=ItemStatus.WAITING,
                               next_poll_at__gt=now + timedelta(seconds=1)).update(next_poll_at=now)
    return started


def watched_jobs(job_ids: Iterable[int], *, now: datetime | None = None) -> set[int]:
    """The jobs among `job_ids` someone is watching (one cache round trip)."""
    ids = list(job_ids)
    if not ids:
        return set()
    now_ts = (now or timezone.now()).timestamp()
    found = cache.get_many([_key(i) for i in ids])
    return {i for i in ids if (found.get(_key(i)) or 0) > now_ts}
