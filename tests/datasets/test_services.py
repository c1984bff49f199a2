"""Services through the real client with `responses`: sync, refresh, writes (audited), errors."""

import json

import pytest
import responses
from django.utils import timezone

from portaladmin.audit.models import AuditEvent
from portaladmin.datasets import services
from portaladmin.datasets.models import CatalogueSync, DatasetSnapshot
from portaladmin.portals.client.errors import PortalConflict, PortalNotFound, PortalValidationError
from tests.conftest import needs_postgres

from .conftest import API, dataset_json, page_json, status_json

pytestmark = pytest.mark.django_db


def test_sync_creates_updates_and_deletes_rows(api, connection, make_snapshot):
    # given a stale row, a gone row, and a portal with two datasets
    make_snapshot("da_1", "old-name")
    make_snapshot("da_gone", "gone")
    api.get(f"{API}/datasets/", json=page_json([dataset_json("da_1", "trees"),
                                                dataset_json("da_2", "roads", title="Roads", published=False)]))
    # when
    sync = services.catalogue_sync_run(connection=connection)
    # then
    rows = {r.uid: r for r in DatasetSnapshot.objects.filter(connection=connection)}
    assert set(rows) == {"da_1", "da_2"}
    assert rows["da_1"].dataset_id == "trees"
    assert rows["da_1"].keywords == ["nature", "city"]
    assert rows["da_1"].description == "All the trees of the city."
    assert rows["da_1"].publisher == "City" and rows["da_1"].license == "ODbL" and rows["da_1"].language == "en"
    assert "nature" in rows["da_1"].search and "trees" in rows["da_1"].search
    assert rows["da_2"].is_published is False
    assert rows["da_2"].status == "unknown"  # the list answer carries no status
    assert sync.ok and sync.count == 2 and sync.created == 1 and sync.deleted == 1
    connection.refresh_from_db()
    assert connection.last_dataset_count == 2


def test_sync_keeps_known_status_when_the_list_has_none(api, connection, make_snapshot):
    make_snapshot("da_1", "trees", status="error", status_message="bad row")
    api.get(f"{API}/datasets/", json=page_json([dataset_json("da_1", "trees")]))
    services.catalogue_sync_run(connection=connection)
    row = DatasetSnapshot.objects.get(uid="da_1")
    assert row.status == "error" and row.status_message == "bad row"


def test_sync_uses_a_status_when_the_list_carries_one(api, connection):
    api.get(f"{API}/datasets/", json=page_json([dataset_json("da_1", "trees", status="processing")]))
    services.catalogue_sync_run(connection=connection)
    assert DatasetSnapshot.objects.get(uid="da_1").status == "processing"


def test_sync_pages_by_1000(api, connection):
    first = [dataset_json(f"da_{i}", f"ds-{i}") for i in range(1000)]
    second = [dataset_json(f"da_{i}", f"ds-{i}") for i in range(1000, 1500)]
    api.get(f"{API}/datasets/", json=page_json(first, total=1500, next_url=f"{API}/datasets/?limit=1000&offset=1000"),
            match=[responses.matchers.query_param_matcher({"limit": "1000", "offset": "0"})])
    api.get(f"{API}/datasets/", json=page_json(second, total=1500),
            match=[responses.matchers.query_param_matcher({"limit": "1000", "offset": "1000"})])
    sync = services.catalogue_sync_run(connection=connection)
    assert sync.count == 1500
    assert len(api.calls) == 2
    assert DatasetSnapshot.objects.filter(connection=connection).count() == 1500
    # each row keeps its place in the portal's list (the jobs' list hints read the 1,000 around it)
    positions = dict(DatasetSnapshot.objects.filter(connection=connection).values_list("uid", "list_position"))
    assert positions["da_0"] == 0 and positions["da_999"] == 999 and positions["da_1200"] == 1200


