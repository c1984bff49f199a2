"""Harvester services and selectors through the real client, with `responses` as the portal."""

import pytest
import responses
from responses import matchers

from portaladmin.audit.models import AuditEvent
from portaladmin.core.csvout import csv_text
from portaladmin.harvesters import selectors, services
from portaladmin.jobs.models import Job, JobStatus
from portaladmin.portals.client.errors import PortalValidationError
from portaladmin.portals.client.schemas import Harvester, HarvesterErrors

from .conftest import API, harvester_json, page

AUTH = matchers.header_matcher({"Authorization": "apikey canary-key-6f1d2e9a0b7c4e3f"})


@pytest.fixture
def operator(cast):
    return cast["operator"]


def test_create_posts_the_body_and_audits(api, connection, operator):
    body = {"type": "ckan", "name": "City", "url": "https://ckan.example.org/api/3"}
    api.post(f"{API}/harvesters/", json=harvester_json(uid="ha_new", name="City", status="new"), status=201,
             match=[matchers.json_params_matcher(body), AUTH])
    harvester = services.harvester_create(connection=connection, actor=operator, body=body)
    assert harvester.uid == "ha_new" and harvester.status == "new"
    event = AuditEvent.objects.get(action="harvester.create")
    assert event.outcome == "success" and event.actor == operator and event.target == "City"


def test_create_refused_is_audited_as_failure(api, connection, operator):
    api.post(f"{API}/harvesters/", status=400,
             json={"error_code": "validation_error", "message": "Invalid", "detail": {"url": ["Bad URL."]}})
    with pytest.raises(PortalValidationError):
        services.harvester_create(connection=connection, actor=operator, body={"type": "ckan", "name": "x"})
    assert AuditEvent.objects.get(action="harvester.create").outcome == "failure"


def test_update_sends_the_full_object_without_read_only_or_hidden_secrets(api, connection, operator):
    current = Harvester.from_dict(harvester_json())
    changes = {"type": "ckan", "name": "Renamed", "url": "https://ckan2.example.org/api/3",
               "restrict_datasets_visibility": True, "delete_missing_datasets": True, "forced_metas": {},
               "download_resources": False, "metadata_only": True}
    expected = {"type": "ckan", "version": 1, "query": "tags:env", **changes}
    api.put(f"{API}/harvesters/ha_one/", json=harvester_json(name="Renamed"),
            match=[matchers.json_params_matcher(expected)])
    updated = services.harvester_update(connection=connection, actor=operator, current=current, changes=changes)
    assert updated.name == "Renamed"
    assert AuditEvent.objects.filter(action="harvester.update", target="ha_one", outcome="success").exists()


def test_unsaved_preview_merges_into_the_saved_configuration(api, connection, operator):
    body = {"type": "ckan", "name": "City", "url": "https://other.example.org/api/3"}
    api.post(f"{API}/harvesters/ha_one/unsaved_preview/", match=[matchers.json_params_matcher(body)],
             json={"total_count": 2, "results": [{"id": "a", "title": "A", "description": ""},
                                                 {"id": "b", "title": "B", "description": ""}]})
    preview = services.harvester_unsaved_preview(connection=connection, actor=operator, uid="ha_one", body=body)
    assert preview.total_count == 2 and [r["id"] for r in preview.results] == ["a", "b"]


def test_preview_base_is_a_saved_harvester_of_the_same_type(api, connection):
    api.get(f"{API}/harvesters/", json=page([harvester_json(uid="ha_w", type="wfs"), harvester_json(uid="ha_c")]))
    assert services.preview_base_uid(connection=connection, harvester_type="ckan") == "ha_c"
    assert services.preview_base_uid(connection=connection, harvester_type="socrata") is None


@pytest.mark.parametrize("flag, sent", [(True, "true"), (False, "false")])
def test_delete_always_sends_the_required_flag(api, connection, cast, flag, sent):
    api.delete(f"{API}/harvesters/ha_one/", status=204,
               match=[matchers.query_param_matcher({"delete_attached_datasets": sent})])
    services.harvester_delete(connection=connection, actor=cast["admin"], uid="ha_one", delete_attached_datasets=flag)
    event = AuditEvent.objects.get(action="harvester.delete")
    assert event.extra == {"delete_attached_datasets": flag}


