"""Turning what happened into Events with a truthful subject, and into one Delivery per matching rule.

Sources: a job reaching its final status (jobs.signals.job_finished), the jobs sweeper marking a job stuck past
its deadline (jobs.signals.job_stuck), a job's items busy on the portal past the watchdog's limit (the notify
tick, job_watchdog_scan), and a connection's health changing between reachable and unreachable /
key refused (portals.signals.connection_health_changed, sent by connection_record_health on a transition only:
a portal down for an hour is one "unreachable" event and one "recovered", not one per failed call).

Datasets (datasets.signals.status_changes, sent by the status scan after each batch): a row whose status CHANGES
into error / limit_reached is recorded once as a DatasetChange (dedup key: connection, uid, status, since; a
re-check finding the same status is no change). The changes of one connection are told together in ONE
event when the scan pass ends, or NOTIFY_DATASET_HOLD_SECONDS after the first one waiting (the beat tick): a
portal where 300 datasets break at once is one message per rule listing them, not 300.
Late datasets (the notify tick, notify.events.dataset_late_scan): a snapshot whose `late_at` passed (its data is
older than its expected update period allows: datasets.freshness) is recorded once as a DatasetChange with status
"late" and since = late_at (the same late_at is never told twice; fresh data moves late_at, so becoming late again
is a new event), and the newly late datasets of one connection are told together in ONE event.
Harvesters (jobs.signals.item_remote_state): a harvester.start item that ends failed because the run reported
has_error is a "harvester run with errors" event (once per item).

Other events: event_emit(kind=..., dedup_key=..., connections=[conn], subject=..., text=..., link=..., data=...);
matching, dedup, channels and digests then just work.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from portaladmin.core.logging import redact
from portaladmin.notify.models import DatasetChange, Event, EventKind
from portaladmin.portals.models import Connection, Health

JOB_EVENTS = {"failed": EventKind.JOB_FAILED, "partially_failed": EventKind.JOB_PARTIALLY_FAILED,
              "succeeded": EventKind.JOB_SUCCEEDED}


def absolute(path: str) -> str:
    return settings.PORTALADMIN_SELF_URL.rstrip("/") + path if path.startswith("/") else path


def event_emit(*, kind: str, dedup_key: str, connections: list[Connection], subject: str, text: str = "",
               link: str = "", data: dict | None = None, at: datetime | None = None) -> Event | None:
    """Record the event once (None when this dedup_key was already recorded) and queue its deliveries."""
    from portaladmin.notify.services import deliveries_create

    try:
        with transaction.atomic():
            event = Event.objects.create(kind=kind, dedup_key=dedup_key[:200], subject=redact(subject)[:300],
                                         text=redact(text), link=link, data=data or {}, created_at=at or timezone.now())
            event.connections.set(connections)
            deliveries_create(event=event)
    except IntegrityError:
        return None  # the same happening, recorded twice: one event
    return event


def job_connections(job) -> list[Connection]:
    return list(job.connections.all()) or ([job.connection] if job.connection_id else [])


def job_counts(job) -> dict:
    return {"total": job.total, "succeeded": job.succeeded_count, "failed": job.failed_count,
            "cancelled": job.cancelled_count, "in_progress": job.pending_count + job.running_count}


def job_subject(job, *, prefix: str | None = None) -> str:
    """'Partially failed · Publish 20 datasets on Lyon: 4 failed, 16 succeeded' — the job page's own counts."""
    counts = job_counts(job)
    parts = [f"{counts[k]} {label}" for k, label in (("failed", "failed"), ("succeeded", "succeeded"),
                                                     ("cancelled", "cancelled"), ("in_progress", "still in progress"))
             if counts[k]]
    names = ", ".join(c.name for c in job_connections(job))
    outcome = prefix or job.get_status_display()
    return f"{outcome} · {job.title}{f' on {names}' if names else ''}: {', '.join(parts) or 'nothing to do'}"


def _job_data(job) -> dict:
    return {"object": {"type": "job", "id": job.pk, "kind": job.kind, "title": job.title, "status": job.status},
            "outcome": job.status, "counts": job_counts(job)}


