"""Harvester views: role matrix, pages and partials, bad input, refusals, the live job panel."""

import pytest
from django.urls import reverse

from portaladmin.audit.models import AuditEvent
from portaladmin.jobs.models import Job, JobStatus

from .conftest import API, harvester_json, page

SLUG = "demo"


def url(name, **kw):
    return reverse(f"harvesters:{name}", kwargs={"conn": SLUG, **kw})


@pytest.fixture
def portal(api):
    """A read-only portal with one harvester that had resource errors."""
    api.get(f"{API}/harvesters/", json=page([harvester_json(), harvester_json(uid="ha_two", name="Other", has_error=True)]))
    api.get(f"{API}/harvesters/ha_one/", json=harvester_json(resource_errors_count=3))
    api.get(f"{API}/harvesters/ha_one/errors/", json={"harvester": None, "resources": {
        "r1": "HTTP 404", "r2": "HTTP 404", "r3": "Bad licence"}})
    api.get(f"{API}/harvesters/ha_one/schedules/",
            json=page([{"uid": "sc_1", "cron_schedule": "30 2 * * *", "timezone": "Europe/Paris"}]))
    return api


# --- role matrix -------------------------------------------------------------------------------------
GETS = [("list", {}), ("detail", {"uid": "ha_one"}), ("errors_csv", {"uid": "ha_one"}), ("job_status", {"uid": "ha_one"})]
OPERATOR_GETS = [("create", {}), ("edit", {"uid": "ha_one"}), ("schedule", {"uid": "ha_one"})]
OPERATOR_POSTS = [("start", {"uid": "ha_one"}), ("abort", {"uid": "ha_one"}), ("publish", {"uid": "ha_one"}),
                  ("unpublish", {"uid": "ha_one"}), ("create", {}), ("edit", {"uid": "ha_one"}),
                  ("create_preview", {}), ("edit_preview", {"uid": "ha_one"}), ("schedule", {"uid": "ha_one"}),
                  ("schedule_delete", {"uid": "ha_one"})]


@pytest.mark.parametrize("name, kw", GETS)
@pytest.mark.parametrize("who, expected", [("viewer", 200), ("operator", 200), ("admin", 200), ("outsider", 404)])
def test_reading_needs_a_role(portal, client_as, cast, name, kw, who, expected):
    response = client_as(cast[who]).get(url(name, **kw))
    allowed = (200, 286) if expected == 200 else (expected,)  # 286: the job panel has nothing to poll
    assert response.status_code in allowed


@pytest.mark.parametrize("name, kw", OPERATOR_GETS + [("delete", {"uid": "ha_one"})])
def test_viewers_cannot_open_forms(portal, client_as, cast, name, kw):
    assert client_as(cast["viewer"]).get(url(name, **kw)).status_code == 403


@pytest.mark.parametrize("name, kw", OPERATOR_POSTS + [("delete", {"uid": "ha_one"})])
@pytest.mark.parametrize("who, expected", [("viewer", 403), ("outsider", 404)])
def test_posting_below_operator_is_refused_and_sends_nothing(api, client_as, cast, name, kw, who, expected):
    response = client_as(cast[who]).post(url(name, **kw), {"cron_schedule": "0 3 * * *", "timezone": "UTC"})
    assert response.status_code == expected
    assert len(api.calls) == 0 and Job.objects.count() == 0
    assert not AuditEvent.objects.filter(action__startswith="harvester").exists()


def test_operators_cannot_delete(portal, client_as, cast):
    client = client_as(cast["operator"])
    assert client.get(url("delete", uid="ha_one")).status_code == 403
    assert client.post(url("delete", uid="ha_one"), {"attached": "keep", "confirm_name": "City CKAN"}).status_code == 403


def test_viewer_sees_no_action_buttons(portal, client_as, cast):
    page_html = client_as(cast["viewer"]).get(url("detail", uid="ha_one")).content.decode()
    for name in ("start", "abort", "publish", "unpublish", "edit", "schedule", "delete", "schedule_delete"):
        assert url(name, uid="ha_one") not in page_html
    assert url("create") not in client_as(cast["viewer"]).get(url("list")).content.decode()


def test_operator_sees_actions_but_not_delete(portal, client_as, cast):
    html = client_as(cast["operator"]).get(url("detail", uid="ha_one")).content.decode()
    assert url("start", uid="ha_one") in html and url("edit", uid="ha_one") in html
    assert url("abort", uid="ha_one") not in html  # idle: nothing to abort
    assert url("delete", uid="ha_one") not in html
    assert url("delete", uid="ha_one") in client_as(cast["admin"]).get(url("detail", uid="ha_one")).content.decode()