def test_a_one_row_refresh_keeps_the_list_position_the_sync_found(api, connection):
    api.get(f"{API}/datasets/", json=page_json([dataset_json("da_0", "first"), dataset_json("da_1", "trees")]))
    services.catalogue_sync_run(connection=connection)
    api.get(f"{API}/datasets/da_1/", json=dataset_json("da_1", "trees", title="Trees renamed"))
    api.get(f"{API}/datasets/da_1/status/", json=status_json())
    row = services.snapshot_refresh(connection=connection, uid="da_1")
    assert row.title == "Trees renamed" and row.list_position == 1


@needs_postgres()
def test_a_sync_that_adds_many_rows_gathers_the_statistics_at_once(api, connection, monkeypatch):
    """PostgreSQL plans with its statistics: a first sync of a big portal must not leave it believing the table
    empty until autovacuum passes (a list with a search and a filter took 25-60 s per page in that minute)."""
    from django.db import connection as db

    from portaladmin.datasets.services import catalogue

    monkeypatch.setattr(catalogue, "ANALYZE_AFTER_ROWS", 30)
    analyzed = []
    monkeypatch.setattr(catalogue, "_analyze_snapshots", lambda real=catalogue._analyze_snapshots: (
        analyzed.append(1), real()))
    api.get(f"{API}/datasets/", json=page_json([dataset_json(f"da_{i}", f"ds-{i}") for i in range(40)]))
    services.catalogue_sync_run(connection=connection)
    assert analyzed == [1]
    with db.cursor() as cursor:  # ANALYZE counts this transaction's own new rows
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'datasets_datasetsnapshot'")
        assert cursor.fetchone()[0] >= 40
    services.catalogue_sync_run(connection=connection)  # nothing added or removed: no second ANALYZE
    assert analyzed == [1]


def test_failed_sync_deletes_nothing_and_records_the_error(api, connection, make_snapshot):
    make_snapshot("da_1", "trees")
    api.get(f"{API}/datasets/", status=500, json={"error_code": "internal_error", "message": "boom"})
    with pytest.raises(Exception):  # noqa: B017 - PortalUnavailable after retries
        services.catalogue_sync_run(connection=connection)
    assert DatasetSnapshot.objects.filter(uid="da_1").exists()
    sync = CatalogueSync.objects.get()
    assert sync.finished_at and sync.error and not sync.ok


