"""Pages views: the role matrix, what each role sees, HTMX partials, forms and the portal's answers."""

import pytest
from django.urls import reverse

from portaladmin.audit.models import AuditEvent, Outcome
from tests.pages.conftest import code_page, paginated, studio_page

NOT_FOUND = {"error_code": "not_found", "message": "Not found."}


def page_events():
    return AuditEvent.objects.exclude(action__startswith="auth.")


def url(name, connection, **kwargs):
    return reverse(f"pages:{name}", kwargs={"conn": connection.slug, **kwargs})


@pytest.fixture
def portal(loose_api):
    """A portal with one studio page (sp_abc123, draft) and one code editor page (hello_world), no rulesets."""
    loose_api.expect("GET", "/studio_pages/?limit=1000&offset=0", body=paginated([studio_page()]))
    loose_api.expect("GET", "/studio_pages/sp_abc123/", body=studio_page())
    loose_api.expect("GET", "/code_editor_pages/?limit=1000&offset=0", body=paginated([code_page()]))
    loose_api.expect("GET", "/code_editor_pages/hello_world/", body=code_page())
    for base in ("/studio_pages/sp_abc123", "/code_editor_pages/hello_world"):
        for kind in ("users", "groups"):
            loose_api.expect("GET", f"{base}/security/{kind}/?limit=100&offset=0", body=paginated([]))
    return loose_api


READ = [("list", {}), ("code-list", {}), ("studio-detail", {"uid": "sp_abc123"}),
        ("code-detail", {"slug": "hello_world"})]
FORMS = [("studio-create", {}), ("studio-edit", {"uid": "sp_abc123"}), ("code-create", {}),
         ("code-edit", {"slug": "hello_world"})]
OPERATE_POSTS = [("studio-publish", {"uid": "sp_abc123"}), ("studio-unpublish", {"uid": "sp_abc123"}),
                 ("code-archive", {"slug": "hello_world"}), ("code-unarchive", {"slug": "hello_world"}),
                 ("studio-access", {"key": "sp_abc123"}), ("code-access", {"key": "hello_world"}),
                 ("studio-create", {}), ("code-create", {}), ("studio-edit", {"uid": "sp_abc123"}),
                 ("code-edit", {"slug": "hello_world"})]
ADMIN_POSTS = [("studio-delete", {"uid": "sp_abc123"}), ("code-delete", {"slug": "hello_world"}),
               ("code-bulk-delete", {}),
               ("studio-access-delete", {"key": "sp_abc123", "target_kind": "user", "target": "louise"}),
               ("code-access-delete", {"key": "hello_world", "target_kind": "group", "target": "readers"})]


# ------------------------------------------------------------------------------------------ role matrix


@pytest.mark.parametrize("name, kwargs", READ + FORMS)
def test_anonymous_is_sent_to_login(client, connection, name, kwargs):
    response = client.get(url(name, connection, **kwargs))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("who, expected", [("viewer", 200), ("operator", 200), ("admin", 200), ("superuser", 200),
                                           ("outsider", 404)])
@pytest.mark.parametrize("name, kwargs", READ)
def test_read_pages_by_role(client_as, cast, connection, portal, who, expected, name, kwargs):
    assert client_as(cast[who]).get(url(name, connection, **kwargs)).status_code == expected


@pytest.mark.parametrize("who, expected", [("viewer", 403), ("operator", 200), ("admin", 200), ("outsider", 404)])
@pytest.mark.parametrize("name, kwargs", FORMS)
def test_forms_by_role(client_as, cast, connection, portal, who, expected, name, kwargs):
    assert client_as(cast[who]).get(url(name, connection, **kwargs)).status_code == expected


@pytest.mark.parametrize("who, expected", [("viewer", 403), ("outsider", 404)])
def test_viewers_and_outsiders_cannot_post_anything(client_as, cast, connection, api, who, expected):
    c = client_as(cast[who])
    for name, kwargs in OPERATE_POSTS + ADMIN_POSTS:
        assert c.post(url(name, connection, **kwargs), {"slug": ["a"]}).status_code == expected, name
    assert len(api.calls) == 0
    assert not page_events().exists()


def test_operators_cannot_delete(client_as, cast, connection, api):
    c = client_as(cast["operator"])
    for name, kwargs in ADMIN_POSTS:
        assert c.post(url(name, connection, **kwargs), {"slug": ["a"]}).status_code == 403, name
    assert len(api.calls) == 0


