"""Pages end to end over live HTTP: portaladmin's views → the real client → the sandbox portal (live_server).

Studio: create → publish → unpublish → access rule → duplicate slug. Code editor: create (two languages)
→ archive → bulk delete a selection (one DELETE) → duplicate slug.
"""

import re

import pytest
from django.urls import reverse

from portaladmin.audit.models import AuditEvent, Outcome
from portaladmin.portals.models import Role
from portaladmin.sandbox.services import request_counts, reset_request_log

pytestmark = pytest.mark.live

NAME = "pages-it"


@pytest.fixture
def live_conn(sandbox_connection):
    return sandbox_connection(NAME, api_key="pages-it-key-0123456789", datasets=0, users=2, groups=1, harvesters=0,
                              pages=4)


@pytest.fixture
def people(make_user, live_conn):
    return {"operator": make_user("oscar", role=Role.OPERATOR, connection=live_conn),
            "admin": make_user("alice", role=Role.ADMIN, connection=live_conn)}


def url(name, conn, **kwargs):
    return reverse(f"pages:{name}", kwargs={"conn": conn.slug, **kwargs})


def messages_of(response):
    return [str(m) for m in response.wsgi_request._messages]


def test_studio_page_lifecycle(client, live_conn, people):
    client.force_login(people["operator"])
    # create
    response = client.post(url("studio-create", live_conn), {"slug": "launch", "public": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    uid = re.search(r"/studio/(sp_[^/]+)/$", response["Location"]).group(1)
    html = client.get(response["Location"]).content.decode()
    assert "badge-unpublished\">draft" in html and "Everyone who can explore the portal" in html
    # publish
    response = client.post(url("studio-publish", live_conn, uid=uid))
    assert messages_of(response) == ["Studio page published."]
    html = client.get(url("studio-detail", live_conn, uid=uid)).content.decode()
    assert "badge-published\">published" in html and "first published" in html
    # unpublish
    client.post(url("studio-unpublish", live_conn, uid=uid))
    html = client.get(url("studio-detail", live_conn, uid=uid)).content.decode()
    assert "badge-unpublished\">draft" in html
    # an edit_page rule for a user shows who may edit
    client.post(url("studio-access", live_conn, key=uid),
                {"target_kind": "user", "target": "admin", "permissions": ["edit_page"]})
    html = client.get(url("studio-detail", live_conn, uid=uid)).content.decode()
    assert "<span class=\"badge\">user admin</span>" in html
    # the list shows it with its author
    html = client.get(url("list", live_conn)).content.decode()
    assert ">launch<" in html
    # duplicate slug: the portal's validation error on the field, nothing created
    response = client.post(url("studio-create", live_conn), {"slug": "launch"})
    assert response.status_code == 200
    assert response.context["form"].errors["slug"] == ["A page with this slug already exists."]
    actions = list(AuditEvent.objects.filter(action__startswith="studio_page.").order_by("id").values_list("action", "outcome"))
    assert actions == [("studio_page.create", Outcome.SUCCESS), ("studio_page.publish", Outcome.SUCCESS),
                       ("studio_page.unpublish", Outcome.SUCCESS), ("studio_page.ruleset_save", Outcome.SUCCESS),
                       ("studio_page.create", Outcome.FAILURE)]


def code_post(slug, *rows, **extra):
    data = {"slug": slug, "description": "Launch notes", "template": "", "tags": "launch, news",
            "lang-TOTAL_FORMS": str(len(rows)), "lang-INITIAL_FORMS": "0", "lang-MIN_NUM_FORMS": "0",
            "lang-MAX_NUM_FORMS": "1000", **extra}
    for i, row in enumerate(rows):
        data.update({f"lang-{i}-{k}": v for k, v in row.items()})
    return data


def test_code_page_lifecycle_and_bulk_delete(client, live_conn, people):
    client.force_login(people["operator"])
    rows = ({"language": "en", "title": "Launch", "html": "<h1>Launch</h1>", "css": "h1{color:red}"},
            {"language": "fr", "title": "Lancement", "html": "<h1>Lancement</h1>", "css": ""})
    # create with two languages
    response = client.post(url("code-create", live_conn), code_post("launch-notes", *rows))
    assert response.status_code == 302, response.content.decode()[:2000]
    row = client.get(url("code-detail", live_conn, slug="launch-notes")).context["row"]
    assert row.state == "published" and [lang["language"] for lang in row.languages] == ["en", "fr"]
    assert row.languages[0]["css"] == "h1{color:red}" and row.page.tags == ["launch", "news"]
    # search and tag filter find it (HTMX partial)
    html = client.get(url("code-list", live_conn), {"q": "lancement", "tag": "launch"},
                      headers={"HX-Request": "true"}).content.decode()
    assert "launch-notes" in html and ">home<" not in html
    # archive
    response = client.post(url("code-archive", live_conn, slug="launch-notes"))
    assert messages_of(response)[0].startswith("Page archived")
    assert client.get(url("code-detail", live_conn, slug="launch-notes")).context["row"].state == "archived"
    # duplicate slug (a seeded page): field error, nothing sent twice
    response = client.post(url("code-create", live_conn), code_post("about", *rows))
    assert response.context["form"].errors["slug"] == ["A page with this slug already exists."]
    # bulk delete a selection, as an admin: one DELETE, the answer says which went
    client.force_login(people["admin"])
    reset_request_log(NAME)
    response = client.post(url("code-bulk-delete", live_conn), {"slug": ["launch-notes", "home", "ghost"]})
    assert messages_of(response) == ["Deleted 2 page(s): home, launch-notes.",
                                     "Not deleted (not found or refused): ghost."]
    assert request_counts(NAME, method="DELETE") == 1
    html = client.get(url("code-list", live_conn)).content.decode()
    assert ">launch-notes<" not in html and ">home<" not in html and ">about<" in html
    event = AuditEvent.objects.get(action="code_page.bulk_delete")
    assert event.extra["not_deleted"] == ["ghost"] and event.outcome == Outcome.SUCCESS
