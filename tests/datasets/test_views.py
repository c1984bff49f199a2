"""Views: role matrix (viewer/operator/admin/outsider), full page vs HTMX partial, bad input, portal refusals."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portaladmin.audit.models import AuditEvent
from portaladmin.datasets.models import CatalogueSync, DatasetSnapshot
from portaladmin.jobs.models import Job

from .conftest import API, dataset_json, page_json, status_json

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def url(name, **kw):
    return reverse(f"datasets:{name}", kwargs={"conn": "demo", **kw})


TEMPLATES = [
    {"name": "default", "title": "Standard", "type": "basic", "is_active": True, "schema": [
        {"name": "title", "type": "text", "label": "Title", "requirement_level": "mandatory"},
        {"name": "keyword", "type": "list", "label": "Keywords"}]},
    {"name": "internal", "title": "Internal", "type": "admin", "is_active": True, "schema": [
        {"name": "draft", "type": "boolean", "label": "Draft"}]},
]


def register_reads(api, uid="da_1"):
    """The remote reads of every tab of da_1."""
    base = f"{API}/datasets/{uid}"
    api.get(f"{base}/", json=dataset_json(uid))
    api.get(f"{base}/status/", json=status_json("error", message="Row 3 is bad",
                                                records_errors=[{"record_id": "r3", "message": "bad date"}]))
    api.get(f"{base}/metadata/", json={"default": {"title": {"value": "Trees"}, "keyword": {"value": ["a", "b"]}},
                                       "internal": {"draft": {"value": True}}})
    api.get(f"{API}/metadata/templates/", json=page_json(TEMPLATES))
    api.get(f"{base}/resources/", json=page_json([{"uid": "re_1", "type": "csvfile", "title": "trees.csv",
                                                    "datasource": {"type": "uploaded_file"}}]))
    api.get(f"{base}/resources/re_1/preview/", json={"fields": [{"name": "a", "label": "A"}],
                                                      "records": [{"a": "one"}]})
    api.get(f"{base}/processors/", json=page_json([{"uid": "pr_1", "type": "replace", "label": "Fix",
                                                     "args": {"field": "a"}}]))
    api.get(f"{base}/fields/", json=page_json([{"uid": "fi_1", "type": "rename", "label": "Rename a",
                                                 "from_name": "a", "to_name": "b"}]))
    api.get(f"{base}/schedules/", json=page_json([{"uid": "sc_1", "cron_schedule": "0 3 * * *"}]))
    api.get(f"{base}/versions/", json=page_json([{"uid": "ch_1", "sections": ["metadata"], "can_restore": True,
                                                   "created_by": {"username": "marie"},
                                                   "created_at": "2026-01-02T00:00:00Z"}]))
    api.get(f"{base}/attachments/", json=page_json([{"uid": "at_1", "filename": "notice.pdf",
                                                      "mimetype": "application/pdf"}]))
    api.get(f"{base}/security/users/", json=page_json([{"user": {"username": "bob"},
                                                         "permissions": ["edit_dataset"]}]))
    api.get(f"{base}/security/groups/", json=page_json([]))


TABS = {"overview": "Row 3 is bad", "metadata": "internal", "resources": "trees.csv", "processing": "replace",
        "schedules": "0 3 * * *", "versions": "marie", "attachments": "notice.pdf", "security": "bob"}


def tab_url(tab):
    return url("detail", uid="da_1") if tab == "overview" else url("tab", uid="da_1", tab=tab)


# ---------------------------------------------------------------------------------------------- the list

def test_list_full_page_and_partial_make_no_remote_call(api, client_as, cast, make_snapshot, synced):
    make_snapshot("da_1", "trees", title="Trees", status="error")
    client = client_as(cast["viewer"])
    full = client.get(url("list"))
    part = client.get(url("list"), headers=HX)
    assert full.status_code == part.status_code == 200
    assert b"<html" in full.content and b"<html" not in part.content
    assert b'id="dataset-table"' in part.content and b'hx-push-url="true"' in part.content
    assert b"badge badge-error" in part.content and b"synced" in full.content
    assert "HX-Request" in full["Vary"]
    assert len(api.calls) == 0


def test_list_search_filter_sort_and_pages(client_as, cast, make_snapshot, synced):
    for i in range(60):
        make_snapshot(f"da_{i}", f"ds-{i:03d}", title=f"Data {i}", status="error" if i % 2 else "idle",
                      is_published=bool(i % 3), is_restricted=i == 7,
                      search=f"ds-{i:03d} data {i} {'bird' if i == 5 else ''}")
    client = client_as(cast["viewer"])
    body = client.get(url("list"), {"q": "BIRD"}, headers=HX).content.decode()
    assert "ds-005" in body and "ds-004" not in body
    body = client.get(url("list"), {"restricted": "yes"}, headers=HX).content.decode()
    assert "ds-007" in body and "ds-008" not in body
    rows = client.get(url("list"), {"status": "error", "published": "no"}, headers=HX).context["page_obj"]
    assert all(r.status == "error" and r.is_published is False for r in rows)
    page1 = client.get(url("list"), {"sort": "-dataset_id"}, headers=HX).context["page_obj"]
    assert page1[0].dataset_id == "ds-059" and len(page1) == 50
    page2 = client.get(url("list"), {"sort": "-dataset_id", "page": "2"}, headers=HX)
    assert len(page2.context["page_obj"]) == 10
    assert "sort=-dataset_id&amp;page=1" in page2.content.decode()  # links keep the filters
    assert client.get(url("list"), {"status": "nonsense", "page": "x"}).status_code == 200  # never an error


def test_list_shows_bulk_controls_to_operators_only(client_as, cast, make_snapshot, synced):
    make_snapshot()
    assert b'id="bulk-form"' not in client_as(cast["viewer"]).get(url("list")).content
    assert b'name="uid"' not in client_as(cast["viewer"]).get(url("list")).content
    assert b'id="bulk-form"' in client_as(cast["operator"]).get(url("list")).content


def test_list_outsider_gets_404(client_as, cast):
    assert client_as(cast["outsider"]).get(url("list")).status_code == 404


def test_any_member_may_refresh(client_as, cast, monkeypatch):
    monkeypatch.setattr("portaladmin.datasets.tasks.catalogue_sync.delay", lambda **kw: None)
    response = client_as(cast["viewer"]).post(url("refresh"), headers=HX)
    assert response.status_code == 200 and b'id="sync-status"' in response.content
    assert b"every 2s" in response.content  # polls while the sync is pending
    assert CatalogueSync.objects.filter(requested_by=cast["viewer"]).exists()
    assert client_as(cast["outsider"]).post(url("refresh")).status_code == 404


def test_sync_status_announces_the_end(client_as, cast, synced):
    response = client_as(cast["viewer"]).get(url("sync_status"), {"was": "running"}, headers=HX)
    assert "catalogueSynced" in response["HX-Trigger"]


def test_bulk_publish_starts_one_job(client_as, cast, make_snapshot):
    make_snapshot("da_1", "trees")
    make_snapshot("da_2", "roads")
    response = client_as(cast["operator"]).post(url("bulk"), {"action": "publish", "uid": ["da_1", "da_2", "da_x"]},
                                                headers=HX)
    assert response.status_code == 200
    job = Job.objects.get()
    assert job.kind == "dataset.publish" and job.total == 2
    assert set(job.items.values_list("target_label", flat=True)) == {"trees", "roads"}
    assert f'id="job-status-{job.pk}"'.encode() in response.content


def test_a_double_submit_of_the_same_form_starts_one_job(client_as, cast, make_snapshot):
    make_snapshot("da_1", "trees")
    client = client_as(cast["operator"])
    form = {"action": "publish", "uid": ["da_1"], "submit_token": "form-token-1"}
    first = client.post(url("bulk"), form, headers=HX)
    second = client.post(url("bulk"), form, headers=HX)  # the second click, 700 ms later
    job = Job.objects.get()
    assert f'id="job-status-{job.pk}"'.encode() in first.content
    assert f'id="job-status-{job.pk}"'.encode() in second.content  # the same job, shown again
    client.post(url("bulk"), {**form, "submit_token": "form-token-2"}, headers=HX)  # the form changed: a new job
    assert Job.objects.count() == 2


def test_bulk_needs_a_selection(client_as, cast):
    response = client_as(cast["operator"]).post(url("bulk"), {"action": "publish"}, headers=HX)
    assert b"Select at least one dataset" in response.content and not Job.objects.exists()


def test_bulk_is_forbidden_to_viewers(client_as, cast, make_snapshot):
    make_snapshot()
    assert client_as(cast["viewer"]).post(url("bulk"), {"action": "publish", "uid": "da_1"}).status_code == 403
    assert client_as(cast["outsider"]).post(url("bulk"), {"action": "publish", "uid": "da_1"}).status_code == 404
    assert not Job.objects.exists()


# ---------------------------------------------------------------------------------------------- tabs

@pytest.mark.parametrize("tab", list(TABS))
@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_every_tab_full_page_and_partial(api, client_as, cast, make_snapshot, tab, role):
    make_snapshot("da_1", "trees")
    register_reads(api)
    client = client_as(cast[role])
    full = client.get(tab_url(tab))
    part = client.get(tab_url(tab), headers=HX)
    assert full.status_code == part.status_code == 200
    assert b"<html" in full.content and b"<html" not in part.content
    assert b'id="tab-panel"' in part.content
    assert TABS[tab] in full.content.decode() and TABS[tab] in part.content.decode()
    assert b'aria-current="page"' in part.content


@pytest.mark.parametrize("tab", list(TABS))
def test_tabs_are_hidden_from_outsiders(api, client_as, cast, make_snapshot, tab):
    make_snapshot("da_1", "trees")
    assert client_as(cast["outsider"]).get(tab_url(tab)).status_code == 404
    assert len(api.calls) == 0


def test_viewer_sees_no_action_button(api, client_as, cast, make_snapshot):
    make_snapshot("da_1", "trees")
    register_reads(api)
    client = client_as(cast["viewer"])
    for tab in TABS:
        body = client.get(tab_url(tab), headers=HX).content.decode()
        assert "hx-post" not in body, tab
    operator = client_as(cast["operator"]).get(tab_url("overview"), headers=HX).content.decode()
    assert "Publish" in operator and "Delete this dataset" not in operator
    admin = client_as(cast["admin"]).get(tab_url("overview"), headers=HX).content.decode()
    assert "Delete this dataset" in admin and 'data-expect="trees"' in admin


def test_overview_shows_status_message_record_errors_and_portal_link(api, client_as, cast, make_snapshot):
    make_snapshot("da_1", "trees")
    register_reads(api)
    body = client_as(cast["viewer"]).get(tab_url("overview")).content.decode()
    assert "Row 3 is bad" in body and "bad date" in body
    assert "https://data.example.org/explore/dataset/trees/" in body
    assert DatasetSnapshot.objects.get(uid="da_1").status == "error"  # refreshed by the read


def test_unknown_tab_is_404(client_as, cast, make_snapshot):
    make_snapshot()
    assert client_as(cast["viewer"]).get(url("tab", uid="da_1", tab="nope")).status_code == 404


def test_dataset_deleted_on_the_portal_meanwhile(api, client_as, cast, make_snapshot):
    make_snapshot("da_1", "trees")
    api.get(f"{API}/datasets/da_1/", status=404, json={"error_code": "not_found", "message": "Not found."})
    response = client_as(cast["viewer"]).get(tab_url("overview"), headers=HX)
    assert response["HX-Redirect"] == url("list")
    assert not DatasetSnapshot.objects.filter(uid="da_1").exists()
    follow = client_as(cast["viewer"]).get(url("list"))
    assert "no longer exists on the portal" in follow.content.decode()


def test_resource_preview(api, client_as, cast, make_snapshot):
    make_snapshot()
    register_reads(api)
    response = client_as(cast["viewer"]).get(url("resource_preview", uid="da_1", resource_uid="re_1"), headers=HX)
    assert b"one" in response.content and b"<html" not in response.content


# ---------------------------------------------------------------------------------------------- writes: roles

WRITES = {  # url name, kwargs, needed role
    "action": ({"uid": "da_1", "action": "publish"}, "operator"),
    "copy": ({"uid": "da_1"}, "operator"),
    "delete": ({"uid": "da_1"}, "admin"),
    "metadata_template": ({"uid": "da_1", "template": "default"}, "operator"),
    "resource_new_url": ({"uid": "da_1"}, "operator"),
    "resource_new_upload": ({"uid": "da_1"}, "operator"),
    "resource_delete": ({"uid": "da_1", "resource_uid": "re_1"}, "admin"),
    "processor_new": ({"uid": "da_1"}, "operator"),
    "processor_change": ({"uid": "da_1", "processor_uid": "pr_1"}, "operator"),
    "processor_move": ({"uid": "da_1", "processor_uid": "pr_1", "direction": "up"}, "operator"),
    "processor_delete": ({"uid": "da_1", "processor_uid": "pr_1"}, "admin"),
    "field_add": ({"uid": "da_1"}, "operator"),
    "field_edit": ({"uid": "da_1", "field_uid": "fi_1"}, "operator"),
    "field_delete": ({"uid": "da_1", "field_uid": "fi_1"}, "admin"),
    "schedule_add": ({"uid": "da_1"}, "operator"),
    "schedule_delete": ({"uid": "da_1", "schedule_uid": "sc_1"}, "admin"),
    "version_restore": ({"uid": "da_1", "version_uid": "ch_1"}, "operator"),
    "attachment_upload": ({"uid": "da_1"}, "operator"),
    "attachment_delete": ({"uid": "da_1", "attachment_uid": "at_1"}, "admin"),
    "security": ({"uid": "da_1"}, "admin"),
    "ruleset_add": ({"uid": "da_1"}, "admin"),
    "ruleset_edit": ({"uid": "da_1", "kind": "user", "principal": "bob"}, "admin"),
    "ruleset_delete": ({"uid": "da_1", "kind": "user", "principal": "bob"}, "admin"),
    "create": ({}, "operator"),
    "schema_field": ({"uid": "da_1", "field_name": "a"}, "operator"),
    "schedule_change": ({"uid": "da_1", "schedule_uid": "sc_1"}, "operator"),
    "export_add": ({"uid": "da_1"}, "operator"),
    "export_change": ({"uid": "da_1", "export_uid": "ae_1"}, "operator"),
    "export_delete": ({"uid": "da_1", "export_uid": "ae_1"}, "admin"),
    "feedback_archive": ({"uid": "da_1", "feedback_uid": "df_1"}, "operator"),
    "feedback_count": ({}, "operator"),
    "image_upload": ({}, "operator"),
}


@pytest.mark.parametrize("name", list(WRITES))
def test_writes_refuse_low_roles_without_any_remote_call(api, client_as, cast, make_snapshot, name):
    make_snapshot("da_1", "trees")
    kwargs, needed = WRITES[name]
    target = url(name, **kwargs)
    assert client_as(cast["outsider"]).post(target, {}).status_code == 404
    assert client_as(cast["viewer"]).post(target, {}).status_code == 403
    if needed == "admin":
        assert client_as(cast["operator"]).post(target, {}).status_code == 403
    assert len(api.calls) == 0
    assert not AuditEvent.objects.filter(action__startswith="dataset.").exists()
    assert not Job.objects.exists()


PART_DELETES = {  # tab: (delete url, add url) — operators add and edit parts, only admins delete them
    "resources": (url("resource_delete", uid="da_1", resource_uid="re_1"), url("resource_new", uid="da_1")),
    "processing": (url("processor_delete", uid="da_1", processor_uid="pr_1"), url("processor_new", uid="da_1")),
    "schedules": (url("schedule_delete", uid="da_1", schedule_uid="sc_1"), url("schedule_add", uid="da_1")),
    "attachments": (url("attachment_delete", uid="da_1", attachment_uid="at_1"), url("attachment_upload", uid="da_1")),
}


@pytest.mark.parametrize("tab", list(PART_DELETES))
@pytest.mark.parametrize("who, sees_delete", [("operator", False), ("admin", True), ("superuser", True)])
def test_only_admins_see_delete_buttons_on_dataset_parts(api, client_as, cast, make_snapshot, tab, who, sees_delete):
    make_snapshot("da_1", "trees")
    register_reads(api)
    html = client_as(cast[who]).get(url("tab", uid="da_1", tab=tab), headers=HX).content.decode()
    delete_url, add_url = PART_DELETES[tab]
    assert (delete_url in html) is sees_delete
    assert add_url in html  # operators keep adding
    if tab == "processing":
        assert (url("field_delete", uid="da_1", field_uid="fi_1") in html) is sees_delete


@pytest.mark.parametrize("name, kwargs", [
    ("resource_delete", {"resource_uid": "re_1"}), ("processor_delete", {"processor_uid": "pr_1"}),
    ("field_delete", {"field_uid": "fi_1"}), ("schedule_delete", {"schedule_uid": "sc_1"}),
    ("attachment_delete", {"attachment_uid": "at_1"}),
])
def test_operator_gets_403_deleting_dataset_parts_and_admin_deletes(api, client_as, cast, make_snapshot, name, kwargs):
    make_snapshot("da_1", "trees")
    target = url(name, uid="da_1", **kwargs)
    assert client_as(cast["operator"]).post(target, headers=HX).status_code == 403
    assert len(api.calls) == 0
    register_reads(api)
    part = {"resource_delete": "resources/re_1", "processor_delete": "processors/pr_1", "field_delete": "fields/fi_1",
            "schedule_delete": "schedules/sc_1", "attachment_delete": "attachments/at_1"}[name]
    api.delete(f"{API}/datasets/da_1/{part}/", status=204)
    assert client_as(cast["admin"]).post(target, headers=HX).status_code == 200
    assert [c.request.method for c in api.calls].count("DELETE") == 1


FORM_PAGES = ("create", "processor_new", "processor_change", "schema_field", "schedule_change", "export_change")


@pytest.mark.parametrize("name", [n for n in WRITES if n not in FORM_PAGES])  # forms are read with GET
def test_writes_are_post_only(client_as, cast, make_snapshot, name):
    make_snapshot("da_1", "trees")
    kwargs, _ = WRITES[name]
    assert client_as(cast["admin"]).get(url(name, **kwargs)).status_code == 405


# ---------------------------------------------------------------------------------------------- writes: behaviour

def test_publish_starts_a_job_with_inline_progress(client_as, cast, make_snapshot):
    make_snapshot("da_1", "trees")
    response = client_as(cast["operator"]).post(url("action", uid="da_1", action="publish"), headers=HX)
    job = Job.objects.get()
    assert job.kind == "dataset.publish" and job.items.get().target == "da_1"
    assert b'id="action-result"' in response.content and b"every 2s" in response.content
    plain = client_as(cast["operator"]).post(url("action", uid="da_1", action="unpublish"))
    assert plain.status_code == 302 and plain["Location"] == Job.objects.first().get_absolute_url()


def test_unknown_action_is_404(client_as, cast, make_snapshot):
    make_snapshot()
    assert client_as(cast["operator"]).post(url("action", uid="da_1", action="explode")).status_code == 404


def test_create_dataset(api, client_as, cast):
    api.post(f"{API}/datasets/", status=201, json=dataset_json("da_9", "new-data", title="New data"))
    response = client_as(cast["operator"]).post(url("create"), {"dataset_id": "new-data", "title": "New data",
                                                                "language": "en"}, headers=HX)
    assert response["HX-Redirect"] == url("detail", uid="da_9")
    assert DatasetSnapshot.objects.filter(uid="da_9").exists()


@pytest.mark.parametrize("dataset_id", ["Has Space", "UPPER", "-lead", "x" * 101, "é"])
def test_create_refuses_an_invalid_dataset_id(api, client_as, cast, dataset_id):
    response = client_as(cast["operator"]).post(url("create"), {"dataset_id": dataset_id, "title": "T",
                                                                "language": "en"}, headers=HX)
    assert response.status_code == 200 and b"errorlist" in response.content
    assert len(api.calls) == 0


def test_create_maps_remote_errors_onto_fields(api, client_as, cast):
    api.post(f"{API}/datasets/", status=400, json={
        "error_code": "validation_error", "message": "Invalid",
        "detail": {"dataset_id": ["A dataset with this dataset_id already exists."],
                   "metadata": {"default": {"title": ["Too long."]}}}})
    response = client_as(cast["operator"]).post(url("create"), {"dataset_id": "trees", "title": "T",
                                                                "language": "en"}, headers=HX)
    form = response.context["form"]
    assert form.errors["dataset_id"] == ["A dataset with this dataset_id already exists."]
    assert form.errors["title"] == ["Too long."]


def test_delete_needs_the_typed_dataset_id(api, client_as, cast, make_snapshot):
    make_snapshot("da_1", "trees")
    register_reads(api)
    response = client_as(cast["admin"]).post(url("delete", uid="da_1"), {"confirm": "tree"}, headers=HX)
    assert "Type trees exactly" in response.content.decode()
    assert DatasetSnapshot.objects.filter(uid="da_1").exists()
    assert not any(c.request.method == "DELETE" for c in api.calls)


def test_delete(api, client_as, cast, make_snapshot):
    make_snapshot("da_1", "trees")
    api.delete(f"{API}/datasets/da_1/", status=204)
    response = client_as(cast["admin"]).post(url("delete", uid="da_1"), {"confirm": "trees"}, headers=HX)
    assert response["HX-Redirect"] == url("list")
    assert not DatasetSnapshot.objects.exists()
    assert AuditEvent.objects.filter(action="dataset.delete", actor=cast["admin"]).exists()


def test_copy_goes_to_the_copy(api, client_as, cast, make_snapshot):
    make_snapshot("da_1", "trees")
    api.post(f"{API}/datasets/da_1/copy/", status=201, json=dataset_json("da_2", "trees-copy"))
    response = client_as(cast["operator"]).post(url("copy", uid="da_1"), headers=HX)
    assert response["HX-Redirect"] == url("detail", uid="da_2")
    assert DatasetSnapshot.objects.filter(uid="da_2", dataset_id="trees-copy").exists()


def test_field_configuration_edit_sends_the_parameters(api, client_as, cast, make_snapshot):
    make_snapshot("da_1", "trees")
    register_reads(api)
    api.put(f"{API}/datasets/da_1/fields/fi_1/", json={"uid": "fi_1", "type": "rename"})
    client = client_as(cast["operator"])
    client.post(url("field_edit", uid="da_1", field_uid="fi_1"),
                {"type": "rename", "label": "R", "params": '{"from_name": "a", "to_name": "c"}'}, headers=HX)
    import json
    put = [c for c in api.calls if c.request.method == "PUT"][0]
    assert json.loads(put.request.body) == {"from_name": "a", "to_name": "c", "type": "rename", "label": "R"}


@pytest.mark.parametrize("cron", ["61 * * * *", "every day", "* * *", "0 3 * * * *"])
def test_invalid_cron_is_refused(api, client_as, cast, make_snapshot, cron):
    make_snapshot("da_1", "trees")
    register_reads(api)
    response = client_as(cast["operator"]).post(url("schedule_add", uid="da_1"), {"cron": cron}, headers=HX)
    assert "not a valid cron expression" in response.content.decode()
    assert not any(c.request.method == "POST" for c in api.calls)


def test_cron_preview_shows_five_next_runs(client_as, cast, make_snapshot):
    make_snapshot()
    response = client_as(cast["viewer"]).get(url("cron_preview", uid="da_1"), {"cron": "0 3 * * *"}, headers=HX)
    assert response.content.decode().count("03:00 UTC") == 5


def test_schedule_add(api, client_as, cast, make_snapshot):
    make_snapshot("da_1", "trees")
    register_reads(api)
    api.post(f"{API}/datasets/da_1/schedules/", status=201, json={"uid": "sc_2", "cron_schedule": "0 4 * * *"})
    response = client_as(cast["operator"]).post(url("schedule_add", uid="da_1"), {"cron": " 0  4 * * * "},
                                                headers=HX)
    assert "Schedule 0 4 * * * added." in response.content.decode()


def test_upload_too_big_or_empty_is_refused(api, client_as, cast, make_snapshot, settings):
    settings.PORTALADMIN_MAX_UPLOAD_BYTES = 10
    make_snapshot("da_1", "trees")
    register_reads(api)
    client = client_as(cast["operator"])
    big = client.post(url("resource_new_upload", uid="da_1"),
                      {"file": SimpleUploadedFile("big.csv", b"x" * 11, "text/csv")}, headers=HX)
    assert "the limit is 10" in big.content.decode()
    empty = client.post(url("attachment_upload", uid="da_1"),
                        {"file": SimpleUploadedFile("empty.pdf", b"", "application/pdf")}, headers=HX)
    assert "This file is empty." in empty.content.decode()
    assert not any(c.request.method == "POST" for c in api.calls)


def test_conflict_gives_a_clear_message(api, client_as, cast, make_snapshot):
    make_snapshot("da_1", "trees")
    register_reads(api)
    api.post(f"{API}/datasets/da_1/versions/ch_1/restore/", status=400, json={
        "error_code": "invalid_dataset_status", "message": "dataset status is 'queued' but must be one of 'idle'"})
    response = client_as(cast["operator"]).post(url("version_restore", uid="da_1", version_uid="ch_1"), headers=HX)
    body = response.content.decode()
    assert "refused this in the current state" in body and "queued" in body
    assert DatasetSnapshot.objects.filter(uid="da_1").exists()


def test_child_gone_but_dataset_still_there(api, client_as, cast, make_snapshot):
    make_snapshot("da_1", "trees")
    register_reads(api)
    api.delete(f"{API}/datasets/da_1/resources/re_1/", status=404, json={"error_code": "not_found",
                                                                         "message": "Not found."})
    response = client_as(cast["admin"]).post(url("resource_delete", uid="da_1", resource_uid="re_1"), headers=HX)
    assert "That item no longer exists" in response.content.decode()
    assert DatasetSnapshot.objects.filter(uid="da_1").exists()


def test_write_on_a_dataset_deleted_meanwhile(api, client_as, cast, make_snapshot):
    make_snapshot("da_1", "trees")
    api.delete(f"{API}/datasets/da_1/schedules/sc_1/", status=404, json={"error_code": "not_found",
                                                                         "message": "Not found."})
    api.get(f"{API}/datasets/da_1/", status=404, json={"error_code": "not_found", "message": "Not found."})
    response = client_as(cast["admin"]).post(url("schedule_delete", uid="da_1", schedule_uid="sc_1"), headers=HX)
    assert response["HX-Redirect"] == url("list")
    assert not DatasetSnapshot.objects.filter(uid="da_1").exists()


def test_security_and_rulesets(api, client_as, cast, make_snapshot):
    make_snapshot("da_1", "trees")
    register_reads(api)
    api.put(f"{API}/datasets/da_1/", json=dataset_json(restricted=True))
    api.put(f"{API}/datasets/da_1/security/users/bob/", json={"user": {"username": "bob"},
                                                             "permissions": ["manage_dataset"]})
    client = client_as(cast["admin"])
    r1 = client.post(url("security", uid="da_1"), {"is_restricted": "on", "filter_query": "city:Paris"}, headers=HX)
    assert "Security saved." in r1.content.decode()
    r2 = client.post(url("ruleset_edit", uid="da_1", kind="user", principal="bob"),
                     {"permissions": ["manage_dataset"]}, headers=HX)
    assert "Ruleset of bob saved." in r2.content.decode()
    bad = client.post(url("ruleset_add", uid="da_1"), {"kind": "user", "principal": "bad name!"}, headers=HX)
    assert "Letters, digits" in bad.content.decode()


def test_create_page_full_and_partial(client_as, cast):
    client = client_as(cast["operator"])
    full = client.get(url("create"))
    part = client.get(url("create"), headers=HX)
    assert b"<html" in full.content and b"<html" not in part.content and b'id="create-form"' in part.content
    assert client_as(cast["viewer"]).get(url("create")).status_code == 403


def test_portal_unavailable_on_a_tab_says_so(api, client_as, cast, make_snapshot, settings):
    settings.PORTALS_MAX_RETRIES = 0
    make_snapshot("da_1", "trees")
    api.get(f"{API}/datasets/da_1/versions/", status=503, json={"error_code": "unavailable", "message": "down"})
    response = client_as(cast["viewer"]).get(tab_url("versions"), headers=HX)
    body = response.content.decode()
    assert response.status_code == 200 and "could not be loaded" in body and "unavailable right now" in body
    assert DatasetSnapshot.objects.filter(uid="da_1").exists()


def test_bulk_without_htmx_redirects_to_the_job(client_as, cast, make_snapshot):
    make_snapshot("da_1", "trees")
    response = client_as(cast["operator"]).post(url("bulk"), {"action": "unpublish", "uid": ["da_1"]})
    assert response.status_code == 302 and response["Location"] == Job.objects.get().get_absolute_url()
    assert client_as(cast["operator"]).post(url("bulk"), {"action": "publish"}).status_code == 302


def test_partial_pushes_the_canonical_shareable_url(client_as, cast, make_snapshot, synced):
    for i in range(60):
        make_snapshot(f"da_{i}", f"ds-{i:03d}")
    client = client_as(cast["viewer"])
    response = client.get(url("list"), {"q": "ds", "published": "", "status": "", "restricted": "", "page": "2",
                                        "sort": "title"}, headers=HX)
    assert response["HX-Push-Url"] == url("list") + "?q=ds&sort=title&page=2"
    assert client.get(url("list"), {"q": ""}, headers=HX)["HX-Push-Url"] == url("list")
    shared = client.get(response["HX-Push-Url"])  # the same page, as a full page
    assert b"<html" in shared.content and shared.context["page_obj"].number == 2
