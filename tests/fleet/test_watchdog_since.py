"""The watchdog's "busy for too long" reads one expression, COALESCE(status_since, status_checked_at) < threshold
(the partial index snapshot_conn_busy_since): the same datasets as the two conditions it replaces."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from portaladmin.fleet.selectors import watchdog


def test_busy_since_or_last_read_when_the_portal_gave_no_since(connection, cast, make_snapshots, settings):
    settings.WATCHDOG_BUSY_MINUTES = 30
    now = timezone.now()
    old, recent = now - timedelta(hours=2), now - timedelta(minutes=5)
    make_snapshots(connection, 1, prefix="since-old", status="processing", status_since=old, status_checked_at=recent)
    make_snapshots(connection, 1, prefix="no-since-old-read", status="queued", status_since=None, status_checked_at=old)
    make_snapshots(connection, 1, prefix="since-recent", status="processing", status_since=recent,
                   status_checked_at=old)  # its since wins over an old read
    make_snapshots(connection, 1, prefix="no-since-recent-read", status="queued", status_since=None,
                   status_checked_at=recent)
    make_snapshots(connection, 1, prefix="never-read", status="processing", status_since=None, status_checked_at=None)
    make_snapshots(connection, 1, prefix="idle-old", status="idle", status_since=old, status_checked_at=old)

    stuck = watchdog(user=cast["viewer"], now=now).datasets
    assert sorted(d.dataset_id for d in stuck) == ["no-since-old-read-00000", "since-old-00000"]