def test_schedule_is_created_then_updated(api, connection, operator):
    api.get(f"{API}/harvesters/ha_one/schedules/", json=page([]))
    api.post(f"{API}/harvesters/ha_one/schedules/", status=201,
             json={"uid": "sc_1", "cron_schedule": "0 3 * * *", "timezone": "Europe/Paris"},
             match=[matchers.json_params_matcher({"cron_schedule": "0 3 * * *", "timezone": "Europe/Paris"})])
    created = services.harvester_schedule_save(connection=connection, actor=operator, uid="ha_one",
                                               cron_schedule="0 3 * * *", timezone="Europe/Paris")
    assert created.uid == "sc_1"
    api.replace(responses.GET, f"{API}/harvesters/ha_one/schedules/",
                json=page([{"uid": "sc_1", "cron_schedule": "0 3 * * *", "timezone": "Europe/Paris"}]))
    api.put(f"{API}/harvesters/ha_one/schedules/sc_1/", json={"uid": "sc_1", "cron_schedule": "0 4 * * 1",
                                                               "timezone": "UTC"},
            match=[matchers.json_params_matcher({"cron_schedule": "0 4 * * 1", "timezone": "UTC"})])
    updated = services.harvester_schedule_save(connection=connection, actor=operator, uid="ha_one",
                                               cron_schedule="0 4 * * 1", timezone="UTC")
    assert updated.cron_schedule == "0 4 * * 1"
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["harvester.schedule_create", "harvester.schedule_update"]


def test_schedule_delete(api, connection, operator):
    api.get(f"{API}/harvesters/ha_one/schedules/",
            json=page([{"uid": "sc_1", "cron_schedule": "0 3 * * *", "timezone": "UTC"}]))
    api.delete(f"{API}/harvesters/ha_one/schedules/sc_1/", status=204)
    assert services.harvester_schedule_delete(connection=connection, actor=operator, uid="ha_one") is True
    assert AuditEvent.objects.filter(action="harvester.schedule_delete", outcome="success").exists()


def test_start_creates_one_job_item(api, connection, operator, no_enqueue, django_capture_on_commit_callbacks):
    api.get(f"{API}/harvesters/ha_one/", json=harvester_json())
    with django_capture_on_commit_callbacks(execute=True):
        job = services.harvester_action(connection=connection, actor=operator, uid="ha_one", action="start")
    assert job.kind == "harvester.start" and job.status == JobStatus.PENDING
    item = job.items.get()
    assert (item.target, item.target_label) == ("ha_one", "City CKAN")
    assert no_enqueue == [[item.pk]]
    assert not api.calls or all(c.request.method == "GET" for c in api.calls)  # nothing sent from the web process


@pytest.mark.parametrize("status, action, message", [
    ("processing", "start", "already running"),
    ("queued", "start", "already running"),
    ("idle", "abort", "nothing to abort"),
])
def test_refused_actions_create_nothing(api, connection, operator, status, action, message):
    api.get(f"{API}/harvesters/ha_one/", json=harvester_json(status=status))
    with pytest.raises(services.HarvesterActionRefused, match=message):
        services.harvester_action(connection=connection, actor=operator, uid="ha_one", action=action)
    assert Job.objects.count() == 0


def test_second_job_for_the_same_harvester_is_refused(api, connection, operator, no_enqueue):
    api.get(f"{API}/harvesters/ha_one/", json=harvester_json())
    services.harvester_action(connection=connection, actor=operator, uid="ha_one", action="publish")
    with pytest.raises(services.HarvesterActionRefused, match="already running for this harvester"):
        services.harvester_action(connection=connection, actor=operator, uid="ha_one", action="unpublish")
    assert Job.objects.count() == 1


def test_publish_without_attached_datasets_is_refused(api, connection, operator):
    api.get(f"{API}/harvesters/ha_one/", json=harvester_json(attached_datasets_count=0))
    with pytest.raises(services.HarvesterActionRefused, match="no attached datasets"):
        services.harvester_action(connection=connection, actor=operator, uid="ha_one", action="publish")