def job_event(job) -> Event | None:
    kind = JOB_EVENTS.get(job.status)
    if kind is None:
        return None  # cancelled or still active: nothing to tell
    from portaladmin.jobs.models import ItemStatus

    subject = job_subject(job)
    lines = [subject]
    failed = list(job.items.filter(status=ItemStatus.FAILED).select_related("connection").order_by("id")[:20])
    if failed:
        lines += ["", "Failed items:"] + [f"- {i.connection.name} · {i.label}: {i.message}" for i in failed]
        if job.failed_count > len(failed):
            lines.append(f"… and {job.failed_count - len(failed)} more.")
    return event_emit(kind=kind, dedup_key=f"job:{job.pk}:{job.status}", connections=job_connections(job),
                      subject=subject, text="\n".join(lines), link=job.get_absolute_url(), data=_job_data(job),
                      at=job.finished_at)


def job_stuck_event(job) -> Event | None:
    subject = job_subject(job, prefix="Stuck past its deadline")
    text = f"{subject}\n\nSome items have not reached a final state; the watchdog flagged the job."
    return event_emit(kind=EventKind.JOB_STUCK, dedup_key=f"job-stuck:{job.pk}", connections=job_connections(job),
                      subject=subject, text=text, link=job.get_absolute_url(), data=_job_data(job) | {"outcome": "stuck"})


def job_watchdog_scan(*, now: datetime | None = None) -> list[Event]:
    """Jobs with items the portal has been busy with (sent, no final state yet) for longer than
    WATCHDOG_BUSY_MINUTES — what the overview's watchdog shows — told once per job (kind job.stuck), hours before
    the job's own deadline makes it "stuck past its deadline". Called by the notify tick."""
    from django.db.models import Q

    from portaladmin.jobs.models import JOB_ACTIVE, ItemStatus, Job, JobItem

    now = now or timezone.now()
    minutes = int(settings.WATCHDOG_BUSY_MINUTES)
    since = now - timedelta(minutes=minutes)
    busy = (JobItem.objects.filter(status__in=(ItemStatus.RUNNING, ItemStatus.WAITING), job__status__in=JOB_ACTIVE)
            .filter(Q(sent_at__lt=since) | Q(sent_at__isnull=True, started_at__lt=since)))
    job_ids = set(busy.order_by().values_list("job_id", flat=True).distinct())
    told = set(Event.objects.filter(dedup_key__in=[f"job-watchdog:{i}" for i in job_ids])
               .values_list("dedup_key", flat=True))
    events = []
    for job in Job.objects.filter(pk__in=[i for i in job_ids if f"job-watchdog:{i}" not in told]).order_by("pk"):
        count = busy.filter(job=job).count()
        subject = job_subject(job, prefix=f"{count} item{'s' if count != 1 else ''} busy on the portal for over "
                                          f"{minutes} min")
        text = (f"{subject}\n\nThe portal has not brought {'these items' if count != 1 else 'this item'} to a final "
                "state within the watchdog's limit; the job goes on watching until its deadline.")
        event = event_emit(kind=EventKind.JOB_STUCK, dedup_key=f"job-watchdog:{job.pk}", connections=job_connections(job),
                           subject=subject, text=text, link=job.get_absolute_url(), at=now,
                           data=_job_data(job) | {"outcome": "busy_past_watchdog"})
        if event is not None:
            events.append(event)
    return events


BAD = {Health.UNREACHABLE: EventKind.CONNECTION_UNREACHABLE, Health.AUTH_FAILED: EventKind.CONNECTION_KEY_REFUSED,
       Health.KEY_REVOKED: EventKind.CONNECTION_KEY_REFUSED}  # a revoked key is refused: one rule choice for both
BAD_WORDS = {Health.UNREACHABLE: "is unreachable", Health.AUTH_FAILED: "is refusing its key",
             Health.KEY_REVOKED: "has a revoked API key"}


def connection_health_event(connection: Connection, *, before: str, after: str, message: str,
                            at: datetime) -> Event | None:
    """An event only when the connection goes bad, changes the way it is bad, or recovers from being bad."""
    if after in BAD:
        kind = BAD[after]
        subject = f"{connection.name} {BAD_WORDS[after]}"
    elif after == Health.OK and before in BAD:
        kind, subject = EventKind.CONNECTION_RECOVERED, f"{connection.name} has recovered: reachable, key accepted"
    else:
        return None
    data = {"object": {"type": "connection", "slug": connection.slug, "name": connection.name},
            "outcome": after, "counts": {}}
    return event_emit(kind=kind, dedup_key=f"connection:{connection.pk}:{kind}:{at.isoformat()}",
                      connections=[connection], subject=subject, text=f"{subject}\n\n{message}".strip(),
                      link=connection.get_absolute_url(), data=data, at=at)


# ------------------------------------------------------------------------------------------------ datasets

