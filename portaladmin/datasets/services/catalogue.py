"""Writes to the catalogue snapshot: the sync, one-row refreshes after writes, status updates from jobs.

The only remote calls here are reads (list, get, status); they never happen on a list view.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import connections as databases
from django.db import router, transaction
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import Truncator

from portaladmin.core.logging import redact
from portaladmin.datasets.freshness import late_at, period_from_crons, period_from_frequency
from portaladmin.datasets.models import CatalogueSync, DatasetSnapshot, SnapshotStatus
from portaladmin.datasets.selectors import search_text
from portaladmin.jobs.registry import parse_since  # the portal-timestamp parser job kinds use
from portaladmin.portals.client import client_for
from portaladmin.portals.client.errors import PortalNotFound
from portaladmin.portals.models import Connection, Health
from portaladmin.portals.services import connection_record_call_failure, connection_record_health

logger = logging.getLogger(__name__)

PAGE_SIZE = 1000
# A sync that adds or removes at least this many rows gathers the table's statistics at once (PostgreSQL).
ANALYZE_AFTER_ROWS = 1000
# A sync pending or running for longer than this is considered lost (worker killed) and may be replaced.
SYNC_STALE_AFTER = timedelta(minutes=30)

_COMMON_FIELDS = ["dataset_id", "title", "description", "keywords", "publisher", "license", "language", "theme",
                  "is_restricted", "is_published", "modified", "created_at", "updated_at", "synced_at", "search",
                  "metadata_period", "late_at"]
# Where a portal keeps a dataset's expected update frequency (the first one present wins).
FREQUENCY_FIELDS = [("dcat", "accrualperiodicity"), ("dcat_ap", "accrualperiodicity"), ("default", "frequency"),
                    ("dcat", "frequency")]
_STATUS_FIELDS = ["status", "status_since", "status_message", "status_checked_at"]


def _text(value: Any, limit: int) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value if v not in (None, ""))
    elif isinstance(value, dict):
        value = value.get("label") or value.get("name") or value.get("value") or ""
    return Truncator(" ".join(strip_tags(str(value)).split())).chars(limit)


def _keywords(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [v for v in value.replace(";", ",").split(",")]
    if not isinstance(value, list | tuple):
        return []
    return [str(v).strip()[:100] for v in value if str(v).strip()][:50]


def snapshot_from_dataset(*, connection: Connection, dataset, now: datetime,
                          list_position: int | None = None) -> tuple[DatasetSnapshot, bool]:
    """An unsaved row from a client Dataset; the bool says whether the answer carried a processing status.
    `list_position`: its place in the portal's list (the sync); a one-row refresh leaves the stored one."""
    meta = dataset.metadata_value
    keywords = _keywords(meta("default", "keyword"))
    title = _text(dataset.title, 500)
    row = DatasetSnapshot(
        connection=connection, uid=dataset.uid, dataset_id=dataset.dataset_id[:255], title=title,
        description=_text(meta("default", "description"), 500), keywords=keywords,
        publisher=_text(meta("default", "publisher"), 255), license=_text(meta("default", "license"), 255),
        language=_text(meta("default", "language"), 20), theme=_text(meta("default", "theme"), 255),
        is_restricted=bool(dataset.is_restricted), is_published=dataset.is_published,
        modified=parse_since(meta("default", "modified")), created_at=parse_since(dataset.created_at),
        updated_at=parse_since(dataset.updated_at), synced_at=now,
        search=search_text(dataset.dataset_id, title, " ".join(keywords)), list_position=list_position,
    )
    row.metadata_period = period_from_frequency(next(
        (v for v in (meta(t, n) for t, n in FREQUENCY_FIELDS) if v not in (None, "", [])), None))
    row.late_at = late_at(modified=row.modified, period=row.metadata_period)  # _upsert: a schedule's period first
    # The spec's list answer carries no status; some portals add one. Use it when it is there.
    raw_status = dataset.raw.get("status") if isinstance(dataset.raw, dict) else None
    if isinstance(raw_status, dict):
        raw_status = raw_status.get("status")
    has_status = isinstance(raw_status, str) and bool(raw_status)
    if has_status:
        row.status = raw_status
        row.status_since = parse_since(dataset.raw.get("status_since") or dataset.raw.get("since"))
        row.status_message = _text(dataset.raw.get("status_message") or "", 1000)
        row.status_checked_at = now
    return row, has_status


