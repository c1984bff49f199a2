"""Keeps the snapshot status of busy datasets fresh from the jobs engine (portaladmin.jobs.signals)."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def on_item_remote_state(sender, item, **kwargs) -> None:
    """A dataset job item's remote state changed: copy it onto the snapshot row (no remote call)."""
    from portaladmin.datasets.bulk_metadata import KIND as METADATA_EDIT
    from portaladmin.datasets.services import snapshot_apply_status

    kind = getattr(getattr(item, "job", None), "kind", "") or ""
    if kind == "dataset.delete":  # deleted (or found gone): the row leaves the catalogue snapshot
        if item.status == "succeeded":
            from portaladmin.datasets.services.catalogue import snapshot_forget

            snapshot_forget(connection=item.connection_id, uid=item.target)
        return
    if not kind.startswith("dataset.") or not item.remote_state or kind == METADATA_EDIT:
        return  # a metadata edit's remote state ("saved") is not the dataset's processing status
    details = item.details if isinstance(item.details, dict) else {}
    published = details.get("is_published")
    snapshot_apply_status(connection=item.connection_id, uid=item.target, status=item.remote_state,
                          since=item.remote_since, message=item.message or "",
                          is_published=published if isinstance(published, bool) else None)


def places_of(sender, connection_id, targets, **kwargs) -> dict[str, int]:
    """The poller's list hint asks where its datasets sit in the portal's list: their places at the last sync."""
    from portaladmin.datasets.models import DatasetSnapshot

    chunk = 5000  # SQLite takes a bounded number of parameters per statement
    targets, places = list(targets), {}
    for start in range(0, len(targets), chunk):
        places.update(DatasetSnapshot.objects.filter(
            connection_id=connection_id, uid__in=targets[start:start + chunk], list_position__isnull=False)
            .values_list("uid", "list_position"))
    return places


def on_job_finished(sender, job, **kwargs) -> None:
    """A bulk metadata edit that asked for it: publish the metadata of the published datasets it changed."""
    from portaladmin.datasets.bulk_metadata import metadata_bulk_publish_after

    metadata_bulk_publish_after(job=job)


def on_poll_tick_done(sender, now, polls, **kwargs) -> None:
    """Each poll tick: the status scan reserves what the jobs left of each portal's budget, then rings a batch."""
    from django.db import transaction

    from portaladmin.datasets.services.scan import scan_reserve
    from portaladmin.datasets.tasks import status_scan_batch

    plans = scan_reserve(now=now, polls=polls)

    def ring():
        for connection_id, uids in plans.items():
            try:
                status_scan_batch.delay(connection_id=connection_id, uids=uids)
            except Exception:  # noqa: BLE001 - the rows' reservation expires and the next tick takes them again
                logger.exception("could not enqueue the status scan of connection %s", connection_id)

    if plans:
        transaction.on_commit(ring)
