"""The send side of the engine: claims, attempts, the crash window, errors, permissions, audit."""

from datetime import timedelta

from django.utils import timezone

from portaladmin.audit.models import AuditEvent
from portaladmin.jobs import engine
from portaladmin.jobs.models import ItemStatus, JobItem, JobStatus
from portaladmin.portals.client.errors import (
    PortalConflict,
    PortalNotFound,
    PortalRateLimited,
    PortalUnavailable,
    PortalValidationError,
)
from portaladmin.portals.models import Connection, Membership, Role
from tests.jobs.conftest import expire


def test_job_create_enqueues_ids_only_after_commit(start_job, no_enqueue):
    job = start_job(["da_1", "da_2"])
    items = list(job.items.order_by("id"))
    assert sorted(no_enqueue) == [[items[0].pk], [items[1].pk]]
    assert job.status == JobStatus.PENDING and job.total == 2


def test_duplicate_delivery_sends_once(start_job, portal):
    job = start_job(["da_1"])
    item = job.items.get()
    assert engine.items_process([item.pk]) == 1
    assert engine.items_process([item.pk]) == 0  # the same message delivered again
    assert portal.count("dataset_publish") == 1
    item.refresh_from_db()
    assert item.status == ItemStatus.WAITING and item.attempts == 1 and item.action_sent and item.send_confirmed


def test_a_held_lease_blocks_a_second_claim(start_job, portal):
    item = start_job(["da_1"]).items.get()
    token, claimed = engine.items_claim([item.pk])
    assert len(claimed) == 1
    assert engine.items_process([item.pk]) == 0
    assert portal.count("dataset_publish") == 0


def test_poison_item_fails_after_max_attempts_and_job_ends_partially_failed(start_job, portal, jobs_settings):
    job = start_job(["da_ok", "da_poison"])
    ok, poison = job.items.order_by("id")
    engine.items_process([ok.pk])
    portal.set("da_ok", "idle", is_published=True)
    engine.apply_view(engine.get_kind("dataset.publish"), JobItem.objects.select_related("job").get(pk=ok.pk),
                      engine.get_kind("dataset.publish").read_remote(portal, ok), now=timezone.now())
    # the poison item's worker dies right after each claim (no record of anything)
    for _ in range(jobs_settings.JOBS_MAX_ATTEMPTS):
        _, claimed = engine.items_claim([poison.pk])
        assert len(claimed) == 1
        expire(poison)
        engine.sweep()
    poison.refresh_from_db()
    assert poison.status == ItemStatus.FAILED
    assert poison.attempts == jobs_settings.JOBS_MAX_ATTEMPTS
    assert "Gave up after 3 attempts" in poison.message
    job.refresh_from_db()
    assert job.status == JobStatus.PARTIALLY_FAILED and job.finished_at is not None


def test_crash_after_send_does_not_send_again_when_portal_is_busy(start_job, portal):
    item = start_job(["da_1"]).items.get()
    # attempt 1: the flag was committed, the POST reached the portal, then the worker died
    engine.items_claim([item.pk])
    JobItem.objects.filter(pk=item.pk).update(action_sent=True, sent_at=timezone.now() - timedelta(seconds=5))
    portal.set("da_1", "processing")
    expire(item)
    assert engine.items_process([item.pk]) == 1
    item.refresh_from_db()
    assert portal.count("dataset_publish") == 0
    assert item.status == ItemStatus.WAITING and "not sent again" in item.message


def test_crash_before_send_sends_once_when_portal_shows_old_state(start_job, portal):
    item = start_job(["da_1"]).items.get()
    engine.items_claim([item.pk])
    JobItem.objects.filter(pk=item.pk).update(action_sent=True, sent_at=timezone.now() - timedelta(seconds=5))
    portal.set("da_1", "idle", since=timezone.now() - timedelta(hours=1))  # the POST never arrived
    expire(item)
    engine.items_process([item.pk])
    assert portal.count("dataset_publish") == 1
    item.refresh_from_db()
    assert item.status == ItemStatus.WAITING and item.attempts == 2


def test_5xx_on_send_retries_later_and_checks_before_resending(start_job, portal):
    item = start_job(["da_1"]).items.get()
    portal.fail_next("dataset_publish", PortalUnavailable("internal_error", status=500))
    engine.items_process([item.pk])
    item.refresh_from_db()
    assert item.status == ItemStatus.PENDING and item.action_sent and not item.send_confirmed
    assert item.next_poll_at > timezone.now() and "retrying" in item.message
    assert engine.items_process([item.pk]) == 0  # not before its retry time
    expire(item)
    engine.items_process([item.pk])
    item.refresh_from_db()
    assert portal.count("dataset_status") == 1  # checked first
    assert portal.count("dataset_publish") == 2 and item.status == ItemStatus.WAITING


def test_429_on_send_pauses_the_portal_and_does_not_count_as_an_attempt(start_job, portal, connection):
    item = start_job(["da_1"]).items.get()
    portal.fail_next("dataset_publish", PortalRateLimited("slow down", status=429, retry_after=30))
    engine.items_process([item.pk])
    item.refresh_from_db()
    connection.refresh_from_db()
    assert connection.paused_until > timezone.now() + timedelta(seconds=25)
    assert item.status == ItemStatus.PENDING and item.attempts == 0 and not item.action_sent
    # while paused, a claimed item goes back untouched
    JobItem.objects.filter(pk=item.pk).update(next_poll_at=None)
    engine.items_process([item.pk])
    assert portal.count("dataset_publish") == 1


