"""Resources against the sandbox portal over real HTTP (live_server), through the views: bad input at each step
(wrong parameters, unreachable URL, oversized file) leaves nothing half-done; editing, realtime actions, the push
key and the downloads work end to end."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portaladmin.portals.client import client_for
from portaladmin.portals.models import Role

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

KEY = "sandbox-resources-key-0123456789"
HX = {"HX-Request": "true"}
CSV = b"station;level;day\nLyon;3.2;2026-01-01\nGivors;2.9;2026-01-01\n"


def url(name, uid, **kw):
    return reverse(f"datasets:{name}", kwargs={"conn": "demo", "uid": uid, **kw})


@pytest.fixture
def setup(sandbox_connection, make_user, client):
    conn = sandbox_connection("rsl", slug="demo", api_key=KEY, datasets=1, users=1, groups=0, harvesters=0, pages=0)
    client.force_login(make_user("alice", role=Role.ADMIN, connection=conn))
    uid = client_for(conn).dataset_list(limit=1).results[0].uid
    return conn, uid, client


def _count(conn, uid) -> int:
    return client_for(conn).resource_list(uid).total_count


def test_wrong_parameters_unreachable_url_and_oversized_file_save_nothing(setup, settings):
    conn, uid, client = setup
    before = _count(conn, uid)
    draft = client.post(url("resource_new_upload", uid), {"file": SimpleUploadedFile("levels.csv", CSV)},
                        headers=HX).context["form"]
    data = dict(draft.data)
    data["p_first_row_no"] = "0"
    refused = client.post(url("resource_draft_preview", uid), data, headers=HX)
    assert refused.context["form"].errors["p_first_row_no"] == ["The first row number must be 1 or more."]
    data["p_first_row_no"] = "1"
    data["p_encoding"], data["p_separator"] = "utf-8", ","
    one_column = client.post(url("resource_draft_preview", uid), data, headers=HX)
    assert len(one_column.context["preview"].fields) == 1  # the preview follows the parameter
    data["p_separator"] = "::"
    saved = client.post(url("resource_draft_save", uid), data, headers=HX)
    assert saved.context["form"].errors["p_separator"] == ["The separator must be a single character."]

    unreachable = client.post(url("resource_new_url", uid), {"url": "https://data.nowhere.invalid/x.csv"},
                              headers=HX)
    assert "could not be reached" in unreachable.context["url_form"].errors["url"][0]

    settings.SANDBOX_MAX_UPLOAD_BYTES = 20  # the portal's limit is lower than ours
    big = client.post(url("resource_new_upload", uid), {"file": SimpleUploadedFile("big.csv", CSV)}, headers=HX)
    assert "too large" in big.context["upload_form"].errors["file"][0]
    assert _count(conn, uid) == before


def test_from_a_url_then_edit_with_the_preview(setup):
    conn, uid, client = setup
    draft = client.post(url("resource_new_url", uid), {"url": "https://files.example.org/exports/levels.csv",
                                                       "title": "Levels"}, headers=HX)
    assert draft.context["form"].params()["separator"] == ";" and draft.context["preview"].records
    response = client.post(url("resource_draft_save", uid), dict(draft.context["form"].data), headers=HX)
    resource_uid = re.search(r"/resources/([^/]+)/$", response["HX-Redirect"]).group(1)

    edit = client.get(url("resource_edit", uid, resource_uid=resource_uid))
    data = dict(edit.context["form"].data)
    assert data["url"] == "https://files.example.org/exports/levels.csv"
    data.update({"title": "Levels (daily)", "url": "https://files.example.org/exports/daily.csv"})
    client.post(url("resource_edit_save", uid, resource_uid=resource_uid), data, headers=HX)
    saved = client_for(conn).resource_get(uid, resource_uid)
    assert saved.title == "Levels (daily)" and saved.datasource["relative_url"] == "/exports/daily.csv"
    page = client.get(url("resource", uid, resource_uid=resource_uid)).content.decode()
    assert "Levels (daily)" in page and "Clean the cache" in page
    assert "Cache of the resource cleaned." in client.post(url("resource_clean_cache", uid, resource_uid=resource_uid),
                                                           follow=True).content.decode()


def test_realtime_enable_disable_recover_and_a_new_push_key(setup):
    conn, uid, client = setup
    resource = client_for(conn).resource_create(uid, {"type": "realtime", "title": "Sensors", "datasource": {
        "type": "http", "connection": {"uid": "co_sandbx"}}})
    page = url("resource", uid, resource_uid=resource.uid)
    html = client.post(url("resource_disable", uid, resource_uid=resource.uid), follow=True).content.decode()
    assert "Resource disabled." in html and ">disabled<" in html
    html = client.post(url("resource_enable", uid, resource_uid=resource.uid), follow=True).content.decode()
    assert "Resource enabled." in html
    html = client.post(url("resource_recover", uid, resource_uid=resource.uid), follow=True).content.decode()
    assert "must be published" in html  # the dataset is not published: the portal's reason

    key_page = client.post(url("resource_renew_key", uid, resource_uid=resource.uid), follow=True).content.decode()
    key = re.search(r'value="([0-9a-f]{32})"', key_page).group(1)
    assert "shown only this once" in key_page
    reload = client.get(url("resource_push_key", uid, resource_uid=resource.uid)).content.decode()
    assert key not in reload and "already shown" in reload
    assert key not in client.get(page).content.decode()
    # from now on the client redacts it from whatever the portal answers
    assert client_for(conn).resource_get(uid, resource.uid).params["push_api_key"] == "[redacted]"


def test_downloads_stream_the_uploaded_file_and_an_attachment(setup):
    conn, uid, client = setup
    draft = client.post(url("resource_new_upload", uid), {"file": SimpleUploadedFile("levels.csv", CSV)},
                        headers=HX).context["form"]
    response = client.post(url("resource_draft_save", uid), dict(draft.data), headers=HX)
    resource_uid = re.search(r"/resources/([^/]+)/$", response["HX-Redirect"]).group(1)
    page = client.get(url("resource", uid, resource_uid=resource_uid)).content.decode()
    assert "levels.csv" in page and "Download" in page
    download = client.get(url("resource_download", uid, resource_uid=resource_uid))
    assert download.streaming and b"".join(download.streaming_content) == CSV
    assert 'filename="levels.csv"' in download["Content-Disposition"]

    client.post(reverse("datasets:attachment_upload", kwargs={"conn": "demo", "uid": uid}),
                {"file": SimpleUploadedFile("notice.pdf", b"%PDF-1.4 x", "application/pdf")})
    attachment = client_for(conn).attachment_list(uid).results[0]
    got = client.get(url("attachment_download", uid, attachment_uid=attachment.uid))
    assert b"".join(got.streaming_content) == b"%PDF-1.4 x"
