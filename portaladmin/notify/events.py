"""Turning what happened into Events with a truthful subject, and into one Delivery per matching rule.

Sources: a job reaching its final status (jobs.signals.job_finished), the jobs sweeper marking a job stuck past
its deadline (jobs.signals.job_stuck), and a connection's health changing between reachable and unreachable /
key refused (portals.signals.connection_health_changed, sent by connection_record_health on a transition only:
a portal down for an hour is one "unreachable" event and one "recovered", not one per failed call).

Hook for dataset events (error / limit_reached / late from a status scan, not built yet): add their kinds to
EventKind and call event_emit(kind=..., dedup_key=f"dataset:{conn.pk}:{uid}:{state}:{since}", connections=[conn],
subject=..., text=..., link=..., data=...) from the scan; matching, dedup, channels and digests then just work.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from portaladmin.core.logging import redact
from portaladmin.notify.models import Event, EventKind
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


BAD = {Health.UNREACHABLE: EventKind.CONNECTION_UNREACHABLE, Health.AUTH_FAILED: EventKind.CONNECTION_KEY_REFUSED}


def connection_health_event(connection: Connection, *, before: str, after: str, message: str,
                            at: datetime) -> Event | None:
    """An event only when the connection goes bad, changes the way it is bad, or recovers from being bad."""
    if after in BAD:
        kind = BAD[after]
        subject = f"{connection.name} is {'unreachable' if after == Health.UNREACHABLE else 'refusing its key'}"
    elif after == Health.OK and before in BAD:
        kind, subject = EventKind.CONNECTION_RECOVERED, f"{connection.name} has recovered: reachable, key accepted"
    else:
        return None
    data = {"object": {"type": "connection", "slug": connection.slug, "name": connection.name},
            "outcome": after, "counts": {}}
    return event_emit(kind=kind, dedup_key=f"connection:{connection.pk}:{kind}:{at.isoformat()}",
                      connections=[connection], subject=subject, text=f"{subject}\n\n{message}".strip(),
                      link=connection.get_absolute_url(), data=data, at=at)
