"""Bulk metadata edits beyond the checked rows, against sandbox portals over real HTTP: every dataset matching the
list's filters, the cross-portal board (two portals, a field only one of them has), and "then publish the
metadata" as a second job whose own results are that step's truth."""

import pytest
from django.urls import reverse

from portaladmin.datasets.models import DatasetSnapshot
from portaladmin.datasets.selectors import snapshot_list
from portaladmin.jobs.models import Job, JobStatus
from portaladmin.portals.client import client_for
from portaladmin.portals.models import Role
from portaladmin.sandbox.services import request_counts, reset_request_log
from tests.sandbox_fixtures import run_worker_and_poller

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

SMALL = {"users": 1, "groups": 0, "harvesters": 0, "pages": 0}


def _sync(*conns):
    from portaladmin.datasets.services import catalogue_sync_run

    for conn in conns:
        catalogue_sync_run(connection=conn)


def test_all_matching_the_filter_goes_to_the_editor_not_only_the_checked_rows(sandbox_connection, make_user,
                                                                              client):
    conn = sandbox_connection("bam", slug="demo", datasets=8, **SMALL)
    _sync(conn)
    client.force_login(make_user("olga", role=Role.OPERATOR, connection=conn))
    # the list offers it with the count of every matching dataset, filters carried along
    listing = client.get(reverse("datasets:list", kwargs={"conn": "demo"}), {"published": "yes"}).content.decode()
    matching = list(snapshot_list(connection=conn, published=True).values_list("uid", flat=True))
    assert 0 < len(matching) < 8
    assert f"All {len(matching)} dataset" in listing and "matching the filter" in listing
    assert 'name="matching" value="published=yes" form="bulk-form"' in listing
    response = client.post(reverse("datasets:bulk", kwargs={"conn": "demo"}),
                           {"action": "metadata", "scope": "all", "matching": "published=yes"})
    assert response["Location"] == reverse("datasets:bulk_metadata", kwargs={"conn": "demo"})
    assert sorted(client.session[f"bulk-metadata:{conn.pk}"]) == sorted(matching)
    page = client.get(response["Location"])
    assert page.context["count"] == len(matching)


def test_board_edit_across_two_portals_leaves_out_the_portal_without_the_field_then_undo(
        sandbox_connection, sandbox_clock, make_user, client, no_enqueue):
    a = sandbox_connection("bxa", slug="alpha", datasets=3, **SMALL)
    b = sandbox_connection("bxb", slug="beta", datasets=2, **SMALL)
    _sync(a, b)
    client_for(a).metadata_template_create({"name": "ops", "title": "Ops", "type": "admin", "is_active": True,
                                            "schema": [{"name": "owner", "type": "text"}]})
    user = make_user("olga")
    for conn in (a, b):
        conn.memberships.create(user=user, role=Role.OPERATOR)
    client.force_login(user)
    rows = [f"{r.connection_id}:{r.uid}" for r in DatasetSnapshot.objects.filter(connection__in=[a, b])]
    response = client.post(reverse("fleet:datasets-bulk"), {"action": "metadata", "scope": "selected", "sel": rows})
    assert response["Location"] == reverse("fleet:datasets-metadata")
    form = {"field": "ops:owner", "op": "set", "value": "Data team, Lyon", "find": ""}
    page = client.post(reverse("fleet:datasets-metadata"), {**form, "preview": "1"})
    assert page.context["counts"] == {"change": 3, "same": 0, "error": 0, "missing": 2}
    assert "the field does not exist there" in page.content.decode()
    # apply: ONE job, items only where the field exists
    client.post(reverse("fleet:datasets-metadata"), {**form, "apply": "1"})
    job = Job.objects.get(kind="dataset.metadata_edit")
    assert job.total == 3 and set(job.items.values_list("connection_id", flat=True)) == {a.pk}
    job = run_worker_and_poller(job, sandbox_clock, steps=6)
    assert job.status == JobStatus.SUCCEEDED
    uids = list(job.items.values_list("target", flat=True))
    assert {client_for(a).metadata_get(uid, "ops", "owner").value for uid in uids} == {"Data team, Lyon"}
    # undo (the board's undo takes any metadata edit, on one portal or several)
    assert "Undo this change" in client.get(job.get_absolute_url()).content.decode()
    client.post(reverse("fleet:datasets-metadata-undo", kwargs={"job_id": job.pk}))
    undo = Job.objects.exclude(pk=job.pk).get(kind="dataset.metadata_edit")
    undo = run_worker_and_poller(undo, sandbox_clock, steps=6)
    assert undo.status == JobStatus.SUCCEEDED
    for uid in uids:
        assert "owner" not in client_for(a).metadata_get_all(uid).get("ops", {})


def test_then_publish_metadata_is_a_second_job_for_the_published_datasets_that_changed(
        sandbox_connection, sandbox_clock, make_user, client, no_enqueue):
    conn = sandbox_connection("bpm", slug="demo", datasets=6, **SMALL)
    _sync(conn)
    client.force_login(make_user("olga", role=Role.OPERATOR, connection=conn))
    snapshots = {r.uid: r.is_published for r in DatasetSnapshot.objects.filter(connection=conn)}
    published = {u for u, p in snapshots.items() if p}
    assert published and len(published) < len(snapshots)
    client.post(reverse("datasets:bulk", kwargs={"conn": "demo"}), {"action": "metadata", "uid": list(snapshots)})
    client.post(reverse("datasets:bulk_metadata", kwargs={"conn": "demo"}),
                {"field": "default:publisher", "op": "set", "value": "Open data team", "find": "", "publish": "on",
                 "apply": "1"})
    job = Job.objects.get(kind="dataset.metadata_edit")
    assert job.params["publish"] is True and "(then publish metadata)" in job.title
    reset_request_log("bpm")
    job = run_worker_and_poller(job, sandbox_clock, steps=6)
    assert job.status == JobStatus.SUCCEEDED
    # the follow-up job: exactly the published ones that changed, started once
    job.refresh_from_db()
    step = job.params["publish_step"]
    follow = Job.objects.get(pk=step["publish_job"])
    assert follow.kind == "dataset.publish_metadata"
    assert set(follow.items.values_list("target", flat=True)) == published
    assert step["unpublished"] == len(snapshots) - len(published)
    assert request_counts("bpm", "POST") == 0  # nothing published before the edit job ended
    html = client.get(job.get_absolute_url()).content.decode()
    assert f"job #{follow.pk}" in html
    follow = run_worker_and_poller(follow, sandbox_clock, steps=30)
    assert follow.status == JobStatus.SUCCEEDED, list(follow.items.values_list("status", "message"))
    assert request_counts("bpm", "POST") == len(published)
    # the step is taken once, even if the signal came again
    from portaladmin.datasets.bulk_metadata import metadata_bulk_publish_after

    metadata_bulk_publish_after(job=job)
    assert Job.objects.filter(kind="dataset.publish_metadata").count() == 1
