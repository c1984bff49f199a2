"""Starting, retrying, cancelling jobs, and keeping their status and counts true.

Other apps start work with job_create() (any kind) or dataset_action_start() / harvester_action_start().
Everything here is synchronous and local: remote writes happen only in the worker (portaladmin.jobs.engine).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from portaladmin.audit.services import audit_record
from portaladmin.core.db import bulk_insert_values
from portaladmin.core.logging import redact
from portaladmin.jobs.engine import enqueue_items, first_sends, group_for_enqueue, paced
from portaladmin.jobs.models import JOB_ACTIVE, ItemStatus, Job, JobItem, JobStatus
from portaladmin.jobs.registry import get_kind
from portaladmin.jobs.signals import on_job_finished
from portaladmin.portals.models import Connection
from portaladmin.portals.permissions import has_role

logger = logging.getLogger(__name__)

DATASET_ACTIONS = {"publish": "dataset.publish", "unpublish": "dataset.unpublish",
                   "publish_metadata": "dataset.publish_metadata", "abort": "dataset.abort",
                   "delete": "dataset.delete"}
HARVESTER_ACTIONS = {"start": "harvester.start", "abort": "harvester.abort", "publish": "harvester.publish",
                     "unpublish": "harvester.unpublish"}

Target = str | dict[str, Any]  # "da_123" or {"target": "da_123", "label": "my-data", "payload": {...}}


def _normalise(target: Target) -> tuple[str, str, dict]:
    if isinstance(target, dict):
        return str(target["target"]), str(target.get("label") or ""), dict(target.get("payload") or {})
    return str(target), "", {}


def submit_token(request) -> str:
    """The one-time token a POST form carries (static/js/app.js stamps every form), or ''."""
    if request is None or getattr(request, "method", "") != "POST":
        return ""
    return str(request.POST.get("submit_token", ""))[:64]


def job_create(*, kind: str, actor, targets: dict[Connection, list[Target]], params: dict | None = None,
               title: str = "", request=None, retry_of: Job | None = None) -> Job:
    """Create a job with one item per target (per connection) and enqueue it once the transaction commits.

    The actor needs the kind's role on every connection (PermissionDenied otherwise); the worker checks again.
    `params` is shown and stored as-is: never put secrets in it.
    """
    job_kind = get_kind(kind)
    token = submit_token(request)
    if token and actor is not None and getattr(actor, "pk", None):
        earlier = Job.objects.filter(started_by=actor, submit_token=token).first()
        if earlier is not None:  # a double click, a re-sent form: the job the first submit started
            return earlier
    targets = {conn: list({n[0]: n for n in map(_normalise, items)}.values())
               for conn, items in targets.items() if items}
    if not targets:
        raise ValueError("A job needs at least one target.")
    for conn in targets:
        if not has_role(actor, conn, job_kind.needed_role):
            raise PermissionDenied(f"This needs the {job_kind.needed_role.label.lower()} role on {conn.name}.")
    total = sum(len(items) for items in targets.values())
    now = timezone.now()
    hours = job_kind.deadline_hours if job_kind.deadline_hours is not None else settings.JOBS_ITEM_DEADLINE_HOURS
    try:
        return _job_insert(job_kind, kind, actor, targets, params, title, request, retry_of, total, now, hours, token)
    except IntegrityError:
        if not token:
            raise
        return Job.objects.get(started_by=actor, submit_token=token)  # the same form, submitted at the same time


def _job_insert(job_kind, kind, actor, targets, params, title, request, retry_of, total, now, hours, token) -> Job:
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind, title=(title or job_kind.describe(total))[:200], started_by=actor,
            connection=next(iter(targets)) if len(targets) == 1 else None, params=params or {},
            retry_of=retry_of, total=total, pending_count=total, deadline=now + timedelta(hours=hours + 1),
            submit_token=token)
        job.connections.set(list(targets))
        # Rows as values (no JobItem instances): thousands of items in a few multi-row INSERTs.
        size = max(job_kind.chunk_size, 1)
        item_deadline = now + timedelta(hours=hours + 1)
        # Paced kinds: the first few are sent now, the rest wait (due, no doorbell) for the poll tick to ring them
        # within the portal's request budget (engine.paced).
        first = {conn: first_sends(conn) if paced(job_kind) else len(items)
                 for conn, items in targets.items()}
        rows = [dict(job_id=job.pk, connection_id=conn.pk, target=target, target_label=label, payload=payload,
                     chunk=index // size, deadline=item_deadline,
                     enqueued_at=now if index < first[conn] else None,
                     next_poll_at=None if index < first[conn] else now)
                for conn, items in targets.items() for index, (target, label, payload) in enumerate(items)]
        bulk_insert_values(JobItem, rows)
        created = (JobItem.objects.filter(job=job, enqueued_at__isnull=False)
                   .values_list("id", "connection_id", "chunk").order_by("id"))
        enqueue_items(group_for_enqueue([(pk, job.pk, conn_id, chunk, kind) for pk, conn_id, chunk in created]))
        audit_record(action="job.start", actor=actor, connection=job.connection, target=job.title, request=request,
                     job_id=job.pk, extra={"kind": kind, "items": total})
    return job


def dataset_action_start(*, actor, action: str, targets: dict[Connection, list[Target]], request=None) -> Job:
    """Publish / unpublish / publish_metadata / abort datasets (uids) on one or several connections: one job."""
    return job_create(kind=DATASET_ACTIONS[action], actor=actor, targets=targets, request=request)


def harvester_action_start(*, actor, action: str, targets: dict[Connection, list[Target]], request=None) -> Job:
    """Start / abort / publish / unpublish harvesters (uids): one job."""
    return job_create(kind=HARVESTER_ACTIONS[action], actor=actor, targets=targets, request=request)


def job_can_operate(user, job: Job) -> bool:
    """Retry and cancel need the kind's role on every connection of the job."""
    try:
        needed = get_kind(job.kind).needed_role
    except LookupError:
        return False
    conns = list(job.connections.all()) or ([job.connection] if job.connection else [])
    return bool(conns) and all(has_role(user, conn, needed) for conn in conns)


