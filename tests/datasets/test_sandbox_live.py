"""Against the sandbox portal over real HTTP (live_server): the whole life of a dataset, and the catalogue sync.

The job engine's worker step and poller ticks run in the test (what a worker and beat would do)."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portaladmin.audit.models import AuditEvent
from portaladmin.datasets.models import DatasetSnapshot
from portaladmin.datasets.services import catalogue_sync_run
from portaladmin.jobs.models import Job, JobStatus
from portaladmin.portals.client import client_for
from portaladmin.portals.models import Role
from portaladmin.sandbox.services import request_counts, reset_request_log
from tests.sandbox_fixtures import run_worker_and_poller

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

KEY = "sandbox-datasets-key-0123456789"
HX = {"HX-Request": "true"}


def url(name, **kw):
    return reverse(f"datasets:{name}", kwargs={"conn": "demo", **kw})


def test_create_edit_upload_publish_until_idle(sandbox_connection, sandbox_clock, make_user, no_enqueue, client):
    conn = sandbox_connection("dsl", slug="demo", api_key=KEY, datasets=2, users=1, groups=0, harvesters=0, pages=0)
    client.force_login(make_user("oscar", role=Role.OPERATOR, connection=conn))

    # create
    response = client.post(url("create"), {"dataset_id": "river-levels", "title": "River levels", "language": "en",
                                            "keywords": "water, river"})
    assert response.status_code == 302
    uid = re.search(r"/datasets/([^/]+)/$", response["Location"]).group(1)
    row = DatasetSnapshot.objects.get(connection=conn, uid=uid)
    assert row.dataset_id == "river-levels" and row.keywords == ["water", "river"]

    # edit the title in the typed editor (only that field is sent), then a value the portal refuses
    from tests.datasets.test_metadata_editor import browser_post

    def editor():
        page = client.get(url("tab", uid=uid, tab="metadata"))
        return next(e for e in page.context["editors"] if e.name == "default").form

    form = editor()
    data = browser_post(form)
    data[form.add_prefix("title")] = "River levels (daily)"
    html = client.post(url("metadata_template", uid=uid, template="default"),
                       {k: data.getlist(k) for k in data}, headers=HX).content.decode()
    assert "Standard metadata: saved Title." in html and "River levels (daily)" in html
    assert DatasetSnapshot.objects.get(uid=uid).title == "River levels (daily)"
    form = editor()
    data = browser_post(form)
    data[form.add_prefix("modified")] = "2026-13-01T00:00:00"
    html = client.post(url("metadata_template", uid=uid, template="default"),
                       {k: data.getlist(k) for k in data}, headers=HX).content.decode()
    assert "Enter a date and time like" in html  # refused before sending, on the field

    # upload a CSV (streamed): the portal guesses its separator and shows the records; then save it
    csv = SimpleUploadedFile("levels.csv", b"day;level\n2026-01-01;3.2\n2026-01-02;3.4\n", "text/csv")
    response = client.post(url("resource_new_upload", uid=uid), {"file": csv}, headers=HX)
    draft = response.context["form"]
    assert draft.cleaned_data["extractor"] == "csvfile" and draft.params()["separator"] == ";"
    assert "3.4" in response.content.decode()  # the preview, before anything is saved
    assert client_for(conn).resource_list(uid).total_count == 0
    data = {k: v for k, v in draft.data.items()}
    response = client.post(url("resource_draft_save", uid=uid), data, headers=HX)
    resource = client_for(conn).resource_list(uid).results[0]
    assert response["HX-Redirect"] == url("resource", uid=uid, resource_uid=resource.uid)
    assert resource.params["separator"] == ";" and resource.title == "levels.csv"
    resource_uid = resource.uid
    preview = client.get(url("resource_preview", uid=uid, resource_uid=resource_uid), headers=HX).content.decode()
    assert "3.4" in preview

    # publish as a job; the poller's remote states reach the snapshot row
    html = client.post(url("action", uid=uid, action="publish"), headers=HX).content.decode()
    job = Job.objects.get(kind="dataset.publish")
    assert f"job-status-{job.pk}" in html
    job = run_worker_and_poller(job, sandbox_clock, steps=12)
    assert job.status == JobStatus.SUCCEEDED
    row = DatasetSnapshot.objects.get(uid=uid)
    assert row.status == "idle" and row.is_published is True

    overview = client.get(url("detail", uid=uid)).content.decode()
    assert "badge badge-idle" in overview and "published" in overview
    assert "/explore/dataset/river-levels/" in overview
    # metadata moments in words with the exact time (QA saw "modified 2026-11-30T23:45:58.978Z")
    assert re.search(r"<th class=\"small\">modified</th><td>(just now|\d+ \w+ ago) \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)</td>",
                     overview), overview
    assert not re.search(r"<td>\d{4}-\d\d-\d\dT\d\d:\d\d", overview)
    for action in ("dataset.create", "dataset.metadata.update", "dataset.resource.file_upload",
                   "dataset.resource.create", "dataset.publish"):
        assert AuditEvent.objects.filter(action=action, outcome="success").exists(), action


def test_5000_datasets_sync_in_5_list_requests_and_deleted_ones_disappear(sandbox_connection):
    conn = sandbox_connection("dsbig", slug="demo", api_key=KEY, datasets=5000, users=0, groups=0, harvesters=0,
                              pages=0)
    reset_request_log("dsbig")

    sync = catalogue_sync_run(connection=conn)

    assert sync.ok and sync.count == 5000
    assert DatasetSnapshot.objects.filter(connection=conn).count() == 5000
    assert request_counts("dsbig", method="GET", path_contains="/datasets/") <= 5
    assert request_counts("dsbig") <= 5

    # a dataset deleted on the portal disappears at the next sync
    gone = DatasetSnapshot.objects.filter(connection=conn).order_by("dataset_id").first()
    client_for(conn).dataset_delete(gone.uid)
    sync = catalogue_sync_run(connection=conn)
    assert sync.deleted == 1 and sync.count == 4999
    assert not DatasetSnapshot.objects.filter(uid=gone.uid).exists()


def test_list_view_over_the_sandbox_makes_no_remote_call(sandbox_connection, make_user, client):
    conn = sandbox_connection("dsl2", slug="demo", api_key=KEY, datasets=30, users=0, groups=0, harvesters=0,
                              pages=0)
    catalogue_sync_run(connection=conn)
    reset_request_log("dsl2")
    client.force_login(make_user("vera", role=Role.VIEWER, connection=conn))
    assert client.get(url("list")).status_code == 200
    assert client.get(url("list"), {"q": "1", "sort": "-title", "page": "1"}, headers=HX).status_code == 200
    assert request_counts("dsl2") == 0
