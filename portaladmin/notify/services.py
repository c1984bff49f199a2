"""Rules, deliveries and sending.

Delivery protocol: deliveries_create() inserts one row per matching rule (unique per rule and event: a duplicate
is ignored) and rings the worker once the transaction commits. delivery_send() claims the row with a conditional
UPDATE (pending → sending), checks again that the owner may still see every connection of the event, sends, and
records the answer. A failure sets next_attempt_at with exponential backoff; the beat tick (notify_tick) rings
the worker for due rows and for digests, so no task waits or uses a countdown. After NOTIFY_MAX_ATTEMPTS, or on
an answer retrying cannot change, the row is failed and the rule is marked failing (shown to its owner).
"""

from __future__ import annotations

import json
import logging
import secrets
from collections import defaultdict
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from portaladmin.core import crypto
from portaladmin.core.logging import redact
from portaladmin.notify.events import absolute, event_emit
from portaladmin.notify.models import (
    Audience,
    Channel,
    Delivery,
    DeliveryStatus,
    Event,
    EventKind,
    Rule,
    Schedule,
    Scope,
)
from portaladmin.portals.permissions import ADMIN, VIEW, connections_visible_to, has_role

logger = logging.getLogger(__name__)
CLAIM_LEASE = timedelta(minutes=5)  # a row left "sending" this long (worker died) is tried again
BACKOFF_FIRST, BACKOFF_CAP = 30, 3600  # seconds


# ------------------------------------------------------------------------------------------------ rules

def rule_save(*, form, owner) -> Rule:
    rule = form.save(commit=False)
    if rule.pk is None:
        rule.owner = owner
    if rule.channel == Channel.WEBHOOK and not rule.webhook_secret_encrypted:
        rule.webhook_secret_encrypted = crypto.encrypt_secret(secrets.token_urlsafe(32))
    rule.failing_since = None if form.has_changed() else rule.failing_since
    rule.save()
    form.save_m2m()
    return rule


def rule_new_secret(*, rule: Rule) -> None:
    rule.webhook_secret_encrypted = crypto.encrypt_secret(secrets.token_urlsafe(32))
    rule.save(update_fields=["webhook_secret_encrypted"])


def rule_send_test(*, rule: Rule) -> Event | None:
    """A test event for this rule alone, sent now whatever the rule's schedule."""
    now = timezone.now()
    subject = f"Test · portaladmin rule “{rule.name}” works"
    event = Event.objects.create(kind=EventKind.TEST, dedup_key=f"test:{rule.pk}:{secrets.token_hex(8)}",
                                 subject=subject, text=f"{subject}\n\nSent from the rule's page.", created_at=now,
                                 link=rule.get_absolute_url(),
                                 data={"object": {"type": "rule", "id": rule.pk, "name": rule.name},
                                       "outcome": "test", "counts": {}})
    delivery = Delivery.objects.create(rule=rule, event=event, next_attempt_at=now)
    _ring([delivery.pk])
    return event


# ------------------------------------------------------------------------------------------------ matching

def rule_may_see(rule: Rule, event: Event, connections=None) -> bool:
    """The owner must be active and hold a role on EVERY connection the event is about (no leak across them).

    A connection rule also needs its owner to be still admin of one of the rule's connections the event is about;
    a team rule, its owner to be still a superuser (otherwise the rule stops).
    """
    owner = rule.owner
    if not owner.is_active:
        return False
    conns = list(event.connections.all()) if connections is None else connections
    if not all(has_role(owner, c, VIEW) for c in conns):
        return False
    if rule.scope == Scope.TEAM:
        return owner.is_superuser
    if rule.scope == Scope.CONNECTION:
        chosen = {c.pk for c in rule.connections.all()}
        return any(c.pk in chosen and has_role(owner, c, ADMIN) for c in conns)
    return True


