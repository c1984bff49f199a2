"""Tasks (ids only) and the jobs poller hook that keeps busy datasets' statuses fresh."""

from datetime import timedelta

import pytest
from django.utils import timezone

from portaladmin.datasets import tasks
from portaladmin.datasets.models import CatalogueSync, DatasetSnapshot
from portaladmin.jobs.models import Job, JobItem
from portaladmin.jobs.signals import on_item_remote_state

from .conftest import API, dataset_json, page_json

pytestmark = pytest.mark.django_db


def test_catalogue_sync_task_runs_the_pending_sync(api, connection):
    sync = CatalogueSync.objects.create(connection=connection)
    api.get(f"{API}/datasets/", json=page_json([dataset_json()]))
    tasks.catalogue_sync(connection_id=connection.pk, sync_id=sync.pk)
    sync.refresh_from_db()
    assert sync.ok and sync.count == 1
    assert DatasetSnapshot.objects.filter(uid="da_1").exists()


def test_catalogue_sync_task_skips_a_finished_sync_and_records_portal_errors(api, connection):
    done = CatalogueSync.objects.create(connection=connection, finished_at=timezone.now())
    tasks.catalogue_sync(connection_id=connection.pk, sync_id=done.pk)
    assert len(api.calls) == 0
    api.get(f"{API}/datasets/", status=401, json={"error_code": "unauthorized", "message": "Invalid key"})
    tasks.catalogue_sync(connection_id=connection.pk)  # the error is recorded, not raised
    assert CatalogueSync.objects.exclude(pk=done.pk).get().error


def test_periodic_sync_requests_every_connection_not_paused(make_connection, monkeypatch):
    sent = []
    monkeypatch.setattr("portaladmin.datasets.tasks.catalogue_sync.delay", lambda **kw: sent.append(kw))
    make_connection("a")
    make_connection("b", paused_until=timezone.now() + timedelta(minutes=5))
    assert tasks.catalogue_sync_all() == 1
    assert CatalogueSync.objects.get().connection.slug == "a"


def test_job_item_remote_state_updates_the_snapshot(connection, make_snapshot, cast):
    make_snapshot("da_1", "trees", status="idle", is_published=False)
    job = Job.objects.create(kind="dataset.publish", connection=connection, started_by=cast["operator"], total=1)
    item = JobItem.objects.create(job=job, connection=connection, target="da_1", remote_state="processing",
                                  remote_since=timezone.now(), message="Processing")
    on_item_remote_state(item)
    row = DatasetSnapshot.objects.get(uid="da_1")
    assert row.status == "processing" and row.status_message == "Processing"
    item.remote_state, item.details = "idle", {"is_published": True}
    on_item_remote_state(item)
    row.refresh_from_db()
    assert row.status == "idle" and row.is_published is True


def test_other_job_kinds_do_not_touch_the_snapshot(connection, make_snapshot, cast):
    make_snapshot("da_1", "trees", status="idle")
    job = Job.objects.create(kind="harvester.start", connection=connection, total=1)
    item = JobItem.objects.create(job=job, connection=connection, target="da_1", remote_state="processing")
    on_item_remote_state(item)
    assert DatasetSnapshot.objects.get(uid="da_1").status == "idle"
