"""The engine's truth rules: postconditions, freshness on the portal's clock, checks after a crash.

Unit tests of portaladmin.jobs.truth, engine tests against the fake portal with a skewed clock, and a
property-style test that drives the real engine (apply_view through poll_batch) over random sequences of portal
answers, contradictory ones included: it never records success unless the postcondition held in the last read.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from portaladmin.jobs import engine, truth
from portaladmin.jobs.kinds import DatasetPublish, DatasetUnpublish
from portaladmin.jobs.models import ItemStatus, JobItem
from portaladmin.jobs.registry import RemoteView
from tests.jobs.conftest import due

T0 = datetime(2026, 11, 30, 12, 0, 0, 400_000, tzinfo=UTC)


# --- freshness --------------------------------------------------------------------------------------------------
def test_reference_is_the_second_after_the_writes_date_header():
    ref, from_portal = truth.portal_reference(answer_date=T0, answered_at=T0)
    assert from_portal and ref == datetime(2026, 11, 30, 12, 0, 1, tzinfo=UTC)


def test_whole_second_since_in_the_same_second_as_the_answer_is_not_fresh():
    # The old idle may have been entered in the very second the order was applied: truncated, it reads 12:00:00.
    ref, _ = truth.portal_reference(answer_date=T0, answered_at=T0)
    assert not truth.is_fresh(since=T0.replace(microsecond=0), reference=ref, seen_busy=False, race_safe=True)
    assert truth.is_fresh(since=ref, reference=ref, seen_busy=False, race_safe=True)


def test_without_a_date_header_our_clock_plus_the_tolerated_skew_is_the_reference(settings):
    settings.JOBS_PORTAL_CLOCK_SKEW = 120
    settings.JOBS_PORTAL_TIME_MARGIN = 1
    ref, from_portal = truth.portal_reference(answer_date=None, answered_at=T0)
    assert not from_portal and ref == T0 + timedelta(seconds=121)
    # a portal clock 90 s ahead of ours: its stale idle stamped "now" on its clock is still not fresh
    assert not truth.is_fresh(since=T0 + timedelta(seconds=90), reference=ref, seen_busy=False, race_safe=True)


def test_busy_seen_or_not_race_safe_makes_any_terminal_fresh():
    assert truth.is_fresh(since=None, reference=None, seen_busy=True, race_safe=True)
    assert truth.is_fresh(since=None, reference=None, seen_busy=False, race_safe=False)
    assert not truth.is_fresh(since=None, reference=T0, seen_busy=False, race_safe=True)


def test_order_time_since_tolerates_one_round_trip_before_the_reference():
    ref, _ = truth.portal_reference(answer_date=T0, answered_at=T0)
    took_order = T0.replace(microsecond=0) - timedelta(seconds=1)  # stamped as the request arrived
    assert truth.is_fresh(since=took_order, reference=ref, seen_busy=False, race_safe=True,
                          since_is_order_time=True, round_trip=0.8)
    assert not truth.is_fresh(since=T0 - timedelta(hours=2), reference=ref, seen_busy=False, race_safe=True,
                              since_is_order_time=True, round_trip=0.8)


@pytest.mark.parametrize("offset", [-600, -90, 0, 3, 300])
def test_sent_position_uses_the_portals_clock_through_the_date_of_the_read(offset):
    sent = T0
    now = T0 + timedelta(minutes=3)  # the check runs after the lease expired
    portal_now = now + timedelta(seconds=offset)
    kw = dict(sent_at=sent, now=now, answer_date=portal_now.replace(microsecond=0), round_trip=0.2)
    on_portal = sent + timedelta(seconds=offset)
    assert truth.sent_position(since=on_portal + timedelta(seconds=20), **kw) == truth.SENT
    assert truth.sent_position(since=on_portal - timedelta(hours=1), **kw) == truth.NOT_SENT
    assert truth.sent_position(since=on_portal, **kw) == truth.UNKNOWN  # too close to tell
    assert truth.sent_position(since=None, **kw) == truth.UNKNOWN


def test_decide_applies_the_postcondition_only_to_fresh_terminal_views():
    publish, unpublish = DatasetPublish(), DatasetUnpublish()
    idle_unpublished = RemoteView(state="idle", terminal=True, facts={"is_published": False})
    idle_published = RemoteView(state="idle", terminal=True, facts={"is_published": True})
    assert truth.decide(publish, None, idle_published, fresh=False).outcome == truth.WAIT
    assert truth.decide(publish, None, idle_published, fresh=True).outcome == truth.SUCCEEDED
    failed = truth.decide(publish, None, idle_unpublished, fresh=True)
    assert failed.outcome == truth.FAILED and "not published" in failed.message
    assert truth.decide(unpublish, None, idle_unpublished, fresh=True).outcome == truth.SUCCEEDED
    assert truth.decide(unpublish, None, idle_published, fresh=True).outcome == truth.FAILED
    unknown = RemoteView(state="idle", terminal=True, facts={"is_published": None})
    assert truth.decide(publish, None, unknown, fresh=True).outcome == truth.FAILED
    busy = RemoteView(state="processing_resource_records", terminal=False)
    assert truth.decide(publish, None, busy, fresh=True).outcome == truth.WAIT


# --- the engine with a skewed, whole-second portal ----------------------------------------------------------------
def _sent(start_job, portal, uid="da_1", kind="dataset.publish"):
    portal.on_publish = None  # the portal keeps showing the old state for a while (the race)
    job = start_job([uid], kind=kind)
    item = job.items.get()
    engine.items_process([item.pk])
    item.refresh_from_db()
    return job, item


def _poll(connection, item):
    due(item)
    engine.poll_batch(connection_id=connection.pk, item_ids=[item.pk])
    item.refresh_from_db()
    return item


@pytest.mark.parametrize("offset_minutes", [-7, 0, 7])
def test_stale_idle_on_a_skewed_portal_is_not_done_and_the_fresh_one_is(start_job, portal, connection,
                                                                        offset_minutes):
    portal.clock_offset = timedelta(minutes=offset_minutes)
    portal_now = timezone.now() + portal.clock_offset
    # before the order: published long ago (a republish), on the portal's clock
    portal.set("da_1", "idle", since=portal_now - timedelta(days=3), is_published=True)
    job, item = _sent(start_job, portal)
    assert item.portal_sent_at is not None  # the Date of the publish answer was kept
    assert _poll(connection, item).status == ItemStatus.WAITING
    # the same second as the answer, truncated: cannot be told apart from a state entered before the order
    portal.set("da_1", "idle", since=item.portal_sent_at, is_published=True)
    assert _poll(connection, item).status == ItemStatus.WAITING
    portal.set("da_1", "idle", since=item.portal_sent_at + timedelta(seconds=1), is_published=True)
    item = _poll(connection, item)
    assert item.status == ItemStatus.SUCCEEDED and item.message == "Done: the dataset is published."


def test_idle_but_not_published_after_a_publish_is_a_failure(start_job, portal, connection):
    job, item = _sent(start_job, portal)
    portal.set("da_1", "processing")
    _poll(connection, item)
    portal.set("da_1", "idle", is_published=False)
    item = _poll(connection, item)
    assert item.status == ItemStatus.FAILED and item.message == "The portal ended idle, but the dataset is not published."


def test_a_portal_that_never_leaves_the_old_state_fails_saying_so(start_job, portal, connection, settings):
    settings.JOBS_STALE_READ_SECONDS = 600
    job, item = _sent(start_job, portal)
    JobItem.objects.filter(pk=item.pk).update(sent_at=timezone.now() - timedelta(minutes=11))
    item.refresh_from_db()
    item = _poll(connection, item)
    assert item.status == ItemStatus.FAILED
    assert item.message.startswith("The portal still shows the state it had before the order (idle")


def test_a_crash_check_that_reads_error_records_it(start_job, portal, connection):
    # the order was applied, the worker died before recording the answer; the check reads `error`
    job = start_job(["da_1"])
    item = job.items.get()
    engine.items_claim([item.pk])
    sent_at = timezone.now() - timedelta(minutes=3)
    JobItem.objects.filter(pk=item.pk).update(action_sent=True, sent_at=sent_at,
                                              lease_until=timezone.now() - timedelta(seconds=1))
    portal.set("da_1", "error", since=sent_at + timedelta(seconds=40), message="Could not read the source.")
    engine.items_process([item.pk])
    item.refresh_from_db()
    assert portal.count("dataset_publish") == 0  # not sent again
    assert item.status == ItemStatus.FAILED and item.message == "Could not read the source."
    assert item.remote_state == "error"


def test_a_crash_check_too_close_to_tell_fails_with_advice_and_sends_nothing(start_job, portal, connection):
    job = start_job(["da_1"])
    item = job.items.get()
    engine.items_claim([item.pk])
    sent_at = timezone.now() - timedelta(minutes=3)
    JobItem.objects.filter(pk=item.pk).update(action_sent=True, sent_at=sent_at,
                                              lease_until=timezone.now() - timedelta(seconds=1))
    portal.set("da_1", "idle", since=sent_at, is_published=True)
    engine.items_process([item.pk])
    item.refresh_from_db()
    assert portal.count("dataset_publish") == 0
    assert item.status == ItemStatus.FAILED and "Check the portal before retrying" in item.message


def test_transient_failures_do_not_spend_attempts(start_job, portal, connection, jobs_settings):
    from portaladmin.portals.client.errors import PortalRateLimited, PortalUnavailable

    jobs_settings.JOBS_MAX_ATTEMPTS = 2
    job = start_job(["da_1"])
    item = job.items.get()
    for n in range(6):  # far more than JOBS_MAX_ATTEMPTS
        portal.fail_next("dataset_publish", PortalUnavailable("503", status=503))
        portal.set("da_1", "idle", since=timezone.now() - timedelta(days=1))  # a 503 before acting: old state
        engine.items_process([item.pk])
        item.refresh_from_db()
        assert item.status == ItemStatus.PENDING and item.attempts <= 1, (n, item.message)
        assert "Temporary failure" in item.message
        JobItem.objects.filter(pk=item.pk).update(next_poll_at=timezone.now() - timedelta(seconds=1))
        item.refresh_from_db()
    portal.fail_next("dataset_publish", PortalRateLimited("429", status=429, retry_after=0))
    engine.items_process([item.pk])
    item.refresh_from_db()
    assert item.status == ItemStatus.PENDING and item.attempts <= 1
    connection.refresh_from_db()
    connection.paused_until = None
    connection.save()
    JobItem.objects.filter(pk=item.pk).update(next_poll_at=timezone.now() - timedelta(seconds=1))
    engine.items_process([item.pk])
    item.refresh_from_db()
    assert item.status == ItemStatus.WAITING and portal.count("dataset_publish") == 8


def test_transient_failures_give_up_after_the_time_budget(start_job, portal, connection, jobs_settings):
    from portaladmin.portals.client.errors import PortalUnavailable

    jobs_settings.JOBS_TRANSIENT_RETRY_SECONDS = 60
    job = start_job(["da_1"])
    item = job.items.get()
    JobItem.objects.filter(pk=item.pk).update(transient_since=timezone.now() - timedelta(seconds=61))
    portal.fail_next("dataset_publish", PortalUnavailable("503", status=503))
    engine.items_process([item.pk])
    item.refresh_from_db()
    assert item.status == ItemStatus.FAILED and item.message.startswith("Gave up after 1 min of temporary failures")


def test_a_paused_portal_leaves_items_unclaimed_and_the_tick_rings_them_within_budget(
        start_job, portal, connection, jobs_settings, no_enqueue, django_capture_on_commit_callbacks, monkeypatch):
    jobs_settings.JOBS_PORTAL_REQUEST_BUDGET = 4
    job = start_job([f"da_{i}" for i in range(10)])
    no_enqueue.clear()
    connection.paused_until = timezone.now() + timedelta(seconds=30)
    connection.save()
    ids = list(job.items.values_list("id", flat=True))
    for item_id in ids:
        assert engine.items_process([item_id]) == 0
    assert set(job.items.values_list("attempts", flat=True)) == {0}  # nothing claimed, nothing refunded
    assert engine.dispatch_due_sends(now=timezone.now()) == 0  # still paused
    later = timezone.now() + timedelta(seconds=31)
    connection.paused_until = None
    connection.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert engine.dispatch_due_sends(now=later) == 4  # the portal's budget per tick, not all ten at once
    assert len(no_enqueue) == 4
    assert engine.dispatch_due_sends(now=later) == 0  # the four rung are not sent yet: no more
    monkeypatch.setattr(timezone, "now", lambda: later)
    for ids in no_enqueue:
        engine.items_process(ids)  # the worker sends them
    assert engine.dispatch_due_sends(now=later) == 4  # the next tick: the next four
    assert engine.sweep(now=later)["requeued"] == 0  # the sweeper leaves them to the tick (backstop only)


# --- property: never success unless the postcondition holds in the last read ------------------------------------
STATES = ["idle", "idle", "queued", "processing", "deleting", "error", "limit_reached", "aborting_processing",
          "processing_resource_records", "saving_version", "weird_new_state"]


@pytest.mark.parametrize("kind_name", ["dataset.publish", "dataset.unpublish", "dataset.publish_metadata"])
def test_property_never_success_unless_the_last_read_meets_the_postcondition(start_job, portal, connection,
                                                                             kind_name):
    from portaladmin.jobs.registry import get_kind

    kind = get_kind(kind_name)
    rng = random.Random(f"truth-{kind_name}")  # noqa: S311 - reproducible test data, not a secret
    outcomes = {ItemStatus.SUCCEEDED: 0, ItemStatus.FAILED: 0, ItemStatus.WAITING: 0}
    for run in range(60):
        uid = f"da_{kind_name}_{run}"
        portal.clock_offset = timedelta(seconds=rng.choice([-400, -30, 0, 2, 45, 400]))
        portal_now = timezone.now() + portal.clock_offset
        portal.set(uid, rng.choice(["idle", "error", "limit_reached"]), since=portal_now - timedelta(hours=1),
                   is_published=rng.choice([True, False, None]))
        job, item = _sent(start_job, portal, uid=uid, kind=kind_name)
        last = None
        for _ in range(rng.randint(1, 6)):
            state = rng.choice(STATES)
            since = item.portal_sent_at + timedelta(seconds=rng.choice([-3600, -1, 0, 0.5, 1, 30]))
            portal.set(uid, state, since=since, is_published=rng.choice([True, False, None]),
                       message=rng.choice(["", "Processing failed"]))
            last = portal.status[uid]
            item = _poll(connection, item)
            if item.status != ItemStatus.WAITING:
                break
        outcomes[item.status] = outcomes.get(item.status, 0) + 1
        if item.status == ItemStatus.SUCCEEDED:
            view = kind.read_remote(portal, item)  # the last answer, read again (the fake does not change)
            assert view.terminal and kind.postcondition(item, view), (kind_name, last, item.message)
            assert last["status"] == "idle"
            if kind_name == "dataset.publish":
                assert last["is_published"] is True
            elif kind_name == "dataset.unpublish":
                assert last["is_published"] is False
    # the random sequences reached every outcome (the test is not vacuous)
    assert all(outcomes[s] for s in (ItemStatus.SUCCEEDED, ItemStatus.FAILED, ItemStatus.WAITING)), outcomes