# --- pages ---------------------------------------------------------------------------------------------
def test_list_page_and_partial(portal, client_as, cast):
    client = client_as(cast["viewer"])
    full = client.get(url("list"))
    html = full.content.decode()
    assert "<html" in html and "City CKAN" in html and 'data-health="errors"' in html and 'data-health="ok"' in html
    partial = client.get(url("list"), headers={"HX-Request": "true"})
    body = partial.content.decode()
    assert "<html" not in body and 'id="harvester-table"' in body and "Other" in body
    assert "HX-Request" in partial["Vary"]


def test_list_shows_portal_errors_clearly(api, client_as, cast):
    api.get(f"{API}/harvesters/", status=401, json={"error_code": "unauthorized", "message": "Invalid API key."})
    html = client_as(cast["viewer"]).get(url("list")).content.decode()
    assert "Could not read the harvesters" in html


def test_detail_shows_counts_schedule_and_grouped_errors(portal, client_as, cast):
    html = client_as(cast["viewer"]).get(url("detail", uid="ha_one")).content.decode()
    assert "30 2 * * *" in html and "Europe/Paris" in html and "Next runs" in html
    assert "02:30 CE" in html  # CET or CEST: next runs in the schedule's own time zone
    assert "HTTP 404" in html and "r1, r2" in html and "Bad licence" in html
    assert url("errors_csv", uid="ha_one") in html
    assert "tags:env" in html  # configuration
    assert "canary" not in html


def test_unknown_harvester_is_404(api, client_as, cast):
    api.get(f"{API}/harvesters/nope/", status=404, json={"error_code": "not_found", "message": "Not found."})
    assert client_as(cast["viewer"]).get(url("detail", uid="nope")).status_code == 404


def test_errors_csv_download(portal, client_as, cast):
    response = client_as(cast["viewer"]).get(url("errors_csv", uid="ha_one"))
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert response.content.decode().splitlines()[1:] == ["resource,r1,HTTP 404", "resource,r2,HTTP 404",
                                                          "resource,r3,Bad licence"]


def test_attached_datasets_link_into_the_catalogue(portal, client_as, cast):
    portal.get(f"{API}/harvesters/ha_one/preview/", json={"total_count": 1, "results": [
        {"id": "city-trees", "title": "Trees", "description": ""}]})
    from portaladmin.datasets.models import DatasetSnapshot
    from portaladmin.portals.models import Connection

    DatasetSnapshot.objects.create(connection=Connection.objects.get(slug=SLUG), uid="da_1", dataset_id="city-trees",
                                   title="Trees", is_published=True)
    html = client_as(cast["viewer"]).get(url("datasets", uid="ha_one"), headers={"HX-Request": "true"}).content.decode()
    assert "Trees" in html and "city-trees" in html and 'id="attached-datasets"' in html
    from portaladmin.harvesters.views import dataset_link_kind

    if dataset_link_kind() == "detail":
        assert reverse("datasets:detail", kwargs={"conn": SLUG, "uid": "da_1"}) in html
    else:
        assert reverse("datasets:list", kwargs={"conn": SLUG}) + "?q=city-trees" in html


# --- create / edit / preview ---------------------------------------------------------------------------
FORM = {"type": "ckan", "name": "New CKAN", "url": "https://ckan.example.org/api/3", "forced_metas": ""}


def test_create_with_invalid_url_sends_nothing(api, client_as, cast):
    response = client_as(cast["operator"]).post(url("create"), {**FORM, "url": "not a url"})
    assert response.status_code == 200
    assert "must not contain spaces" in response.content.decode()
    assert len(api.calls) == 0 and not AuditEvent.objects.filter(action__startswith="harvester").exists()


def test_create_redirects_to_the_new_harvester(api, client_as, cast):
    api.post(f"{API}/harvesters/", status=201, json=harvester_json(uid="ha_new", name="New CKAN", status="new"))
    response = client_as(cast["operator"]).post(url("create"), FORM)
    assert response.status_code == 302 and response["Location"] == url("detail", uid="ha_new")
    htmx = client_as(cast["operator"]).post(url("create"), FORM, headers={"HX-Request": "true"})
    assert htmx["HX-Redirect"] == url("detail", uid="ha_new")


def test_create_maps_remote_field_errors(api, client_as, cast):
    api.post(f"{API}/harvesters/", status=400, json={"error_code": "validation_error", "message": "Invalid",
                                                     "detail": {"url": ["The catalogue does not answer."]}})
    html = client_as(cast["operator"]).post(url("create"), FORM).content.decode()
    assert "The catalogue does not answer." in html


