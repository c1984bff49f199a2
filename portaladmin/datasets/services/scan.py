"""The status scan: every snapshot row's processing status, read from GET /datasets/{uid}/status/ in the background.

The list answer carries no status, so the scan reads each dataset's status endpoint, spread over time:
- **Budget.** Each poll tick (JOBS_POLL_INTERVAL) the jobs poller takes its share of a portal's request budget
  first; the scan then takes at most `status_scan_budget` (STATUS_SCAN_BUDGET) of what is left — never more than
  the budget minus the status reads the tick handed to jobs and the job sends in flight or due. A running job
  keeps its budget; a scan never makes a portal see more than its budget per tick.
- **Order.** Never checked first, then datasets updated on the portal since their last check, then the oldest
  checks. A row is due when never checked, updated since, older than `status_scan_hours`
  (STATUS_SCAN_RECHECK_HOURS), or checked before a "check now" request.
- **Faults.** 404 → the row is removed; 429 → the portal is paused for every process (`engine.connection_pause`)
  and the rows not read are reserved until the pause ends; 5xx/timeouts → the scan of that portal waits
  SERVER_ERROR_PAUSE and resumes with the rows not read; key refused → the scan stops and the connection's
  health says so, until the next request or a successful connection test.
- **Progress** is the rows' `status_checked_at` (in the database): a worker that dies mid-batch leaves its rows
  reserved for SCAN_LEASE, then due again. Nothing lives in the worker.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from portaladmin.core.logging import redact
from portaladmin.datasets.models import DatasetSnapshot, SnapshotStatus, StatusScan
from portaladmin.jobs.engine import portal_budget  # the per-tick budget the jobs use, shared with the scan
from portaladmin.jobs.registry import parse_since
from portaladmin.portals.client import client_for
from portaladmin.portals.client.errors import (
    PortalAuthError,
    PortalError,
    PortalNotFound,
    PortalRateLimited,
    PortalUnavailable,
)
from portaladmin.portals.models import Connection, Health
from portaladmin.portals.services import connection_record_call_failure, connection_record_health

logger = logging.getLogger(__name__)

SCAN_LEASE = timedelta(seconds=60)  # a reserved row whose batch never reports back is due again after this
SERVER_ERROR_PAUSE = timedelta(seconds=30)  # after a 5xx/timeout the scan of that portal waits this long
OTHER_ERROR_RETRY = timedelta(minutes=10)  # a row whose read failed otherwise (400 …) is tried again after this


# --- configuration ------------------------------------------------------------------------------
def scan_budget(connection: Connection) -> int:
    """Status-scan reads per poll tick at most (0: the scan is off for this connection)."""
    value = connection.status_scan_budget
    return int(settings.STATUS_SCAN_BUDGET if value is None else value)


def recheck_hours(connection: Connection) -> float:
    return float(connection.status_scan_hours or settings.STATUS_SCAN_RECHECK_HOURS)


def tick_seconds() -> float:
    return float(settings.JOBS_POLL_INTERVAL)


# --- what the jobs use --------------------------------------------------------------------------
def jobs_demand(*, connection_ids: Iterable[int], now: datetime, polls: dict[int, int] | None = None) -> dict[int, int]:
    """Requests the jobs engine uses of each portal's budget this tick.

    The status reads the tick handed to the poller (`polls`; outside a tick, the waiting items due now), plus the
    sends in flight or due (running items, pending items whose time came): a bulk publish keeps its budget.
    """
    from portaladmin.jobs.models import ItemStatus, JobItem

    ids = list(connection_ids)
    demand: Counter[int] = Counter()
    sends = (JobItem.objects.filter(connection_id__in=ids)
             .filter(Q(status=ItemStatus.RUNNING)
                     | Q(status=ItemStatus.PENDING) & (Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now)))
             .order_by().values("connection_id").annotate(n=Count("id")))
    for row in sends:
        demand[row["connection_id"]] += row["n"]
    if polls is None:
        due = (JobItem.objects.filter(connection_id__in=ids, status=ItemStatus.WAITING, next_poll_at__lte=now)
               .order_by().values("connection_id").annotate(n=Count("id")))
        polls = {row["connection_id"]: row["n"] for row in due}
    for conn_id, n in polls.items():
        demand[conn_id] += n
    return dict(demand)


# --- which rows are due -------------------------------------------------------------------------
def _due_condition(connection: Connection, state: StatusScan | None, now: datetime) -> Q:
    cond = (Q(status_checked_at__isnull=True) | Q(updated_at__gt=F("status_checked_at"))
            | Q(status_checked_at__lt=now - timedelta(hours=recheck_hours(connection))))
    if state is not None and state.requested_at:
        cond |= Q(status_checked_at__lt=state.requested_at)
    return cond


def scan_due(*, connection: Connection, state: StatusScan | None = None, now: datetime | None = None) -> QuerySet:
    """The rows due for a status read, in scan order (never checked, updated since checked, oldest check)."""
    now = now or timezone.now()
    if state is None:
        state = StatusScan.objects.filter(connection=connection).first()
    return (DatasetSnapshot.objects.filter(connection=connection)
            .filter(Q(status_scan_until__isnull=True) | Q(status_scan_until__lte=now))
            .filter(_due_condition(connection, state, now))
            .annotate(scan_rank=Case(When(status_checked_at__isnull=True, then=Value(0)),
                                     When(updated_at__gt=F("status_checked_at"), then=Value(1)),
                                     default=Value(2), output_field=IntegerField()))
            .order_by("scan_rank", "status_checked_at", "id"))


def _state(connection: Connection) -> StatusScan:
    state, _ = StatusScan.objects.get_or_create(connection=connection)
    return state


# --- requesting and reserving -------------------------------------------------------------------
def scan_request(*, connection: Connection, actor=None) -> StatusScan:
    """"Check statuses now": every row checked before this moment is due again; a stopped scan restarts."""
    state = _state(connection)
    state.requested_at = timezone.now()
    state.requested_by = actor if getattr(actor, "pk", None) else None
    state.stopped_at, state.error, state.resume_at = None, "", None
    state.save(update_fields=["requested_at", "requested_by", "stopped_at", "error", "resume_at"])
    return state


def _scannable(state: StatusScan, connection: Connection, now: datetime) -> bool:
    if state.stopped_at:
        # A successful connection test after the stop (e.g. a new key) lets the scan go on by itself.
        if connection.health == Health.OK and connection.health_checked_at and \
                connection.health_checked_at > state.stopped_at:
            StatusScan.objects.filter(pk=state.pk).update(stopped_at=None, error="")
            state.stopped_at, state.error = None, ""
        else:
            return False
    return not (state.resume_at and state.resume_at > now)


def scan_reserve(*, now: datetime | None = None, polls: dict[int, int] | None = None,
                 connections: Iterable[Connection] | None = None) -> dict[int, list[str]]:
    """This tick's status reads per connection: at most min(scan budget, what the jobs leave), reserved.

    `polls`: the status reads the poll tick just handed to the jobs poller (None outside a tick: estimated from
    the due items). At most one grant per connection per tick, whoever asks (beat, `status_scan --wait`).
    """
    now = now or timezone.now()
    if connections is None:
        connections = Connection.objects.filter(
            Exists(DatasetSnapshot.objects.filter(connection=OuterRef("pk"))))
    conns = [c for c in connections if scan_budget(c) > 0 and not (c.paused_until and c.paused_until > now)]
    if not conns:
        return {}
    demand = jobs_demand(connection_ids=[c.pk for c in conns], now=now, polls=polls)
    gate = now - timedelta(seconds=tick_seconds() * 0.8)
    plans: dict[int, list[str]] = {}
    for conn in conns:
        room = min(scan_budget(conn), portal_budget(conn) - demand.get(conn.pk, 0))
        if room <= 0:
            continue
        state = _state(conn)
        if not _scannable(state, conn, now):
            continue
        with transaction.atomic():
            uids = list(scan_due(connection=conn, state=state, now=now).values_list("uid", flat=True)[:room])
            if not uids:
                continue
            # One grant per tick: a conditional UPDATE, so two reservers in the same tick cannot both win.
            if not StatusScan.objects.filter(pk=state.pk).filter(Q(tick_at__isnull=True) | Q(tick_at__lte=gate)) \
                    .update(tick_at=now):
                continue
            DatasetSnapshot.objects.filter(connection=conn, uid__in=uids).update(status_scan_until=now + SCAN_LEASE)
        plans[conn.pk] = uids
    return plans


# --- reading ------------------------------------------------------------------------------------
def status_summary(status) -> str:
    """The row's message: the portal's message, plus record errors (error) or the limit hit (limit_reached)."""
    parts = [" ".join(str(status.message or "").split())]
    errors = [e for e in status.records_errors if getattr(e, "message", "")]
    if status.records_errors:
        first = f": {errors[0].message}" if errors else ""
        count = len(status.records_errors)
        parts.append(f"{count} record error{'s' if count != 1 else ''}{first}")
    limit = status.params.get("error") if isinstance(status.params, dict) else None
    if isinstance(limit, dict) and limit:
        parts.append(f"limit {limit.get('limit_type', '')}: {limit.get('value', '?')} of {limit.get('limit', '?')}")
    return redact(" · ".join(p for p in parts if p))[:1000]


def _record(connection: Connection, uid: str, status, now: datetime, before: dict) -> dict | None:
    """Write the read; return the change (for datasets.signals.status_changes) when the status is not the same."""
    fields = {"status": (status.status or SnapshotStatus.UNKNOWN)[:30], "status_since": parse_since(status.since),
              "status_message": status_summary(status), "status_checked_at": now, "status_scan_until": None}
    if status.is_published is not None:
        fields["is_published"] = status.is_published
    DatasetSnapshot.objects.filter(connection=connection, uid=uid).update(**fields)
    previous, dataset_id, title = before.get(uid, (None, uid, ""))
    if previous is None or previous == fields["status"]:
        return None  # a re-check that finds the same status is no change
    return {"uid": uid, "dataset_id": dataset_id, "title": title, "previous": previous, "status": fields["status"],
            "since": fields["status_since"], "message": fields["status_message"], "at": now}


def _hold(connection: Connection, uids: list[str], until: datetime | None) -> None:
    DatasetSnapshot.objects.filter(connection=connection, uid__in=uids).update(status_scan_until=until)


def scan_batch(*, connection_id: int, uids: list[str]) -> Counter:
    """Read the status of the reserved rows (one request each, no retries). Returns counts of what happened."""
    from portaladmin.jobs.engine import connection_pause

    counts: Counter = Counter()
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None or not uids:
        return counts
    now = timezone.now()
    if connection.paused_until and connection.paused_until > now:
        _hold(connection, uids, connection.paused_until)
        counts["held"] += len(uids)
        return counts
    client = client_for(connection).single_attempt()
    before = {row[0]: row[1:] for row in DatasetSnapshot.objects.filter(connection=connection, uid__in=uids)
              .values_list("uid", "status", "dataset_id", "title")}
    changes: list[dict] = []
    for index, uid in enumerate(uids):
        counts["requests"] += 1
        try:
            status = client.dataset_status(uid)
        except PortalNotFound:
            DatasetSnapshot.objects.filter(connection=connection, uid=uid).delete()
            counts["removed"] += 1
            continue
        except PortalRateLimited as exc:
            until = connection_pause(connection.pk, exc.retry_after)
            _hold(connection, uids[index:], until)  # resumed first when the pause ends (never checked / oldest)
            counts["rate_limited"] += 1
            break
        except PortalUnavailable as exc:
            StatusScan.objects.filter(connection=connection).update(
                resume_at=timezone.now() + SERVER_ERROR_PAUSE, error=redact(str(exc))[:1000])
            _hold(connection, uids[index:], None)
            counts["unavailable"] += 1
            break
        except PortalAuthError as exc:
            message = f"The portal refused the key during the status scan ({exc.status}); the scan stopped."
            StatusScan.objects.filter(connection=connection).update(stopped_at=timezone.now(), error=message)
            connection_record_call_failure(connection=connection, exc=exc)
            _hold(connection, uids[index:], None)
            counts["key_refused"] += 1
            break
        except PortalError as exc:
            logger.warning("status scan of %s: %s failed: %s", connection.slug, uid, redact(str(exc)))
            _hold(connection, [uid], timezone.now() + OTHER_ERROR_RETRY)
            counts["failed"] += 1
            continue
        change = _record(connection, uid, status, timezone.now(), before)
        if change:
            changes.append(change)
        counts["checked"] += 1
    _after_batch(connection, counts)
    if changes or counts["checked"]:
        from portaladmin.datasets.signals import on_status_changes

        pass_done = not scan_due(connection=connection).exists()
        on_status_changes(connection=connection, changes=changes, pass_done=pass_done)
    return counts


def _after_batch(connection: Connection, counts: Counter) -> None:
    now = timezone.now()
    fields: dict = {"requests": F("requests") + counts["requests"], "last_request_at": now}
    if counts["checked"] and not (counts["unavailable"] or counts["key_refused"]):
        fields["error"] = ""
    StatusScan.objects.filter(connection=connection).update(**fields)
    if counts["checked"] and not counts["key_refused"]:
        # Successful calls: the overview's health and "last successful call" follow them.
        if connection.health != Health.OK:
            connection_record_health(connection=connection, health=Health.OK)
        else:
            Connection.objects.filter(pk=connection.pk).update(last_ok_at=now)


# --- in the foreground --------------------------------------------------------------------------
def scan_remaining(*, connection: Connection) -> int:
    """Rows not yet read since the last request (0 when the scan of that request is complete)."""
    state = StatusScan.objects.filter(connection=connection).first()
    qs = DatasetSnapshot.objects.filter(connection=connection)
    if state is None or state.requested_at is None:
        return qs.filter(status_checked_at__isnull=True).count()
    return qs.filter(Q(status_checked_at__isnull=True) | Q(status_checked_at__lt=state.requested_at)).count()


def scan_run_wait(*, connections: list[Connection], actor=None, max_seconds: float | None = None,
                  sleep: Callable[[float], None] = time.sleep,
                  progress: Callable[[dict[int, int]], None] | None = None) -> dict:
    """Request a scan of the connections and run it here, tick by tick within the budget, to completion.

    Stops early for a connection whose key is refused. Returns {"seconds", "requests", "remaining": {id: n},
    "stopped": {id: error}}.
    """
    started = time.monotonic()
    for conn in connections:
        scan_request(connection=conn, actor=actor)
    requests = 0
    active = {c.pk: c for c in connections}
    stopped: dict[int, str] = {}
    remaining: dict[int, int] = {}
    while active:
        for conn in active.values():
            conn.refresh_from_db(fields=["paused_until", "health", "health_checked_at", "request_budget",
                                         "status_scan_budget", "status_scan_hours"])
        for conn_id, uids in scan_reserve(connections=list(active.values())).items():
            requests += scan_batch(connection_id=conn_id, uids=uids)["requests"]
        for conn_id in list(active):
            state = StatusScan.objects.get(connection_id=conn_id)
            remaining[conn_id] = scan_remaining(connection=active[conn_id])
            if state.stopped_at:
                stopped[conn_id] = state.error
                del active[conn_id]
            elif remaining[conn_id] == 0:
                del active[conn_id]
        if progress is not None:
            progress(dict(remaining))
        if not active or (max_seconds is not None and time.monotonic() - started >= max_seconds):
            break
        sleep(tick_seconds())
    return {"seconds": time.monotonic() - started, "requests": requests, "remaining": remaining, "stopped": stopped}


def status_counts(*, connection: Connection) -> dict[str, int]:
    rows = (DatasetSnapshot.objects.filter(connection=connection).order_by().values("status")
            .annotate(n=Count("id")))
    return {row["status"]: row["n"] for row in rows}
