"""Resource screens against a `responses` portal: the draft (guesses, preview, parameters, save), editing, the
actions, the push key shown once, streamed downloads, and bad input landing on the right field."""

import json
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import StreamingHttpResponse
from django.urls import reverse

from portaladmin.audit.models import AuditEvent
from portaladmin.core.logging import redact
from portaladmin.datasets.resource_forms import DraftForm
from portaladmin.datasets.services import resources as rs

from .conftest import API, page_json

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}
D = f"{API}/datasets/da_1"
CSV_EXTRACTOR = {"type": "csvfile", "label": "CSV File", "parameters": [
    {"type": "string", "is_mandatory": False, "name": "separator", "label": "Separator"},
    {"type": "string", "is_mandatory": False, "name": "encoding", "label": "Encoding",
     "choices": ["utf-8", "iso-8859-1"]},
    {"type": "boolean", "is_mandatory": False, "name": "headers_first_row", "label": "Headers", "default": "true"},
    {"type": "int", "is_mandatory": False, "name": "first_row_no", "label": "First row"}]}
JSON_EXTRACTOR = {"type": "jsonfile", "label": "JSON File", "parameters": [
    {"type": "string", "is_mandatory": False, "name": "json_root", "label": "JSON root"}]}
REALTIME = {"type": "realtime", "label": "Realtime", "parameters": []}
PREVIEW = {"fields": [{"name": "day", "label": "Day", "type": "date"}, {"name": "level", "label": "Level"}],
           "records": [{"day": "2026-01-01", "level": "3.2"}]}
GUESS = {"extractor": "csvfile", "params": {"separator": ";", "encoding": "utf-8", "headers_first_row": True,
                                            "first_row_no": 1, "doublequote": True}}
PUSH_KEY = "pk_5e1b0c9a7d3f4e2a"


def url(name, **kw):
    return reverse(f"datasets:{name}", kwargs={"conn": "demo", "uid": "da_1", **kw})


def sent(call):
    return json.loads(call.request.body)


@pytest.fixture
def portal(api):
    api.get(f"{API}/extractors/", json=[CSV_EXTRACTOR, JSON_EXTRACTOR, REALTIME])
    api.get(f"{D}/", json={"uid": "da_1", "dataset_id": "trees", "metadata": {}})
    api.get(f"{D}/status/", json={"status": "idle", "since": "2026-02-01T10:00:00Z"})
    api.get(f"{API}/datasource_connections/", json=page_json([
        {"uid": "co_files", "type": "http", "url": "https://files.example.org"}]))
    return api


def _upload_draft(client, api):
    api.post(f"{D}/resources/files/", json={"uid": "levels.csv", "filename": "levels.csv"})
    api.post(f"{D}/resources/guess_extractors/", json=[CSV_EXTRACTOR])
    api.post(f"{D}/resources/guess_extractor_params/", json=GUESS)
    api.post(f"{D}/resources/preview/", json=PREVIEW)
    file = SimpleUploadedFile("levels.csv", b"day;level\n2026-01-01;3.2\n", "text/csv")
    return client.post(url("resource_new_upload"), {"file": file, "title": ""}, headers=HX)


def test_upload_guesses_and_previews_before_saving(portal, client_as, cast, make_snapshot):
    make_snapshot()
    response = _upload_draft(client_as(cast["operator"]), portal)
    html = response.content.decode()
    form = response.context["form"]
    assert form.cleaned_data["extractor"] == "csvfile" and form.params()["separator"] == ";"
    assert 'name="p_separator"' in html and "2026-01-01" in html and 'id="draft"' in html
    paths = [(c.request.method, c.request.path_url) for c in portal.calls]
    assert ("POST", "/api/automation/v1.0/datasets/da_1/resources/") not in paths  # nothing saved yet
    preview = next(c for c in portal.calls if c.request.path_url.endswith("/resources/preview/"))
    assert sent(preview) == {"type": "csvfile", "params": form.params(),
                             "datasource": {"type": "uploaded_file", "file": {"uid": "levels.csv"}}}
    assert AuditEvent.objects.filter(action="dataset.resource.file_upload", outcome="success").count() == 1