def people_for(rule: Rule, connections: list) -> list[str]:
    """The addresses a shared rule's e-mail may go to for an event about `connections`: people (active accounts)
    with a role on EVERY one of them, now. An address of nobody with that role gets nothing."""
    if not connections:
        return []
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    if rule.audience == Audience.ADDRESSES:
        wanted = rule.address_list
        if not wanted:
            return []
        query = Q()
        for address in wanted:
            query |= Q(email__iexact=address)
        users = users.filter(query)
    else:
        users = users.filter(memberships__connection__in=connections).distinct()
    return sorted({u.email for u in users if all(has_role(u, c, VIEW) for c in connections)})


def email_targets(rule: Rule, events: list[Event]) -> dict[str, list[Event]]:
    """Address → the events it may be told about (a personal rule: its one address, all of them)."""
    if not rule.shared:
        return {rule.recipient: events} if rule.recipient else {}
    targets: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        if event.kind == EventKind.TEST:
            addresses = [rule.owner.email] if rule.owner.email else []  # a test goes to the admin who pressed
        else:
            addresses = people_for(rule, list(event.connections.all()))
        for address in addresses:
            targets[address].append(event)
    return dict(targets)


def rule_matches(rule: Rule, event: Event, connections: list) -> bool:
    if not rule.active or event.kind not in rule.events:
        return False
    chosen = {c.pk for c in rule.connections.all()}
    if chosen and not chosen & {c.pk for c in connections}:
        return False
    return rule_may_see(rule, event, connections)


def digest_due(rule: Rule, at: datetime) -> datetime:
    """The next digest_hour:00 in the rule's time zone strictly after `at`."""
    zone = ZoneInfo(rule.timezone or "UTC")
    local = at.astimezone(zone)
    due = datetime.combine(local.date(), time(rule.digest_hour), tzinfo=zone)
    if due <= local:
        due = datetime.combine(local.date() + timedelta(days=1), time(rule.digest_hour), tzinfo=zone)
    return due


def deliveries_create(*, event: Event) -> list[int]:
    connections = list(event.connections.all())
    rules = Rule.objects.filter(active=True).select_related("owner").prefetch_related("connections")
    rows = []
    for rule in rules:
        if rule_matches(rule, event, connections):
            if rule.schedule == Schedule.DIGEST:
                rows.append(Delivery(rule=rule, event=event, status=DeliveryStatus.QUEUED,
                                     digest_due_at=digest_due(rule, event.created_at)))
            else:
                rows.append(Delivery(rule=rule, event=event, next_attempt_at=event.created_at))
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    ids = list(Delivery.objects.filter(event=event, status=DeliveryStatus.PENDING).values_list("pk", flat=True))
    _ring(ids)
    return ids


def _ring(ids: list[int]) -> None:
    if not ids:
        return
    from portaladmin.notify.tasks import notify_deliver_task

    transaction.on_commit(lambda: [notify_deliver_task.delay(delivery_id=i) for i in ids])


# ------------------------------------------------------------------------------------------------ messages

def webhook_body(rule: Rule, events: list[Event], *, digest: bool = False) -> dict:
    def one(event: Event) -> dict:
        conns = [{"slug": c.slug, "name": c.name} for c in event.connections.all()]
        return {"id": event.pk, "event": event.kind, "created_at": event.created_at.isoformat(),
                "subject": event.subject, "connection": conns[0]["slug"] if len(conns) == 1 else None,
                "connections": conns, "object": event.data.get("object", {}), "outcome": event.data.get("outcome", ""),
                "counts": event.data.get("counts", {}), "link": absolute(event.link) if event.link else None,
                "test": event.kind == EventKind.TEST}

    if digest:
        body = {"event": "digest", "rule": rule.name, "subject": digest_subject(events),
                "events": [one(e) for e in events]}
        text = "\n".join([body["subject"], *[f"• {e.subject}" for e in events]])
    else:
        body = one(events[0])
        body["rule"] = rule.name
        text = events[0].subject + (f" <{body['link']}|Open>" if body["link"] else "")
    if rule.slack_text:
        body["text"] = text  # Slack and Teams incoming webhooks show this field
    return body