def test_start_conflict_in_the_worker_is_a_clear_failed_item(api, connection, operator, no_enqueue):
    from portaladmin.jobs import engine

    api.get(f"{API}/harvesters/ha_one/", json=harvester_json())
    job = services.harvester_action(connection=connection, actor=operator, uid="ha_one", action="start")
    api.post(f"{API}/harvesters/ha_one/start/", status=400,
             json={"error_code": "invalid_harvester_status", "message": "Invalid transition from processing to processing"})
    engine.items_process([job.items.get().pk])
    item = job.items.get()
    assert item.status == "failed"
    assert "current state" in item.message and "processing to processing" in item.message


def test_list_rows_have_health(api, connection):
    api.get(f"{API}/harvesters/", json=page([
        harvester_json(uid="a", name="b-ok"),
        harvester_json(uid="b", name="a-err", has_error=True),
        harvester_json(uid="c", name="c-run", status="processing"),
        harvester_json(uid="d", name="d-new", status="new", last_started_at=None, last_success_at=None),
        harvester_json(uid="e", name="e-res", resource_errors_count=3),
    ]))
    rows = selectors.harvester_list(connection=connection)
    assert [(r.harvester.name, r.health) for r in rows] == [
        ("a-err", "errors"), ("b-ok", "ok"), ("c-run", "running"), ("d-new", "never"), ("e-res", "errors")]


def test_errors_grouped_by_message_and_csv_is_safe():
    errors = HarvesterErrors.from_dict({"harvester": "Fatal.", "resources": {
        "r3": "HTTP 404", "r1": "HTTP 404", "r2": "=HYPERLINK(\"x\")"}})
    groups = selectors.errors_grouped(errors)
    assert [(g.message, g.remote_ids) for g in groups] == [("HTTP 404", ["r1", "r3"]), ('=HYPERLINK("x")', ["r2"])]
    text = csv_text(selectors.errors_rows(errors))
    lines = text.strip().splitlines()
    assert lines[0] == "scope,remote_id,message" and lines[1] == "harvester,,Fatal."
    assert "'=HYPERLINK" in text and "\n=" not in text


def test_attached_datasets_come_from_the_snapshot_by_remote_id(api, connection, make_connection):
    from portaladmin.datasets.models import DatasetSnapshot

    api.get(f"{API}/harvesters/ha_one/preview/",
            json={"total_count": 2, "results": [{"id": "r-1", "title": "", "description": ""},
                                                {"id": "r-2", "title": "", "description": ""}]})
    other = make_connection("other")
    for conn, uid, dataset_id in [(connection, "da_1", "r-2"), (connection, "da_2", "unrelated"),
                                  (connection, "da_3", "r-1"), (other, "da_9", "r-1")]:
        DatasetSnapshot.objects.create(connection=conn, uid=uid, dataset_id=dataset_id, title=dataset_id.upper())
    attached = selectors.harvester_attached_datasets(connection=connection, uid="ha_one")
    assert [d.uid for d in attached.rows] == ["da_3", "da_1"]
    assert attached.synced_at is None
    # the remote ids are cached: no second preview call, and no dataset list call at all
    selectors.harvester_attached_datasets(connection=connection, uid="ha_one")
    assert [c.request.url.split("/v1.0")[1] for c in api.calls] == ["/harvesters/ha_one/preview/"]


@pytest.mark.parametrize("action, kind", [("publish", "harvesters.publish_all"), ("unpublish", "harvesters.unpublish_all"),
                                          ("start", "harvester.start")])
def test_each_action_uses_its_job_kind(api, connection, operator, no_enqueue, action, kind):
    api.get(f"{API}/harvesters/ha_one/", json=harvester_json(status="idle"))
    job = services.harvester_action(connection=connection, actor=operator, uid="ha_one", action=action)
    assert job.kind == kind and job.total == 1


def test_abort_of_a_running_harvester_is_a_job(api, connection, operator, no_enqueue):
    api.get(f"{API}/harvesters/ha_one/", json=harvester_json(status="processing"))
    job = services.harvester_action(connection=connection, actor=operator, uid="ha_one", action="abort")
    assert job.kind == "harvester.abort"