def _upsert(rows: list[DatasetSnapshot], *, with_status: bool, with_position: bool = False) -> None:
    if not rows:
        return
    fields = _COMMON_FIELDS + (_STATUS_FIELDS if with_status else []) + (["list_position"] if with_position else [])
    DatasetSnapshot.objects.bulk_create(rows, update_conflicts=True, unique_fields=["connection", "uid"],
                                        update_fields=fields, batch_size=500)
    _late_from_schedules(rows)


def _late_from_schedules(rows: list[DatasetSnapshot]) -> None:
    """The rows whose schedules portaladmin knows: their late_at follows the schedule's period, not the metadata's."""
    by_connection: dict[int, list[str]] = {}
    for row in rows:
        by_connection.setdefault(row.connection_id, []).append(row.uid)
    for connection_id, uids in by_connection.items():
        scheduled = (DatasetSnapshot.objects.filter(connection_id=connection_id, uid__in=uids,
                                                    schedule_period__isnull=False)
                     .only("id", "modified", "schedule_period"))
        for row in scheduled:
            DatasetSnapshot.objects.filter(pk=row.pk).update(
                late_at=late_at(modified=row.modified, period=row.schedule_period))


def snapshot_note_schedules(*, connection: Connection, uid: str, crons: list[str]) -> None:
    """The dataset's schedules were just read: their period is its expected update frequency (none: the metadata's)."""
    row = DatasetSnapshot.objects.filter(connection=connection, uid=uid).only(
        "id", "modified", "metadata_period", "schedule_period").first()
    if row is None:
        return
    period = period_from_crons(crons, now=timezone.now())
    DatasetSnapshot.objects.filter(pk=row.pk).update(
        schedule_period=period, late_at=late_at(modified=row.modified, period=period or row.metadata_period))


def _flush(batch: list[tuple[DatasetSnapshot, bool]]) -> None:
    with transaction.atomic():
        _upsert([r for r, s in batch if s], with_status=True, with_position=True)
        _upsert([r for r, s in batch if not s], with_status=False, with_position=True)


def catalogue_sync_request(*, connection: Connection, actor=None,
                           trigger: str = CatalogueSync.Trigger.MANUAL) -> CatalogueSync:
    """Record a pending sync and enqueue the task on commit; reuse one already pending or running."""
    from portaladmin.datasets.tasks import catalogue_sync as catalogue_sync_task

    active = (CatalogueSync.objects.filter(connection=connection, finished_at__isnull=True,
                                           requested_at__gte=timezone.now() - SYNC_STALE_AFTER)
              .order_by("-requested_at").first())
    if active is not None:
        return active
    sync = CatalogueSync.objects.create(connection=connection, trigger=trigger,
                                        requested_by=actor if getattr(actor, "pk", None) else None)
    connection_id, sync_id = connection.pk, sync.pk
    transaction.on_commit(lambda: catalogue_sync_task.delay(connection_id=connection_id, sync_id=sync_id))
    return sync


