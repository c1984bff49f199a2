"""The batched status poller: backoff, race-safe success, deadlines, budgets, 429 pauses."""

from datetime import timedelta

import pytest
from django.utils import timezone

from portaladmin.jobs import engine
from portaladmin.jobs.models import ItemStatus, JobItem, JobStatus
from portaladmin.portals.client.errors import PortalRateLimited
from portaladmin.portals.models import Membership, Role
from tests.jobs.conftest import due


def sent_items(start_job, uids, **kw):
    job = start_job(uids, **kw)
    for item in job.items.order_by("id"):
        engine.items_process([item.pk])
    return job, list(job.items.order_by("id"))


def poll(connection, items):
    return engine.poll_batch(connection_id=connection.pk, item_ids=[i.pk for i in items])


def test_backoff_schedule(settings):
    from portaladmin.jobs import schedule

    settings.JOBS_POLL_BACKOFF_CAP = 60.0
    knobs = schedule.Knobs.from_settings()
    delays = [schedule.next_delay(elapsed=e, knobs=knobs) for e in (0, 10, 60, 120, 300, 600, 1200, 3000)]
    assert delays[0] == 2.0
    assert all(b >= a for a, b in zip(delays, delays[1:], strict=False))
    assert max(delays) == 60.0 and delays[-1] == 60.0
    # long processing: slower than the cap (hours-long publishes do not need a read a minute)
    assert schedule.next_delay(elapsed=4 * 3600, knobs=knobs) > 60.0
    assert schedule.next_delay(elapsed=4 * 3600, knobs=knobs) <= 300.0


def test_stale_idle_right_after_publish_is_not_success(start_job, portal, connection):
    portal.on_publish = None  # the portal still shows the old idle after publish/
    job, (item,) = sent_items(start_job, ["da_1"])
    due(item)
    poll(connection, [item])
    item.refresh_from_db()
    assert item.status == ItemStatus.WAITING and item.remote_state == "idle" and not item.seen_busy
    # then it starts, and ends
    portal.set("da_1", "processing")
    due(item)
    poll(connection, [item])
    portal.set("da_1", "idle", since=timezone.now() - timedelta(days=2), is_published=True)  # odd since, busy seen
    due(item)
    poll(connection, [item])
    item.refresh_from_db()
    job.refresh_from_db()
    assert item.status == ItemStatus.SUCCEEDED and job.status == JobStatus.SUCCEEDED


def test_idle_with_since_after_the_send_is_success_without_seeing_busy(start_job, portal, connection):
    portal.on_publish = None
    job, (item,) = sent_items(start_job, ["da_1"])
    portal.set("da_1", "idle", since=timezone.now() + timedelta(seconds=1), is_published=True)  # it was quick
    due(item)
    poll(connection, [item])
    item.refresh_from_db()
    assert item.status == ItemStatus.SUCCEEDED and item.details["is_published"] is True


def test_error_state_fails_the_item_with_record_errors(start_job, portal, connection):
    job, (item,) = sent_items(start_job, ["da_1"])
    portal.set("da_1", "error", message="Processing failed",
               records_errors=[{"record_id": "r1", "field_uid": "f", "processor_uid": None, "message": "bad date"}])
    due(item)
    poll(connection, [item])
    item.refresh_from_db()
    assert item.status == ItemStatus.FAILED and item.message == "Processing failed"
    assert item.details["records_errors"][0]["message"] == "bad date"


def test_limit_reached_is_a_failure_with_the_limit(start_job, portal, connection):
    job, (item,) = sent_items(start_job, ["da_1"])
    portal.set("da_1", "limit_reached", params={"error": {"limit_type": "records", "limit": 100, "value": 150}})
    due(item)
    poll(connection, [item])
    item.refresh_from_db()
    assert item.status == ItemStatus.FAILED and "limit" in item.message.lower()


def test_busy_reads_back_off(start_job, portal, connection):
    """The gap between reads grows with the processing time so far (jobs/schedule.py: 10 % of it)."""
    job, (item,) = sent_items(start_job, ["da_1"])
    gaps = []
    for elapsed in (10, 100, 300, 500):
        due(item)
        JobItem.objects.filter(pk=item.pk).update(sent_at=timezone.now() - timedelta(seconds=elapsed))
        before = timezone.now()
        poll(connection, [item])
        item.refresh_from_db()
        gaps.append((item.next_poll_at - before).total_seconds())
    assert gaps[0] < gaps[1] < gaps[2] < gaps[3]
    assert item.remote_state == "queued" and item.poll_count == 4