DATASET_BAD = ("error", "limit_reached")
LATE = "late"  # DatasetChange.status of a dataset that became late
LISTED = 50  # datasets named in one message; the rest are counted


def dataset_changes_record(connection: Connection, changes: list[dict]) -> int:
    """Keep the changes INTO error / limit_reached (once each); returns how many are new."""
    rows = [DatasetChange(connection=connection, uid=c["uid"], dataset_id=c["dataset_id"][:255],
                          title=(c.get("title") or "")[:500], status=c["status"], previous=c.get("previous") or "",
                          since=c.get("since"), message=redact(c.get("message") or "")[:1000], seen_at=c["at"],
                          dedup_key=f"dataset:{connection.pk}:{c['uid']}:{c['status']}:"
                                    f"{c['since'].isoformat() if c.get('since') else c['at'].isoformat()}"[:200])
            for c in changes if c["status"] in DATASET_BAD and c.get("previous") not in DATASET_BAD]
    if not rows:
        return 0
    before = DatasetChange.objects.filter(connection=connection).count()
    DatasetChange.objects.bulk_create(rows, ignore_conflicts=True)
    return DatasetChange.objects.filter(connection=connection).count() - before


def dataset_subject(connection: Connection, rows: list[DatasetChange]) -> str:
    # In words a person reads in a subject line, not the API's status codes (the JSON body keeps those).
    counts = {s: sum(r.status == s for r in rows) for s in DATASET_BAD}
    if len(rows) == 1:
        row = rows[0]
        said = "is in error" if row.status == "error" else "reached its record limit"
        return f"{row.dataset_id} on {connection.name} {said}" + (f": {row.message}" if row.message else "")
    words = {"error": "in error", "limit_reached": "at the record limit"}
    parts = [f"{n} {words[status]}" for status, n in counts.items() if n]
    return f"{len(rows)} datasets on {connection.name} in error or at the record limit: {', '.join(parts)}"


def _late_subject(connection: Connection, rows: list[DatasetChange]) -> str:
    if len(rows) == 1:
        return f"{rows[0].dataset_id} on {connection.name} is late: {rows[0].message}"
    return f"{len(rows)} datasets on {connection.name} are late against their expected update frequency"


def dataset_event_flush(connection: Connection, *, at: datetime | None = None, late: bool = False) -> Event | None:
    """Tell every waiting change of the connection in one event (None when nothing waits): the changes into
    error / limit_reached, or (late=True) the datasets that became late."""
    with transaction.atomic():
        # Serialise flushers of one connection (a row lock on PostgreSQL; SQLite writes one at a time anyway).
        Connection.objects.select_for_update().filter(pk=connection.pk).first()
        waiting = DatasetChange.objects.filter(connection=connection, event__isnull=True)
        waiting = waiting.filter(status=LATE) if late else waiting.filter(status__in=DATASET_BAD)
        rows = list(waiting.order_by("seen_at", "id"))
        if not rows:
            return None
        if late:
            subject = _late_subject(connection, rows)
            lines = [subject, ""] + [f"- {r.dataset_id}: {r.message}" for r in rows[:LISTED]]
        else:
            subject = dataset_subject(connection, rows)
            lines = [subject, ""] + [f"- {r.dataset_id} ({r.previous or 'unknown'} → {r.status})"
                                     + (f": {r.message}" if r.message else "") for r in rows[:LISTED]]
        if len(rows) > LISTED:
            lines.append(f"… and {len(rows) - LISTED} more.")
        if len(rows) > 1:
            link = reverse("datasets:list", kwargs={"conn": connection.slug}) + ("?freshness=late" if late else "")
        else:
            link = reverse("datasets:detail", kwargs={"conn": connection.slug, "uid": rows[0].uid})
        data = {"object": {"type": "datasets", "connection": connection.slug,
                           "datasets": [{"uid": r.uid, "dataset_id": r.dataset_id, "status": r.status,
                                         "previous": r.previous, "since": r.since.isoformat() if r.since else None,
                                         "message": r.message} for r in rows[:LISTED]]}}
        if late:
            data |= {"outcome": "late", "counts": {"datasets": len(rows), "late": len(rows)}}
        else:
            data |= {"outcome": "error" if all(r.status == "error" for r in rows) else "error_or_limit_reached",
                     "counts": {"datasets": len(rows), **{s: sum(r.status == s for r in rows) for s in DATASET_BAD}}}
        prefix = "datasets-late" if late else "datasets"
        event = event_emit(kind=EventKind.DATASET_LATE if late else EventKind.DATASET_ERROR,
                           dedup_key=f"{prefix}:{connection.pk}:{rows[0].pk}-{rows[-1].pk}",
                           connections=[connection], subject=subject, text="\n".join(lines), link=link, data=data,
                           at=at or timezone.now())
        if event is not None:
            DatasetChange.objects.filter(pk__in=[r.pk for r in rows]).update(event=event)
    return event