def job_retryable_items(*, job: Job) -> list[JobItem]:
    """The failed items whose failure can change on retry (the kind decides), in order."""
    try:
        kind = get_kind(job.kind)
    except LookupError:
        return []
    failed = job.items.filter(status=ItemStatus.FAILED).select_related("connection").order_by("id")
    return [item for item in failed if kind.retry_can_help(item)]


def job_retry_failed(*, job: Job, actor, request=None) -> Job:
    """A new job for exactly the items that failed (same kind, same targets and payloads)."""
    if not job_can_operate(actor, job):
        raise PermissionDenied("You need the operator role on every connection of this job.")
    failed = job_retryable_items(job=job)
    if not failed:
        raise ValueError("No failed item can end differently on retry.")
    targets: dict[Connection, list[Target]] = {}
    for item in failed:
        targets.setdefault(item.connection, []).append(
            {"target": item.target, "label": item.target_label, "payload": item.payload})
    kind = get_kind(job.kind)
    return job_create(kind=job.kind, actor=actor, targets=targets, params=job.params, request=request,
                      retry_of=job, title=f"Retry: {kind.describe(len(failed))}")


def job_cancel(*, job: Job, actor, request=None) -> Job:
    """Cancel pending items now; items the portal is processing are aborted (kinds that can) by the poller."""
    if not job_can_operate(actor, job):
        raise PermissionDenied("You need the operator role on every connection of this job.")
    now = timezone.now()
    with transaction.atomic():
        updated = Job.objects.filter(pk=job.pk, cancel_requested_at__isnull=True).update(
            cancel_requested_at=now, cancelled_by=actor)
        if updated:
            job.items.filter(status=ItemStatus.PENDING).update(
                status=ItemStatus.CANCELLED, message="Cancelled before it was sent.", finished_at=now,
                next_poll_at=None)
            # Every item the portal is working on is read (and aborted, for kinds that can) at the next tick,
            # and ends there as cancelled unless that read shows it finished.
            job.items.filter(status=ItemStatus.WAITING).update(next_poll_at=now)
            audit_record(action="job.cancel", actor=actor, connection=job.connection, target=job.title,
                         request=request, job_id=job.pk)
    return job_refresh(job_id=job.pk)