def test_unsaved_preview_on_create_uses_a_saved_harvester_of_the_type(portal, client_as, cast):
    from responses import matchers

    portal.post(f"{API}/harvesters/ha_one/unsaved_preview/",
                match=[matchers.json_params_matcher({"type": "ckan", "name": "New CKAN",
                                                     "url": "https://ckan.example.org/api/3",
                                                     "restrict_datasets_visibility": False,
                                                     "delete_missing_datasets": False, "forced_metas": {},
                                                     "download_resources": False, "metadata_only": False})],
                json={"total_count": 12, "results": [{"id": "r1", "title": "Trees", "description": "All trees"}]})
    response = client_as(cast["operator"]).post(url("create_preview"), FORM, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert 'id="preview"' in html and "12" in html and "Trees" in html and "first 1 shown" in html
    assert not portal.calls or all("/harvesters/" != c.request.url.split("/v1.0")[1] or c.request.method == "GET"
                                   for c in portal.calls)


def test_unsaved_preview_without_a_base_says_so(api, client_as, cast):
    api.get(f"{API}/harvesters/", json=page([]))
    html = client_as(cast["operator"]).post(url("create_preview"), FORM).content.decode()
    assert "no CKAN harvester yet" in html


def test_preview_of_invalid_form_sends_nothing(api, client_as, cast):
    html = client_as(cast["operator"]).post(url("create_preview"), {**FORM, "url": "ftp://x"}).content.decode()
    assert "Fix the form" in html and len(api.calls) == 0


def test_edit_preview_and_save(portal, client_as, cast):
    portal.post(f"{API}/harvesters/ha_one/unsaved_preview/", json={"total_count": 0, "results": []})
    client = client_as(cast["operator"])
    form = client.get(url("edit", uid="ha_one")).content.decode()
    assert "https://ckan.example.org/api/3" in form and "publisher = City" in form
    html = client.post(url("edit_preview", uid="ha_one"), {**FORM, "type": "ckan"}).content.decode()
    assert "Nothing would be harvested" in html
    portal.put(f"{API}/harvesters/ha_one/", json=harvester_json(name="New CKAN"))
    response = client.post(url("edit", uid="ha_one"), FORM)
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="harvester.update", outcome="success").exists()


# --- actions as jobs ---------------------------------------------------------------------------------------
def test_start_as_operator_creates_a_job_and_shows_the_panel(portal, client_as, cast, no_enqueue):
    response = client_as(cast["operator"]).post(url("start", uid="ha_one"), headers={"HX-Request": "true"})
    html = response.content.decode()
    job = Job.objects.get()
    assert job.kind == "harvester.start" and job.started_by == cast["operator"]
    assert 'id="job-panel"' in html and 'hx-trigger="every 2s"' in html and f"job {job.pk}" in html
    assert 'hx-swap-oob="true"' in html  # the message


def test_start_when_already_running_is_a_clear_message(api, client_as, cast):
    api.get(f"{API}/harvesters/ha_one/", json=harvester_json(status="processing"))
    response = client_as(cast["operator"]).post(url("start", uid="ha_one"), follow=False)
    assert response.status_code == 302
    assert Job.objects.count() == 0
    api.get(f"{API}/harvesters/ha_one/errors/", json={"harvester": None, "resources": {}})
    api.get(f"{API}/harvesters/ha_one/schedules/", json=page([]))
    html = client_as(cast["operator"]).get(response["Location"]).content.decode()
    assert "already running (processing)" in html


def test_job_panel_stops_polling_when_the_job_ends(portal, client_as, cast, no_enqueue):
    client = client_as(cast["operator"])
    client.post(url("start", uid="ha_one"))
    job = Job.objects.get()
    item = job.items.get()
    item.remote_state = "processing"
    item.details = {"harvested_datasets_count": 3, "published_datasets_count": 0, "resource_errors_count": 0}
    item.status = "waiting"
    item.save()
    job.status = JobStatus.WAITING
    job.save()
    live = client.get(url("job_status", uid="ha_one"), {"was": "active"}, headers={"HX-Request": "true"})
    assert live.status_code == 200 and 'data-live="harvested">3<' in live.content.decode()
    item.status, item.remote_state, item.message = "failed", "idle", "The source answered 500."
    item.details = {**item.details, "resource_errors": {"r1": "HTTP 404"}}
    item.save()
    job.status = JobStatus.FAILED
    job.save()
    done = client.get(url("job_status", uid="ha_one"), {"was": "active"}, headers={"HX-Request": "true"})
    body = done.content.decode()
    assert done.status_code == 286
    assert "The source answered 500." in body and "HTTP 404" in body and "every 2s" not in body
    assert "jobFinished" in done["HX-Trigger"]


# --- schedule -----------------------------------------------------------------------------------------------
def test_invalid_schedule_sends_nothing(portal, client_as, cast):
    before = len(portal.calls)
    html = client_as(cast["operator"]).post(url("schedule", uid="ha_one"),
                                           {"cron_schedule": "99 * * * *", "timezone": "Nowhere/City"}).content.decode()
    assert "not a valid cron expression" in html and "not a known time zone" in html
    assert all(c.request.method == "GET" for c in portal.calls[before:])


