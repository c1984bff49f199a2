"""Dataset and harvester events: told once per change (a re-check is silent), grouped per connection and scan pass.

The scan tests run the status scan against the sandbox portal over real HTTP; the storm tests feed the scan's
signal directly with hundreds of rows (what a pass over a broken portal reports, batch by batch).
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from portaladmin.datasets.models import DatasetSnapshot
from portaladmin.datasets.services import catalogue_sync_run
from portaladmin.datasets.services.scan import scan_run_wait
from portaladmin.datasets.signals import on_status_changes
from portaladmin.notify.models import DatasetChange, Delivery, Event, EventKind, Rule
from portaladmin.notify.services import delivery_send
from portaladmin.notify.tasks import notify_tick_task
from portaladmin.portals.models import Membership, Role
from portaladmin.sandbox.services import portal_datasets_with_fate

KEY = "sandbox-notify-key-0123456789"


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.JOBS_NOTIFY_ON_FAILURE = False
    settings.PORTALADMIN_SELF_URL = "https://portaladmin.example.org"
    settings.JOBS_POLL_INTERVAL = 0.02  # the scan's ticks 100× closer together, same budget per tick


def rule_for(user, events, connections=(), **fields) -> Rule:
    rule = Rule.objects.create(owner=user, name=fields.pop("name", "r"), events=[str(e) for e in events], **fields)
    rule.connections.set(connections)
    return rule


def send_all(rung):
    for delivery_id in list(rung):
        delivery_send(delivery_id=delivery_id)
    rung.clear()


def change(uid, status, *, previous="idle", at=None, since=None):
    at = at or timezone.now()
    return {"uid": uid, "dataset_id": f"ds-{uid}", "title": uid, "previous": previous, "status": status,
            "since": since or at - timedelta(seconds=5), "message": "1 record error: bad date", "at": at}


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_the_scan_tells_datasets_entering_error_once_and_a_recheck_is_silent(sandbox_connection, sandbox_clock,
                                                                            make_user, rung):
    conn = sandbox_connection("nscan", slug="demo", name="Demo", api_key=KEY, datasets=60, users=0, groups=0,
                              harvesters=0, pages=0)
    catalogue_sync_run(connection=conn)
    viewer = make_user("vera", role=Role.VIEWER, connection=conn)
    rule_for(viewer, [EventKind.DATASET_ERROR])
    errors = set(portal_datasets_with_fate("nscan", "error"))
    limits = set(portal_datasets_with_fate("nscan", "limit_reached"))
    assert errors and limits

    scan_run_wait(connections=[conn], sleep=lambda s: None)  # many batches (budget 8 per tick), one pass
    [event] = Event.objects.filter(kind=EventKind.DATASET_ERROR)
    assert set(DatasetChange.objects.values_list("uid", flat=True)) == errors | limits
    assert event.data["counts"] == {"datasets": len(errors | limits), "error": len(errors),
                                    "limit_reached": len(limits)}
    send_all(rung)
    [message] = mail.outbox  # one message for the whole pass, listing every dataset
    subject = (f"{len(errors | limits)} datasets on Demo in error or at the record limit: {len(errors)} in error, "
               f"{len(limits)} at the record limit")  # words, not the status codes "limit_reached"
    assert message.subject == f"[portaladmin] {subject}" and message.body.splitlines()[0] == subject
    for row in DatasetSnapshot.objects.filter(uid__in=errors | limits):
        assert f"- {row.dataset_id} (unknown → {row.status})" in message.body
    assert "https://portaladmin.example.org/c/demo/datasets/" in message.body

    # a re-check ("check statuses now") reads the same statuses: no change, no event, no message
    scan_run_wait(connections=[conn], sleep=lambda s: None)
    assert Event.objects.filter(kind=EventKind.DATASET_ERROR).count() == 1 and not rung

    # one dataset was idle at its last check and is in error now: exactly it is told, alone
    one = sorted(errors)[0]
    DatasetSnapshot.objects.filter(connection=conn, uid=one).update(status="idle")
    DatasetChange.objects.all().delete()  # (so the portal's unchanged `since` is not deduplicated away)
    scan_run_wait(connections=[conn], sleep=lambda s: None)
    latest = Event.objects.filter(kind=EventKind.DATASET_ERROR).first()
    row = DatasetSnapshot.objects.get(connection=conn, uid=one)
    assert Event.objects.filter(kind=EventKind.DATASET_ERROR).count() == 2
    assert latest.subject.startswith(f"{row.dataset_id} on Demo is in error")
    assert latest.link == f"/c/demo/datasets/{one}/"
    send_all(rung)
    assert len(mail.outbox) == 2


def test_a_storm_of_datasets_in_one_pass_is_one_message_per_rule(make_connection, make_user, rung,
                                                                 django_capture_on_commit_callbacks):
    lyon, rennes = make_connection("lyon", name="Lyon"), make_connection("rennes", name="Rennes")
    viewer = make_user("vera", role=Role.VIEWER, connection=lyon)
    Membership.objects.create(user=viewer, connection=rennes, role=Role.VIEWER)
    rule_for(viewer, [EventKind.DATASET_ERROR], name="mail")
    rule_for(viewer, [EventKind.DATASET_ERROR, EventKind.JOB_FAILED], name="mail too")
    batches = [[change(f"da_{batch}_{i}", "limit_reached" if i == 0 else "error") for i in range(8)]
               for batch in range(40)]  # 40 batches of 8 rows: a pass over 320 datasets that all broke
    with django_capture_on_commit_callbacks(execute=True):
        for rows in batches:
            on_status_changes(connection=lyon, changes=rows, pass_done=False)
        # a status change that is not INTO error (and one already in error) is not a dataset event
        on_status_changes(connection=lyon, changes=[change("da_ok", "idle", previous="processing"),
                                                    change("da_x", "error", previous="limit_reached")],
                          pass_done=False)
        assert not Event.objects.exists()  # held until the pass ends
        # a duplicate report of the same transition (a batch redelivered) is the same row
        on_status_changes(connection=lyon, changes=[dict(batches[0][1])], pass_done=False)
        on_status_changes(connection=rennes, changes=[change("da_r", "error")], pass_done=True)  # another portal
        on_status_changes(connection=lyon, changes=[], pass_done=True)
    events = list(Event.objects.filter(kind=EventKind.DATASET_ERROR).order_by("id"))
    assert [e.connections.get().name for e in events] == ["Rennes", "Lyon"]
    lyon_event = events[1]
    assert lyon_event.data["counts"] == {"datasets": 320, "error": 280, "limit_reached": 40}
    assert lyon_event.subject == ("320 datasets on Lyon in error or at the record limit: 280 in error, "
                                  "40 at the record limit")
    assert DatasetChange.objects.filter(connection=lyon).count() == 320
    assert Delivery.objects.count() == 4  # 2 events × 2 rules, not 321 × 2
    send_all(rung)
    assert len(mail.outbox) == 4
    body = next(m.body for m in mail.outbox if "on Lyon" in m.subject)
    assert body.count("\n- ds-") == 50 and "… and 270 more." in body


def test_a_pass_that_never_ends_is_told_after_the_hold(make_connection, make_user, rung, settings,
                                                       django_capture_on_commit_callbacks):
    settings.NOTIFY_DATASET_HOLD_SECONDS = 60
    lyon = make_connection("lyon", name="Lyon")
    rule_for(make_user("vera", role=Role.VIEWER, connection=lyon), [EventKind.DATASET_ERROR])
    on_status_changes(connection=lyon, changes=[change("da_1", "error")], pass_done=False)
    notify_tick_task()
    assert not Event.objects.exists()  # not held long enough yet
    DatasetChange.objects.update(seen_at=timezone.now() - timedelta(seconds=61))
    with django_capture_on_commit_callbacks(execute=True):
        notify_tick_task()
        notify_tick_task()
    assert Event.objects.get().subject == "ds-da_1 on Lyon is in error: 1 record error: bad date"
    assert DatasetChange.objects.get().event is not None and Delivery.objects.count() == 1
    send_all(rung)  # the tick also rings due rows again: each is claimed once, one message
    assert len(mail.outbox) == 1


def test_dataset_events_reach_nobody_without_a_role_on_that_connection(make_connection, make_user, rung,
                                                                       django_capture_on_commit_callbacks):
    lyon, rennes = make_connection("lyon", name="Lyon"), make_connection("rennes", name="Rennes")
    rule_for(make_user("vera", role=Role.VIEWER, connection=lyon), [EventKind.DATASET_ERROR])
    with django_capture_on_commit_callbacks(execute=True):
        on_status_changes(connection=rennes, changes=[change("da_1", "error")], pass_done=True)
    assert Event.objects.count() == 1 and not Delivery.objects.exists()


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_a_harvester_run_with_errors_is_an_event_and_a_refused_start_is_not(sandbox_connection, sandbox_clock,
                                                                            make_user, no_enqueue, rung,
                                                                            monkeypatch):
    from portaladmin.datasets import tasks as dataset_tasks
    from portaladmin.jobs import engine
    from portaladmin.jobs.models import JobStatus
    from portaladmin.jobs.services import harvester_action_start
    from tests.sandbox_fixtures import run_worker_and_poller

    monkeypatch.setattr(dataset_tasks.catalogue_sync, "delay", lambda **kw: None)
    conn = sandbox_connection("nhv", slug="demo", name="Demo", api_key="sandbox-nhv-key-0123456789", datasets=5,
                              users=0, groups=0, harvesters=2, pages=0)
    operator = make_user("oscar", role=Role.OPERATOR, connection=conn)
    rule_for(operator, [EventKind.HARVESTER_ERRORS])
    job = harvester_action_start(actor=operator, action="start", targets={conn: ["ods-harvester-2"]})
    job = run_worker_and_poller(job, sandbox_clock, steps=6)
    assert job.status == JobStatus.FAILED and job.items.get().details["has_error"] is True
    [event] = Event.objects.filter(kind=EventKind.HARVESTER_ERRORS)
    assert event.subject.startswith("Harvester run with errors · ") and " on Demo: " in event.subject
    assert "fatal error" in event.subject and event.link == "/c/demo/harvesters/ods-harvester-2/"
    assert event.data["outcome"] == "has_error" and "resource_errors_count" in event.data["counts"]
    # the same item reported again (a repeated signal) is the same event
    from portaladmin.notify.events import harvester_errors_event

    assert harvester_errors_event(job.items.get()) is None
    send_all(rung)
    [message] = mail.outbox
    assert message.subject == f"[portaladmin] {event.subject}"
    assert "https://portaladmin.example.org/c/demo/harvesters/ods-harvester-2/" in message.body

    # a run without errors is no event; nor is a start that failed for another reason (no final state in time)
    good = run_worker_and_poller(harvester_action_start(actor=operator, action="start",
                                                        targets={conn: ["ckan-harvester-1"]}), sandbox_clock, steps=6)
    assert good.status == JobStatus.SUCCEEDED
    late = harvester_action_start(actor=operator, action="start", targets={conn: ["ckan-harvester-1"]})
    engine.items_process(list(late.items.values_list("id", flat=True)))
    engine.items_expire(list(late.items.values_list("id", flat=True)))
    assert late.items.get().status == "failed"
    assert Event.objects.filter(kind=EventKind.HARVESTER_ERRORS).count() == 1