def test_deadline_fails_the_item_without_a_request(start_job, portal, connection):
    job, (item,) = sent_items(start_job, ["da_1"])
    JobItem.objects.filter(pk=item.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    due(item)
    calls = len(portal.calls)
    batches = engine.poll_tick()
    item.refresh_from_db()
    job.refresh_from_db()
    assert batches == {} and len(portal.calls) == calls
    assert item.status == ItemStatus.FAILED and "deadline" in item.message
    assert job.status == JobStatus.FAILED


def test_tick_spends_at_most_the_portal_budget(start_job, portal, connection, make_connection, operator):
    connection.request_budget = 5
    connection.save()
    other = make_connection("other")  # default budget
    Membership.objects.create(user=operator, connection=other, role=Role.OPERATOR)
    job, items = sent_items(start_job, None, targets={connection: [f"da_{n}" for n in range(12)],
                                                      other: ["da_x", "da_y"]})
    JobItem.objects.filter(job=job).update(next_poll_at=timezone.now() - timedelta(seconds=1))
    batches = engine.poll_tick()
    assert len(batches[connection.pk]) == 5 and len(batches[other.pk]) == 2
    second = engine.poll_tick()  # reserved rows are not handed out twice
    assert len(second[connection.pk]) == 5 and not set(second[connection.pk]) & set(batches[connection.pk])
    assert other.pk not in second


def test_429_while_polling_pauses_the_portal_for_everyone(start_job, portal, connection):
    job, items = sent_items(start_job, ["da_1", "da_2", "da_3"])
    portal.fail_next("dataset_status", PortalRateLimited("slow down", status=429, retry_after=20))
    for item in items:
        due(item)
    calls = len(portal.calls)
    poll(connection, items)
    connection.refresh_from_db()
    assert connection.paused_until > timezone.now() + timedelta(seconds=15)
    assert len(portal.calls) == calls + 1  # stopped at the first 429
    for item in items:
        item.refresh_from_db()
        assert item.next_poll_at >= connection.paused_until - timedelta(seconds=1)
    # the next tick hands out nothing for this portal, from any process (the pause is in the database)
    JobItem.objects.filter(job=job).update(next_poll_at=timezone.now() - timedelta(seconds=1))
    assert engine.poll_tick() == {}


@pytest.mark.parametrize("kind,state", [("dataset.unpublish", "deleting"), ("dataset.publish_metadata", "processing")])
def test_other_dataset_kinds_follow_the_status(start_job, portal, connection, kind, state):
    job, (item,) = sent_items(start_job, ["da_1"], kind=kind)
    portal.set("da_1", state)
    due(item)
    poll(connection, [item])
    portal.set("da_1", "idle")
    due(item)
    poll(connection, [item])
    item.refresh_from_db()
    assert item.status == ItemStatus.SUCCEEDED and portal.count(kind.replace(".", "_")) == 1


def test_harvester_start_watches_the_harvester_object(start_job, portal, connection):
    job, (item,) = sent_items(start_job, ["ha_1"], kind="harvester.start")
    assert portal.count("harvester_start") == 1
    portal.harvesters["ha_1"] = {"status": "processing"}
    due(item)
    poll(connection, [item])
    portal.harvesters["ha_1"] = {"status": "idle", "has_error": True,
                                 "last_started_at": (timezone.now()).isoformat()}
    due(item)
    poll(connection, [item])
    item.refresh_from_db()
    assert item.status == ItemStatus.FAILED and item.message == "The source answered 500."


def test_harvester_publish_is_done_when_accepted(start_job, portal):
    job, (item,) = sent_items(start_job, ["ha_1"], kind="harvester.publish")
    item.refresh_from_db()
    assert item.status == ItemStatus.SUCCEEDED and "background" in item.message


def test_remote_state_hook_is_called(start_job, portal, connection):
    from portaladmin.jobs.signals import item_remote_state

    seen = []

    def receiver(sender, item, **kwargs):
        seen.append((item.target, item.remote_state, item.status))

    item_remote_state.connect(receiver)
    try:
        job, (item,) = sent_items(start_job, ["da_1"])
        portal.set("da_1", "idle", since=timezone.now() + timedelta(seconds=1), is_published=True)
        due(item)
        poll(connection, [item])
    finally:
        item_remote_state.disconnect(receiver)
    assert ("da_1", "idle", ItemStatus.SUCCEEDED) in seen


def test_a_jobs_successful_calls_count_as_the_connections_last_successful_call(start_job, portal, connection):
    from portaladmin.portals.models import Connection

    Connection.objects.filter(pk=connection.pk).update(last_ok_at=None)
    job, (item,) = sent_items(start_job, ["da_1"])
    sent = Connection.objects.get(pk=connection.pk).last_ok_at
    assert sent is not None  # the publish was answered
    portal.set("da_1", "processing")
    due(item)
    poll(connection, [item])
    assert Connection.objects.get(pk=connection.pk).last_ok_at >= sent  # and so was the status read
