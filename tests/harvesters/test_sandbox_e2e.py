"""End to end over live HTTP against the sandbox portal: create → preview → start → idle with datasets attached,
and the failing seeded harvester's errors. The job engine's worker steps and poller tick run in the test."""

import re

import pytest
from django.urls import reverse

from portaladmin.audit.models import AuditEvent
from portaladmin.datasets.services import catalogue_sync_run
from portaladmin.jobs import engine
from portaladmin.jobs.models import Job, JobStatus
from portaladmin.portals.models import Role
from tests.sandbox_fixtures import run_worker_and_poller

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

KEY = "sandbox-harvest-key-0123456789"


@pytest.fixture
def sandbox(sandbox_clock, sandbox_connection, make_user, no_enqueue):
    conn = sandbox_connection("hv", slug="demo", api_key=KEY, datasets=5, users=1, groups=0, harvesters=2, pages=0)
    operator = make_user("oscar", role=Role.OPERATOR, connection=conn)
    return conn, operator


def url(name, **kw):
    return reverse(f"harvesters:{name}", kwargs={"conn": "demo", **kw})


@pytest.fixture
def sync_requests(monkeypatch):
    from portaladmin.datasets import tasks

    sent = []
    monkeypatch.setattr(tasks.catalogue_sync, "delay", lambda **kw: sent.append(kw))
    return sent


def test_create_preview_start_until_idle_with_datasets_attached(sandbox, client, sandbox_clock, sync_requests):
    conn, operator = sandbox
    client.force_login(operator)
    form = {"type": "ckan", "name": "City CKAN", "url": "https://ckan.city.example.org/api/3",
            "delete_missing_datasets": "on", "forced_metas": "publisher = City"}

    # preview of the unsaved configuration (against the saved ckan harvester): nothing is created
    html = client.post(url("create_preview"), form, headers={"HX-Request": "true"}).content.decode()
    assert "would be harvested" in html and "City CKAN — remote dataset 1" in html
    listing = client.get(url("list")).content.decode()
    assert "City CKAN" not in listing

    # create
    response = client.post(url("create"), form)
    assert response.status_code == 302
    uid = re.search(r"/harvesters/([^/]+)/$", response["Location"]).group(1)
    detail = client.get(response["Location"]).content.decode()
    assert "never run" in detail and "publisher: City" in detail

    # preview on the edit form (unsaved_preview on this harvester)
    html = client.post(url("edit_preview", uid=uid), form).content.decode()
    assert re.search(r'data-total="5"', html)

    # start as a job; the worker sends it, the poller watches it until idle
    client.post(url("start", uid=uid))
    job = Job.objects.get(kind="harvester.start")
    job = run_worker_and_poller(job, sandbox_clock, steps=6)
    assert job.status == JobStatus.SUCCEEDED
    item = job.items.get()
    assert item.remote_state == "idle" and item.seen_busy
    assert item.details["harvested_datasets_count"] == 5

    panel = client.get(url("job_status", uid=uid), {"was": "active"}, headers={"HX-Request": "true"})
    assert panel.status_code == 286 and 'data-live="harvested">5<' in panel.content.decode()
    assert 'data-outcome="ok"' in panel.content.decode() and "jobFinished" in panel["HX-Trigger"]

    detail = client.get(url("detail", uid=uid)).content.decode()
    assert "<strong>5</strong> attached" in detail and 'data-health="ok"' in detail
    # the finished job asked for a catalogue sync; run it as the worker would
    assert len(sync_requests) == 1
    catalogue_sync_run(connection=conn)
    attached = client.get(url("datasets", uid=uid), headers={"HX-Request": "true"}).content.decode()
    assert attached.count("<li>") == 5 and f"{uid}-1" in attached

    assert AuditEvent.objects.filter(action="harvester.create", outcome="success").count() == 1
    assert AuditEvent.objects.filter(action="harvester.start", target=uid, outcome="success").count() == 1

    # publish every attached dataset: one order, progress from the published count
    client.post(url("publish", uid=uid))
    publish = Job.objects.get(kind="harvesters.publish_all")
    publish = run_worker_and_poller(publish, sandbox_clock, steps=10)
    assert publish.status == JobStatus.SUCCEEDED
    pitem = publish.items.get()
    assert pitem.message == "5 of 5 datasets published." and pitem.details["progress_total"] == 5
    assert AuditEvent.objects.filter(action="harvester.publish", target=uid, outcome="success").count() == 1
    panel = client.get(url("job_status", uid=uid), headers={"HX-Request": "true"}).content.decode()
    assert 'data-progress="5/5"' in panel

    # starting again while it runs is refused with a clear message and creates nothing
    client.post(url("start", uid=uid))
    job2 = Job.objects.filter(kind="harvester.start").exclude(pk=job.pk).get()
    engine.items_process(list(job2.items.values_list("id", flat=True)))  # the portal now runs it
    response = client.post(url("start", uid=uid))
    assert "already running" in client.get(response["Location"]).content.decode()
    assert Job.objects.filter(kind="harvester.start").count() == 2

    # had the start reached the portal anyway, its 400 invalid_harvester_status becomes a clear item message
    from portaladmin.jobs.services import harvester_action_start

    job3 = harvester_action_start(actor=operator, action="start", targets={conn: [uid]})
    engine.items_process(list(job3.items.values_list("id", flat=True)))
    item3 = job3.items.get()
    assert item3.status == "failed"
    assert "refused it in its current state" in item3.message and "Invalid transition" in item3.message


def test_failing_seeded_harvester_shows_its_errors(sandbox, client, sandbox_clock, sync_requests):
    conn, operator = sandbox
    client.force_login(operator)
    listing = client.get(url("list")).content.decode()
    assert 'data-health="errors"' in listing and 'data-health="ok"' in listing
    failing = "ods-harvester-2"

    client.post(url("start", uid=failing))
    job = run_worker_and_poller(Job.objects.get(kind="harvester.start"), sandbox_clock, steps=6)
    assert job.status == JobStatus.FAILED
    item = job.items.get()
    assert "fatal error" in item.message
    assert len(item.details["resource_errors"]) == 2

    panel = client.get(url("job_status", uid=failing), headers={"HX-Request": "true"}).content.decode()
    assert 'data-outcome="has_error"' in panel and "A fatal error occurred while harvesting" in panel
    assert "Could not harvest the dataset" in panel  # the run's resource errors, grouped
    detail = client.get(url("detail", uid=failing)).content.decode()
    assert "A fatal error occurred while harvesting" in detail
    assert "Could not harvest the dataset: HTTP 404 on the remote resource." in detail
    assert 'data-health="errors"' in detail
    csv_text = client.get(url("errors_csv", uid=failing)).content.decode()
    assert csv_text.count("resource,") == 2 and "harvester,," in csv_text