def digest_subject(events: list[Event]) -> str:
    conns = {c.name for e in events for c in e.connections.all()}
    return f"Daily digest: {len(events)} event{'s' * (len(events) != 1)} on {len(conns)} connection" \
           f"{'s' * (len(conns) != 1)}"


def digest_groups(events: list[Event]) -> list[dict]:
    """Events grouped by connection, then by kind (for the digest e-mail)."""
    labels = dict(EventKind.choices)
    groups: dict[str, dict[str, list[Event]]] = defaultdict(lambda: defaultdict(list))
    for event in events:
        event.abs_link = absolute(event.link) if event.link else ""
        names = ", ".join(sorted(c.name for c in event.connections.all())) or "portaladmin"
        groups[names][labels.get(event.kind, event.kind)].append(event)
    return [{"connection": name, "kinds": [{"label": k, "events": v} for k, v in sorted(kinds.items())]}
            for name, kinds in sorted(groups.items())]


def _email(rule: Rule, events: list[Event], *, digest: bool, to: str) -> None:
    subject = digest_subject(events) if digest else events[0].subject
    context = {"rule": rule, "subject": subject, "digest": digest, "event": events[0],
               "groups": digest_groups(events) if digest else [],
               "link": absolute(events[0].link) if events[0].link else "",
               "rule_link": absolute(rule.get_absolute_url()), "absolute": absolute}
    text = render_to_string("notify/email.txt", context)
    html = render_to_string("notify/email.html", context)
    message = EmailMultiAlternatives(f"[portaladmin] {subject}", redact(text), settings.DEFAULT_FROM_EMAIL,
                                     [to])
    message.attach_alternative(redact(html), "text/html")
    message.send()


def _send(rule: Rule, events: list[Event], *, digest: bool) -> tuple[bool, int | None, str, bool]:
    """(ok, status code, error, permanent)."""
    if rule.channel == Channel.EMAIL:
        targets = email_targets(rule, events)
        if not targets:
            return False, None, "The rule has no e-mail address (and its owner none).", True
        try:
            for address, theirs in targets.items():  # each person: only what they may see
                _email(rule, theirs, digest=digest, to=address)
        except Exception as exc:  # noqa: BLE001 - any mail failure is recorded and retried
            return False, None, redact(f"{type(exc).__name__}: {exc}")[:300], False
        return True, None, "", False
    from portaladmin.portals.client.webhook import webhook_post

    body = json.dumps(webhook_body(rule, events, digest=digest), separators=(",", ":")).encode()
    answer = webhook_post(rule.webhook_url, body, secret=rule.webhook_secret, timeout=settings.NOTIFY_WEBHOOK_TIMEOUT)
    return answer.ok, answer.status_code, redact(answer.error)[:300], answer.permanent


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_CAP))


def _record(rule: Rule, ids: list[int], result, *, now: datetime, attempts: int, retry_status: str) -> str:
    ok, code, error, permanent = result
    if ok:
        Delivery.objects.filter(pk__in=ids).update(status=DeliveryStatus.SENT, sent_at=now, status_code=code,
                                                   last_error="", attempts=attempts)
        if rule.failing_since:
            Rule.objects.filter(pk=rule.pk).update(failing_since=None)
        return DeliveryStatus.SENT
    if permanent or attempts >= settings.NOTIFY_MAX_ATTEMPTS:
        Delivery.objects.filter(pk__in=ids).update(status=DeliveryStatus.FAILED, status_code=code, last_error=error,
                                                   attempts=attempts, next_attempt_at=None)
        Rule.objects.filter(pk=rule.pk, failing_since__isnull=True).update(failing_since=now)
        return DeliveryStatus.FAILED
    later = now + backoff(attempts)
    fields = {"next_attempt_at": later} if retry_status == DeliveryStatus.PENDING else {"digest_due_at": later}
    Delivery.objects.filter(pk__in=ids).update(status=retry_status, status_code=code, last_error=error,
                                               attempts=attempts, **fields)
    return retry_status