@pytest.mark.parametrize("name, kwargs", OPERATE_POSTS[:4] + ADMIN_POSTS)
def test_actions_are_post_only(client_as, cast, connection, name, kwargs):
    assert client_as(cast["admin"]).get(url(name, connection, **kwargs)).status_code == 405


@pytest.mark.parametrize("who, operate, admin", [("viewer", False, False), ("operator", True, False),
                                                 ("admin", True, True)])
def test_buttons_follow_the_role(client_as, cast, connection, portal, who, operate, admin):
    c = client_as(cast[who])
    html = c.get(url("list", connection)).content.decode()
    assert ("New studio page" in html) is operate
    html = c.get(url("studio-detail", connection, uid="sp_abc123")).content.decode()
    assert ("Publish</button>" in html) is operate
    assert ("Give a user or group access" in html) is operate
    assert (">Delete</button>" in html) is admin
    html = c.get(url("code-list", connection)).content.decode()
    assert ("New code editor page" in html) is operate
    assert ("Delete selected" in html) is admin
    assert ('name="slug"' in html) is admin
    html = c.get(url("code-detail", connection, slug="hello_world")).content.decode()
    assert ("Archive</button>" in html) is operate
    assert (">Delete</button>" in html) is admin


# ------------------------------------------------------------------------------------------ lists


def test_studio_list_shows_the_columns(client_as, cast, connection, portal):
    html = client_as(cast["viewer"]).get(url("list", connection)).content.decode()
    for text in ("welcome", "draft", "restricted", "never", "louise.data", 'datetime="2026-01-02T00:00:00+00:00"'):
        assert text in html
    assert ">2026-01-02T00:00:00Z<" not in html  # a human date, the exact one on hover
    for text in ():
        assert text in html