def test_a_parameter_change_refreshes_the_preview_and_a_refusal_lands_on_its_field(portal, client_as, cast,
                                                                                   make_snapshot):
    make_snapshot()
    client = client_as(cast["operator"])
    data = dict(_upload_draft(client, portal).context["form"].data)
    portal.replace("POST", f"{D}/resources/preview/", status=400, json={
        "error_code": "validation_error", "message": "Extraction failed",
        "detail": {"params": {"separator": ["The separator must be a single character."]}}})
    data["p_separator"] = ";;"
    response = client.post(url("resource_draft_preview"), data, headers=HX)
    form = response.context["form"]
    assert form.errors["p_separator"] == ["The separator must be a single character."]
    assert "could not read the data with these parameters" in response.content.decode()
    assert sent(portal.calls[-1])["params"]["separator"] == ";;"


def test_another_extractor_starts_from_the_portal_guess_for_it(portal, client_as, cast, make_snapshot):
    make_snapshot()
    client = client_as(cast["operator"])
    data = dict(_upload_draft(client, portal).context["form"].data)
    portal.replace("POST", f"{D}/resources/guess_extractor_params/",
                   json={"extractor": "jsonfile", "params": {"json_root": "items"}})
    data["extractor"] = "jsonfile"
    form = client.post(url("resource_draft_preview"), data, headers=HX).context["form"]
    assert form.param_names == ["json_root"] and form.params() == {"json_root": "items"}
    assert not any(k.startswith("p_separator") for k in form.fields)


def test_save_creates_the_resource_with_the_typed_parameters(portal, client_as, cast, make_snapshot):
    make_snapshot()
    client = client_as(cast["operator"])
    data = dict(_upload_draft(client, portal).context["form"].data)
    data.update({"p_separator": ",", "title": "Levels"})
    create = portal.post(f"{D}/resources/", status=201, json={"uid": "re_9", "type": "csvfile", "title": "Levels",
                                                              "datasource": {"type": "uploaded_file"}})
    response = client.post(url("resource_draft_save"), data, headers=HX)
    assert response["HX-Redirect"] == url("resource", resource_uid="re_9")
    body = sent(create.calls[0])
    assert body["title"] == "Levels" and body["type"] == "csvfile"
    assert body["params"]["separator"] == "," and body["params"]["doublequote"] is True  # guessed, kept
    assert body["datasource"] == {"type": "uploaded_file", "file": {"uid": "levels.csv"}}
    assert AuditEvent.objects.filter(action="dataset.resource.create", outcome="success").exists()


def test_save_refused_by_the_portal_lands_on_the_field_and_nothing_else_happens(portal, client_as, cast,
                                                                              make_snapshot):
    make_snapshot()
    client = client_as(cast["operator"])
    data = dict(_upload_draft(client, portal).context["form"].data)
    portal.post(f"{D}/resources/", status=400, json={"error_code": "validation_error", "message": "Invalid",
                                                     "detail": {"type": ["Unknown extractor."]}})
    response = client.post(url("resource_draft_save"), data, headers=HX)
    assert response.context["form"].errors["extractor"] == ["Unknown extractor."]
    assert not response.has_header("HX-Redirect")


def test_an_unreachable_url_is_said_on_the_url_field(portal, client_as, cast, make_snapshot):
    make_snapshot()
    portal.post(f"{D}/resources/guess_extractors/", status=400, json={
        "error_code": "validation_error", "message": "Unable to retrieve the resource.",
        "detail": {"datasource": ["The resource could not be downloaded: the host could not be reached."]}})
    response = client_as(cast["operator"]).post(url("resource_new_url"),
                                                {"url": "https://files.nowhere.invalid/a.csv"}, headers=HX)
    form = response.context["url_form"]
    assert "could not be reached" in form.errors["url"][0]
    assert 'id="draft-form"' not in response.content.decode()  # no draft
    assert not any(c.request.path_url.endswith("/resources/") for c in portal.calls)


def test_a_url_that_is_not_one_is_refused_before_asking_the_portal(portal, client_as, cast, make_snapshot):
    make_snapshot()
    response = client_as(cast["operator"]).post(url("resource_new_url"), {"url": "ftp:/nope"}, headers=HX)
    assert response.context["url_form"].errors["url"]
    assert not [c for c in portal.calls if c.request.method != "GET"]