NOBODY = "Not sent: nobody it would go to has a role on this connection now."


def _nobody(rule: Rule, events: list[Event]) -> bool:
    """A shared e-mail rule whose people all lost their role (or never had one): skipped, not a failure."""
    return rule.channel == Channel.EMAIL and rule.shared and not email_targets(rule, events)


def delivery_send(*, delivery_id: int, now: datetime | None = None) -> str:
    now = now or timezone.now()
    if not Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.SENDING, claimed_at=now):
        return "not due"  # sent, failed, or claimed by another worker
    delivery = Delivery.objects.select_related("rule__owner", "event").get(pk=delivery_id)
    rule, event = delivery.rule, delivery.event
    is_test = event.kind == EventKind.TEST
    if not is_test and not (rule.active and rule_may_see(rule, event)):
        Delivery.objects.filter(pk=delivery_id).update(
            status=DeliveryStatus.SKIPPED, last_error="Not sent: the rule is off or its owner lost access.")
        return DeliveryStatus.SKIPPED
    if _nobody(rule, [event]):
        Delivery.objects.filter(pk=delivery_id).update(status=DeliveryStatus.SKIPPED, last_error=NOBODY)
        return DeliveryStatus.SKIPPED
    result = _send(rule, [event], digest=False)
    return _record(rule, [delivery_id], result, now=now, attempts=delivery.attempts + 1,
                   retry_status=DeliveryStatus.PENDING)


def digest_send(*, rule_id: int, now: datetime | None = None) -> str:
    """One message with every queued delivery of the rule that is due; each keeps its own row in the log."""
    now = now or timezone.now()
    rule = Rule.objects.select_related("owner").get(pk=rule_id)
    due = list(Delivery.objects.filter(rule=rule, status=DeliveryStatus.QUEUED, digest_due_at__lte=now)
               .select_related("event").order_by("event__created_at", "id"))
    claimed = [d for d in due if Delivery.objects.filter(pk=d.pk, status=DeliveryStatus.QUEUED).update(
        status=DeliveryStatus.SENDING, claimed_at=now)]
    if not claimed:
        return "not due"
    allowed = [d for d in claimed if rule.active and rule_may_see(rule, d.event)]
    refused = [d.pk for d in claimed if d not in allowed]
    if refused:
        Delivery.objects.filter(pk__in=refused).update(
            status=DeliveryStatus.SKIPPED, last_error="Not sent: the rule is off or its owner lost access.")
    if not allowed:
        return DeliveryStatus.SKIPPED
    if _nobody(rule, [d.event for d in allowed]):
        Delivery.objects.filter(pk__in=[d.pk for d in allowed]).update(status=DeliveryStatus.SKIPPED,
                                                                       last_error=NOBODY)
        return DeliveryStatus.SKIPPED
    result = _send(rule, [d.event for d in allowed], digest=True)
    return _record(rule, [d.pk for d in allowed], result, now=now, attempts=max(d.attempts for d in allowed) + 1,
                   retry_status=DeliveryStatus.QUEUED)


def notify_tick(*, now: datetime | None = None) -> tuple[list[int], list[int]]:
    """(due delivery ids, rule ids with a digest due); rows a dead worker left "sending" are due again."""
    now = now or timezone.now()
    stale = Delivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=now - CLAIM_LEASE)
    stale.filter(digest_due_at__isnull=True).update(status=DeliveryStatus.PENDING, next_attempt_at=now)
    stale.filter(digest_due_at__isnull=False).update(status=DeliveryStatus.QUEUED)
    due = list(Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
               .values_list("pk", flat=True)[:500])
    digests = list(Delivery.objects.filter(status=DeliveryStatus.QUEUED, digest_due_at__lte=now)
                   .order_by().values_list("rule_id", flat=True).distinct())
    return due, digests


def rules_visible_connections(user):
    return connections_visible_to(user).order_by("name")


__all__ = ["event_emit"]
