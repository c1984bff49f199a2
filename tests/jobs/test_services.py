"""Retry, cancel, status recomputation, the failure e-mail, and the Celery guarantees the engine relies on."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from portaladmin.audit.models import AuditEvent
from portaladmin.jobs import engine, tasks
from portaladmin.jobs.models import ItemStatus, JobItem, JobStatus
from portaladmin.jobs.services import job_cancel, job_create, job_retry_failed
from portaladmin.portals.models import Role
from tests.jobs.conftest import due


def run(job):
    for item in job.items.order_by("id"):
        engine.items_process([item.pk])


def finish(portal, connection, job, states: dict):
    for uid, state in states.items():
        portal.set(uid, state, since=timezone.now() + timedelta(seconds=1))
    for item in job.items.filter(status=ItemStatus.WAITING):
        due(item)
    engine.poll_batch(connection_id=connection.pk, item_ids=list(job.items.values_list("id", flat=True)))
    job.refresh_from_db()


def test_viewer_cannot_start_a_publish(make_user, connection, no_enqueue):
    viewer = make_user("vera", role=Role.VIEWER, connection=connection)
    with pytest.raises(PermissionDenied):
        job_create(kind="dataset.publish", actor=viewer, targets={connection: ["da_1"]})


def test_retry_failed_creates_a_job_with_exactly_the_failed_items(start_job, portal, connection, operator):
    job = start_job(["da_1", "da_2", "da_3", "da_4"])
    run(job)
    finish(portal, connection, job, {"da_1": "idle", "da_2": "error", "da_3": "idle", "da_4": "limit_reached"})
    assert job.status == JobStatus.PARTIALLY_FAILED
    retry = job_retry_failed(job=job, actor=operator)
    assert retry.retry_of == job and retry.kind == job.kind and retry.total == 2
    assert sorted(retry.items.values_list("target", flat=True)) == ["da_2", "da_4"]
    assert set(retry.items.values_list("status", flat=True)) == {ItemStatus.PENDING}


def test_retry_failed_needs_the_operator_role(start_job, portal, connection, make_user):
    job = start_job(["da_1"])
    run(job)
    finish(portal, connection, job, {"da_1": "error"})
    viewer = make_user("vera", role=Role.VIEWER, connection=connection)
    with pytest.raises(PermissionDenied):
        job_retry_failed(job=job, actor=viewer)


def test_cancel_stops_pending_items_and_aborts_processing_ones(start_job, portal, connection, operator):
    job = start_job(["da_sent", "da_waiting_1", "da_waiting_2"])
    sent, w1, w2 = job.items.order_by("id")
    engine.items_process([sent.pk])
    portal.set("da_sent", "processing")
    job_cancel(job=job, actor=operator)
    job.refresh_from_db()
    assert job.cancelled_count == 2 and job.status == JobStatus.WAITING
    # the next poll sends the abort (audited, by the person who cancelled) and ends the item at once, saying
    # that the portal may still finish it (it does not wait for a remote state that may never change)
    engine.poll_batch(connection_id=connection.pk, item_ids=[sent.pk])
    assert portal.count("dataset_abort") == 1
    assert AuditEvent.objects.filter(action="dataset.abort", actor=operator, job_id=job.pk, outcome="success").exists()
    sent.refresh_from_db()
    job.refresh_from_db()
    assert sent.status == ItemStatus.CANCELLED and "abort was sent" in sent.message
    assert "may still finish" in sent.message
    assert job.status == JobStatus.CANCELLED and job.finished_at is not None
    assert portal.count("dataset_publish") == 1
    assert AuditEvent.objects.filter(action="job.cancel", job_id=job.pk).exists()


def test_cancel_ends_items_whose_remote_state_never_changes_within_one_tick(start_job, portal, connection, operator):
    job = start_job(["da_1"], kind="dataset.unpublish")  # unpublish cannot be aborted
    (item,) = job.items.all()
    engine.items_process([item.pk])
    portal.set("da_1", "deleting")  # and it stays so forever
    job_cancel(job=job, actor=operator)
    batches = engine.poll_tick()
    assert batches == {connection.pk: [item.pk]}  # due at once, whatever its backoff said
    engine.poll_batch(connection_id=connection.pk, item_ids=batches[connection.pk])
    item.refresh_from_db()
    job.refresh_from_db()
    assert item.status == ItemStatus.CANCELLED
    assert item.message == "Cancelled while the portal was still processing it (deleting): the portal may finish it."
    assert job.status == JobStatus.CANCELLED and portal.count("dataset_abort") == 0


def test_failure_email_states_the_real_outcome_once(start_job, portal, connection, operator, jobs_settings,
                                                    django_capture_on_commit_callbacks):
    job = start_job(["da_1", "da_2"])
    run(job)
    portal.set("da_2", "error", since=timezone.now() + timedelta(seconds=1), message="Bad CSV header")
    portal.set("da_1", "idle", since=timezone.now() + timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        finish(portal, connection, job, {})
    assert job.status == JobStatus.PARTIALLY_FAILED
    assert len(mail.outbox) == 1
    msg = mail.outbox[0]
    assert msg.to == [operator.email] and "partially failed" in msg.subject
    assert "1 succeeded, 1 failed of 2" in msg.body and "Bad CSV header" in msg.body
    assert f"/jobs/{job.pk}/" in msg.body
    from portaladmin.jobs.services import job_notify_failure

    assert job_notify_failure(job=job) is False and len(mail.outbox) == 1


def test_no_email_when_everything_succeeded(start_job, portal, connection, django_capture_on_commit_callbacks):
    job = start_job(["da_1"])
    run(job)
    with django_capture_on_commit_callbacks(execute=True):
        finish(portal, connection, job, {"da_1": "idle"})
    assert job.status == JobStatus.SUCCEEDED and mail.outbox == []


def test_job_status_tells_the_truth_along_the_way(start_job, portal, connection):
    job = start_job(["da_1", "da_2"])
    assert job.status == JobStatus.PENDING
    first, second = job.items.order_by("id")
    engine.items_process([first.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.started_at is not None
    engine.items_process([second.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.WAITING and job.running_count == 2
    finish(portal, connection, job, {"da_1": "error", "da_2": "error"})
    assert job.status == JobStatus.FAILED and job.percent == 100


def test_tasks_are_late_acked_and_requeued_when_the_worker_dies():
    for task in (tasks.jobs_items_process_task, tasks.jobs_poll_tick_task, tasks.jobs_poll_batch_task,
                 tasks.jobs_sweep_task):
        assert task.acks_late is True and task.reject_on_worker_lost is True


def test_visibility_timeout_exceeds_hard_time_limit_plus_largest_countdown(settings):
    """With Redis, an unacked task comes back after the visibility timeout: it must outlive any task run."""
    env = {**os.environ, "REDIS_URL": "redis://127.0.0.1:6379/15", "DJANGO_SETTINGS_MODULE": "portaladmin.settings"}
    env.pop("CELERY_BROKER_URL", None)
    code = ("from portaladmin import settings as s; "
            "print(s.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'], s.CELERY_TASK_TIME_LIMIT)")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    visibility, hard_limit = (int(x) for x in out.stdout.split())
    assert visibility > hard_limit + tasks.MAX_COUNTDOWN
    assert visibility > settings.JOBS_LEASE_SECONDS  # a redelivery never races a live lease holder
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    if "visibility_timeout" in options:  # this run's own broker
        assert options["visibility_timeout"] > settings.CELERY_TASK_TIME_LIMIT + tasks.MAX_COUNTDOWN


def test_poll_tick_task_rings_one_batch_per_portal(start_job, portal, connection, monkeypatch):
    job = start_job(["da_1", "da_2"])
    run(job)
    JobItem.objects.filter(job=job).update(next_poll_at=timezone.now() - timedelta(seconds=1))
    rung = []
    monkeypatch.setattr(tasks.jobs_poll_batch_task, "delay", lambda **kw: rung.append(kw))
    assert tasks.jobs_poll_tick_task.run() == 2
    assert rung == [{"connection_id": connection.pk, "item_ids": sorted(job.items.values_list("id", flat=True))}]


def test_a_submit_token_is_one_job_per_person_even_at_the_same_instant(start_job, operator, connection, rf,
                                                                       make_user):
    from django.db import IntegrityError

    from portaladmin.jobs.models import Job
    from portaladmin.jobs.services import job_create

    request = rf.post("/", {"submit_token": "t-1"})
    first = job_create(kind="dataset.publish", actor=operator, targets={connection: ["da_1"]}, request=request)
    again = job_create(kind="dataset.publish", actor=operator, targets={connection: ["da_1"]}, request=request)
    assert again.pk == first.pk and Job.objects.count() == 1
    # another person's form may carry the same token: theirs is their own job
    other = make_user("olga", role=Role.OPERATOR, connection=connection)
    assert job_create(kind="dataset.publish", actor=other, targets={connection: ["da_1"]}, request=request).pk != first.pk
    # two requests racing past the first check: the database keeps one (the constraint)
    with pytest.raises(IntegrityError), transaction.atomic():
        Job.objects.create(kind="dataset.publish", started_by=operator, submit_token="t-1")
    # no token (a script, a test client without JS): every call is a new job, as before
    assert job_create(kind="dataset.publish", actor=operator, targets={connection: ["da_1"]}).pk != first.pk