def dataset_changes_due(*, now: datetime | None = None) -> list[int]:
    """Connections whose oldest waiting change has waited NOTIFY_DATASET_HOLD_SECONDS (the pass never ended)."""
    now = now or timezone.now()
    limit = now - timedelta(seconds=settings.NOTIFY_DATASET_HOLD_SECONDS)
    return list(DatasetChange.objects.filter(event__isnull=True, seen_at__lte=limit, status__in=DATASET_BAD).order_by()
                .values_list("connection_id", flat=True).distinct())


def dataset_status_changes(connection: Connection, changes: list[dict], *, pass_done: bool) -> Event | None:
    dataset_changes_record(connection, changes)
    return dataset_event_flush(connection) if pass_done else None


def _late_text(row, now: datetime) -> str:
    # One message goes to people in several time zones: the times are UTC, and say so.
    due = row.late_at.astimezone(UTC)
    modified = f"data last modified {row.modified.astimezone(UTC):%Y-%m-%d}" if row.modified else "no modification date"
    return f"{modified}, expected again by {due:%Y-%m-%d %H:%M} UTC"


def dataset_late_scan(*, now: datetime | None = None) -> list[Event]:
    """The datasets whose late_at passed since the last look (within NOTIFY_LATE_LOOKBACK_HOURS), each told once
    per late_at: recorded as DatasetChange rows, then one event per connection. Called by the notify tick."""
    from portaladmin.datasets.models import DatasetSnapshot

    now = now or timezone.now()
    since = now - timedelta(hours=settings.NOTIFY_LATE_LOOKBACK_HOURS)
    candidates = list(DatasetSnapshot.objects.filter(late_at__lte=now, late_at__gt=since)
                      .only("connection_id", "uid", "dataset_id", "title", "late_at", "modified")
                      .order_by("connection_id", "late_at", "id"))
    if not candidates:
        return []

    def key(row) -> str:
        return f"late:{row.connection_id}:{row.uid}:{row.late_at.isoformat()}"[:200]

    known = set(DatasetChange.objects.filter(dedup_key__in=[key(r) for r in candidates])
                .values_list("dedup_key", flat=True))
    fresh = [DatasetChange(connection_id=r.connection_id, uid=r.uid, dataset_id=r.dataset_id[:255],
                           title=(r.title or "")[:500], status=LATE, previous="on time", since=r.late_at,
                           message=_late_text(r, now)[:1000], seen_at=now, dedup_key=key(r))
             for r in candidates if key(r) not in known]
    if not fresh:
        return []
    DatasetChange.objects.bulk_create(fresh, ignore_conflicts=True)
    events = []
    for connection in Connection.objects.filter(pk__in={r.connection_id for r in fresh}).order_by("pk"):
        event = dataset_event_flush(connection, at=now, late=True)
        if event is not None:
            events.append(event)
    return events


# ------------------------------------------------------------------------------------------------ harvesters

def harvester_errors_event(item) -> Event | None:
    """A harvester.start item ended failed because the run reported has_error (not a send or read failure)."""
    details = item.details if isinstance(item.details, dict) else {}
    if item.job.kind != "harvester.start" or item.status != "failed" or details.get("has_error") is not True:
        return None
    connection = item.connection
    name = item.target_label or item.target
    message = item.message or "The harvester's last run hit an error."
    subject = f"Harvester run with errors · {name} on {connection.name}: {message}"
    counts = {k: details[k] for k in ("harvested_datasets_count", "published_datasets_count",
                                      "resource_errors_count") if isinstance(details.get(k), int)}
    text = "\n".join([subject, "", *[f"{k.replace('_', ' ')}: {v}" for k, v in counts.items()],
                      f"Job: {absolute(item.job.get_absolute_url())}"])
    data = {"object": {"type": "harvester", "uid": item.target, "name": name, "job": item.job_id},
            "outcome": "has_error", "counts": counts}
    link = reverse("harvesters:detail", kwargs={"conn": connection.slug, "uid": item.target})
    return event_emit(kind=EventKind.HARVESTER_ERRORS, dedup_key=f"harvester-run:{item.pk}", connections=[connection],
                      subject=subject, text=text, link=link, data=data, at=item.finished_at)
