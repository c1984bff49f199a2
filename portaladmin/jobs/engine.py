"""The worker side of the job engine: claim and send items, poll remote states, sweep.

Every step reads and writes the database, which is the truth; tasks are thin doorbells that call these.
The send protocol, per item (see README.md "Crash safety"):
  1. claim: conditional UPDATE pending → running with a lease, a claim token and attempts + 1;
  2. commit action_sent=True, sent_at=now BEFORE the request leaves;
  3. send; then record the answer (send_confirmed=True, waiting/succeeded/failed).
A worker that dies between 2 and 3 leaves action_sent and not send_confirmed: the next attempt asks the
portal what happened (kind.verify_unsent) before sending anything again.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import defaultdict
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.db import connection as db
from django.db import transaction
from django.db.models import (
    Case,
    DateTimeField,
    ExpressionWrapper,
    F,
    IntegerField,
    JSONField,
    Q,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Least, RowNumber
from django.utils import timezone

from portaladmin.audit.models import Outcome
from portaladmin.audit.services import audit_record, audit_record_many, audit_remote_write
from portaladmin.core.logging import job_id_var, redact
from portaladmin.jobs import remote, schedule, truth
from portaladmin.jobs.models import JOB_ACTIVE, ItemStatus, Job, JobItem
from portaladmin.jobs.registry import JobKind, RemoteView, Verdict, get_kind, kinds
from portaladmin.jobs.signals import on_item_remote_state, on_job_stuck, on_poll_tick_done, places_in_list
from portaladmin.jobs.watch import watched_jobs
from portaladmin.portals.client.errors import (
    PortalAuthError,
    PortalConflict,
    PortalError,
    PortalNotFound,
    PortalRateLimited,
    PortalUnavailable,
    PortalValidationError,
)
from portaladmin.portals.models import Connection
from portaladmin.portals.permissions import forget_cached_roles, has_role

logger = logging.getLogger(__name__)

NO_CLAIM = ""  # claim_token of an item nobody holds
DEFAULT_PAUSE_SECONDS = 30.0  # a 429 without Retry-After
POLL_LEASE_SECONDS = 60  # a claimed poll that never reports back is due again after this


# --- timing -------------------------------------------------------------------------------------
def next_read_at(item: JobItem, now: datetime) -> datetime:
    """When to read this waiting item next (schedule.py): every tick while watched, densely around its learned
    end, otherwise within JOBS_POLL_LAG_SHARE of its processing time so far."""
    elapsed = (now - item.sent_at).total_seconds() if item.sent_at else 0.0
    expected = ((item.expected_end - item.sent_at).total_seconds()
                if getattr(item, "expected_end", None) and item.sent_at else None)
    delay = schedule.next_delay(elapsed=elapsed, expected=expected, watched=getattr(item, "watched", False),
                                knobs=schedule.Knobs.from_settings())
    return now + timedelta(seconds=delay)


def retry_delay(attempts: int) -> float:
    """Seconds before re-sending after a retryable failure."""
    return min(float(settings.JOBS_POLL_BACKOFF_CAP), 2.0 * 2 ** max(attempts - 1, 0))


def transient_budget() -> timedelta:
    """How long an item keeps retrying 429/5xx/timeouts/connection errors (JOBS_TRANSIENT_RETRY_SECONDS)."""
    return timedelta(seconds=float(getattr(settings, "JOBS_TRANSIENT_RETRY_SECONDS", 1800.0)))


def stale_limit() -> timedelta:
    """How long the portal may keep showing the state it had before the order (JOBS_STALE_READ_SECONDS)."""
    return timedelta(seconds=float(getattr(settings, "JOBS_STALE_READ_SECONDS", 900.0)))


def _answer_clock(client):
    """(Date header, round trip) of the client's last answer; fakes without the method have neither."""
    read = getattr(client, "last_answer_clock", None)
    answer = read() if callable(read) else None
    return (getattr(answer, "date", None), float(getattr(answer, "round_trip", 0.0) or 0.0))


def item_deadline(kind: JobKind, start: datetime) -> datetime:
    hours = kind.deadline_hours if kind.deadline_hours is not None else settings.JOBS_ITEM_DEADLINE_HOURS
    return start + timedelta(hours=hours)


def max_attempts() -> int:
    return int(settings.JOBS_MAX_ATTEMPTS)


def lease_seconds() -> int:
    return int(settings.JOBS_LEASE_SECONDS)


# --- small helpers ------------------------------------------------------------------------------
def _update(item: JobItem, token: str | None = None, **fields) -> bool:
    """Write fields on the item only if we still hold its claim (a sweeper may have taken it back)."""
    qs = JobItem.objects.filter(pk=item.pk)
    if token is not None:
        qs = qs.filter(claim_token=token, status=ItemStatus.RUNNING)
    changed = qs.update(**fields) == 1
    if changed:
        for name, value in fields.items():
            if not hasattr(value, "resolve_expression"):
                setattr(item, name, value)
    return changed


def _text(exc: Exception | str) -> str:
    return redact(str(exc))[:1000]


def _finish(item: JobItem, status: str, message: str, token: str | None = None, **fields) -> bool:
    now = timezone.now()
    done = _update(item, token, status=status, message=_text(message), finished_at=now, lease_until=None,
                   next_poll_at=None, claim_token=NO_CLAIM, **fields)
    if done:
        on_item_remote_state(item)
    return done


def connection_pause(connection_id: int, seconds: float | None) -> datetime:
    """A 429 pauses every process's calls to that portal (through the database) until Retry-After."""
    until = timezone.now() + timedelta(seconds=max(1.0, seconds or DEFAULT_PAUSE_SECONDS))
    Connection.objects.filter(pk=connection_id).filter(
        Q(paused_until__isnull=True) | Q(paused_until__lt=until)).update(paused_until=until)
    logger.warning("portal %s rate-limited us: paused until %s", connection_id, until.isoformat())
    return until


def _paused_until(connection: Connection, now: datetime) -> datetime | None:
    paused = Connection.objects.filter(pk=connection.pk).values_list("paused_until", flat=True).first()
    return paused if paused and paused > now else None


def enqueue_items(groups: list[list[int]]) -> None:
    """Ring the doorbell for groups of item ids (call inside the transaction: sends after commit)."""
    if not groups:
        return

    def send():
        from portaladmin.jobs.tasks import enqueue_process

        for ids in groups:
            try:
                enqueue_process(ids)
            except Exception:  # noqa: BLE001 - a lost enqueue is picked up by the sweeper
                logger.exception("could not enqueue job items %s; the sweeper will retry", ids)

    transaction.on_commit(send)


def _chunked(kind_name: str) -> bool:
    try:
        return get_kind(kind_name).chunk_size > 1
    except LookupError:
        return False