def test_damaged_hidden_parameters_are_refused(portal, client_as, cast, make_snapshot):
    make_snapshot()
    client = client_as(cast["operator"])
    data = dict(_upload_draft(client, portal).context["form"].data)
    data["extra_params"] = "[1, 2"
    calls = len(portal.calls)
    response = client.post(url("resource_draft_save"), data, headers=HX)
    assert "damaged" in response.content.decode()
    assert not any(c.request.method == "POST" and c.request.path_url.endswith("/resources/")
                   for c in portal.calls[calls:])


def test_from_a_saved_datasource_connection(portal, client_as, cast, make_snapshot):
    make_snapshot()
    portal.post(f"{D}/resources/guess_extractors/", json=[CSV_EXTRACTOR])
    portal.post(f"{D}/resources/guess_extractor_params/", json=GUESS)
    portal.post(f"{D}/resources/preview/", json=PREVIEW)
    client = client_as(cast["operator"])
    page = client.get(url("resource_new")).content.decode()
    assert "co_files" in page and "https://files.example.org" in page
    response = client.post(url("resource_new_connection"),
                           {"connection_uid": "co_files", "relative_url": "/exports/levels.csv"}, headers=HX)
    form = response.context["form"]
    assert form.source_obj().datasource() == {"type": "http", "connection": {"uid": "co_files"},
                                              "relative_url": "/exports/levels.csv"}
    unknown = client.post(url("resource_new_connection"),
                          {"connection_uid": "co_other", "relative_url": "/x.csv"}, headers=HX)
    assert unknown.context["connection_form"].errors["connection_uid"]


# ---------------------------------------------------------------------------------------------- a saved one

RT = {"uid": "re_rt", "type": "realtime", "title": "Sensors", "updated_at": "2026-02-01T10:00:00Z",
      "params": {"enabled": True, "pushkey": PUSH_KEY},
      "datasource": {"type": "http", "connection": {"uid": "co_files"}, "relative_url": "/push"}}
FILE_RESOURCE = {"uid": "re_1", "type": "csvfile", "title": "Levels", "params": {"separator": ";"},
                 "datasource": {"type": "uploaded_file", "file": {"uid": "levels.csv", "filename": "levels.csv"}}}


def test_the_resource_page_never_shows_the_push_key(portal, client_as, cast, make_snapshot):
    make_snapshot()
    portal.get(f"{D}/resources/re_rt/", json=RT)
    html = client_as(cast["admin"]).get(url("resource", resource_uid="re_rt")).content.decode()
    assert "Sensors" in html and "enabled" in html and "Renew the push key" in html
    assert PUSH_KEY not in html


def test_edit_keeps_the_push_key_and_sends_the_edited_params(portal, client_as, cast, make_snapshot):
    make_snapshot()
    portal.get(f"{D}/resources/re_1/", json={**FILE_RESOURCE, "params": {"separator": ";", "pushkey": PUSH_KEY}})
    portal.post(f"{D}/resources/preview/", json=PREVIEW)
    client = client_as(cast["operator"])
    page = client.get(url("resource_edit", resource_uid="re_1"))
    assert PUSH_KEY not in page.content.decode()
    data = dict(page.context["form"].data)
    data["p_separator"] = ","
    put = portal.put(f"{D}/resources/re_1/", json=FILE_RESOURCE)
    response = client.post(url("resource_edit_save", resource_uid="re_1"), data, headers=HX)
    assert response["HX-Redirect"] == url("resource", resource_uid="re_1")
    body = sent(put.calls[0])
    # the push key is read from the portal, never from the form; an unsaved box is sent as the extractor's default
    assert body["params"] == {"separator": ",", "headers_first_row": True, "pushkey": PUSH_KEY}
    assert AuditEvent.objects.filter(action="dataset.resource.update").exists()


@pytest.mark.parametrize(("name", "path", "message"), [
    ("resource_clean_cache", "clean_cache", "Cache of the resource cleaned."),
    ("resource_enable", "enable", "Resource enabled."),
    ("resource_disable", "disable", "Resource disabled."),
    ("resource_recover", "recover", "Realtime data recovery started."),
])
def test_actions_call_the_portal_and_say_so(portal, client_as, cast, make_snapshot, name, path, message):
    make_snapshot()
    portal.post(f"{D}/resources/re_rt/{path}/", status=204 if path == "clean_cache" else 200,
                json=None if path == "clean_cache" else RT)
    client = client_as(cast["operator"])
    response = client.post(url(name, resource_uid="re_rt"))
    assert response.status_code == 302 and response["Location"] == url("resource", resource_uid="re_rt")
    portal.get(f"{D}/resources/re_rt/", json=RT)
    assert message in client.get(response["Location"]).content.decode()


