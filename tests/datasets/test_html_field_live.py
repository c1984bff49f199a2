"""HTML metadata fields against the sandbox over real HTTP: a multi-line editor with a preview drawn through the
allowlist sanitiser, in the editor, in the live preview and in the read-only view."""

import re

import pytest
from django.urls import reverse

from portaladmin.portals.client import client_for
from portaladmin.portals.models import Role

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

HOSTILE = ('<p onclick="alert(1)">Bikes <strong>daily</strong></p><script>alert("x")</script>'
           '<a href="javascript:alert(2)">click</a><img src=x onerror="alert(3)">')


def _preview(html: str) -> str:
    match = re.search(r'<div class="html-preview"[^>]*>(.*?)</div>', html, re.S)
    assert match, "no preview drawn"
    return match.group(1)


@pytest.fixture
def dataset(sandbox_connection, make_user):
    conn = sandbox_connection("htm", slug="demo", datasets=1, users=1, groups=0, harvesters=0, pages=0)
    uid = client_for(conn).dataset_list(limit=1).results[0].uid
    client_for(conn).metadata_update(uid, "default", "description", value=HOSTILE)
    return conn, uid


def test_the_editor_shows_the_source_and_a_sanitised_preview(dataset, make_user, client):
    conn, uid = dataset
    client.force_login(make_user("olga", role=Role.OPERATOR, connection=conn))
    html = client.get(reverse("datasets:tab", kwargs={"conn": "demo", "uid": uid, "tab": "metadata"})).content.decode()
    # the source is editable as typed (escaped in the textarea), the preview is clean
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    preview = _preview(html)
    assert "<strong>daily</strong>" in preview
    for needle in ("<script", "onclick", "onerror", "javascript:"):
        assert needle not in preview
    assert 'hx-post="/c/demo/datasets/html-preview/"' in html


def test_the_live_preview_sanitises_what_is_typed(dataset, make_user, client):
    conn, _ = dataset
    client.force_login(make_user("olga", role=Role.OPERATOR, connection=conn))
    answer = client.post(reverse("datasets:html_preview", kwargs={"conn": "demo"}),
                         {"t-default-description": HOSTILE, "t-default-title": "other inputs of the form"},
                         headers={"HX-Request": "true", "HX-Trigger-Name": "t-default-description"})
    body = answer.content.decode()
    assert answer.status_code == 200 and "<strong>daily</strong>" in body
    assert "<script" not in body and "onclick" not in body and "javascript:" not in body


def test_viewers_see_the_description_drawn_clean(dataset, make_user, client):
    conn, uid = dataset
    client.force_login(make_user("vera", role=Role.VIEWER, connection=conn))
    html = client.get(reverse("datasets:tab", kwargs={"conn": "demo", "uid": uid, "tab": "metadata"})).content.decode()
    preview = _preview(html)
    assert "<strong>daily</strong>" in preview and "<script" not in preview and "onerror" not in preview