def group_for_enqueue(items) -> list[list[int]]:
    """Item ids grouped as one task each: one item, or one chunk of a chunked kind."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    for item_id, job_id, connection_id, chunk, kind_name in items:
        key = (job_id, connection_id, chunk) if _chunked(kind_name) else (item_id,)
        groups[key].append(item_id)
    return list(groups.values())


def portal_budget(connection: Connection) -> int:
    """Requests per poll tick this portal gets from the jobs engine (its own setting, else the default)."""
    return int(connection.request_budget or settings.JOBS_PORTAL_REQUEST_BUDGET)


def paced(kind: JobKind) -> bool:
    """Sends of kinds whose orders the portal processes for a while (publishes, harvester runs: `JobKind.paced`)
    share the portal's request budget with the status reads: a job starts with half a tick's budget of sends and
    the poll tick rings the rest with what its reads leave, reads of items likely finished first (issue 23: every
    end needs its own status read, so sending faster than the budget only makes the ends wait; the job cannot end
    sooner either way)."""
    return kind.paced and kind.pollable and kind.chunk_size <= 1


def paced_kinds() -> list[str]:
    return [name for name, kind in kinds().items() if paced(kind)]


def first_sends(connection: Connection) -> int:
    """How many items of a new paced job are sent at once, before the first tick."""
    return max(1, portal_budget(connection) // 2)


TICK_ALIVE_KEY = "jobs:tick:at"


def tick_alive(now: datetime, grace: timedelta) -> bool:
    """Whether the poll tick ran within `grace` (it rings the items waiting for their turn; the sweeper only
    backs it up when it stopped)."""
    at = cache.get(TICK_ALIVE_KEY)
    return at is not None and at >= (now - grace).timestamp()


# --- claiming and sending -----------------------------------------------------------------------
# Columns of a claimed item that sending and recording never read (the poller and the sweeper read them
# with queries of their own); an access would still work, with one query for that row.
CLAIM_DEFERRED = ("lease_until", "claim_token", "enqueued_at", "state_seen_at", "seen_busy", "poll_count",
                  "next_poll_at", "deadline", "created_at", "started_at", "finished_at", "hint_listed_at")


def items_claim(item_ids: list[int], *, now: datetime | None = None) -> tuple[str, list[JobItem]]:
    """Claim the items that are free: pending and due, or running with an expired lease; attempts < max.

    One conditional UPDATE: a duplicate delivery of the same task finds nothing to claim and does nothing.
    """
    now = now or timezone.now()
    token = uuid.uuid4().hex
    # Only this table's own columns in the WHERE: PostgreSQL re-checks them on the row a concurrent claim just
    # changed (a join would turn it into a subquery read from the old snapshot, and both claims would win).
    JobItem.objects.filter(pk__in=item_ids, attempts__lt=max_attempts()).filter(
        Q(status=ItemStatus.PENDING, next_poll_at__isnull=True)
        | Q(status=ItemStatus.PENDING, next_poll_at__lte=now)
        | Q(status=ItemStatus.RUNNING, lease_until__lt=now)
    ).update(status=ItemStatus.RUNNING, claim_token=token, lease_until=now + timedelta(seconds=lease_seconds()),
             attempts=F("attempts") + 1, started_at=Coalesce("started_at", now))
    # Looked up by primary key (the claimed rows are among item_ids; by token alone SQLite scans the table),
    # without the scheduling columns the send path never reads (8 of them dates, each parsed per row).
    items = list(JobItem.objects.filter(pk__in=item_ids, claim_token=token, status=ItemStatus.RUNNING)
                 .order_by("id").defer(*CLAIM_DEFERRED))
    # The job (with its owner) and the connection once each, shared by the items (not one copy per row).
    if items:
        jobs = {job.pk: job for job in Job.objects.select_related("started_by")
                .filter(pk__in={item.job_id for item in items})}
        conns = {conn.pk: conn for conn in Connection.objects.filter(pk__in={item.connection_id for item in items})}
        cache_job, cache_conn = JobItem.job.field.set_cached_value, JobItem.connection.field.set_cached_value
        for item in items:  # the ids already match: only the related-object cache is filled
            cache_job(item, jobs[item.job_id])
            cache_conn(item, conns[item.connection_id])
    return token, items


def items_process(item_ids: list[int]) -> int:
    """Claim and send the given items (one item, or one chunk). Returns how many were claimed."""
    if not item_ids:
        return 0
    now = timezone.now()
    paused = (Connection.objects.filter(job_items__id=item_ids[0], paused_until__gt=now)
              .values_list("paused_until", flat=True).first())
    if paused:
        # The portal asked us to wait: leave the items unclaimed (no attempt spent, nothing to give back);
        # the poll tick rings them again within the portal's budget when the pause is over.
        JobItem.objects.filter(pk__in=item_ids, status=ItemStatus.PENDING).update(next_poll_at=paused,
                                                                                  enqueued_at=None)
        return 0
    token, items = items_claim(item_ids)
    if not items:
        return 0
    groups: dict[tuple[int, int], list[JobItem]] = defaultdict(list)
    for item in items:
        groups[(item.job_id, item.connection_id)].append(item)
    for (job_id, _conn), group in groups.items():
        ctx = job_id_var.set(str(job_id))
        try:
            _process_group(group, token)
        finally:
            job_id_var.reset(ctx)
    from portaladmin.jobs.services import job_refresh

    for job_id in {item.job_id for item in items}:
        job_refresh(job_id=job_id)
    return len(items)


def _release(item: JobItem, token: str, *, until: datetime, message: str, refund: bool) -> None:
    """Give the item back (pending, due at `until`); a refund means the attempt did not count."""
    fields = dict(status=ItemStatus.PENDING, lease_until=None, claim_token=NO_CLAIM, next_poll_at=until, enqueued_at=None,
                  message=_text(message))
    if refund:
        fields["attempts"] = F("attempts") - 1
    _update(item, token, **fields)


def _retry_later(item: JobItem, token: str, exc: Exception, *, sent: bool) -> None:
    """A failure that may pass (429, 5xx, timeout, connection error): try again after a backoff.

    Transient failures do not spend the attempts that count real failures and crashes: the item keeps
    retrying with backoff until JOBS_TRANSIENT_RETRY_SECONDS have passed since the first failure of the streak.
    """
    what = "sending" if sent else "checking the portal"
    now = timezone.now()
    first = item.transient_since or now
    if now - first >= transient_budget():
        minutes = (now - first).total_seconds() / 60
        _finish(item, ItemStatus.FAILED, f"Gave up after {minutes:.0f} min of temporary failures; last error while "
                f"{what}: {_text(exc)}", token)
        return
    streak = int(item.details.get("transient_failures", 0)) + 1
    delay = getattr(exc, "retry_after", None) or retry_delay(streak)
    until = now + timedelta(seconds=delay)
    _update(item, token, transient_since=first, details={**item.details, "transient_failures": streak})
    _release(item, token, until=until, refund=True,
             message=f"Temporary failure while {what} ({_text(exc)}); retrying at {until:%H:%M:%S} UTC.")


def _process_group(items: list[JobItem], token: str) -> None:
    # The job (its cancel flag), its owner (is_active) and the connection (paused_until) were read by
    # items_claim in this task, after the claim: as fresh as a re-read here, without three more queries.
    job = items[0].job
    connection = items[0].connection
    kind = get_kind(job.kind)
    now = timezone.now()

    if job.cancel_requested_at is not None:
        for item in items:
            _finish(item, ItemStatus.CANCELLED, "Cancelled; an earlier attempt may have reached the portal."
                    if item.action_sent else "Cancelled before it was sent.", token)
        return

    actor = job.started_by
    if actor is not None:
        forget_cached_roles(actor)
    if actor is None or not has_role(actor, connection, kind.needed_role):
        who = actor.username if actor is not None else "the person who started this job"
        reason = (f"Refused: {who} no longer has the {kind.needed_role.label.lower()} role on "
                  f"{connection.name}.")
        for item in items:
            audit_record(action=kind.audit_action, actor=actor, connection=connection, target=item.target,
                         outcome=Outcome.FAILURE, error=reason, job_id=job.pk)
            _finish(item, ItemStatus.FAILED, reason, token)
        return

    paused = connection.paused_until if connection.paused_until and connection.paused_until > now else None
    if paused:
        for item in items:
            _release(item, token, until=paused, refund=True,
                     message=f"The portal asked us to slow down; waiting until {paused:%H:%M:%S} UTC.")
        return

    client = remote.get_client(connection)
    to_send: list[JobItem] = []
    for index, item in enumerate(items):
        if not (item.action_sent and not item.send_confirmed):
            to_send.append(item)
            continue
        try:
            verdict, view = check_unsent(kind, client, item)
        except PortalRateLimited as exc:
            until = connection_pause(connection.pk, exc.retry_after)
            for rest in items[index:]:
                _release(rest, token, until=until, refund=True, message="Rate-limited by the portal; waiting.")
            return
        except PortalUnavailable as exc:
            _retry_later(item, token, exc, sent=False)
            continue
        except PortalAuthError as exc:
            _finish(item, ItemStatus.FAILED, f"The portal refused the connection's key while checking: {_text(exc)}",
                    token)
            continue
        except PortalError as exc:
            _finish(item, ItemStatus.FAILED, f"Could not check the state on the portal: {_text(exc)}", token)
            continue
        if verdict == Verdict.SENT:
            _after_send(item, token, kind, sent_at=item.sent_at or now,
                        message="An earlier attempt reached the portal; not sent again.")
            if view is not None and item.status == ItemStatus.WAITING:
                # What that check read is a state after our order: record it, never throw it away.
                apply_view(kind, item, view, now=timezone.now(), fresh=True)
                if item.status == ItemStatus.WAITING:
                    _update(item, message=f"An earlier attempt reached the portal; not sent again. It shows "
                                          f"{view.state}.")
        elif verdict == Verdict.ALREADY_TRUE:
            _finish(item, ItemStatus.FAILED, kind.already_true_message(item), token, send_confirmed=True)
        elif verdict == Verdict.NOT_SENT or kind.idempotent:
            item.resending = True  # a conflict now most likely means the earlier attempt got through after all
            to_send.append(item)
        else:
            state = f" It shows {view.state}" + (f" since {view.since:%Y-%m-%d %H:%M:%S} (portal time)"
                                                 if view.since else "") + "." if view is not None else ""
            _finish(item, ItemStatus.FAILED, "The worker stopped during the request, and the portal's answer does "
                    f"not tell whether it was applied.{state} Check the portal before retrying.", token)
    if not to_send:
        return

    try:
        before = kind.before_send(client, to_send) or {}
    except PortalRateLimited as exc:
        until = connection_pause(connection.pk, exc.retry_after)
        for item in to_send:
            _release(item, token, until=until, refund=True, message="Rate-limited by the portal; waiting.")
        return
    except PortalUnavailable as exc:
        for item in to_send:
            _retry_later(item, token, exc, sent=False)
        return
    except PortalError as exc:
        for item in to_send:
            _finish(item, ItemStatus.FAILED, f"Could not read the portal before sending: {_text(exc)}", token)
        return
    sent_at = timezone.now()
    # The marker and the facts read before sending, in ONE conditional UPDATE committed before the request leaves
    # (one query per chunk, not one per row: at 100 invitations per request this was most of our own time).
    details = {item.pk: {**item.details, **before[item.pk]} for item in to_send if before.get(item.pk)}
    fields: dict = dict(action_sent=True, send_confirmed=False, sent_at=sent_at, portal_sent_at=None)
    if details:
        # One WHEN per distinct value, not per row: the rows of a chunk mostly end with the same few details (an
        # invite's {"member_before_send": false}), and 100 JSON WHEN branches cost more than the rest of the chunk.
        same: dict[str, list[int]] = defaultdict(list)
        for pk, value in details.items():
            same[json.dumps(value, sort_keys=True)].append(pk)
        fields["details"] = Case(*[When(pk__in=pks, then=Value(json.loads(value), output_field=JSONField()))
                                   for value, pks in same.items()], default=F("details"), output_field=JSONField())
    JobItem.objects.filter(pk__in=[i.pk for i in to_send], claim_token=token).update(**fields)
    for item in to_send:
        item.action_sent, item.send_confirmed, item.sent_at, item.portal_sent_at = True, False, sent_at, None
        if item.pk in details:
            item.details = details[item.pk]

    if kind.chunk_size > 1:
        _send_chunk(kind, client, job, connection, to_send, token, sent_at)
    else:
        for item in to_send:
            _send_one(kind, client, job, connection, item, token, sent_at)


def check_unsent(kind: JobKind, client, item: JobItem) -> tuple[str, RemoteView | None]:
    """An earlier attempt died between 'about to send' and 'answer recorded': ask the portal what happened.

    Pollable kinds: busy → SENT; terminal → compare its `since` with our send time on the portal's clock
    (truth.sent_position). The view read is returned so that the engine records it. Others: the kind's
    verify_unsent (e.g. membership read before the send)."""
    if not kind.pollable:
        return kind.verify_unsent(client, item), None
    view = kind.read_remote(client, item)
    if not view.terminal:
        return Verdict.SENT, view
    if not kind.race_safe_idle:
        return Verdict.UNKNOWN, view
    answer_date, round_trip = _answer_clock(client)
    position = truth.sent_position(since=view.since, sent_at=item.sent_at or timezone.now(), now=timezone.now(),
                                   answer_date=answer_date, round_trip=round_trip)
    return {truth.SENT: Verdict.SENT, truth.NOT_SENT: Verdict.NOT_SENT}.get(position, Verdict.UNKNOWN), view


def _send_one(kind, client, job, connection, item, token, sent_at) -> None:
    try:
        with audit_remote_write(action=kind.audit_action, actor=job.started_by, connection=connection,
                                target=item.target, job_id=job.pk):
            result = kind.perform(client, item) or {}
    except SoftTimeLimitExceeded:
        raise  # the task ran out of time: like a crash, the lease expires and the sweeper takes it back
    except Exception as exc:  # noqa: BLE001 - classified below; every path records the item
        if isinstance(exc, PortalConflict) and getattr(item, "resending", False) and kind.pollable:
            _after_send(item, token, kind, sent_at=item.sent_at or sent_at,
                        message="The portal is already processing it: an earlier attempt got through.")
            return
        _send_failed(item, token, exc, connection)
        return
    answer_date, round_trip = _answer_clock(client)
    note_portal_answered(connection.pk)
    _after_send(item, token, kind, sent_at=sent_at, message=result.get("message", ""),
                details={**(result.get("details") or {}), "send_round_trip": round(round_trip, 3)},
                portal_sent_at=answer_date)


def _send_chunk(kind, client, job, connection, items, token, sent_at) -> None:
    try:
        results = kind.perform_chunk(client, items)
    except Exception as exc:  # noqa: BLE001
        for item in items:
            audit_record(action=kind.audit_action, actor=job.started_by, connection=connection, target=item.target,
                         outcome=Outcome.FAILURE, error=exc, job_id=job.pk)
            _send_failed(item, token, exc, connection)
        return
    if kind.pollable:
        for item in items:
            _record_one(kind, job, connection, item, token, sent_at, results.get(item.pk))
        return
    _record_chunk(kind, job, connection, items, token, results)


def _record_one(kind, job, connection, item, token, sent_at, result) -> None:
    if result is None:
        _finish(item, ItemStatus.FAILED, "The portal's answer did not mention this item.", token, send_confirmed=True)
        return
    audit_record(action=kind.audit_action, actor=job.started_by, connection=connection, target=item.target,
                 outcome=Outcome.SUCCESS if result.ok else Outcome.FAILURE,
                 error="" if result.ok else result.message or "refused", job_id=job.pk)
    if result.ok:
        _after_send(item, token, kind, sent_at=sent_at, message=result.message, details=result.details)
    else:
        _finish(item, ItemStatus.FAILED, result.message or "The portal refused it.", token, send_confirmed=True,
                details={**item.details, **result.details})


def _record_chunk(kind, job, connection, items, token, results) -> None:
    """Record every row's answer of one chunk (non-pollable kinds) in one transaction, in bulk.

    Same outcome per row as _record_one — its own status, message and audit event — but one audit INSERT and
    one UPDATE per distinct (status, message) instead of two queries per row: at 100 rows per request this
    keeps portaladmin's own time small next to the portal's. A worker killed while recording leaves the whole
    chunk "sent, unknown", which is checked on the portal before anything is sent again.
    """
    now = timezone.now()
    groups: dict[tuple[str, str], list[JobItem]] = defaultdict(list)
    one_by_one: list[tuple[JobItem, str, str, dict]] = []
    events = []
    texts: dict[str, str] = {}
    for item in items:
        result = results.get(item.pk)
        if result is None:
            status, message, details = ItemStatus.FAILED, "The portal's answer did not mention this item.", {}
        else:
            status = ItemStatus.SUCCEEDED if result.ok else ItemStatus.FAILED
            message = result.message or ("Done." if result.ok else "The portal refused it.")
            details = result.details or {}
            events.append(dict(action=kind.audit_action, actor=job.started_by, connection=connection,
                               target=item.target, outcome=Outcome.SUCCESS if result.ok else Outcome.FAILURE,
                               error="" if result.ok else message, job_id=job.pk))
        if details:
            one_by_one.append((item, status, message, {**item.details, **details}))
        else:
            if message not in texts:  # redacted once per distinct message, not once per row
                texts[message] = _text(message)
            groups[(status, texts[message])].append(item)
    done: list[JobItem] = []
    common = dict(finished_at=now, lease_until=None, next_poll_at=None, claim_token=NO_CLAIM, send_confirmed=True)
    with transaction.atomic():
        for (status, message), group in groups.items():
            ids = [item.pk for item in group]
            # Conditional on the claim, row by row; when some row was taken back meanwhile (sweeper), the
            # rows written are those carrying this exact finished_at.
            written = JobItem.objects.filter(pk__in=ids, claim_token=token, status=ItemStatus.RUNNING).update(
                status=status, message=message, **common)
            held = set(ids) if written == len(ids) else set(
                JobItem.objects.filter(pk__in=ids, status=status, finished_at=now, claim_token=NO_CLAIM)
                .values_list("pk", flat=True))
            for item in group:
                if item.pk in held:
                    item.status, item.message = status, message
                    for name, value in common.items():
                        setattr(item, name, value)
                    done.append(item)
        for item, status, message, details in one_by_one:
            if _update(item, token, status=status, message=_text(message), details=details, **common):
                done.append(item)
        audit_record_many(events)
    for item in done:
        on_item_remote_state(item)


def _send_failed(item: JobItem, token: str, exc: Exception, connection: Connection) -> None:
    if isinstance(exc, PortalRateLimited):
        # A 429 is answered before anything is done: the write did not happen, the attempt does not count.
        until = connection_pause(connection.pk, exc.retry_after)
        _update(item, token, action_sent=False)
        _release(item, token, until=until, refund=True,
                 message=f"The portal asked us to slow down; sending again after {until:%H:%M:%S} UTC.")
    elif isinstance(exc, PortalUnavailable):
        # 5xx or timeout: the portal may or may not have acted; the next attempt checks before re-sending.
        _retry_later(item, token, exc, sent=True)
    elif isinstance(exc, PortalError):
        details = dict(item.details)
        if isinstance(exc, PortalValidationError) and isinstance(exc.detail, dict):
            details["field_errors"] = exc.detail
        prefix = {PortalConflict: "The portal refused it in its current state",
                  PortalNotFound: "Not found on the portal",
                  PortalAuthError: "The portal refused the connection's key"}.get(type(exc), "The portal refused it")
        _finish(item, ItemStatus.FAILED, f"{prefix}: {_text(exc)}", token, send_confirmed=True, details=details)
    else:
        logger.exception("job item %s: unexpected error", item.pk, exc_info=exc)
        _retry_later(item, token, exc, sent=True)


def _after_send(item: JobItem, token: str, kind: JobKind, *, sent_at: datetime, message: str = "",
                details: dict | None = None, portal_sent_at: datetime | None = None) -> None:
    now = timezone.now()
    merged = {**item.details, **(details or {})}
    merged.pop("transient_failures", None)
    if kind.pollable:
        _update(item, token, status=ItemStatus.WAITING, send_confirmed=True, lease_until=None, claim_token=NO_CLAIM,
                seen_busy=False, poll_count=0, remote_state="", remote_since=None, state_seen_at=now,
                expected_end=None, hinted_at=None, hint_listed_at=None,
                portal_sent_at=portal_sent_at, transient_since=None,
                next_poll_at=now + timedelta(seconds=schedule.Knobs.from_settings().first),
                deadline=item_deadline(kind, sent_at), message=_text(message or "Sent; waiting for the portal."),
                details=merged)
    else:
        _finish(item, ItemStatus.SUCCEEDED, message or "Done.", token, send_confirmed=True, details=merged,
                transient_since=None)


# --- the poller -----------------------------------------------------------------------------------
class Batches(dict):
    """{connection id: item ids to read}, plus `hints`: {connection id: how many list requests its batch starts
    with} (kinds with list_hints; schedule.py). Compares equal to the plain dict of batches."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.hints: dict[int, int] = {}


