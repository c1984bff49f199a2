"""Notifications: matching, dedup, storm control, truthful subjects, signed webhooks, retries, digests, roles."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from portaladmin.notify.events import connection_health_event, event_emit, job_event
from portaladmin.notify.models import Channel, Delivery, DeliveryStatus, Event, EventKind, Rule, Schedule
from portaladmin.notify.services import delivery_send, digest_send, notify_tick
from portaladmin.portals.models import Health, Membership, Role
from portaladmin.portals.services import connection_record_health

ALL_JOB_EVENTS = [EventKind.JOB_FAILED, EventKind.JOB_PARTIALLY_FAILED, EventKind.JOB_SUCCEEDED]


@pytest.fixture(autouse=True)
def _no_legacy_mail(settings):
    settings.JOBS_NOTIFY_ON_FAILURE = False  # only the rules' messages in mail.outbox
    settings.PORTALADMIN_SELF_URL = "https://portaladmin.example.org"


def rule_for(user, *, events=ALL_JOB_EVENTS, connections=(), **fields) -> Rule:
    rule = Rule.objects.create(owner=user, name=fields.pop("name", "r"), events=[str(e) for e in events], **fields)
    rule.connections.set(connections)
    return rule


def send_all(rung):
    for delivery_id in list(rung):
        delivery_send(delivery_id=delivery_id)
    rung.clear()


@pytest.mark.parametrize(("failed", "cancelled", "status", "subject"), [
    (0, 0, "succeeded", "Succeeded · Publish 20 datasets on Lyon: 20 succeeded"),
    (4, 0, "partially_failed", "Partially failed · Publish 20 datasets on Lyon: 4 failed, 16 succeeded"),
    (20, 0, "failed", "Failed · Publish 20 datasets on Lyon: 20 failed"),
    (3, 2, "partially_failed", "Partially failed · Publish 20 datasets on Lyon: 3 failed, 15 succeeded, 2 cancelled"),
])
def test_email_subject_states_the_real_outcome_and_counts(failed, cancelled, status, subject, make_connection,
                                                          make_user, finish_job, rung):
    lyon = make_connection("lyon", name="Lyon")
    operator = make_user("oscar", role=Role.OPERATOR, connection=lyon)
    rule_for(operator)
    job = finish_job(operator, {lyon: 20}, failed=failed, cancelled=cancelled)
    assert job.status == status and job.failed_count == failed  # the job page's own figures
    send_all(rung)
    [message] = mail.outbox
    assert message.subject == f"[portaladmin] {subject}"
    assert message.body.splitlines()[0] == subject  # the first line says it too
    assert f"https://portaladmin.example.org/jobs/{job.pk}/" in message.body
    html = message.alternatives[0].content
    assert subject in html and f'href="https://portaladmin.example.org/jobs/{job.pk}/"' in html
    if failed:
        assert "bad CSV" in message.body and message.body.count("- Lyon · ") == min(failed, 20)


def test_a_cancelled_job_is_no_event_and_stuck_jobs_are(make_connection, make_user, finish_job, rung,
                                                        django_capture_on_commit_callbacks):
    from portaladmin.jobs import engine
    from portaladmin.jobs.models import Job

    lyon = make_connection("lyon", name="Lyon")
    operator = make_user("oscar", role=Role.OPERATOR, connection=lyon)
    rule_for(operator, events=[*ALL_JOB_EVENTS, EventKind.JOB_STUCK])
    finish_job(operator, {lyon: 2}, cancelled=2)
    assert not Event.objects.exists()
    # a job past its deadline: the sweeper's watchdog flags it once, whatever the number of sweeps
    from portaladmin.jobs.services import job_create

    job = job_create(kind="dataset.publish", actor=operator, targets={lyon: ["da_1"]})
    Job.objects.filter(pk=job.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            engine.sweep()
    send_all(rung)
    assert [m.subject for m in mail.outbox] == [
        "[portaladmin] Stuck past its deadline · Publish 1 dataset on Lyon: 1 still in progress"]


def test_rules_match_on_event_and_connection(make_connection, make_user, finish_job, rung):
    lyon, rennes = make_connection("lyon", name="Lyon"), make_connection("rennes", name="Rennes")
    op = make_user("oscar", role=Role.OPERATOR, connection=lyon)
    Membership.objects.create(user=op, connection=rennes, role=Role.VIEWER)
    failures = rule_for(op, name="failures", events=[EventKind.JOB_FAILED, EventKind.JOB_PARTIALLY_FAILED])
    only_rennes = rule_for(op, name="rennes", connections=[rennes])
    off = rule_for(op, name="off", active=False)
    everything = rule_for(op, name="all")
    finish_job(op, {lyon: 3}, failed=1)
    matched = set(Delivery.objects.values_list("rule__name", flat=True))
    assert matched == {"failures", "all"}
    finish_job(op, {lyon: 3})  # succeeded: not a failure
    assert Delivery.objects.filter(rule=failures).count() == 1
    assert Delivery.objects.filter(rule=everything).count() == 2
    assert not Delivery.objects.filter(rule__in=[only_rennes, off]).exists()


def test_one_event_is_one_message_per_rule(make_connection, make_user, finish_job, rung):
    lyon = make_connection("lyon", name="Lyon")
    op = make_user("oscar", role=Role.OPERATOR, connection=lyon)
    rule_for(op)
    job = finish_job(op, {lyon: 2}, failed=1)
    assert job_event(job) is None  # the same ending recorded again (a repeated signal): no new event
    assert Event.objects.count() == 1 and Delivery.objects.count() == 1
    delivery_id = rung[0]
    send_all(rung)
    assert delivery_send(delivery_id=delivery_id) == "not due"  # a redelivered task sends nothing twice
    assert len(mail.outbox) == 1


def test_a_portal_down_for_an_hour_is_one_message_and_one_recovered(make_connection, make_user, rung,
                                                                    django_capture_on_commit_callbacks):
    lyon = make_connection("lyon", name="Lyon")
    admin = make_user("alice", role=Role.ADMIN, connection=lyon)
    rule_for(admin, events=[EventKind.CONNECTION_UNREACHABLE, EventKind.CONNECTION_KEY_REFUSED,
                            EventKind.CONNECTION_RECOVERED])
    start = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        connection_record_health(connection=lyon, health=Health.OK, at=start)
        for minute in range(60):  # every background call fails for an hour
            connection_record_health(connection=lyon, health=Health.UNREACHABLE, message="timed out",
                                     at=start + timedelta(minutes=minute + 1))
        for minute in range(5):
            connection_record_health(connection=lyon, health=Health.OK, at=start + timedelta(minutes=61 + minute))
    send_all(rung)
    assert [m.subject for m in mail.outbox] == ["[portaladmin] Lyon is unreachable",
                                                "[portaladmin] Lyon has recovered: reachable, key accepted"]
    assert "timed out" in mail.outbox[0].body


def test_webhook_is_signed_and_carries_the_documented_body(make_connection, make_user, finish_job, rung, receiver):
    lyon = make_connection("lyon", name="Lyon")
    op = make_user("oscar", role=Role.OPERATOR, connection=lyon)
    rule = rule_for(op, channel=Channel.WEBHOOK, webhook_url=receiver.url, slack_text=True, name="ops hook",
                    webhook_secret_encrypted=__import__("portaladmin.core.crypto", fromlist=["x"])
                    .encrypt_secret("s3cret-for-test"))
    job = finish_job(op, {lyon: 20}, failed=4)
    send_all(rung)
    assert len(receiver.requests) == 1 and receiver.requests[0]["path"] == "/hook?team=ops"
    assert receiver.verified("another secret") == []
    [body] = receiver.verified("s3cret-for-test")
    assert body["event"] == "job.partially_failed" and body["connection"] == "lyon"
    assert body["counts"] == {"total": 20, "succeeded": 16, "failed": 4, "cancelled": 0, "in_progress": 0}
    assert body["object"] == {"type": "job", "id": job.pk, "kind": "dataset.publish", "title": "Publish 20 datasets",
                              "status": "partially_failed"}
    assert body["outcome"] == "partially_failed" and body["rule"] == "ops hook" and body["test"] is False
    assert body["link"] == f"https://portaladmin.example.org/jobs/{job.pk}/"
    assert body["subject"] == "Partially failed · Publish 20 datasets on Lyon: 4 failed, 16 succeeded"
    assert body["text"].startswith(body["subject"])  # Slack/Teams show `text`
    delivery = Delivery.objects.get(rule=rule)
    assert (delivery.status, delivery.status_code, delivery.attempts) == (DeliveryStatus.SENT, 200, 1)


def test_webhook_retries_with_backoff_then_is_marked_failing(make_connection, make_user, rung, receiver, settings, send_test):
    settings.NOTIFY_MAX_ATTEMPTS = 3
    op = make_user("oscar")
    rule = rule_for(op, channel=Channel.WEBHOOK, webhook_url=receiver.url)
    receiver.codes = [500, 503, 502]
    send_test(rule)
    [delivery_id] = rung
    now = timezone.now()
    assert delivery_send(delivery_id=delivery_id, now=now) == DeliveryStatus.PENDING
    delivery = Delivery.objects.get(pk=delivery_id)
    assert delivery.next_attempt_at == now + timedelta(seconds=30) and delivery.status_code == 500
    assert notify_tick(now=now + timedelta(seconds=29)) == ([], [])  # not due yet
    assert notify_tick(now=now + timedelta(seconds=30)) == ([delivery_id], [])
    delivery_send(delivery_id=delivery_id, now=now + timedelta(seconds=30))
    assert Delivery.objects.get(pk=delivery_id).next_attempt_at == now + timedelta(seconds=90)  # 30 s, then 60 s
    assert delivery_send(delivery_id=delivery_id, now=now + timedelta(seconds=90)) == DeliveryStatus.FAILED
    delivery = Delivery.objects.get(pk=delivery_id)
    assert (delivery.attempts, delivery.status_code) == (3, 502) and "502" in delivery.last_error
    assert Rule.objects.get(pk=rule.pk).failing_since is not None
    assert len(receiver.requests) == 3
    # a later success clears the failing mark
    rung.clear()
    send_test(rule)
    send_all(rung)
    assert Rule.objects.get(pk=rule.pk).failing_since is None


def test_an_unreachable_webhook_is_retried_and_a_4xx_is_not(make_user, rung, receiver, send_test):
    op = make_user("oscar")
    closed = receiver.url.replace(str(receiver.server.server_address[1]), "9")  # discard port: nobody listens
    rule = rule_for(op, channel=Channel.WEBHOOK, webhook_url=closed)
    send_test(rule)
    assert delivery_send(delivery_id=rung.pop()) == DeliveryStatus.PENDING
    assert "ConnectionError" in Delivery.objects.get(rule=rule).last_error
    rule.webhook_url = receiver.url
    rule.save()
    receiver.codes = [410]
    send_test(rule)
    assert delivery_send(delivery_id=rung.pop()) == DeliveryStatus.FAILED  # gone: retrying cannot help


def test_webhook_to_a_private_address_is_refused_in_production(make_user, rung, receiver, settings, send_test):
    from portaladmin.portals.client.transport import clear_guard_cache

    settings.PORTALS_ALLOW_PRIVATE_NETWORKS = False
    clear_guard_cache()
    rule = rule_for(make_user("oscar"), channel=Channel.WEBHOOK, webhook_url=receiver.url)
    send_test(rule)
    assert delivery_send(delivery_id=rung.pop()) == DeliveryStatus.FAILED
    assert receiver.requests == [] and "Refused" in Delivery.objects.get(rule=rule).last_error
    clear_guard_cache()


def test_daily_digest_over_a_day_with_a_fake_clock(make_connection, make_user, rung):
    lyon, rennes = make_connection("lyon", name="Lyon"), make_connection("rennes", name="Rennes")
    admin = make_user("alice", role=Role.ADMIN, connection=lyon)
    Membership.objects.create(user=admin, connection=rennes, role=Role.VIEWER)
    rule = rule_for(admin, events=[*ALL_JOB_EVENTS, EventKind.CONNECTION_UNREACHABLE, EventKind.CONNECTION_RECOVERED],
                    schedule=Schedule.DIGEST, digest_hour=8, timezone="Europe/Paris")
    day = datetime(2026, 3, 10, tzinfo=UTC)  # Paris is UTC+1: the digest is due at 07:00 UTC
    times = [day + timedelta(hours=h) for h in (0.5, 3, 5, 6.5, 9, 13, 20)]  # one event every few hours
    for n, at in enumerate(times):
        conn = lyon if n % 2 else rennes
        kind = EventKind.JOB_FAILED if n % 3 else EventKind.JOB_SUCCEEDED
        event_emit(kind=kind, dedup_key=f"e{n}", connections=[conn], subject=f"event {n} on {conn.name}", at=at)
    connection_health_event(lyon, before=Health.OK, after=Health.UNREACHABLE, message="", at=day + timedelta(hours=4))
    assert rung == []  # digests ring no one immediately
    assert notify_tick(now=day + timedelta(hours=6, minutes=59)) == ([], [])
    assert notify_tick(now=day + timedelta(hours=7)) == ([], [rule.pk])
    assert digest_send(rule_id=rule.pk, now=day + timedelta(hours=7)) == DeliveryStatus.SENT
    [message] = mail.outbox
    assert message.subject == "[portaladmin] Daily digest: 5 events on 2 connections"
    body = message.body
    assert body.index("Lyon") < body.index("Rennes")  # grouped by connection, then by kind
    assert "Connection unreachable (1)" in body and "- Lyon is unreachable" in body
    for n in range(4):
        assert f"event {n} on" in body
    assert "event 4" not in body  # after 08:00 Paris: tomorrow's digest
    assert digest_send(rule_id=rule.pk, now=day + timedelta(hours=12)) == "not due"
    assert notify_tick(now=day + timedelta(days=1, hours=6, minutes=59)) == ([], [])
    digest_send(rule_id=rule.pk, now=day + timedelta(days=1, hours=7))
    assert len(mail.outbox) == 2 and mail.outbox[1].subject == "[portaladmin] Daily digest: 3 events on 2 connections"
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}


def test_nobody_hears_about_a_connection_they_have_no_role_on(make_connection, make_user, finish_job, rung):
    lyon, rennes = make_connection("lyon", name="Lyon"), make_connection("rennes", name="Rennes")
    op = make_user("oscar", role=Role.OPERATOR, connection=lyon)
    Membership.objects.create(user=op, connection=rennes, role=Role.OPERATOR)
    lyon_only = make_user("lea", role=Role.VIEWER, connection=lyon)
    outsider = make_user("charlie")
    for user in (lyon_only, outsider):
        rule_for(user, events=[*ALL_JOB_EVENTS, EventKind.CONNECTION_UNREACHABLE], name=user.username)
    rule_for(lyon_only, name="names rennes", connections=[rennes])  # a rule naming a connection they cannot see
    finish_job(op, {lyon: 1, rennes: 1}, failed=1)  # one job on both connections
    connection_health_event(rennes, before=Health.OK, after=Health.UNREACHABLE, message="", at=timezone.now())
    assert not Delivery.objects.exists()
    finish_job(op, {lyon: 1})
    assert list(Delivery.objects.values_list("rule__owner__username", flat=True)) == ["lea"]
    # access lost between the event and the sending: nothing is sent
    Membership.objects.filter(user=lyon_only).delete()
    send_all(rung)
    assert mail.outbox == [] and Delivery.objects.get().status == DeliveryStatus.SKIPPED