def test_sync_request_enqueues_once_on_commit(connection, django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr("portaladmin.datasets.tasks.catalogue_sync.delay", lambda **kw: sent.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        first = services.catalogue_sync_request(connection=connection)
        again = services.catalogue_sync_request(connection=connection)
    assert first.pk == again.pk
    assert sent == [{"connection_id": connection.pk, "sync_id": first.pk}]


def test_refresh_removes_a_dataset_gone_from_the_portal(api, connection, make_snapshot):
    make_snapshot("da_1", "trees")
    api.get(f"{API}/datasets/da_1/", status=404, json={"error_code": "not_found", "message": "Not found."})
    assert services.snapshot_refresh(connection=connection, uid="da_1") is None
    assert not DatasetSnapshot.objects.filter(uid="da_1").exists()


def test_dataset_read_stores_status(api, connection):
    api.get(f"{API}/datasets/da_1/", json=dataset_json())
    api.get(f"{API}/datasets/da_1/status/", json=status_json("error", message="Row 3 is bad"))
    dataset, status = services.dataset_read(connection=connection, uid="da_1")
    row = DatasetSnapshot.objects.get(uid="da_1")
    assert row.status == "error" and row.status_message == "Row 3 is bad" and row.status_checked_at


def test_create_sends_required_metadata_and_audits(api, connection, cast):
    api.post(f"{API}/datasets/", status=201, json=dataset_json("da_9", "new-one", title="New one"))
    services.dataset_create(connection=connection, actor=cast["operator"], dataset_id="new-one", title="New one",
                            language="fr", keywords=["a"], is_restricted=True)
    body = json.loads(api.calls[0].request.body)
    assert body["dataset_id"] == "new-one" and body["is_restricted"] is True
    default = body["metadata"]["default"]
    assert default["title"] == {"value": "New one"} and default["language"] == {"value": "fr"}
    assert default["modified"]["value"].endswith("Z")
    assert DatasetSnapshot.objects.filter(uid="da_9", dataset_id="new-one").exists()
    assert AuditEvent.objects.filter(action="dataset.create", actor=cast["operator"], outcome="success").exists()


def test_create_validation_error_is_audited_as_failure(api, connection, cast):
    api.post(f"{API}/datasets/", status=400, json={"error_code": "validation_error", "message": "Invalid",
                                                   "detail": {"dataset_id": ["already exists"]}})
    with pytest.raises(PortalValidationError) as info:
        services.dataset_create(connection=connection, actor=cast["operator"], dataset_id="x", title="X",
                                language="en")
    assert info.value.detail == {"dataset_id": ["already exists"]}
    assert AuditEvent.objects.filter(action="dataset.create", outcome="failure").exists()
    assert not DatasetSnapshot.objects.exists()


def test_delete_removes_the_row(api, connection, cast, make_snapshot):
    make_snapshot("da_1", "trees")
    api.delete(f"{API}/datasets/da_1/", status=204)
    services.dataset_delete(connection=connection, actor=cast["admin"], uid="da_1", label="trees")
    assert not DatasetSnapshot.objects.exists()
    assert AuditEvent.objects.filter(action="dataset.delete", target="trees").exists()


def test_delete_of_a_dataset_already_gone_removes_the_row_and_raises(api, connection, cast, make_snapshot):
    make_snapshot("da_1", "trees")
    api.delete(f"{API}/datasets/da_1/", status=404, json={"error_code": "not_found", "message": "Not found."})
    with pytest.raises(PortalNotFound):
        services.dataset_delete(connection=connection, actor=cast["admin"], uid="da_1")
    assert not DatasetSnapshot.objects.exists()


def test_security_update_puts_the_full_dataset(api, connection, cast):
    api.get(f"{API}/datasets/da_1/", json=dataset_json())
    api.put(f"{API}/datasets/da_1/", json=dataset_json(restricted=True))
    services.dataset_security_update(connection=connection, actor=cast["admin"], uid="da_1", is_restricted=True,
                                     default_security={"is_data_visible": False, "filter_query": "x",
                                                       "visible_fields": []})
    body = json.loads(api.calls[1].request.body)
    assert body["is_restricted"] is True and body["dataset_id"] == "trees" and "metadata" in body
    assert body["default_security"]["is_data_visible"] is False
    assert body["default_security"]["api_calls_quota"] is None  # untouched keys kept
    assert DatasetSnapshot.objects.get(uid="da_1").is_restricted is True


def test_schedule_and_processor_writes_are_audited(api, connection, cast):
    api.post(f"{API}/datasets/da_1/schedules/", status=201, json={"uid": "sc_1", "cron_schedule": "0 3 * * *"})
    api.post(f"{API}/datasets/da_1/processors/", status=201, json={"uid": "pr_1", "type": "replace"})
    services.schedule_create(connection=connection, actor=cast["operator"], uid="da_1", cron="0 3 * * *")
    services.processor_create(connection=connection, actor=cast["operator"], uid="da_1", type="replace",
                              args={"field": "a"})
    assert json.loads(api.calls[0].request.body) == {"cron_schedule": "0 3 * * *"}
    assert json.loads(api.calls[1].request.body) == {"type": "replace", "label": "replace", "args": {"field": "a"}}
    assert set(AuditEvent.objects.values_list("action", flat=True)) == {"dataset.schedule.create",
                                                                       "dataset.processor.create"}


def test_conflict_is_raised_and_audited(api, connection, cast):
    api.post(f"{API}/datasets/da_1/versions/ch_1/restore/", status=400,
             json={"error_code": "invalid_dataset_status", "message": "dataset status is 'queued'"})
    with pytest.raises(PortalConflict):
        services.version_restore(connection=connection, actor=cast["operator"], uid="da_1", version_uid="ch_1")
    assert AuditEvent.objects.filter(action="dataset.version.restore", outcome="failure").exists()


def test_apply_status_updates_one_row(connection, make_snapshot):
    make_snapshot("da_1", "trees", status="unknown")
    now = timezone.now()
    assert services.snapshot_apply_status(connection=connection, uid="da_1", status="processing", since=now,
                                          is_published=False) == 1
    row = DatasetSnapshot.objects.get(uid="da_1")
    assert row.status == "processing" and row.status_since == now and row.is_published is False


def test_sync_history_is_pruned(api, connection):
    now = timezone.now()
    CatalogueSync.objects.bulk_create([CatalogueSync(connection=connection, requested_at=now, started_at=now,
                                                     finished_at=now) for _ in range(60)])
    api.get(f"{API}/datasets/", json=page_json([]))
    latest = services.catalogue_sync_run(connection=connection)
    assert CatalogueSync.objects.filter(connection=connection).count() == 50
    assert CatalogueSync.objects.filter(pk=latest.pk).exists()


def test_sync_keeps_connection_health_true(connection, monkeypatch):
    """A successful full listing marks the connection reachable; a refused key marks it so."""
    import responses as rsps

    from portaladmin.datasets.services import catalogue_sync_run
    from portaladmin.portals.models import Health

    base = connection.api_base + "/datasets/"
    with rsps.RequestsMock() as mock:
        mock.get(base, json={"total_count": 0, "next": None, "previous": None, "results": []})
        catalogue_sync_run(connection=connection)
    connection.refresh_from_db()
    assert connection.health == Health.OK and connection.last_ok_at is not None
    assert connection.last_dataset_count == 0
    with rsps.RequestsMock() as mock:
        mock.get(base, status=401, json={"error_code": "unauthorized", "message": "bad key"})
        with pytest.raises(Exception):  # noqa: B017 - the sync re-raises the portal's error
            catalogue_sync_run(connection=connection)
    connection.refresh_from_db()
    assert connection.health == Health.AUTH_FAILED


def test_metadata_fields_save_sends_one_request_per_changed_field_and_goes_on_after_a_refusal(
        api, connection, cast, make_snapshot):
    make_snapshot("da_1", "trees", title="Old")
    api.put(f"{API}/datasets/da_1/metadata/default/title/", json={"value": "Trees"})
    api.put(f"{API}/datasets/da_1/metadata/default/keyword/", status=400, json={
        "error_code": "validation_error", "message": "Invalid", "detail": {"value": ["Too many."]}})
    api.put(f"{API}/datasets/da_1/metadata/default/publisher/", status=503, json={"message": "down"})
    api.delete(f"{API}/datasets/da_1/metadata/default/references/", status=204)
    api.get(f"{API}/datasets/da_1/", json=dataset_json(title="Trees"))
    result = services.metadata_fields_save(connection=connection, actor=cast["operator"], uid="da_1",
                                           template="default", changes={"title": "Trees", "keyword": ["a, b"]},
                                           clears=["references"])
    assert result.saved == {"title": "Trees"} and result.cleared == ["references"] and result.stopped is None
    assert list(result.refused) == ["keyword"] and result.refused["keyword"].detail == {"value": ["Too many."]}
    sent = [(c.request.method, c.request.url.split("/metadata/")[-1]) for c in api.calls if "/metadata/" in c.request.url]
    assert sent == [("PUT", "default/title/"), ("PUT", "default/keyword/"), ("DELETE", "default/references/")]
    assert json.loads(api.calls[1].request.body) == {"value": ["a, b"]}
    assert DatasetSnapshot.objects.get(uid="da_1").title == "Trees"
    outcomes = sorted(AuditEvent.objects.filter(action__startswith="dataset.metadata.").values_list("action", "outcome"))
    assert outcomes == [("dataset.metadata.clear", "success"), ("dataset.metadata.update", "failure"),
                        ("dataset.metadata.update", "success")]
    # a failure other than a refusal stops there: nothing after it is sent
    api.calls.reset()
    result = services.metadata_fields_save(connection=connection, actor=cast["operator"], uid="da_1",
                                           template="default", changes={"publisher": "P", "title": "Trees"}, clears=[])
    assert result.stopped is not None and result.saved == {}
    assert all("title" not in c.request.url for c in api.calls)