def test_recover_on_an_unpublished_dataset_gives_the_portal_reason(portal, client_as, cast, make_snapshot):
    make_snapshot()
    portal.post(f"{D}/resources/re_rt/recover/", status=400, json={
        "error_code": "invalid_dataset_status", "message": "The dataset must be published to recover realtime data."})
    client = client_as(cast["operator"])
    response = client.post(url("resource_recover", resource_uid="re_rt"))
    portal.get(f"{D}/resources/re_rt/", json=RT)
    assert "must be published" in client.get(response["Location"]).content.decode()
    assert AuditEvent.objects.filter(action="dataset.resource.recover", outcome="failure").exists()


def test_renewed_push_key_is_shown_once_and_kept_nowhere(portal, client_as, cast, make_snapshot):
    make_snapshot()
    new_key = "pk_0a1b2c3d4e5f6a7b8c9d"
    portal.post(f"{D}/resources/re_rt/renew_api_key/", json={**RT, "params": {"enabled": True, "pushkey": new_key}})
    assert client_as(cast["operator"]).post(url("resource_renew_key", resource_uid="re_rt")).status_code == 403
    assert client_as(cast["operator"]).get(url("resource_push_key", resource_uid="re_rt")).status_code == 403
    client = client_as(cast["admin"])
    # Post/Redirect/Get: the POST renews and redirects (HTMX: HX-Redirect); the key is in no URL
    response = client.post(url("resource_renew_key", resource_uid="re_rt"), headers=HX)
    assert response["HX-Redirect"] == url("resource_push_key", resource_uid="re_rt")
    assert new_key not in response.content.decode()
    event = AuditEvent.objects.get(action="dataset.resource.renew_push_key")
    assert new_key not in json.dumps(event.extra) and new_key not in str(event.error)
    assert new_key not in str(dict(client.session))  # waiting for its one display, encrypted
    shown = client.get(url("resource_push_key", resource_uid="re_rt"))
    assert new_key in shown.content.decode() and "no-store" in shown["Cache-Control"]
    # a reload: already shown, how to renew again, and no second renewal sent
    again = client.get(url("resource_push_key", resource_uid="re_rt")).content.decode()
    assert new_key not in again and "already shown" in again and "Renew the push key again" in again
    assert AuditEvent.objects.filter(action="dataset.resource.renew_push_key").count() == 1
    assert new_key not in str(dict(client.session))
    assert redact(new_key) == "[redacted]"
    portal.get(f"{D}/resources/re_rt/", json={**RT, "params": {"enabled": True, "pushkey": new_key}})
    assert new_key not in client.get(url("resource", resource_uid="re_rt")).content.decode()


def test_a_push_key_is_shown_only_on_the_page_of_its_own_resource(portal, client_as, cast, make_snapshot):
    make_snapshot()
    portal.post(f"{D}/resources/re_rt/renew_api_key/", json={**RT, "params": {"pushkey": "pk_aaaabbbbccccdddd"}})
    client = client_as(cast["admin"])
    client.post(url("resource_renew_key", resource_uid="re_rt"))
    other = client.get(url("resource_push_key", resource_uid="re_other")).content.decode()
    assert "pk_aaaabbbbccccdddd" not in other and "already shown" in other
    assert "pk_aaaabbbbccccdddd" in client.get(url("resource_push_key", resource_uid="re_rt")).content.decode()


def test_a_renewal_the_portal_answered_without_a_key_says_so(portal, client_as, cast, make_snapshot):
    make_snapshot()
    portal.post(f"{D}/resources/re_rt/renew_api_key/", json={**RT, "params": {"enabled": True}})
    client = client_as(cast["admin"])
    page = client.post(url("resource_renew_key", resource_uid="re_rt"), follow=True).content.decode()
    assert "did not return it" in page