def hint_seconds() -> float:
    return float(getattr(settings, "JOBS_LIST_HINT_SECONDS", 4.0))


def hint_min_items() -> int:
    return int(getattr(settings, "JOBS_LIST_HINT_MIN_ITEMS", 5))


def _hints_due(conn_id: int, budget: int, now: datetime) -> int:
    """How many list requests the tick gives this portal's hints: every JOBS_LIST_HINT_SECONDS at most, when enough
    items could use them and no cancel is under way there (aborts need every request of the budget); one per
    window of the list holding waiting datasets (schedule.list_windows), at most a quarter of the budget."""
    key = f"jobs:hint:{conn_id}"
    if budget < 2 or (cache.get(key) or 0) > now.timestamp() - hint_seconds():
        return 0
    names = [name for name, kind in kinds().items() if kind.list_hints]
    cancelling = JobItem.objects.filter(connection_id=conn_id, status=ItemStatus.WAITING,
                                        job__cancel_requested_at__isnull=False)
    if not names or cancelling.exists():
        return 0
    targets = list(JobItem.objects.filter(connection_id=conn_id, status=ItemStatus.WAITING, poll_count__gt=0,
                                          job__kind__in=names).values_list("target", flat=True))
    if len(targets) < hint_min_items():
        return 0
    cache.set(key, now.timestamp(), timeout=max(60, int(hint_seconds() * 4)))
    return max(1, min(len(_list_windows(conn_id, targets)), budget // 4))


def _list_windows(conn_id: int, targets: list[str]) -> list[int]:
    """The offsets of the parts of the portal's list that hold `targets` (their places at the last sync)."""
    places = places_in_list(connection_id=conn_id, targets=targets)
    return schedule.list_windows(places.get(t) for t in targets)


def poll_order(qs, watched: set[int]):
    """The read order of due items (schedule.sort_key, in SQL): aborts of cancelled jobs, watched jobs, items
    the list hinted at, then the most overdue against their expected end (else the longest due), then id."""
    whens = [When(job__cancel_requested_at__isnull=False, then=Value(schedule.RANK_CANCEL))]
    if watched:
        whens.append(When(job_id__in=sorted(watched), then=Value(schedule.RANK_WATCHED)))
    whens.append(When(hinted_at__isnull=False, then=Value(schedule.RANK_HINTED)))
    return qs.annotate(poll_rank=Case(*whens, default=Value(schedule.RANK_OTHER), output_field=IntegerField()),
                       poll_when=Coalesce("expected_end", "next_poll_at")).order_by("poll_rank", "poll_when", "id")


def poll_tick(*, now: datetime | None = None) -> Batches:
    """Take the due items, fail the expired ones, hand each portal at most its budget. Returns the batches.

    Per portal, at most its budget of due rows is locked (skip_locked) and reserved by moving next_poll_at
    forward inside the transaction, so a concurrent tick (another beat, another worker) does not take them and a
    portal with thousands of due items cannot starve the others; the HTTP happens later, in poll_batch. When the
    budget is short, the items most likely finished are taken first (poll_order), not the oldest.
    """
    now = now or timezone.now()
    batches = Batches()
    due = JobItem.objects.filter(status=ItemStatus.WAITING, next_poll_at__lte=now)
    expired = list(due.filter(deadline__lte=now).values_list("id", flat=True)[:1000])
    if expired:
        items_expire(expired)
    waiting = JobItem.objects.filter(status=ItemStatus.WAITING)
    conn_ids = set(waiting.values_list("connection_id", flat=True).distinct())
    conns = Connection.objects.in_bulk(list(conn_ids), field_name="pk")
    watched = watched_jobs(due.values_list("job_id", flat=True).distinct(), now=now)
    for conn_id, conn in conns.items():
        with transaction.atomic():
            qs = due.filter(connection_id=conn_id)
            if conn.paused_until and conn.paused_until > now:
                qs.update(next_poll_at=conn.paused_until)
                continue
            budget = portal_budget(conn)
            hint = _hints_due(conn_id, budget, now)
            limit = _read_limit(qs, conn_id, budget - hint, budget, now)
            qs = poll_order(qs, watched)
            if db.features.has_select_for_update_skip_locked:
                qs = qs.select_for_update(skip_locked=True, of=("self",))
            taken = list(qs.values_list("id", flat=True)[:limit])
            if taken:
                JobItem.objects.filter(pk__in=taken).update(
                    next_poll_at=now + timedelta(seconds=POLL_LEASE_SECONDS))
            if taken or hint:
                batches[conn_id] = taken
            if hint:
                batches.hints[conn_id] = hint
    polls = {conn_id: len(ids) + batches.hints.get(conn_id, 0) for conn_id, ids in batches.items()}
    cache.set(TICK_ALIVE_KEY, now.timestamp(), timeout=3600)
    dispatch_due_sends(now=now, spent=polls)
    # Other users of the portals' budgets (the datasets status scan) take what the jobs leave, after them.
    on_poll_tick_done(now=now, polls=polls)
    return batches


def _waiting_sends(conn_id: int, now: datetime):
    return JobItem.objects.filter(connection_id=conn_id, status=ItemStatus.PENDING, next_poll_at__isnull=False,
                                  next_poll_at__lte=now, enqueued_at__isnull=True)


def _read_limit(due, conn_id: int, limit: int, budget: int, now: datetime) -> int:
    """How many status reads this tick: all of `limit`, unless sends wait for their turn; then the reads of items
    likely finished (aborts, hinted by the list, past their learned end) still go first, and the other reads leave
    the sends up to half the budget."""
    waiting = len(_waiting_sends(conn_id, now).values_list("id", flat=True)[:budget])
    if not waiting:
        return limit
    likely = len(due.filter(Q(job__cancel_requested_at__isnull=False) | Q(hinted_at__isnull=False)
                            | Q(expected_end__lte=now)).values_list("id", flat=True)[:limit])
    # Half the budget for the sends; a budget of 1 has no half: the sends have it every other tick (the tick's
    # number), as the sends' own floor in dispatch_due_sends would otherwise make 2 requests a tick of a budget of 1.
    share = budget // 2 or int(now.timestamp() // max(1.0, float(settings.JOBS_POLL_INTERVAL))) % 2
    return min(limit, max(likely, limit - min(waiting, share)))


def _queued(conn_id: int) -> int:
    """Paced sends rung whose doorbell no worker has taken yet (a slow broker or a busy worker)."""
    return JobItem.objects.filter(connection_id=conn_id, status=ItemStatus.PENDING, enqueued_at__isnull=False,
                                  job__kind__in=paced_kinds()).count()


def _sends_in_flight(conn_id: int) -> bool:
    """Paced sends rung and not answered yet (claimed, or their doorbell not taken yet)?"""
    return JobItem.objects.filter(connection_id=conn_id, job__kind__in=paced_kinds()).filter(
        Q(status=ItemStatus.RUNNING) | Q(status=ItemStatus.PENDING, enqueued_at__isnull=False)).exists()


def dispatch_due_sends(*, now: datetime, spent: dict[int, int] | None = None) -> int:
    """Ring the doorbell for items whose retry time or pause is over, at most the portal's remaining budget.

    Items given back after a 429 or a temporary failure wait here instead of being re-swept all at once: when a
    pause ends, a portal gets what its budget allows per tick, so a rate-limiting portal sets the pace, not our
    own churn.
    """
    spent = spent or {}
    due = JobItem.objects.filter(status=ItemStatus.PENDING, next_poll_at__isnull=False, next_poll_at__lte=now,
                                 enqueued_at__isnull=True)
    conn_ids = set(due.values_list("connection_id", flat=True).distinct())
    rung = 0
    for conn in Connection.objects.filter(pk__in=conn_ids):
        if conn.paused_until and conn.paused_until > now:
            continue
        budget = portal_budget(conn)
        # What the reads left, at least a quarter of the budget (the reads of items likely finished may take it
        # all); no floor of one on budgets below 4: that made the sends exceed a budget of 1 at every tick. The reads
        # leave the sends a share when sends wait (_read_limit), so they go on. And never more than a tick's budget
        # rung and not yet taken, so a worker that falls behind does not pile up doorbells to send in one burst.
        room = min(max(budget - spent.get(conn.pk, 0), budget // 4), budget - _queued(conn.pk))
        if room <= 0:
            continue
        with transaction.atomic():
            # The jobs take turns (each job's oldest due first): a small publish started after a big one on the same
            # portal is sent from the next tick on, not after every waiting send of the big one (first come, first
            # served made it wait the big job's whole send phase, minutes at 1,000 items).
            turn = Window(RowNumber(), partition_by=[F("job_id")], order_by=[F("next_poll_at").asc(), F("id").asc()])
            # Within a turn the jobs after the last one rung here go first (round robin by job id, the pointer in the
            # cache): with room for fewer sends than jobs (a budget of 2 or 3), the oldest job came first every time.
            key = f"jobs:turn:{conn.pk}"
            after = Case(When(job_id__gt=cache.get(key) or 0, then=Value(0)), default=Value(1),
                         output_field=IntegerField())
            rows = list(due.filter(connection_id=conn.pk).annotate(turn=turn, after=after)
                        .order_by("turn", "after", "job_id", "next_poll_at", "id")
                        .values_list("id", "job_id", "connection_id", "chunk", "job__kind")[:room])
            if rows:
                cache.set(key, rows[-1][1], timeout=3600)
                rows += _rest_of_chunks(due.filter(connection_id=conn.pk), rows)
                JobItem.objects.filter(pk__in=[r[0] for r in rows]).update(enqueued_at=now)
                enqueue_items(group_for_enqueue(rows))
                rung += len(rows)
    return rung


def _rest_of_chunks(due, rows: list[tuple]) -> list[tuple]:
    """The other due rows of the chunks some of `rows` belong to: a chunk is one request, rung whole (a slice of it
    rang as one request and the rest later, and steps that must run in order could run in two workers at once)."""
    chunks = {(job_id, chunk) for _pk, job_id, _conn, chunk, kind_name in rows if _chunked(kind_name)}
    if not chunks:
        return []
    have = {row[0] for row in rows}
    which = Q()
    for job_id, chunk in chunks:
        which |= Q(job_id=job_id, chunk=chunk)
    return [row for row in due.filter(which).order_by("id")
            .values_list("id", "job_id", "connection_id", "chunk", "job__kind") if row[0] not in have]


def items_expire(item_ids: list[int]) -> None:
    from portaladmin.jobs.services import job_refresh

    jobs = set()
    for item in JobItem.objects.filter(pk__in=item_ids, status=ItemStatus.WAITING).select_related("job"):
        hours = (item.deadline - item.sent_at).total_seconds() / 3600 if item.deadline and item.sent_at else None
        state = f"last state {item.remote_state!r}" if item.remote_state else "no state read"
        message = (f"No final state before the deadline ({hours:.1f} h after sending; {state}). The portal may still "
                   f"finish it: check it there." if hours is not None else f"Deadline passed ({state}).")
        if JobItem.objects.filter(pk=item.pk, status=ItemStatus.WAITING).update(
                status=ItemStatus.FAILED, message=message, finished_at=timezone.now(), next_poll_at=None):
            item.status, item.message = ItemStatus.FAILED, message
            on_item_remote_state(item)
            jobs.add(item.job_id)
    for job_id in jobs:
        job_refresh(job_id=job_id)


def poll_batch(*, connection_id: int, item_ids: list[int], hint: bool | int = False) -> int:
    """Read the remote state of the given items of one portal (at most its budget). Returns requests made.

    `hint`: first that many list requests (True: one; the tick reserved their slots) that mark the items they
    suggest changed; this batch reads them right after, in place of its last reads. In the batch, aborts of
    cancelled jobs go first; an abort the portal accepts ends the item at once (no read after it: one request per
    item to stop).
    """
    from portaladmin.jobs.services import job_refresh

    try:
        connection = Connection.objects.get(pk=connection_id)
    except Connection.DoesNotExist:
        return 0
    order = {item_id: index for index, item_id in enumerate(item_ids)}  # the tick's order (schedule.sort_key)
    items = sorted(JobItem.objects.filter(pk__in=item_ids, status=ItemStatus.WAITING)
                   .select_related("job", "job__cancelled_by"),
                   key=lambda i: (i.job.cancel_requested_at is None, order.get(i.pk, 0)))
    if not items and not hint:
        return 0
    now = timezone.now()
    paused = _paused_until(connection, now)
    if paused:
        JobItem.objects.filter(pk__in=[i.pk for i in items]).update(next_poll_at=paused)
        return 0
    client = remote.get_client(connection)
    requests_made = 0
    if hint:
        try:
            hinted, lists = list_hints(client, connection, now, windows=int(hint))
        except PortalRateLimited as exc:
            until = connection_pause(connection.pk, exc.retry_after)
            JobItem.objects.filter(pk__in=[i.pk for i in items], status=ItemStatus.WAITING).update(next_poll_at=until)
            return requests_made + 1
        except Exception as exc:  # noqa: BLE001 - a hint is an optimisation: the reads go on without it
            requests_made += 1
            logger.warning("portal %s: the list request for poll hints failed: %s", connection.pk, _text(exc))
        else:
            requests_made += lists
            items = _with_hinted(items, hinted, connection, now, lists=lists)
    watched = watched_jobs({item.job_id for item in items}, now=now)
    for item in items:
        item.watched = item.job_id in watched
    learn_expected_end(connection.pk, items)
    answered = False
    for index, item in enumerate(items):
        kind = get_kind(item.job.kind)
        try:
            if item.job.cancel_requested_at and kind.can_abort and not item.details.get("abort_done"):
                requests_made += 1
                _abort_item(kind, client, item, connection)
                if item.details.get("abort_sent"):
                    _cancel_aborted(item)
                    continue
            requests_made += 1
            view = kind.read_remote(client, item)
        except PortalRateLimited as exc:
            until = connection_pause(connection.pk, exc.retry_after)
            JobItem.objects.filter(pk__in=[i.pk for i in items[index:]], status=ItemStatus.WAITING).update(
                next_poll_at=until)
            break
        except PortalNotFound as exc:
            _finish(item, ItemStatus.FAILED, f"It no longer exists on the portal: {_text(exc)}")
            continue
        except Exception as exc:  # noqa: BLE001 - a failed read is retried at the next poll
            if not isinstance(exc, PortalError):
                logger.exception("job item %s: reading the remote state failed", item.pk)
            _schedule_poll(item, now, message=f"Could not read the state ({_text(exc)}); will try again.")
            continue
        apply_view(kind, item, view, now=timezone.now())
        answered = True
        if item.job.cancel_requested_at and item.status == ItemStatus.WAITING:
            _cancel_waiting(item, view)
    if answered:
        note_portal_answered(connection.pk)
    learn_from_peers(connection.pk, {item.job_id for item in items})
    for job_id in {item.job_id for item in items}:
        job_refresh(job_id=job_id)
    return requests_made


def _with_hinted(items: list[JobItem], hinted: list[int], connection: Connection, now: datetime, *,
                 lists: int = 1) -> list[JobItem]:
    """Read the items the list just hinted at in this batch (their end shows now, not a tick later), in place of
    the batch's last reads, which are due again at once; aborts of cancelled jobs are never displaced. `lists`:
    the list requests the hint made (slots the tick set aside for hints and left unused go to hinted reads)."""
    have = {item.pk for item in items}
    extra = list(JobItem.objects.filter(pk__in=[pk for pk in hinted if pk not in have], status=ItemStatus.WAITING)
                 .select_related("job", "job__cancelled_by"))
    if not extra:
        return items
    room = max(0, portal_budget(connection) - lists - len(items))  # the list requests took their part
    if room and (_sends_in_flight(connection.pk) or _waiting_sends(connection.pk, now).exists()):
        # The tick gave what its reads left to the sends waiting on this portal: the hinted items take the place of
        # the batch's last reads, not the sends' share (filling the budget again made 1.5 times it on hint ticks).
        room = 0
    displace = [item for item in reversed(items) if item.job.cancel_requested_at is None][:max(0, len(extra) - room)]
    if displace:
        JobItem.objects.filter(pk__in=[item.pk for item in displace], status=ItemStatus.WAITING).update(
            next_poll_at=now)
    gone = {item.pk for item in displace}
    extra = extra[:room + len(displace)]  # the rest stay hinted and due: the next tick reads them first
    JobItem.objects.filter(pk__in=[item.pk for item in extra], status=ItemStatus.WAITING).update(
        next_poll_at=now + timedelta(seconds=POLL_LEASE_SECONDS))  # reserved for this batch, like the tick's
    kept = [item for item in items if item.pk not in gone]
    cancels = [item for item in kept if item.job.cancel_requested_at is not None]
    return cancels + extra + [item for item in kept if item.job.cancel_requested_at is None]


def learn_expected_end(connection_id: int, items: list[JobItem]) -> None:
    """At an item's first read: when should it end, going by its target's own past orders of the same kind?
    (Without such a past, learn_from_peers may give it its job's time later.)"""
    fresh = [i for i in items if i.expected_end is None and i.poll_count == 0 and i.sent_at]
    by_kind: dict[str, list[JobItem]] = defaultdict(list)
    for item in fresh:
        by_kind[item.job.kind].append(item)
    for kind_name, group in by_kind.items():
        targets = {item.target for item in group}
        rows = (JobItem.objects.filter(connection_id=connection_id, target__in=targets, job__kind=kind_name,
                                       status=ItemStatus.SUCCEEDED, sent_at__isnull=False)
                .order_by("-finished_at").values_list("target", "sent_at", "finished_at", "portal_sent_at",
                                                      "remote_since")[:len(targets) * schedule.HISTORY])
        past: dict[str, list[float | None]] = defaultdict(list)
        for target, sent_at, finished_at, portal_sent_at, remote_since in rows:
            past[target].append(schedule.past_duration(sent_at=sent_at, finished_at=finished_at,
                                                       portal_sent_at=portal_sent_at, remote_since=remote_since))
        for item in group:
            _expect(item, schedule.expected_seconds(past.get(item.target, [])))


def learn_from_peers(connection_id: int, job_ids: set[int]) -> None:
    """After a batch's reads: when a job's finished items on this portal agree on a time, every waiting item of the
    job still without an expectation takes it, not only the ones read next; each is then due at its expected end
    at the latest, so those already past it are read first (poll_order), not in turn."""
    for job_id in job_ids:
        waiting = JobItem.objects.filter(job_id=job_id, connection_id=connection_id, status=ItemStatus.WAITING,
                                         expected_end__isnull=True, sent_at__isnull=False)
        if not waiting.exists():
            continue
        seconds = _peer_expectation(job_id, connection_id)
        if seconds:
            expected = ExpressionWrapper(F("sent_at") + timedelta(seconds=seconds), output_field=DateTimeField())
            waiting.update(expected_end=expected, next_poll_at=Least("next_poll_at", expected))


def _expect(item: JobItem, seconds: float | None) -> None:
    if seconds:
        item.expected_end = item.sent_at + timedelta(seconds=seconds)
        JobItem.objects.filter(pk=item.pk).update(expected_end=item.expected_end)


def _peer_expectation(job_id: int, connection_id: int) -> float | None:
    """The time this job's last finished items on this portal took, when they agree (schedule.expected_from_peers)."""
    rows = (JobItem.objects.filter(job_id=job_id, connection_id=connection_id, status=ItemStatus.SUCCEEDED)
            .order_by("-finished_at").values_list("sent_at", "finished_at", "portal_sent_at", "remote_since")[:20])
    return schedule.expected_from_peers(
        schedule.past_duration(sent_at=sent_at, finished_at=finished_at, portal_sent_at=portal_sent_at,
                               remote_since=remote_since) for sent_at, finished_at, portal_sent_at, remote_since in rows)


def list_hints(client, connection: Connection, now: datetime, *, windows: int = 1) -> tuple[list[int], int]:
    """Cheap list requests (`windows` of them at most, all listings together): mark the waiting items they suggest
    changed (due now). Returns their ids and the number of requests made. A 429 is raised (the caller pauses the
    portal); any other failure ends the hint with what the requests before it gave.

    Never proof of anything: the marked items are read with read_remote and judged by truth.py like any other.
    """
    names = {name: kind for name, kind in kinds().items() if kind.list_hints}
    rows = list(JobItem.objects.filter(connection_id=connection.pk, status=ItemStatus.WAITING, poll_count__gt=0,
                                       hinted_at__isnull=True, job__kind__in=list(names))
                .values_list("id", "target", "details", "remote_since", "portal_sent_at", "hint_listed_at",
                             "job__kind"))
    if not rows:
        return [], 0
    # Kinds sharing one listing (the dataset kinds) share one request, of the part of the list that holds their
    # targets: the 1,000 around their places at the last sync, each such window in turn (schedule.list_windows).
    sources: dict = {}  # listing → (a kind using it, the targets it must show)
    for _, target, *_, kind_name in rows:
        kind = names[kind_name]
        sources.setdefault(type(kind).hint_listing, (kind, []))[1].append(target)
    listings: dict = defaultdict(dict)
    key = f"jobs:hint-window:{connection.pk}"
    made = 0
    for source, (kind, targets) in sources.items():
        all_windows = _list_windows(connection.pk, targets)
        for _ in range(min(windows - made, len(all_windows))):
            offset = schedule.next_window(all_windows, cache.get(key))
            made += 1
            try:
                listings[source].update(kind.hint_listing(client, offset=offset))
            except PortalRateLimited:
                raise
            except Exception as exc:  # noqa: BLE001 - a hint is an optimisation: the reads go on without it
                logger.warning("portal %s: a list request for poll hints failed: %s", connection.pk, _text(exc))
                break
            cache.set(key, offset, timeout=24 * 3600)  # read: the next hint goes on down the list from here
    hinted = []
    listed: dict = defaultdict(list)  # the listed updated_at each hint was for → the items it hinted
    for item_id, target, details, remote_since, portal_sent_at, hint_listed_at, kind_name in rows:
        kind = names[kind_name]
        facts = listings[type(kind).hint_listing].get(target)
        if facts is not None and kind.hint_changed(_Hinted(details or {}, remote_since, portal_sent_at,
                                                           hint_listed_at), facts):
            hinted.append(item_id)
            listed[getattr(facts, "updated_at", None)].append(item_id)
    if hinted:
        # Each item keeps the updated_at it was hinted for (one WHEN per distinct value): a read that shows nothing
        # changed (an edit of the dataset moved it, not the end) is not followed by the same hint at every list.
        mark = Case(*[When(pk__in=pks, then=Value(value)) for value, pks in listed.items() if value is not None],
                    default=F("hint_listed_at"), output_field=DateTimeField())
        JobItem.objects.filter(pk__in=hinted, status=ItemStatus.WAITING).update(hinted_at=now, next_poll_at=now,
                                                                              hint_listed_at=mark)
    return hinted, made


class _Hinted:
    """The columns of an item a kind's hint_changed may look at."""

    __slots__ = ("details", "remote_since", "portal_sent_at", "hint_listed_at")

    def __init__(self, details: dict, remote_since: datetime | None, portal_sent_at: datetime | None,
                 hint_listed_at: datetime | None = None):
        self.details, self.remote_since, self.portal_sent_at = details, remote_since, portal_sent_at
        self.hint_listed_at = hint_listed_at


def note_portal_answered(connection_id: int) -> None:
    """The overview's "Last successful call" counts the jobs' calls too, not only tests, syncs and scans."""
    Connection.objects.filter(pk=connection_id).update(last_ok_at=timezone.now())


def _cancel_aborted(item: JobItem) -> None:
    """The portal accepted the abort (it was processing): the item ends now, without a read after it."""
    message = "Cancelled; an abort was sent while the portal was processing it: the portal may still finish it."
    now = timezone.now()
    if JobItem.objects.filter(pk=item.pk, status=ItemStatus.WAITING).update(
            status=ItemStatus.CANCELLED, message=message, finished_at=now, next_poll_at=None):
        item.status, item.message, item.finished_at = ItemStatus.CANCELLED, message, now
        on_item_remote_state(item)


def _cancel_waiting(item: JobItem, view: RemoteView) -> None:
    """Cancel ends the item now, at the first read after it, saying what the portal was doing."""
    if item.details.get("abort_sent"):
        message = (f"Cancelled; an abort was sent while the portal showed {view.state}: the portal may still "
                   "finish it.")
    else:
        message = f"Cancelled while the portal was still processing it ({view.state}): the portal may finish it."
    now = timezone.now()
    if JobItem.objects.filter(pk=item.pk, status=ItemStatus.WAITING).update(
            status=ItemStatus.CANCELLED, message=_text(message), finished_at=now, next_poll_at=None):
        item.status, item.message, item.finished_at = ItemStatus.CANCELLED, message, now
        on_item_remote_state(item)


def _abort_item(kind: JobKind, client, item: JobItem, connection: Connection) -> None:
    actor = item.job.cancelled_by
    tries = int(item.details.get("abort_tries", 0)) + 1
    details = {**item.details, "abort_tries": tries}
    if actor is None or not has_role(actor, connection, kind.needed_role):
        details["abort_done"] = True
        _update(item, details=details, message="Not aborted: the person who cancelled lacks the role for it.")
        return
    try:
        with audit_remote_write(action=kind.audit_action.split(".")[0] + ".abort", actor=actor, connection=connection,
                                target=item.target, job_id=item.job_id):
            kind.abort(client, item)
    except PortalConflict as exc:
        # Abort is accepted only while processing: try again at the next reads (queued → processing).
        if tries >= 5:
            details["abort_done"] = True
        _update(item, details=details, message=_text(f"Abort not accepted yet: {exc}"))
        return
    except PortalRateLimited:
        raise
    except PortalError as exc:
        details["abort_done"] = True
        _update(item, details=details, message=_text(f"Abort failed: {exc}"))
        return
    details["abort_done"] = True
    details["abort_sent"] = True
    _update(item, details=details, message="Abort sent; waiting for the portal to stop.")


def _schedule_poll(item: JobItem, now: datetime, *, message: str | None = None) -> None:
    fields = {"next_poll_at": next_read_at(item, now), "poll_count": item.poll_count + 1, "hinted_at": None}
    if message is not None:
        fields["message"] = _text(message)
    JobItem.objects.filter(pk=item.pk, status=ItemStatus.WAITING).update(**fields)


def item_reference(item: JobItem) -> tuple[datetime | None, bool]:
    """The portal-clock instant after which a `since` is newer than this item's order (see truth.py)."""
    if item.sent_at is None:
        return None, False
    return truth.portal_reference(answer_date=item.portal_sent_at, answered_at=item.sent_at)


def view_is_fresh(kind: JobKind, item: JobItem, view: RemoteView) -> bool:
    reference, _from_portal = item_reference(item)
    return truth.is_fresh(since=view.since, reference=reference, seen_busy=item.seen_busy,
                          race_safe=kind.race_safe_idle, since_is_order_time=kind.since_is_order_time,
                          round_trip=float(item.details.get("send_round_trip", 0.0) or 0.0))


def apply_view(kind: JobKind, item: JobItem, view: RemoteView, *, now: datetime, fresh: bool | None = None) -> None:
    """Record one status read and decide: still busy, finished (the kind's postcondition), or not started yet.

    `fresh=True` when the caller already knows the view is newer than the order (a check after a crash).
    """
    changed = view.state != item.remote_state or view.since != item.remote_since
    fields: dict = {"remote_state": view.state[:40], "remote_since": view.since, "poll_count": item.poll_count + 1,
                    "hinted_at": None}
    if changed:
        fields["state_seen_at"] = now
    if view.details:
        fields["details"] = {**item.details, **view.details}
    elapsed = (now - item.sent_at).total_seconds() if item.sent_at else 0.0
    if not view.terminal:
        fields["seen_busy"] = True
        fields["message"] = _text(view.message or "")
        fields["next_poll_at"] = next_read_at(item, now)
        if JobItem.objects.filter(pk=item.pk, status=ItemStatus.WAITING).update(**fields) and changed:
            for name, value in fields.items():
                setattr(item, name, value)
            on_item_remote_state(item)
        return

    if fresh is None:
        fresh = view_is_fresh(kind, item, view)
    decision = truth.decide(kind, item, view, fresh=fresh)
    if decision.outcome == truth.WAIT:
        # The portal still shows the state it had before the order (FACTS.md's read-after-write race).
        if item.sent_at and now - item.sent_at >= stale_limit():
            since = f" since {view.since:%Y-%m-%d %H:%M:%S} (portal time)" if view.since else ""
            decision = truth.Decision(truth.FAILED, (
                f"The portal still shows the state it had before the order ({view.state}{since}) "
                f"{int(elapsed // 60)} min after it accepted it: nothing shows that it acted on it. Check the "
                f"{kind.target_noun} on the portal."))
        else:
            fields["next_poll_at"] = next_read_at(item, now)
            fields["message"] = "Sent; the portal has not started it yet."
            JobItem.objects.filter(pk=item.pk, status=ItemStatus.WAITING).update(**fields)
            return

    status = ItemStatus.SUCCEEDED if decision.outcome == truth.SUCCEEDED else ItemStatus.FAILED
    message = decision.message
    if item.job.cancel_requested_at and item.details.get("abort_sent"):
        message = f"Cancelled (abort sent); the portal ended in {view.state}." + (f" {message}" if message else "")
        status = ItemStatus.CANCELLED if status == ItemStatus.FAILED else status
    fields.update(status=status, message=_text(message), finished_at=now, next_poll_at=None)
    if JobItem.objects.filter(pk=item.pk, status=ItemStatus.WAITING).update(**fields):
        for name, value in fields.items():
            setattr(item, name, value)
        on_item_remote_state(item)


# --- the sweeper ----------------------------------------------------------------------------------
def sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Re-enqueue lost or expired work, give up on poison items, flag jobs past their deadline."""
    from portaladmin.jobs.services import job_refresh

    now = now or timezone.now()
    grace = timedelta(seconds=float(getattr(settings, "JOBS_ENQUEUE_GRACE", 0) or max(30, lease_seconds())))
    touched: set[int] = set()
    counts = {"requeued": 0, "gave_up": 0, "cancelled": 0, "stuck": 0}

    # Leases that expired: the worker died or was killed mid-item. Give up after the last attempt.
    for item in JobItem.objects.filter(status=ItemStatus.RUNNING, lease_until__lt=now,
                                       attempts__gte=max_attempts()).only("id", "job_id", "attempts", "action_sent",
                                                                          "send_confirmed"):
        msg = (f"Gave up after {item.attempts} attempts: the worker stopped (crash or time limit) during each of "
               f"them.")
        if item.action_sent and not item.send_confirmed:
            msg += " The portal may have received the request: check the item there before retrying."
        if JobItem.objects.filter(pk=item.pk, status=ItemStatus.RUNNING, lease_until__lt=now).update(
                status=ItemStatus.FAILED, message=msg, finished_at=now, lease_until=None, claim_token=NO_CLAIM):
            counts["gave_up"] += 1
            touched.add(item.job_id)
    for item in JobItem.objects.filter(status=ItemStatus.PENDING, attempts__gte=max_attempts()).only(
            "id", "job_id", "attempts", "message"):
        if JobItem.objects.filter(pk=item.pk, status=ItemStatus.PENDING).update(
                status=ItemStatus.FAILED, finished_at=now, next_poll_at=None,
                message=_text(f"Gave up after {item.attempts} attempts. Last: {item.message}")):
            counts["gave_up"] += 1
            touched.add(item.job_id)

    # Cancelled jobs: nothing pending may start.
    cancelled_jobs = list(Job.objects.filter(cancel_requested_at__isnull=False, status__in=JOB_ACTIVE)
                          .values_list("id", flat=True))
    n = JobItem.objects.filter(status=ItemStatus.PENDING, job_id__in=cancelled_jobs).update(
        status=ItemStatus.CANCELLED, message="Cancelled before it was sent.", finished_at=now)
    counts["cancelled"] = n

    # Expired leases below the limit go back to pending (their action flags stay: the next attempt checks
    # the portal before sending again); then pending items whose doorbell was lost or whose retry time came.
    JobItem.objects.filter(status=ItemStatus.RUNNING, lease_until__lt=now).update(
        status=ItemStatus.PENDING, lease_until=None, claim_token=NO_CLAIM, enqueued_at=None, next_poll_at=None,
        message="The worker stopped during the last attempt; trying again.")
    # Items with a time (a retry, or a paced send waiting for its turn) are the poll tick's (dispatch_due_sends,
    # within the portal's budget); the sweeper takes them only when the tick has stopped (a backstop).
    # A doorbell rung more than the grace ago and never answered (its message lost with a killed worker) is the
    # sweeper's in any case.
    timed = Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now - grace)
    unrung = Q(next_poll_at__isnull=True) if tick_alive(now, grace) else timed
    due = JobItem.objects.filter(
        Q(status=ItemStatus.PENDING) & ((Q(enqueued_at__isnull=True) & unrung) | (Q(enqueued_at__lt=now - grace) & timed))
    ).values_list("id", "job_id", "connection_id", "chunk", "job__kind")[:5000]
    rows = list(due)
    if rows:
        with transaction.atomic():
            JobItem.objects.filter(pk__in=[r[0] for r in rows]).update(enqueued_at=now)
            enqueue_items(group_for_enqueue(rows))
        counts["requeued"] = len(rows)

    # Waiting items past their deadline (the poller does it too; this is the backstop).
    expired = list(JobItem.objects.filter(status=ItemStatus.WAITING, deadline__lt=now).values_list("id", flat=True))
    if expired:
        items_expire(expired)

    for job in Job.objects.filter(status__in=JOB_ACTIVE, deadline__lt=now,
                                  stuck_at__isnull=True):
        if Job.objects.filter(pk=job.pk, stuck_at__isnull=True).update(
                stuck_at=now, last_error="The job is past its expected end: some items have not reached a final state."):
            counts["stuck"] += 1
            transaction.on_commit(lambda job_id=job.pk: on_job_stuck(Job.objects.get(pk=job_id)))
    if counts["gave_up"] or counts["cancelled"]:
        touched |= set(cancelled_jobs)
    for job_id in touched:
        job_refresh(job_id=job_id)
    return counts