def _status_from(counts: dict, job: Job) -> str:
    active = counts["pending"] + counts["running"] + counts["waiting"]
    if active:
        if counts["running"] or (counts["pending"] and counts["started"]):
            return JobStatus.RUNNING
        if counts["waiting"]:
            return JobStatus.WAITING if not counts["pending"] else JobStatus.RUNNING
        return JobStatus.PENDING
    if job.cancel_requested_at:
        return JobStatus.CANCELLED
    if counts["failed"] == 0:
        return JobStatus.SUCCEEDED if counts["succeeded"] or not counts["cancelled"] else JobStatus.CANCELLED
    return JobStatus.FAILED if counts["succeeded"] == 0 else JobStatus.PARTIALLY_FAILED


def job_refresh(*, job_id: int) -> Job:
    """Recompute the job's counts and status from its items (under a row lock) and finish it once."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        # One GROUP BY status, answered from the (job, status) index alone, instead of 8 filtered counts.
        counts = {status: 0 for status in ItemStatus.values}
        counts.update(JobItem.objects.filter(job_id=job_id).order_by().values("status")
                      .annotate(n=Count("id")).values_list("status", "n"))
        counts["total"] = sum(counts.values())
        # "Some item was claimed at least once" matters only for these two decisions: one EXISTS, not a count.
        needs_started = job.started_at is None or (counts["pending"] and not counts["running"])
        counts["started"] = needs_started and JobItem.objects.filter(job_id=job_id, attempts__gt=0).exists()
        was_active = job.status in JOB_ACTIVE
        job.status = _status_from(counts, job)
        job.total = counts["total"]
        job.pending_count = counts["pending"]
        job.running_count = counts["running"] + counts["waiting"]
        job.succeeded_count = counts["succeeded"]
        job.failed_count = counts["failed"]
        job.cancelled_count = counts["cancelled"]
        now = timezone.now()
        if job.started_at is None and counts["started"]:
            job.started_at = now
        last = counts["failed"] and (
            JobItem.objects.filter(job_id=job_id, status=ItemStatus.FAILED).order_by("-finished_at", "-id")
            .values_list("message", flat=True).first())
        if last:
            job.last_error = redact(last)[:1000]
        finished_now = was_active and job.status not in JOB_ACTIVE
        if finished_now:
            job.finished_at = now
        job.save(update_fields=["status", "total", "pending_count", "running_count", "succeeded_count",
                                "failed_count", "cancelled_count", "started_at", "finished_at", "last_error"])
        if finished_now:
            transaction.on_commit(lambda: _job_finished(job.pk))
    return job


def _job_finished(job_id: int) -> None:
    job = Job.objects.select_related("started_by").get(pk=job_id)
    on_job_finished(job)
    if job.failed_count and settings.JOBS_NOTIFY_ON_FAILURE:
        job_notify_failure(job=job)


def job_outcome_text(job: Job) -> str:
    parts = [f"{job.succeeded_count} succeeded"]
    if job.failed_count:
        parts.append(f"{job.failed_count} failed")
    if job.cancelled_count:
        parts.append(f"{job.cancelled_count} cancelled")
    if job.pending_count or job.running_count:
        parts.append(f"{job.pending_count + job.running_count} still in progress")
    return f"{job.title}: {job.get_status_display().lower()} ({', '.join(parts)} of {job.total})."


def job_notify_failure(*, job: Job) -> bool:
    """E-mail the owner once that the job failed or partly failed, with the real outcome per failed item."""
    owner = job.started_by
    if owner is None or not owner.email:
        return False
    if not Job.objects.filter(pk=job.pk, notified_at__isnull=True).update(notified_at=timezone.now()):
        return False  # someone else sent it
    failed = list(job.items.filter(status=ItemStatus.FAILED).select_related("connection").order_by("id")[:50])
    lines = [job_outcome_text(job), "", "Failed items:"]
    lines += [f"- {item.connection.name} · {item.label}: {item.message}" for item in failed]
    if job.failed_count > len(failed):
        lines.append(f"… and {job.failed_count - len(failed)} more.")
    lines += ["", f"Details and a 'Retry failed' button: {settings.PORTALADMIN_SELF_URL.rstrip('/')}"
                  f"{job.get_absolute_url()}"]
    subject = f"[portaladmin] Job #{job.pk} {job.get_status_display().lower()}: {job.title}"
    try:
        send_mail(subject, redact("\n".join(lines)), settings.DEFAULT_FROM_EMAIL, [owner.email])
    except Exception:  # noqa: BLE001 - a mail failure must not break the worker
        logger.exception("could not send the failure e-mail of job %s", job.pk)
        return False
    return True