def test_resource_file_download_is_streamed(portal, client_as, cast, make_snapshot):
    make_snapshot()
    content = b"day;level\n" + b"2026-01-01;3.2\n" * 20_000
    portal.get(f"{D}/resources/re_1/", json=FILE_RESOURCE)
    portal.get(f"{D}/resources/files/levels.csv/download/", body=content, content_type="text/csv",
               headers={"Content-Disposition": 'attachment; filename="levels.csv"'})
    response = client_as(cast["viewer"]).get(url("resource_download", resource_uid="re_1"))
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Disposition"] == 'attachment; filename="levels.csv"'
    assert response["Content-Type"] == "text/csv"
    assert b"".join(response.streaming_content) == content


def test_only_uploaded_files_download(portal, client_as, cast, make_snapshot):
    make_snapshot()
    portal.get(f"{D}/resources/re_rt/", json=RT)
    response = client_as(cast["viewer"]).get(url("resource_download", resource_uid="re_rt"))
    assert response.status_code == 302


def test_attachment_download_is_streamed_and_a_missing_one_said(portal, client_as, cast, make_snapshot):
    make_snapshot()
    portal.get(f"{D}/attachments/at_1/download/", body=b"%PDF-1.4 notice", content_type="application/pdf",
               headers={"Content-Disposition": "attachment; filename*=UTF-8''notice%20%C3%A9t%C3%A9.pdf"})
    response = client_as(cast["viewer"]).get(url("attachment_download", attachment_uid="at_1"))
    assert b"".join(response.streaming_content) == b"%PDF-1.4 notice"
    assert "notice" in response["Content-Disposition"]
    portal.get(f"{D}/attachments/at_2/download/", status=404, json={"error_code": "not_found", "message": "x"})
    gone = client_as(cast["viewer"]).get(url("attachment_download", attachment_uid="at_2"))
    assert gone.status_code == 302


def test_large_upload_streams_from_the_temporary_file(portal, client_as, cast, make_snapshot, settings,
                                                      monkeypatch):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10  # anything bigger goes to a temporary file on disk
    make_snapshot()
    seen = {}
    original = rs.resource_file_upload

    def spy(**kwargs):
        seen["on_disk"] = os.path.exists(getattr(kwargs["file"], "name", "") or "")
        return original(**kwargs)

    monkeypatch.setattr(rs, "resource_file_upload", spy)
    response = _upload_draft(client_as(cast["operator"]), portal)
    assert response.status_code == 200 and seen["on_disk"]
    upload = next(c for c in portal.calls if c.request.path_url.endswith("/resources/files/"))
    body = upload.request.body
    assert b"2026-01-01;3.2" in (body if isinstance(body, bytes) else b"".join(body))


def test_draft_form_rebuilds_the_datasource_from_plain_fields():
    form = DraftForm({"source": "url", "url": "https://files.example.org/a/b.csv?x=1", "extractor": "csvfile",
                      "previous_extractor": "csvfile", "extra_params": "{}"},
                     extractors=[rs_extractor("csvfile")], extractor="csvfile")
    assert form.is_valid(), form.errors
    assert form.source_obj().datasource() == {
        "type": "http", "connection": {"type": "http", "url": "https://files.example.org", "auth": None},
        "relative_url": "/a/b.csv?x=1"}


def rs_extractor(kind):
    from portaladmin.portals.client.schemas import Extractor

    return Extractor.from_dict(CSV_EXTRACTOR if kind == "csvfile" else JSON_EXTRACTOR)


def test_saving_a_resource_deleted_meanwhile_says_so_and_sends_nothing(portal, client_as, cast, make_snapshot):
    make_snapshot()
    portal.get(f"{D}/resources/re_1/", json=FILE_RESOURCE)
    portal.post(f"{D}/resources/preview/", json=PREVIEW)
    client = client_as(cast["operator"])
    data = dict(client.get(url("resource_edit", resource_uid="re_1")).context["form"].data)
    portal.replace("GET", f"{D}/resources/re_1/", status=404, json={"error_code": "not_found", "message": "x"})
    response = client.post(url("resource_edit_save", resource_uid="re_1"), data, headers=HX)
    assert "That item no longer exists" in response.content.decode()
    assert not [c for c in portal.calls if c.request.method == "PUT"]