def catalogue_sync_run(*, connection: Connection, sync: CatalogueSync | None = None) -> CatalogueSync:
    """Page through every dataset (≤ 1000 per request), upsert them in bulk, delete the ones that disappeared.

    Nothing is deleted unless the whole listing succeeded. Rows written meanwhile by a refresh (newer synced_at)
    are kept. A failure is recorded on the CatalogueSync row (redacted) and re-raised.
    """
    if sync is None:
        sync = CatalogueSync.objects.create(connection=connection, trigger=CatalogueSync.Trigger.PERIODIC)
    marker = timezone.now()
    sync.started_at = marker
    sync.save(update_fields=["started_at"])
    existing = set(DatasetSnapshot.objects.filter(connection=connection).values_list("uid", flat=True))
    seen: set[str] = set()
    batch: list[tuple[DatasetSnapshot, bool]] = []
    try:
        client = client_for(connection)
        for position, dataset in enumerate(client.dataset_iter(page_size=PAGE_SIZE)):
            if not dataset.uid or dataset.uid in seen:
                continue
            seen.add(dataset.uid)
            batch.append(snapshot_from_dataset(connection=connection, dataset=dataset, now=marker,
                                               list_position=position))
            if len(batch) >= PAGE_SIZE:
                _flush(batch)
                batch = []
        _flush(batch)
        with transaction.atomic():
            deleted, _ = _delete_stale(connection, marker)
    except Exception as exc:
        sync.finished_at = timezone.now()
        sync.count = len(seen)
        sync.error = redact(str(exc))[:1000] or type(exc).__name__
        sync.save(update_fields=["finished_at", "count", "error"])
        logger.warning("catalogue sync of %s failed: %s", connection.slug, sync.error)
        connection_record_call_failure(connection=connection, exc=exc)
        raise
    sync.finished_at = timezone.now()
    sync.count = len(seen)
    sync.created = len(seen - existing)
    sync.deleted = deleted
    sync.pages = max(1, -(-len(seen) // PAGE_SIZE))
    sync.save(update_fields=["finished_at", "count", "created", "deleted", "pages"])
    _prune_history(connection)
    if sync.created + deleted >= ANALYZE_AFTER_ROWS:
        _analyze_snapshots()
    # A full listing is a successful call: the overview's health and dataset count follow it.
    connection_record_health(connection=connection, health=Health.OK, dataset_count=len(seen))
    logger.info("catalogue sync of %s: %d datasets, %d new, %d gone", connection.slug, len(seen), sync.created,
                deleted)
    return sync


def _analyze_snapshots() -> None:
    """PostgreSQL: gather the snapshot table's statistics now, not when autovacuum next passes (up to a minute or
    more after a first sync of 20,000 rows): until then its planner believes the new rows absent and may pick plans
    that read them all once per row."""
    database = databases[router.db_for_write(DatasetSnapshot)]
    if database.vendor == "postgresql":
        with database.cursor() as cursor:
            cursor.execute(f"ANALYZE {DatasetSnapshot._meta.db_table}")


def _prune_history(connection: Connection, keep: int = 50) -> None:
    """Keep the last `keep` sync records of a connection (the periodic sync adds ~100 a day)."""
    old = list(CatalogueSync.objects.filter(connection=connection, finished_at__isnull=False)
               .order_by("-requested_at", "-id").values_list("id", flat=True)[keep:keep + 500])
    if old:
        CatalogueSync.objects.filter(id__in=old).delete()


def _delete_stale(connection: Connection, marker: datetime) -> tuple[int, dict]:
    # Every row seen by this run has synced_at >= marker: the older ones disappeared from the portal.
    return DatasetSnapshot.objects.filter(connection=connection, synced_at__lt=marker).delete()


def snapshot_store(*, connection: Connection, dataset, status=None) -> DatasetSnapshot:
    """Upsert one row from a Dataset the portal just answered (and a DatasetStatus when one was read)."""
    now = timezone.now()
    row, has_status = snapshot_from_dataset(connection=connection, dataset=dataset, now=now)
    if status is not None:
        row.status = status.status or SnapshotStatus.UNKNOWN
        row.status_since = parse_since(status.since)
        row.status_message = _text(status.message or "", 1000)
        row.status_checked_at = now
        if status.is_published is not None:
            row.is_published = status.is_published
        has_status = True
    _upsert([row], with_status=has_status)
    return DatasetSnapshot.objects.get(connection=connection, uid=dataset.uid)


def snapshot_forget(*, connection: Connection, uid: str) -> int:
    """The dataset is gone from the portal: drop its row."""
    deleted, _ = DatasetSnapshot.objects.filter(connection=connection, uid=uid).delete()
    return deleted


def snapshot_refresh(*, connection: Connection, uid: str, with_status: bool = True) -> DatasetSnapshot | None:
    """Re-read one dataset (and its status) from the portal; None and the row removed when it is gone."""
    client = client_for(connection)
    try:
        dataset = client.dataset_get(uid)
        status = client.dataset_status(uid) if with_status else None
    except PortalNotFound:
        snapshot_forget(connection=connection, uid=uid)
        return None
    return snapshot_store(connection=connection, dataset=dataset, status=status)


def snapshot_apply_status(*, connection: Connection | int, uid: str, status: str, since: datetime | None = None,
                          message: str = "", is_published: bool | None = None) -> int:
    """Copy a status already read elsewhere (the jobs poller) onto the row. Returns rows changed (0 or 1)."""
    changes: dict[str, Any] = {"status": (status or SnapshotStatus.UNKNOWN)[:30], "status_message": message[:1000],
                               "status_checked_at": timezone.now()}
    if since is not None:
        changes["status_since"] = since
    if is_published is not None:
        changes["is_published"] = is_published
    conn_id = connection.pk if isinstance(connection, Connection) else connection
    return DatasetSnapshot.objects.filter(connection_id=conn_id, uid=uid).update(**changes)
