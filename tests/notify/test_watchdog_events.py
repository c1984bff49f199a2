""""Item stuck past the watchdog": a job whose items the portal keeps busy longer than WATCHDOG_BUSY_MINUTES is
told once (kind job.stuck), long before its deadline; a job without such items, or already ended, is not."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from portaladmin.jobs.models import ItemStatus, JobItem, JobStatus
from portaladmin.jobs.services import job_create
from portaladmin.notify.events import job_watchdog_scan
from portaladmin.notify.models import Delivery, Event, EventKind, Rule
from portaladmin.notify.services import delivery_send
from portaladmin.portals.models import Role
from portaladmin.sandbox.services import set_faults
from tests.sandbox_fixtures import run_worker_and_poller

KEY = "sandbox-watchdog-key-0123456789"


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.JOBS_NOTIFY_ON_FAILURE = False
    settings.WATCHDOG_BUSY_MINUTES = 60
    settings.PORTALADMIN_SELF_URL = "https://portaladmin.example.org"


@pytest.mark.django_db
def test_items_busy_past_the_watchdog_are_told_once_per_job(make_connection, make_user, no_enqueue, rung,
                                                            django_capture_on_commit_callbacks):
    lyon, rennes = make_connection("lyon", name="Lyon"), make_connection("rennes", name="Rennes")
    oscar = make_user("oscar", role=Role.OPERATOR, connection=lyon)
    Rule.objects.create(owner=oscar, name="stuck", events=[EventKind.JOB_STUCK])
    job = job_create(kind="dataset.publish", actor=oscar, targets={lyon: ["da_1", "da_2", "da_3"]})
    quick = job_create(kind="dataset.publish", actor=oscar, targets={lyon: ["da_9"]})
    now = timezone.now()
    items = list(job.items.order_by("id"))
    JobItem.objects.filter(pk__in=[items[0].pk, items[1].pk]).update(status=ItemStatus.WAITING,
                                                                     sent_at=now - timedelta(minutes=61))
    JobItem.objects.filter(job=quick).update(status=ItemStatus.WAITING, sent_at=now - timedelta(minutes=10))
    with django_capture_on_commit_callbacks(execute=True):
        [event] = job_watchdog_scan(now=now)
        assert job_watchdog_scan(now=now + timedelta(minutes=5)) == []  # next ticks: nothing new
    assert event.kind == EventKind.JOB_STUCK and event.link == job.get_absolute_url()
    assert event.subject.startswith("2 items busy on the portal for over 60 min · Publish 3 datasets on Lyon")
    assert event.data["outcome"] == "busy_past_watchdog"
    for delivery_id in list(rung):
        delivery_send(delivery_id=delivery_id)
    assert len(mail.outbox) == 1 and "busy on the portal" in mail.outbox[0].subject

    # an ended job is not watched; another connection's job reaches nobody without a role there
    ended = job_create(kind="dataset.publish", actor=make_user("root", superuser=True), targets={rennes: ["da_r"]})
    JobItem.objects.filter(job=ended).update(status=ItemStatus.WAITING, sent_at=now - timedelta(hours=3))
    with django_capture_on_commit_callbacks(execute=True):
        [other] = job_watchdog_scan(now=now)
    assert other.connections.get() == rennes
    assert Delivery.objects.filter(event=other).count() == 0
    ended.status = JobStatus.FAILED
    ended.save(update_fields=["status"])
    Event.objects.filter(pk=other.pk).delete()
    assert job_watchdog_scan(now=now) == []


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_a_publish_the_sandbox_keeps_processing_is_told_by_the_watchdog(sandbox_connection, sandbox_clock, make_user,
                                                                        no_enqueue, rung):
    conn = sandbox_connection("nwatch", slug="demo", name="Demo", api_key=KEY, datasets=2, users=1, groups=0,
                              harvesters=0, pages=0)
    set_faults("nwatch", processing_seconds_min=7200, processing_seconds_max=7200)
    from portaladmin.datasets.services import catalogue_sync_run

    catalogue_sync_run(connection=conn)
    oscar = make_user("oscar", role=Role.OPERATOR, connection=conn)
    Rule.objects.create(owner=oscar, name="stuck", events=[EventKind.JOB_STUCK])
    uids = list(conn.dataset_snapshots.values_list("uid", flat=True))
    job = job_create(kind="dataset.publish", actor=oscar, targets={conn: uids})
    job = run_worker_and_poller(job, sandbox_clock, steps=3)
    assert job.is_active  # the portal is processing for two hours
    assert job_watchdog_scan() == []  # just sent
    [event] = job_watchdog_scan(now=timezone.now() + timedelta(minutes=61))
    assert event.subject.startswith("2 items busy on the portal for over 60 min · Publish 2 datasets on Demo")
    assert Delivery.objects.filter(event=event, rule__owner=oscar).count() == 1
