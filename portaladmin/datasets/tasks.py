"""Celery tasks of the datasets app: ids only, the service does the work."""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="datasets.catalogue_sync", acks_late=True, reject_on_worker_lost=True, ignore_result=True,
             soft_time_limit=600, time_limit=660)
def catalogue_sync(connection_id: int, sync_id: int | None = None) -> None:
    """Sync one connection's catalogue snapshot. Idempotent: a redelivery simply syncs again."""
    from portaladmin.datasets.models import CatalogueSync
    from portaladmin.datasets.services import catalogue_sync_run
    from portaladmin.portals.client.errors import PortalError
    from portaladmin.portals.models import Connection

    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None:
        return
    sync = CatalogueSync.objects.filter(pk=sync_id, connection=connection).first() if sync_id else None
    if sync is not None and sync.finished_at is not None:
        return  # already done (redelivered)
    try:
        catalogue_sync_run(connection=connection, sync=sync)
    except PortalError:
        pass  # recorded on the CatalogueSync row; the next periodic run tries again


@shared_task(name="datasets.catalogue_sync_all", ignore_result=True)
def catalogue_sync_all() -> int:
    """Beat: request a sync of every connection that is not paused (a sync already running is reused)."""
    from django.utils import timezone

    from portaladmin.datasets.models import CatalogueSync
    from portaladmin.datasets.services import catalogue_sync_request
    from portaladmin.portals.models import Connection

    now = timezone.now()
    count = 0
    for connection in Connection.objects.all():
        if connection.paused_until and connection.paused_until > now:
            continue
        catalogue_sync_request(connection=connection, trigger=CatalogueSync.Trigger.PERIODIC)
        count += 1
    return count


@shared_task(name="datasets.status_scan_batch", acks_late=True, reject_on_worker_lost=True, ignore_result=True,
             soft_time_limit=120, time_limit=150)
def status_scan_batch(connection_id: int, uids: list[str]) -> int:
    """Read the statuses of the rows one poll tick reserved (ids only; a redelivery reads them again)."""
    from portaladmin.datasets.services.scan import scan_batch

    return scan_batch(connection_id=connection_id, uids=uids)["requests"]


@shared_task(name="datasets.feedback_count_scan", ignore_result=True)
def feedback_count_scan(connection_id: int) -> int:
    """Count every dataset's open feedback (a read; one request per dataset). Idempotent: a repeat counts again."""
    from portaladmin.datasets.services.extras import feedback_count_scan as scan
    from portaladmin.portals.client.errors import PortalError
    from portaladmin.portals.models import Connection

    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None:
        return 0
    try:
        return scan(connection=connection)
    except PortalError as exc:
        logger.warning("feedback count on %s stopped: %s", connection.slug, exc)
        return 0
