"""Views of the catalogue processors, schema edits, exports, feedback counts and images against a `responses`
portal: refusals land on the right field, nothing is sent when the input is bad, downloads are streamed."""

import json
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portaladmin.datasets.models import FeedbackCount

from .conftest import API, page_json

BASE = f"{API}/datasets/da_1"
PROCESSORS = [{"type": "string_replace", "label": "Replace text"}, {"type": "set_field", "label": "Set"}]
PREVIEW = {"fields": [{"name": "a", "label": "A", "type": "text"}, {"name": "b", "label": "B", "type": "int"}],
           "records": [{"a": "x", "b": 1}]}


def url(name, **kw):
    return reverse(f"datasets:{name}", kwargs={"conn": "demo", **kw})


def reads(api, configs=()):
    api.get(f"{API}/processors/", json=PROCESSORS)
    api.get(f"{BASE}/fields/", json=page_json(list(configs)))
    api.get(f"{BASE}/resources/", json=page_json([{"uid": "re_1", "type": "csvfile", "title": "t.csv"}]))
    api.get(f"{BASE}/resources/re_1/preview/", json=PREVIEW)


def writes(api):
    return [c for c in api.calls if c.request.method != "GET"]


def test_unknown_processor_type_is_refused_before_sending(api, client_as, cast, make_snapshot):
    make_snapshot("da_1", "trees")
    reads(api)
    response = client_as(cast["operator"]).post(url("processor_new", uid="da_1"), {"type": "explode"})
    assert response.status_code == 400
    assert "offers no processor of type &#x27;explode&#x27;" in response.content.decode()
    assert not writes(api)


def test_the_portals_refusal_of_a_parameter_lands_on_its_input(api, client_as, cast, make_snapshot):
    make_snapshot("da_1", "trees")
    reads(api)
    api.post(f"{BASE}/processors/", status=400,
             json={"error_code": "validation_error", "message": "Invalid input", "detail": {"old": ["Too long."]}})
    response = client_as(cast["operator"]).post(url("processor_new", uid="da_1"),
                                                {"type": "string_replace", "p_field": "a", "p_old": "x"})
    form = response.context["form"]
    assert form.errors["p_old"] == ["Too long."]
    sent = json.loads(writes(api)[0].request.body)
    assert sent == {"type": "string_replace", "label": "Replace text", "field": "a", "old": "x", "new": ""}


def test_schema_field_refused_by_the_portal_undoes_and_says_so(api, client_as, cast, make_snapshot):
    make_snapshot("da_1", "trees")
    reads(api)
    api.post(f"{BASE}/fields/", status=201, json={"uid": "fi_1", "type": "rename"})
    api.post(f"{BASE}/fields/", status=400, json={"error_code": "validation_error", "message": "Invalid input",
                                                  "detail": {"type_param": ["Not for this field."]}})
    undo = api.delete(f"{BASE}/fields/fi_1/", status=204)
    response = client_as(cast["operator"]).post(url("schema_field", uid="da_1", field_name="a"),
                                                {"name": "alpha", "label": "A", "type": "int", "description": ""})
    assert response.context["form"].errors["type"] == ["Not for this field."]
    assert "nothing was kept" in response.content.decode()
    assert undo.call_count == 1


def test_schema_field_name_is_checked_before_sending(api, client_as, cast, make_snapshot):
    make_snapshot("da_1", "trees")
    reads(api)
    response = client_as(cast["operator"]).post(url("schema_field", uid="da_1", field_name="a"),
                                                {"name": "Alpha Beta", "label": "A", "type": "text"})
    assert "lowercase letters" in response.context["form"].errors["name"][0]
    assert not writes(api)


def test_export_download_is_streamed_with_its_file_name(api, client_as, cast, make_snapshot):
    make_snapshot("da_1", "trees")
    api.get(f"{BASE}/alternative_exports/ae_1/", json={"uid": "ae_1", "type": "uploaded_file", "title": "Zip",
                                                       "filename": "trees.zip", "mimetype": "application/zip"})
    api.get(f"{BASE}/alternative_exports/ae_1/download/", body=b"PK" + b"0" * 100_000)
    response = client_as(cast["viewer"]).get(url("export_download", uid="da_1", export_uid="ae_1"))
    assert response.streaming and response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="trees.zip"'
    assert len(b"".join(response.streaming_content)) == 100_002


def test_a_url_export_links_to_its_url(api, client_as, cast, make_snapshot):
    make_snapshot("da_1", "trees")
    api.get(f"{BASE}/alternative_exports/ae_2/", json={"uid": "ae_2", "type": "url", "title": "Shp",
                                                       "url": "https://example.org/trees.shp"})
    response = client_as(cast["viewer"]).get(url("export_download", uid="da_1", export_uid="ae_2"))
    assert response.status_code == 302 and response["Location"] == "https://example.org/trees.shp"


def test_count_button_starts_the_background_count_after_commit(client_as, cast, connection,
                                                                django_capture_on_commit_callbacks):
    with mock.patch("portaladmin.datasets.tasks.feedback_count_scan.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            response = client_as(cast["operator"]).post(url("feedback_count"))
    assert response.status_code == 302
    delay.assert_called_once_with(connection.pk)


def test_overview_sums_open_feedback_per_connection(client_as, cast, connection):
    FeedbackCount.objects.create(connection=connection, uid="da_1", dataset_id="trees", open_count=3)
    FeedbackCount.objects.create(connection=connection, uid="da_2", dataset_id="parks", open_count=2)
    html = client_as(cast["viewer"]).get(reverse("home")).content.decode()
    assert 'data-figure="open-feedback"' in html and "<strong>5</strong>open feedback" in html
    listing = client_as(cast["viewer"]).get(url("feedback_all")).content.decode()
    assert "5 open feedbacks on 2 datasets" in listing


@pytest.mark.parametrize("content, message", [
    (b"GIF89a" + b"0" * 10, None),
    (b"%PDF-1.4", "This is not an image"),
    (b"", "This file is empty"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>', None),
    # QA: an SVG's scripts would run from the portal's own address once uploaded
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "contains a script"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "contains a script"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)"><text>x</text></a></svg>',
     "contains a script"),
])
def test_image_type_is_checked_by_content(api, client_as, cast, content, message):
    api.get(f"{API}/medias/images/", json=page_json([]))
    if message is None:
        api.post(f"{API}/medias/images/", status=201, json={"url": "/assets/theme_image/x.gif"})
    response = client_as(cast["operator"]).post(url("image_upload"),
                                                {"file": SimpleUploadedFile("x.gif", content, "image/gif")})
    if message is None:
        assert response.status_code == 302 and len(writes(api)) == 1
    else:
        assert message in response.context["form"].errors["file"][0]
        assert not writes(api)


def test_an_image_a_little_too_large_gets_its_message_on_the_field(api, client_as, cast, settings):
    # (bodies far over the limit are refused before being read: core.bodylimit and its tests)
    api.get(f"{API}/medias/images/", json=page_json([]))
    settings.PORTALADMIN_MAX_IMAGE_BYTES = 1000
    response = client_as(cast["operator"]).post(url("image_upload"), {
        "file": SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * 1500, "image/png")})
    assert "the limit is" in response.context["form"].errors["file"][0]
    assert not writes(api)