def test_schedule_update_and_delete(portal, client_as, cast):
    portal.put(f"{API}/harvesters/ha_one/schedules/sc_1/",
               json={"uid": "sc_1", "cron_schedule": "0 4 * * *", "timezone": "UTC"})
    portal.delete(f"{API}/harvesters/ha_one/schedules/sc_1/", status=204)
    client = client_as(cast["operator"])
    page_html = client.get(url("schedule", uid="ha_one")).content.decode()
    assert "30 2 * * *" in page_html and "Next runs" in page_html
    assert client.post(url("schedule", uid="ha_one"), {"cron_schedule": "0 4 * * *", "timezone": "UTC"}).status_code == 302
    assert client.post(url("schedule_delete", uid="ha_one")).status_code == 302
    assert list(AuditEvent.objects.filter(action__startswith="harvester").order_by("id").values_list("action", flat=True)) == [
        "harvester.schedule_update", "harvester.schedule_delete"]


# --- delete --------------------------------------------------------------------------------------------------
def test_delete_needs_the_choice_and_confirmation(portal, client_as, cast):
    client = client_as(cast["admin"])
    html = client.post(url("delete", uid="ha_one"), {"confirm_name": "City CKAN"}).content.decode()
    assert "keep or delete" in html
    html = client.post(url("delete", uid="ha_one"), {"attached": "keep", "confirm_name": "nope"}).content.decode()
    assert "exactly" in html
    assert not any(c.request.method == "DELETE" for c in portal.calls)


@pytest.mark.parametrize("choice, flag", [("keep", "false"), ("delete", "true")])
def test_admin_deletes_with_the_chosen_flag(portal, client_as, cast, choice, flag):
    from responses import matchers

    portal.delete(f"{API}/harvesters/ha_one/", status=204,
                  match=[matchers.query_param_matcher({"delete_attached_datasets": flag})])
    response = client_as(cast["admin"]).post(url("delete", uid="ha_one"), {"attached": choice, "confirm_name": "City CKAN"})
    assert response.status_code == 302 and response["Location"] == url("list")
    assert AuditEvent.objects.filter(action="harvester.delete", outcome="success").count() == 1


# --- the portal failing --------------------------------------------------------------------------------------
def test_portal_down_gives_a_clear_page_not_a_500(api, client_as, cast, settings):
    api.get(f"{API}/harvesters/ha_one/", status=503, json={"error_code": "internal_error", "message": "Down."})
    response = client_as(cast["viewer"]).get(url("detail", uid="ha_one"))
    assert response.status_code == 502
    page = response.content.decode()
    assert "unavailable right now" in page and "Down." in page and "nothing was changed" not in page  # a read
    htmx = client_as(cast["operator"]).get(url("edit", uid="ha_one"), headers={"HX-Request": "true"})
    assert htmx.status_code == 200 and htmx["HX-Reswap"] == "none"
    assert 'id="messages"' in htmx.content.decode() and "unavailable right now" in htmx.content.decode()
    started = client_as(cast["operator"]).post(url("start", uid="ha_one"), headers={"HX-Request": "true"})
    assert "nothing was changed" in started.content.decode() and Job.objects.count() == 0


def test_errors_of_a_running_harvester_are_explained(api, client_as, cast):
    api.get(f"{API}/harvesters/ha_one/", json=harvester_json(status="processing"))
    api.get(f"{API}/harvesters/ha_one/errors/", status=400,
            json={"error_code": "invalid_harvester_status", "message": "Harvester is processing"})
    api.get(f"{API}/harvesters/ha_one/schedules/", json=page([]))
    html = client_as(cast["viewer"]).get(url("detail", uid="ha_one")).content.decode()
    assert "once the current run is over" in html and 'data-health="running"' in html


def test_types_this_panel_does_not_configure_are_not_editable(api, client_as, cast):
    api.get(f"{API}/harvesters/ha_ftp/", json=harvester_json(uid="ha_ftp", type="ftp", host="ftp.example.org"))
    api.get(f"{API}/harvesters/ha_ftp/errors/", json={"harvester": None, "resources": {}})
    api.get(f"{API}/harvesters/ha_ftp/schedules/", json=page([]))
    client = client_as(cast["operator"])
    html = client.get(url("detail", uid="ha_ftp")).content.decode()
    assert url("edit", uid="ha_ftp") not in html and url("start", uid="ha_ftp") in html
    response = client.get(url("edit", uid="ha_ftp"))
    assert response.status_code == 302 and response["Location"] == url("detail", uid="ha_ftp")
    assert not any(c.request.method == "PUT" for c in api.calls)