def test_code_list_filters_with_htmx_partial(client_as, cast, connection, loose_api):
    loose_api.expect("GET", "/code_editor_pages/?limit=1000&offset=0", body=paginated([
        code_page("budget", tags=["finance"], title="Budget"), code_page("team", tags=["about"], title="Team")]))
    c = client_as(cast["viewer"])
    response = c.get(url("code-list", connection), {"q": "budg"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html and 'id="code-table"' in html
    assert "budget" in html and ">team<" not in html
    assert "HX-Request" in response["Vary"]
    full = c.get(url("code-list", connection), {"tag": "about"}).content.decode()
    assert "<html" in full and ">team<" in full and ">budget<" not in full


def test_history_restore_gets_the_whole_page_and_paging_keeps_the_filter(client_as, cast, connection, loose_api):
    loose_api.expect("GET", "/code_editor_pages/?limit=1000&offset=0",
                     body=paginated([code_page(f"page-{n:02}", title="A & B") for n in range(60)]))
    c = client_as(cast["viewer"])
    response = c.get(url("code-list", connection), {"q": "a & b"},
                     headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    html = response.content.decode()
    assert "<html" in html and "page-00" in html and "page-59" not in html
    assert "?q=a+%26+b&amp;page=2" in html


def test_list_shows_the_portal_error_instead_of_failing(client_as, cast, connection, loose_api):
    loose_api.expect("GET", "/studio_pages/?limit=1000&offset=0", status=404, body=NOT_FOUND)
    html = client_as(cast["viewer"]).get(url("list", connection)).content.decode()
    assert "The portal could not be read" in html


# ------------------------------------------------------------------------------------------ detail pages


def test_studio_detail_shows_state_and_who_may_see_and_edit(client_as, cast, connection, loose_api):
    loose_api.expect("GET", "/studio_pages/sp_abc123/", body=studio_page(published=True, public=False))
    loose_api.expect("GET", "/studio_pages/sp_abc123/security/users/?limit=100&offset=0", body=paginated([
        {"user": {"username": "louise"}, "permissions": ["edit_page"]}]))
    loose_api.expect("GET", "/studio_pages/sp_abc123/security/groups/?limit=100&offset=0", body=paginated([
        {"group": {"uid": "readers"}, "permissions": []}]))
    html = client_as(cast["operator"]).get(url("studio-detail", connection, uid="sp_abc123")).content.decode()
    assert "badge-published" in html and "Unpublish</button>" in html
    assert "Restricted: only the users and groups listed below" in html
    assert "user louise" in html and "see only" in html


def test_code_detail_of_archived_page(client_as, cast, connection, loose_api):
    loose_api.expect("GET", "/code_editor_pages/old/", body=code_page("old", archived=True))
    for kind in ("users", "groups"):
        loose_api.expect("GET", f"/code_editor_pages/old/security/{kind}/?limit=100&offset=0", body=paginated([]))
    html = client_as(cast["operator"]).get(url("code-detail", connection, slug="old")).content.decode()
    assert "archived" in html and "Unarchive</button>" in html and ">Edit<" not in html
    assert "Everyone who can explore the portal" in html
    assert "&lt;p&gt;Hello&lt;/p&gt;" in html  # content is shown escaped, never rendered


def test_unknown_page_is_404(client_as, cast, connection, loose_api):
    loose_api.expect("GET", "/studio_pages/sp_nope/", status=404, body=NOT_FOUND)
    assert client_as(cast["viewer"]).get(url("studio-detail", connection, uid="sp_nope")).status_code == 404


def test_archived_page_cannot_be_edited(client_as, cast, connection, loose_api):
    loose_api.expect("GET", "/code_editor_pages/old/", body=code_page("old", archived=True))
    response = client_as(cast["operator"]).get(url("code-edit", connection, slug="old"))
    assert response.status_code == 302 and response["Location"] == url("code-detail", connection, slug="old")


# ------------------------------------------------------------------------------------------ studio writes


def test_studio_create_then_redirect_to_the_page(client_as, cast, connection, api):
    api.expect("POST", "/studio_pages/", status=201, body=studio_page(uid="sp_new", slug="my-page"))
    response = client_as(cast["operator"]).post(url("studio-create", connection), {"slug": "my-page"})
    assert response.status_code == 302 and response["Location"] == url("studio-detail", connection, uid="sp_new")
    assert api.json_bodies("POST") == [{"slug": "my-page", "public": False}]


def test_studio_create_duplicate_slug_is_shown_on_the_field(client_as, cast, connection, api):
    api.expect("POST", "/studio_pages/", status=400, body={
        "error_code": "validation_error", "message": "Invalid data.",
        "detail": {"slug": ["A page with this slug already exists."]}})
    response = client_as(cast["operator"]).post(url("studio-create", connection), {"slug": "welcome"})
    assert response.status_code == 200
    assert response.context["form"].errors["slug"] == ["A page with this slug already exists."]
    assert "A page with this slug already exists." in response.content.decode()
    assert page_events().get().outcome == Outcome.FAILURE


def test_publish_redirects_with_a_message(client_as, cast, connection, api):
    api.expect("POST", "/studio_pages/sp_abc123/publish/", body={"detail": "ok"})
    response = client_as(cast["operator"]).post(url("studio-publish", connection, uid="sp_abc123"), follow=False)
    assert response.status_code == 302
    assert page_events().get().action == "studio_page.publish"


def test_htmx_post_gets_hx_redirect_not_302(client_as, cast, connection, api):
    api.expect("POST", "/studio_pages/sp_abc123/unpublish/", body={"detail": "ok"})
    response = client_as(cast["operator"]).post(url("studio-unpublish", connection, uid="sp_abc123"),
                                                headers={"HX-Request": "true"})
    assert response.status_code == 200 and response["HX-Redirect"] == url("studio-detail", connection,
                                                                          uid="sp_abc123")


def test_failed_action_shows_the_portal_message(client_as, cast, connection, api):
    api.expect("DELETE", "/studio_pages/sp_abc123/", status=404, body=NOT_FOUND)
    c = client_as(cast["admin"])
    response = c.post(url("studio-delete", connection, uid="sp_abc123"))
    assert response["Location"] == url("studio-detail", connection, uid="sp_abc123")
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["That item no longer exists on the portal (deleted meanwhile?); nothing was changed."]


# ------------------------------------------------------------------------------------------ code writes


def code_post(slug="hello", *rows, **extra):
    data = {"slug": slug, "description": "d", "template": "", "tags": "news, home", "lang-TOTAL_FORMS": str(len(rows)),
            "lang-INITIAL_FORMS": "0", "lang-MIN_NUM_FORMS": "0", "lang-MAX_NUM_FORMS": "1000", **extra}
    for i, row in enumerate(rows):
        data.update({f"lang-{i}-{k}": v for k, v in row.items()})
    return data


EN = {"language": "en", "title": "Hello", "html": "<p>Hi</p>", "css": ""}


def test_code_create_sends_the_page_and_redirects(client_as, cast, connection, api):
    api.expect("POST", "/code_editor_pages/", status=201, body=code_page("hello"))
    response = client_as(cast["operator"]).post(url("code-create", connection),
                                                code_post("hello", EN, {"language": "FR", "title": "Salut"},
                                                          is_restricted="on"))
    assert response.status_code == 302 and response["Location"] == url("code-detail", connection, slug="hello")
    (body,) = api.json_bodies("POST")
    assert body == {"slug": "hello", "title": {"en": "Hello", "fr": "Salut"}, "description": "d",
                    "content": {"html": {"en": "<p>Hi</p>", "fr": ""}, "css": {"en": "", "fr": ""}},
                    "tags": ["news", "home"], "is_restricted": True}


def test_add_a_language_redisplays_the_form_without_calling_the_portal(client_as, cast, connection, api):
    response = client_as(cast["operator"]).post(url("code-create", connection),
                                                code_post("hello", EN, add_language="1"))
    assert response.status_code == 200
    formset = response.context["formset"]
    assert len(formset.forms) == 2 and formset.forms[0].initial["title"] == "Hello"
    html = response.content.decode()
    assert 'name="lang-1-language"' in html and 'value="hello"' in html
    assert "errorlist" not in html
    assert len(api.calls) == 0


@pytest.mark.parametrize("row, message", [
    ({"language": "english", "title": "T"}, "is not a language code"),
    ({"language": "en", "title": "T", "html": "x" * 1_000_001}, "limit is 1 MB per language"),
])
def test_bad_input_is_refused_before_anything_is_sent(client_as, cast, connection, api, row, message):
    response = client_as(cast["operator"]).post(url("code-create", connection), code_post("hello", row))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert len(api.calls) == 0 and not page_events().exists()


def test_code_create_duplicate_slug_is_shown_on_the_field(client_as, cast, connection, api):
    api.expect("POST", "/code_editor_pages/", status=400, body={
        "error_code": "validation_error", "message": "Invalid data.",
        "detail": {"slug": ["code editor page with this slug already exists."]}})
    response = client_as(cast["operator"]).post(url("code-create", connection), code_post("hello", EN))
    assert response.context["form"].errors["slug"] == ["code editor page with this slug already exists."]


def test_code_edit_prefills_every_language(client_as, cast, connection, loose_api):
    loose_api.expect("GET", "/code_editor_pages/hello_world/", body=code_page())
    response = client_as(cast["operator"]).get(url("code-edit", connection, slug="hello_world"))
    initial = [f.initial for f in response.context["formset"].forms]
    assert [i["language"] for i in initial] == ["en", "fr"]
    assert response.context["form"].initial["tags"] == "news"


def test_code_edit_puts_to_the_old_slug(client_as, cast, connection, api):
    api.expect("PUT", "/code_editor_pages/hello_world/", body=code_page("renamed"))
    response = client_as(cast["operator"]).post(url("code-edit", connection, slug="hello_world"),
                                                code_post("renamed", EN))
    assert response["Location"] == url("code-detail", connection, slug="renamed")


def test_bulk_delete_reports_what_was_deleted(client_as, cast, connection, api):
    api.expect("DELETE", "/code_editor_pages/?slug=a&slug=b&slug=c", body=["a", "c"])
    response = client_as(cast["admin"]).post(url("code-bulk-delete", connection), {"slug": ["a", "b", "c"]})
    assert response["Location"] == url("code-list", connection)
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["Deleted 2 page(s): a, c.", "Not deleted (not found or refused): b."]
    assert len(api.calls) == 1


def test_bulk_delete_needs_a_selection(client_as, cast, connection, api):
    response = client_as(cast["admin"]).post(url("code-bulk-delete", connection), {})
    assert [str(m) for m in response.wsgi_request._messages] == ["Select at least one page to delete."]
    assert len(api.calls) == 0


def test_ruleset_form_grants_access(client_as, cast, connection, api):
    api.expect("GET", "/code_editor_pages/hello_world/security/groups/readers/", status=404, body=NOT_FOUND)
    api.expect("POST", "/code_editor_pages/hello_world/security/groups/",
               body={"group": {"uid": "readers"}, "permissions": ["edit_page"]})
    response = client_as(cast["operator"]).post(url("code-access", connection, key="hello_world"),
                                                {"target_kind": "group", "target": "readers",
                                                 "permissions": ["edit_page"]})
    assert response["Location"] == url("code-detail", connection, slug="hello_world")
    assert api.json_bodies("POST") == [{"group": {"uid": "readers"}, "permissions": ["edit_page"]}]


def test_ruleset_delete_by_admin(client_as, cast, connection, api):
    api.expect("DELETE", "/studio_pages/sp_abc123/security/users/louise/", status=204)
    response = client_as(cast["admin"]).post(url("studio-access-delete", connection, key="sp_abc123",
                                                 target_kind="user", target="louise"))
    assert response["Location"] == url("studio-detail", connection, uid="sp_abc123")
    assert page_events().get().action == "studio_page.ruleset_delete"