def test_the_connection_source_says_when_the_connections_cannot_be_read(portal, client_as, cast, make_snapshot,
                                                                        settings):
    settings.PORTALS_MAX_RETRIES = 0
    make_snapshot()
    portal.replace("GET", f"{API}/datasource_connections/", status=503, json={"error_code": "x", "message": "down"})
    client = client_as(cast["operator"])
    assert "could not be read" in client.get(url("resource_new")).content.decode()
    response = client.post(url("resource_new_connection"), {"connection_uid": "co_files", "relative_url": "/a.csv"},
                           headers=HX)
    assert "could not be read; nothing was sent" in response.content.decode()
    assert not [c for c in portal.calls if c.request.method == "POST"]


def test_guess_again_from_the_saved_source_replaces_extractor_and_parameters(portal, client_as, cast, make_snapshot):
    make_snapshot()
    portal.get(f"{D}/resources/re_1/", json=FILE_RESOURCE)
    portal.post(f"{D}/resources/preview/", json=PREVIEW)
    client = client_as(cast["operator"])
    data = dict(client.get(url("resource_edit", resource_uid="re_1")).context["form"].data)
    data["title"] = "Kept title"
    portal.get(f"{D}/resources/re_1/guess_extractors/", json=[JSON_EXTRACTOR])
    portal.get(f"{D}/resources/re_1/guess_extractors_params/", json={"extractor": "jsonfile",
                                                                      "params": {"json_root": "rows"}})
    form = client.post(url("resource_edit_guess", resource_uid="re_1"), data, headers=HX).context["form"]
    assert form.cleaned_data["extractor"] == "jsonfile" and form.params() == {"json_root": "rows"}
    assert form.cleaned_data["title"] == "Kept title"
    assert not [c for c in portal.calls if c.request.method == "PUT"]


def test_the_resource_page_reads_the_file_when_the_answer_does_not_name_it(portal, client_as, cast, make_snapshot):
    make_snapshot()
    portal.get(f"{D}/resources/re_1/", json={**FILE_RESOURCE, "datasource": {"type": "uploaded_file",
                                                                             "file": {"uid": "fi_42"}}})
    portal.get(f"{D}/resources/files/fi_42/", json={"uid": "fi_42", "filename": "levels-2026.csv",
                                                    "mimetype": "text/csv", "created_at": "2026-02-01T10:00:00Z"})
    html = client_as(cast["viewer"]).get(url("resource", resource_uid="re_1")).content.decode()
    assert "levels-2026.csv" in html and "text/csv" in html
    assert "Clean the cache" not in html and "Renew" not in html  # a viewer sees no action


def test_the_resources_tab_lists_format_origin_size_state_and_update(portal, client_as, cast, make_snapshot):
    make_snapshot()
    portal.get(f"{D}/resources/", json=page_json([
        {**FILE_RESOURCE, "extraction_infos": {"label": "CSV File", "type": "csvfile"},
         "origin": {"label": "Uploaded file", "type": "uploaded_file"}, "updated_at": "2026-02-01T10:00:00Z",
         "datasource": {"type": "uploaded_file", "file": {"uid": "levels.csv", "size": 2048}}},
        {**RT, "params": {"enabled": False, "pushkey": PUSH_KEY}}]))
    tab = reverse("datasets:tab", kwargs={"conn": "demo", "uid": "da_1", "tab": "resources"})
    html = client_as(cast["viewer"]).get(tab, headers=HX).content.decode()
    assert "CSV File" in html and "Uploaded file" in html and "2.0\xa0KB" in html
    assert ">disabled<" in html and PUSH_KEY not in html
    assert url("resource", resource_uid="re_1") in html and "Add a resource" not in html  # a viewer adds nothing
    assert "Add a resource" in client_as(cast["operator"]).get(tab, headers=HX).content.decode()


URL_RESOURCE = {"uid": "re_url", "type": "csvfile", "title": "Levels from the city", "params": {"separator": ";"},
                "updated_at": "2026-02-01T10:00:00Z", "display_name": "/open/levels.csv",
                "datasource": {"type": "http", "relative_url": "/open/levels.csv?format=csv&apikey=s3cr3tv4lue99",
                               "connection": {"type": "http", "url": "https://bob:hunter2pass@data.example.org",
                                              "auth": None}}}