def test_portal_refusals_fail_the_item_with_the_portal_message(start_job, portal):
    job = start_job(["da_busy", "da_gone", "da_bad"])
    portal.set("da_busy", "processing")
    portal.fail_next("dataset_publish", PortalConflict("x", status=400))  # consumed by da_busy? no: da_busy raises itself
    portal.faults["dataset_publish"].clear()
    busy, gone, bad = job.items.order_by("id")
    engine.items_process([busy.pk])
    portal.fail_next("dataset_publish", PortalNotFound("No such dataset", status=404))
    engine.items_process([gone.pk])
    portal.fail_next("dataset_publish", PortalValidationError("bad", status=400, detail={"title": ["required"]}))
    engine.items_process([bad.pk])
    busy.refresh_from_db(), gone.refresh_from_db(), bad.refresh_from_db()
    assert busy.status == gone.status == bad.status == ItemStatus.FAILED
    assert "processing" in busy.message and "Not found" in gone.message
    assert bad.details["field_errors"] == {"title": ["required"]}
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.last_error


def test_permission_is_rechecked_in_the_worker(start_job, portal, operator, connection):
    item = start_job(["da_1"]).items.get()
    Membership.objects.filter(user=operator, connection=connection).update(role=Role.VIEWER)
    engine.items_process([item.pk])
    item.refresh_from_db()
    assert portal.calls == []
    assert item.status == ItemStatus.FAILED and "no longer has the operator role" in item.message
    assert AuditEvent.objects.filter(action="dataset.publish", outcome="failure", job_id=item.job_id).exists()


def test_every_remote_write_is_audited_with_the_job(start_job, portal, operator):
    job = start_job(["da_1", "da_2"])
    portal.fail_next("dataset_publish", PortalNotFound("gone", status=404))
    for item in job.items.order_by("id"):
        engine.items_process([item.pk])
    events = AuditEvent.objects.filter(action="dataset.publish", job_id=job.pk).order_by("id")
    assert [(e.target, e.outcome, e.actor_id) for e in events] == [
        ("da_1", "failure", operator.pk), ("da_2", "success", operator.pk)]


def test_cancelled_job_items_are_not_sent(start_job, portal, operator):
    from portaladmin.jobs.services import job_cancel

    job = start_job(["da_1"])
    item = job.items.get()
    job_cancel(job=job, actor=operator)
    engine.items_process([item.pk])
    item.refresh_from_db()
    job.refresh_from_db()
    assert portal.calls == [] and item.status == ItemStatus.CANCELLED and job.status == JobStatus.CANCELLED


def test_sweeper_reenqueues_lost_doorbells_and_expired_leases(start_job, no_enqueue, jobs_settings,
                                                              django_capture_on_commit_callbacks):
    job = start_job(["da_lost", "da_dead"])
    lost, dead = job.items.order_by("id")
    no_enqueue.clear()
    old = timezone.now() - timedelta(seconds=jobs_settings.JOBS_LEASE_SECONDS + 5)
    JobItem.objects.filter(pk=lost.pk).update(enqueued_at=old)
    engine.items_claim([dead.pk])
    expire(dead)
    with django_capture_on_commit_callbacks(execute=True):
        engine.sweep()
    assert sorted(no_enqueue) == [[lost.pk], [dead.pk]]
    with django_capture_on_commit_callbacks(execute=True):
        engine.sweep()  # just enqueued: not again
    assert len(no_enqueue) == 2


def test_sweeper_flags_jobs_past_their_deadline(start_job):
    job = start_job(["da_1"])
    job.__class__.objects.filter(pk=job.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    engine.sweep()
    job.refresh_from_db()
    assert job.stuck_at is not None and "expected end" in job.last_error


def test_multi_connection_job_is_one_job(operator, make_connection, no_enqueue, django_capture_on_commit_callbacks,
                                         connection):
    from portaladmin.jobs.services import dataset_action_start

    other = make_connection("other")
    Membership.objects.create(user=operator, connection=other, role=Role.OPERATOR)
    with django_capture_on_commit_callbacks(execute=True):
        job = dataset_action_start(actor=operator, action="publish",
                                   targets={connection: ["da_1", "da_2"], other: ["da_9"]})
    assert job.connection is None and set(job.connections.all()) == {connection, other}
    assert job.total == 3 and len(no_enqueue) == 3
    assert set(Connection.objects.filter(job_items__job=job).distinct()) == {connection, other}


def test_resend_that_meets_a_busy_dataset_watches_it_instead_of_failing(start_job, portal):
    # a 5xx whose request was applied anyway, and a check that still saw the old idle (the publish race)
    item = start_job(["da_1"]).items.get()
    portal.fail_next("dataset_publish", PortalUnavailable("gateway timeout", status=504))
    engine.items_process([item.pk])
    portal.set("da_1", "idle", since=timezone.now() - timedelta(hours=1))
    portal.on_publish = None
    expire(item)
    JobItem.objects.filter(pk=item.pk).update(next_poll_at=None)
    # the re-send meets the publish that did get through
    portal.fail_next("dataset_publish", PortalConflict("dataset status is 'queued'", status=400))
    engine.items_process([item.pk])
    item.refresh_from_db()
    assert item.status == ItemStatus.WAITING and "earlier attempt got through" in item.message