def test_a_url_resource_reads_its_whole_url_with_its_secrets_masked(portal, client_as, cast, make_snapshot):
    make_snapshot()
    portal.get(f"{D}/resources/re_url/", json=URL_RESOURCE)
    portal.get(f"{D}/resources/re_url/preview/", json=PREVIEW)
    page = client_as(cast["viewer"]).get(url("resource", resource_uid="re_url")).content.decode()
    reads = page.split("<dt>Reads</dt>", 1)[1].split("</dd>", 1)[0]
    assert "https://••••••@data.example.org/open/levels.csv?format=csv&amp;apikey=••••••" in reads
    assert "hunter2pass" not in page and "s3cr3tv4lue99" not in page and "bob:" not in page


def test_the_resources_tab_lists_what_each_resource_reads(portal, client_as, cast, make_snapshot):
    make_snapshot()
    portal.get(f"{D}/resources/", json=page_json([URL_RESOURCE, RT]))
    page = client_as(cast["viewer"]).get(reverse("datasets:tab", kwargs={"conn": "demo", "uid": "da_1",
                                                                         "tab": "resources"})).content.decode()
    assert "https://••••••@data.example.org/open/levels.csv?format=csv&amp;apikey=••••••" in page
    assert "/push on the datasource connection co_files" in page
    assert "hunter2pass" not in page and "s3cr3tv4lue99" not in page


@pytest.mark.parametrize(("datasource", "shown"), [
    ({"type": "http", "connection": {"url": "https://data.example.org/"}, "relative_url": "/a.csv?keyword=roads"},
     "https://data.example.org/a.csv?keyword=roads"),  # nothing secret: unchanged (keyword is not a key)
    ({"type": "http", "connection": {"url": "https://h.example.org"}, "relative_url": "/f?X-Amz-Signature=abcd&sig=zz"
                                                                                       "&access_token=t&key=k"},
     "https://h.example.org/f?X-Amz-Signature=••••••&sig=••••••&access_token=••••••&key=••••••"),
    ({"type": "ftp", "connection": {"url": "ftp://token123@ftp.example.org"}, "relative_url": "pub/x.csv"},
     "ftp://••••••@ftp.example.org/pub/x.csv"),
    ({"type": "uploaded_file", "file": {"uid": "levels.csv", "filename": "levels (1).csv"}}, "levels (1).csv"),
    ({"type": "http", "connection": {"uid": "co_files"}, "relative_url": ""}, "/ on the datasource connection co_files"),
    ({}, "the fallback"),
])
def test_source_reads(datasource, shown):
    assert rs.source_reads(datasource, fallback="the fallback") == shown


@pytest.mark.parametrize("relative", ["/open/levels.csv?apikey=[redacted]", "/open/levels.csv"])
def test_a_url_with_a_secret_is_not_edited_here(portal, client_as, cast, make_snapshot, relative):
    """The client redacts a key in the URL: re-sent from the edit form it would become "[redacted]" on the portal;
    credentials in the URL would be shown in the form. Such a source is left to the portal, and the page says so."""
    make_snapshot()
    secretive = {**URL_RESOURCE, "datasource": {**URL_RESOURCE["datasource"], "relative_url": relative}}
    if "apikey" in relative:  # no user part: only the redacted key makes it secret
        secretive["datasource"]["connection"] = {"type": "http", "url": "https://data.example.org", "auth": None}
    assert rs.source_of(secretive["datasource"]) is None
    portal.get(f"{D}/resources/re_url/", json=secretive)
    client = client_as(cast["operator"])
    page = client.get(url("resource", resource_uid="re_url")).content.decode()
    assert 'id="not-editable"' in page and url("resource_edit", resource_uid="re_url") not in page
    response = client.get(url("resource_edit", resource_uid="re_url"), follow=True)
    assert "cannot be edited here (it holds credentials" in response.content.decode()
    assert not [c for c in portal.calls if c.request.method in ("PUT", "POST")]


def test_a_plain_url_stays_editable():
    source = rs.source_of({"type": "http", "relative_url": "/a.csv?year=2026",
                           "connection": {"type": "http", "url": "https://data.example.org", "auth": None}})
    assert source.url == "https://data.example.org/a.csv?year=2026"
